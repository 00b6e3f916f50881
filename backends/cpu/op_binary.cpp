// add, mul, div: dst = a (op) b, with b repeated to a's shape (dim i of b indexed i % b.ne[i]).
// scale: dst = a * s. All F32, sources through their strides, dst contiguous.
#include "backends/cpu/cpu_ops.h"

namespace ember::cpu {
namespace {

template <typename F>
void binary_rows(const ThreadCtx& tc, Tensor& dst, F f) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const int64_t ne0 = dst.ne[0];
    const int64_t nb0 = b.ne[0];
    const bool dense = a.nb[0] == sizeof(float) && b.nb[0] == sizeof(float);

    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* ar = row_ptr(a, i1, i2, i3);
        const char* br = row_ptr(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        if (dense && nb0 == ne0) {
            const auto* x = reinterpret_cast<const float*>(ar);
            const auto* y = reinterpret_cast<const float*>(br);
            for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = f(x[i0], y[i0]);
        } else {
            // b's row repeats every nb0 elements.
            for (int64_t i0 = 0, j0 = 0; i0 < ne0; ++i0) {
                out[i0] = f(load_f32(ar + i0 * a.nb[0]), load_f32(br + j0 * b.nb[0]));
                if (++j0 == nb0) j0 = 0;
            }
        }
    }
}

}  // namespace

void add(const ThreadCtx& tc, Tensor& dst) {
    binary_rows(tc, dst, [](float x, float y) { return x + y; });
}

void mul(const ThreadCtx& tc, Tensor& dst) {
    binary_rows(tc, dst, [](float x, float y) { return x * y; });
}

void div(const ThreadCtx& tc, Tensor& dst) {
    binary_rows(tc, dst, [](float x, float y) { return x / y; });
}

void scale(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const float s = dst.param_f32(0);
    const int64_t ne0 = dst.ne[0];
    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* ar = row_ptr(a, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = load_f32(ar + i0 * a.nb[0]) * s;
    }
}

}  // namespace ember::cpu
