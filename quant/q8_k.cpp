#include "quant/q8_k.h"

#include <algorithm>
#include <cstring>

namespace ember::quant {

// Reference: iscale = -127/max (max = signed largest-magnitude element, which therefore
// maps to -127), q = min(127, nearest_int(iscale * x)), d = 1/iscale as float32.
// An all-zero block gets d = 0 and zero quants; the reference leaves its bsums
// unwritten, ember zeroes them (which is also their correct value).
void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q8_K");
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        float amax = 0;
        const float max = signed_absmax(x, QK_K, &amax);
        if (amax == 0.0f) {
            y[b].d = 0;
            std::memset(y[b].qs, 0, sizeof(y[b].qs));
            std::memset(y[b].bsums, 0, sizeof(y[b].bsums));
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; ++j) y[b].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
        for (int k = 0; k < QK_K / 16; ++k) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * k + i];
            y[b].bsums[k] = static_cast<int16_t>(sum);
        }
        y[b].d = 1 / iscale;
    }
}

void dequantize_row_q8_k(const BlockQ8_K* x, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q8_K");
    for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
        for (int j = 0; j < QK_K; ++j) y[j] = x[b].d * x[b].qs[j];
    }
}

}  // namespace ember::quant
