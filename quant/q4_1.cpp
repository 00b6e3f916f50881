#include "quant/q4_1.h"

#include "quant/common.h"
#include "quant/f16.h"

#include <algorithm>

namespace ember::quant {

// Reference: d = (max - min)/15, q = min(15, trunc((x - min) / d + 0.5)) with the
// unrounded d; d and min stored as fp16.
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
    require_whole_blocks(n, QK4_1, "Q4_1");
    for (int64_t b = 0; b < n / QK4_1; ++b, x += QK4_1) {
        float mn = 0;
        float mx = 0;
        block_min_max(x, QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(mn);
        uint8_t q[QK4_1];
        for (int j = 0; j < QK4_1; ++j) q[j] = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - mn) * id + 0.5f))));
        pack_nibbles_32(q, y[b].qs);
    }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
    require_whole_blocks(n, QK4_1, "Q4_1");
    for (int64_t b = 0; b < n / QK4_1; ++b, y += QK4_1) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        for (int j = 0; j < QK4_1 / 2; ++j) {
            y[j] = (x[b].qs[j] & 0x0F) * d + m;
            y[j + 16] = (x[b].qs[j] >> 4) * d + m;
        }
    }
}

// Per block: dx*dy*sum(q*qy) + m*s, where s = dy*sum(qy) carries the activation sum.
float vec_dot_q4_1_q8_1(int64_t n, const BlockQ4_1* x, const BlockQ8_1* y) {
    require_whole_blocks(n, QK4_1, "Q4_1");
    float sum = 0;
    for (int64_t b = 0; b < n / QK4_1; ++b) {
        int32_t sumi = 0;
        for (int j = 0; j < QK4_1 / 2; ++j) {
            sumi += (x[b].qs[j] & 0x0F) * y[b].qs[j];
            sumi += (x[b].qs[j] >> 4) * y[b].qs[j + 16];
        }
        sum += (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) * sumi + fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
    }
    return sum;
}

}  // namespace ember::quant
