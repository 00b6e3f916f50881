#include "quant/f32.h"

#include <cstring>

namespace ember::quant {

void copy_f32_row(const float* src, float* dst, int64_t n) {
    if (n > 0 && src != dst) std::memmove(dst, src, static_cast<size_t>(n) * sizeof(float));
}

float vec_dot_f32(int64_t n, const float* x, const float* y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
    return static_cast<float>(sum);
}

}  // namespace ember::quant
