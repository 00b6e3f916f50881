#include "quant/q5_1.h"

#include "quant/common.h"
#include "quant/f16.h"

namespace ember::quant {

// Reference: d = (max - min)/31, q = trunc((x - min) / d + 0.5) with no clamp (the
// reference has none; q stays within 0..31 for finite input).
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
    require_whole_blocks(n, QK5_1, "Q5_1");
    for (int64_t b = 0; b < n / QK5_1; ++b, x += QK5_1) {
        float mn = 0;
        float mx = 0;
        block_min_max(x, QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        y[b].m = fp32_to_fp16(mn);
        uint8_t q[QK5_1];
        for (int j = 0; j < QK5_1; ++j) q[j] = static_cast<uint8_t>(static_cast<int>((x[j] - mn) * id + 0.5f));
        pack_q5_32(q, y[b].qs, y[b].qh);
    }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
    require_whole_blocks(n, QK5_1, "Q5_1");
    for (int64_t b = 0; b < n / QK5_1; ++b, y += QK5_1) {
        const float d = fp16_to_fp32(x[b].d);
        const float m = fp16_to_fp32(x[b].m);
        const uint32_t qh = load_u32_le(x[b].qh);
        for (int e = 0; e < QK5_1; ++e) y[e] = unpack_q5(x[b].qs, qh, e) * d + m;
    }
}

float vec_dot_q5_1_q8_1(int64_t n, const BlockQ5_1* x, const BlockQ8_1* y) {
    require_whole_blocks(n, QK5_1, "Q5_1");
    float sum = 0;
    for (int64_t b = 0; b < n / QK5_1; ++b) {
        const uint32_t qh = load_u32_le(x[b].qh);
        int32_t sumi = 0;
        for (int e = 0; e < QK5_1; ++e) sumi += unpack_q5(x[b].qs, qh, e) * y[b].qs[e];
        sum += (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) * sumi + fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
    }
    return sum;
}

}  // namespace ember::quant
