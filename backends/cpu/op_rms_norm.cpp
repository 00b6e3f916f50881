// rms_norm, per row of n: sum = Σ x² (each square in float, summed in double),
// mean = (float)(sum / n), y = x * (1 / sqrtf(mean + eps))  (docs/FORMATS.md §4.4).
// Contiguous rows go through the kernel table's rms_norm_row (norm_rope.h); strided ones
// (permuted or transposed views) take the scalar loop here.
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/cpu_ops.h"

namespace ember::cpu {

void rms_norm(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const float eps = dst.param_f32(0);
    const int64_t ne0 = dst.ne[0];
    const bool contiguous = a.nb[0] == sizeof(float);
    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* x = row_ptr(a, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        if (contiguous) {
            tc.kernels->rms_norm_row(reinterpret_cast<const float*>(x), out, ne0, eps);
            continue;
        }
        double sum = 0.0;
        for (int64_t i0 = 0; i0 < ne0; ++i0) {
            const float v = load_f32(x + i0 * a.nb[0]);
            sum += static_cast<double>(v * v);
        }
        const float s = rms_norm_scale(sum, ne0, eps);
        for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = load_f32(x + i0 * a.nb[0]) * s;
    }
}

}  // namespace ember::cpu
