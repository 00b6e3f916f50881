#include "quant/q5_0.h"

#include "quant/common.h"
#include "quant/f16.h"

#include <algorithm>

namespace ember::quant {

// Reference: as Q4_0 with d = max / -16 and q = min(31, trunc(x / d + 16.5)).
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
    require_whole_blocks(n, QK5_0, "Q5_0");
    for (int64_t b = 0; b < n / QK5_0; ++b, x += QK5_0) {
        float amax = 0;
        const float max = signed_absmax(x, QK5_0, &amax);
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        uint8_t q[QK5_0];
        for (int j = 0; j < QK5_0; ++j) q[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
        pack_q5_32(q, y[b].qs, y[b].qh);
    }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
    require_whole_blocks(n, QK5_0, "Q5_0");
    for (int64_t b = 0; b < n / QK5_0; ++b, y += QK5_0) {
        const float d = fp16_to_fp32(x[b].d);
        const uint32_t qh = load_u32_le(x[b].qh);
        for (int e = 0; e < QK5_0; ++e) y[e] = (unpack_q5(x[b].qs, qh, e) - 16) * d;
    }
}

float vec_dot_q5_0_q8_0(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y) {
    require_whole_blocks(n, QK5_0, "Q5_0");
    float sum = 0;
    for (int64_t b = 0; b < n / QK5_0; ++b) {
        const uint32_t qh = load_u32_le(x[b].qh);
        int32_t sumi = 0;
        for (int e = 0; e < QK5_0; ++e) sumi += (unpack_q5(x[b].qs, qh, e) - 16) * y[b].qs[e];
        sum += sumi * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    }
    return sum;
}

}  // namespace ember::quant
