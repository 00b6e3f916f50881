// soft_max, per row of a [n_kv, n_q, H, B]: w = a * scale + mask, y = e^(w - max) / Σ,
// with float exponentials, the sum in double, and y = e * (float)(1 / sum) (docs/FORMATS.md §4.6).
// The exponentials and the sum are the kernel table's softmax_exp (vectorized; vec_math.h).
// mask (optional, F32 or F16) row i1 of plane (i2 % mask.ne[2], i3 % mask.ne[3]).
// A row that is entirely -inf gives zeros instead of NaN.
#include "backends/cpu/cpu_ops.h"

#include "quant/f16.h"

#include <algorithm>
#include <limits>

namespace ember::cpu {

void soft_max(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor* mask = dst.src[1];
    const float scale = dst.param_f32(0);
    const int64_t ne0 = dst.ne[0];
    const bool mask_f16 = mask != nullptr && mask->type == Type::F16;

    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        const char* x = row_ptr(a, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));

        float max = -std::numeric_limits<float>::infinity();
        if (mask != nullptr) {
            const char* mrow = row_ptr(*mask, i1, i2 % mask->ne[2], i3 % mask->ne[3]);
            for (int64_t i0 = 0; i0 < ne0; ++i0) {
                const char* mp = mrow + i0 * mask->nb[0];
                float m;
                if (mask_f16) {
                    uint16_t h;
                    std::memcpy(&h, mp, sizeof h);
                    m = quant::fp16_to_fp32(h);
                } else {
                    m = load_f32(mp);
                }
                out[i0] = load_f32(x + i0 * a.nb[0]) * scale + m;
                max = std::max(max, out[i0]);
            }
        } else {
            for (int64_t i0 = 0; i0 < ne0; ++i0) {
                out[i0] = load_f32(x + i0 * a.nb[0]) * scale;
                max = std::max(max, out[i0]);
            }
        }

        if (max == -std::numeric_limits<float>::infinity()) {  // nothing to attend to
            for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] = 0.0f;
            continue;
        }
        const double sum = tc.kernels->softmax_exp(out, ne0, max);
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i0 = 0; i0 < ne0; ++i0) out[i0] *= inv;
    }
}

}  // namespace ember::cpu
