#include "quant/q8_1.h"

#include "quant/common.h"
#include "quant/f16.h"

#include <cmath>

namespace ember::quant {

// Reference: quants as Q8_0 (roundf, unrounded d); s = fp16(sum(qs) * d).
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
    require_whole_blocks(n, QK8_1, "Q8_1");
    for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
        float amax = 0;
        signed_absmax(x, QK8_1, &amax);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; ++j) {
            y[b].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
            sum += y[b].qs[j];
        }
        y[b].s = fp32_to_fp16(sum * d);
    }
}

void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
    require_whole_blocks(n, QK8_1, "Q8_1");
    for (int64_t b = 0; b < n / QK8_1; ++b, y += QK8_1) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK8_1; ++j) y[j] = x[b].qs[j] * d;
    }
}

}  // namespace ember::quant
