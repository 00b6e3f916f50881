// silu, gelu (tanh approximation), tanh, swiglu = silu(a) * b. F32, sources through their strides;
// rows contiguous along dim 0 go through the kernel table's vectorized silu/swiglu (vec_math.h).
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/vec_math.h"

#include <cmath>

namespace ember::cpu {
namespace {

inline float gelu_f(float x) {
    constexpr float kSqrt2OverPi = 0.79788456080286535588f;
    constexpr float kCoef = 0.044715f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)));
}

template <typename F>
void unary_rows(const ThreadCtx& tc, Tensor& dst, F f) {
    const Tensor& a = *dst.src[0];
    const int64_t ne0 = dst.ne[0];
    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* ar = row_ptr(a, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = f(load_f32(ar + i0 * a.nb[0]));
    }
}

bool contiguous_f32_row(const Tensor& t) { return t.nb[0] == sizeof(float); }

}  // namespace

void silu(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    if (!contiguous_f32_row(a)) return unary_rows(tc, dst, silu_ref);
    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        tc.kernels->silu_row(reinterpret_cast<const float*>(row_ptr(a, i1, i2, i3)),
                             reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3)), dst.ne[0]);
    }
}

void gelu(const ThreadCtx& tc, Tensor& dst) { unary_rows(tc, dst, gelu_f); }

void tanh(const ThreadCtx& tc, Tensor& dst) {
    unary_rows(tc, dst, [](float x) { return std::tanh(x); });
}

void swiglu(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const int64_t ne0 = dst.ne[0];
    const bool contiguous = contiguous_f32_row(a) && contiguous_f32_row(b);
    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* ar = row_ptr(a, i1, i2, i3);
        const char* br = row_ptr(b, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        if (contiguous) {
            tc.kernels->swiglu_row(reinterpret_cast<const float*>(ar), reinterpret_cast<const float*>(br), out, ne0);
            continue;
        }
        for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = silu_ref(load_f32(ar + i0 * a.nb[0])) * load_f32(br + i0 * b.nb[0]);
    }
}

}  // namespace ember::cpu
