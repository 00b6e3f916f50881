#include "backends/cpu/vec_math.h"

#include <cmath>
#include <cstdint>

namespace ember::cpu {
namespace {

// ---- scalar: the reference (std::exp) ------------------------------------------------------

double softmax_exp_scalar(float* x, int64_t n, float max) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float e = std::exp(x[i] - max);
        x[i] = e;
        sum += static_cast<double>(e);
    }
    return sum;
}

void silu_row_scalar(const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = silu_ref(x[i]);
}

void swiglu_row_scalar(const float* a, const float* b, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = silu_ref(a[i]) * b[i];
}

}  // namespace

void register_vec_math(CpuKernels& k) {
    k.softmax_exp = softmax_exp_scalar;
    k.silu_row = silu_row_scalar;
    k.swiglu_row = swiglu_row_scalar;
}

}  // namespace ember::cpu
