#include "quant/q8_0.h"

#include "quant/common.h"
#include "quant/f16.h"

#include <cmath>

namespace ember::quant {

// Reference: d = amax/127, q = roundf(x / d) (half away from zero), computed with the
// unrounded d; d is stored as fp16.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
        float amax = 0;
        signed_absmax(x, QK8_0, &amax);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; ++j) y[b].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    for (int64_t b = 0; b < n / QK8_0; ++b, y += QK8_0) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK8_0; ++j) y[j] = x[b].qs[j] * d;
    }
}

// Integer products within a block, blocks accumulated in float.
float vec_dot_q8_0_q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    float sum = 0;
    for (int64_t b = 0; b < n / QK8_0; ++b) {
        int32_t sumi = 0;
        for (int j = 0; j < QK8_0; ++j) sumi += x[b].qs[j] * y[b].qs[j];
        sum += sumi * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    }
    return sum;
}

}  // namespace ember::quant
