#include "quant/q4_0.h"

#include "quant/common.h"
#include "quant/f16.h"

#include <algorithm>

namespace ember::quant {

// Reference: d = max / -8 with max the signed largest-magnitude element, so that element
// maps to q = 0; q = min(15, trunc(x / d + 8.5)) using the unrounded d.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
    require_whole_blocks(n, QK4_0, "Q4_0");
    for (int64_t b = 0; b < n / QK4_0; ++b, x += QK4_0) {
        float amax = 0;
        const float max = signed_absmax(x, QK4_0, &amax);
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        uint8_t q[QK4_0];
        for (int j = 0; j < QK4_0; ++j) q[j] = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f))));
        pack_nibbles_32(q, y[b].qs);
    }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
    require_whole_blocks(n, QK4_0, "Q4_0");
    for (int64_t b = 0; b < n / QK4_0; ++b, y += QK4_0) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK4_0 / 2; ++j) {
            y[j] = ((x[b].qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

float vec_dot_q4_0_q8_0(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y) {
    require_whole_blocks(n, QK4_0, "Q4_0");
    float sum = 0;
    for (int64_t b = 0; b < n / QK4_0; ++b) {
        int32_t sumi = 0;
        for (int j = 0; j < QK4_0 / 2; ++j) {
            sumi += ((x[b].qs[j] & 0x0F) - 8) * y[b].qs[j];
            sumi += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + 16];
        }
        sum += sumi * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    }
    return sum;
}

}  // namespace ember::quant
