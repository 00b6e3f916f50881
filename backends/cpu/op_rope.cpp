// rope: rotary position embedding of a [head_dim, n_head, n_tokens, ne3] with positions
// I32 [n_tokens] (docs/FORMATS.md §4.5). For pair i of token t at position p:
//   theta_0 = (float)p, theta_{i+1} = theta_i * powf(base, -2 / n_dims)   (iterative, as ggml)
//   theta   = freq_scale * theta_i / ff[i]      (ff: optional freq_factors, else 1)
//   cos, sin = cosf(theta) * attn_factor, sinf(theta) * attn_factor
// Normal mode rotates (x[2i], x[2i+1]); NeoX mode rotates (x[i], x[i + n_dims/2]).
// Dimensions n_dims..head_dim-1 are copied unchanged.
// Contiguous rows are rotated by the kernel table's rope_row (norm_rope.h: the same float
// operations, vectorized); strided ones (views with nb[0] != 4) take the scalar loops below.
#include "backends/cpu/cpu_ops.h"

#include <cmath>
#include <cstring>

namespace ember::cpu {
namespace {

// cos/sin of every pair for position p, interleaved: cache[2i] = cos_i, cache[2i+1] = sin_i.
void fill_cache(float* cache, int32_t p, int32_t n_dims, float theta_scale, float freq_scale, float attn_factor,
                const Tensor* ff) {
    float theta_base = static_cast<float>(p);
    for (int32_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float factor = ff != nullptr ? load_f32(elem(*ff, i0 / 2, 0, 0, 0)) : 1.0f;
        const float theta = freq_scale * (theta_base / factor);
        cache[i0 + 0] = std::cos(theta) * attn_factor;
        cache[i0 + 1] = std::sin(theta) * attn_factor;
        theta_base *= theta_scale;
    }
}

}  // namespace

size_t rope_local_size(const Tensor& dst) { return static_cast<size_t>(dst.param_i32(0)) * sizeof(float); }

void rope(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor& pos = *dst.src[1];
    const Tensor* ff = dst.src[2];
    const int32_t n_dims = dst.param_i32(0);
    const bool neox = dst.param_i32(1) == static_cast<int32_t>(RopeMode::Neox);
    const float freq_base = dst.param_f32(2);
    const float freq_scale = dst.param_f32(3);
    const float attn_factor = dst.param_f32(4);
    const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_dims));
    const int64_t ne0 = dst.ne[0];
    const size_t s0 = a.nb[0];

    auto* cache = reinterpret_cast<float*>(tc.local);
    int64_t cached_token = -1;  // the cache holds this token's angles

    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(dst, r, i1, i2, i3);
        if (i2 != cached_token) {
            int32_t p;
            std::memcpy(&p, elem(pos, i2, 0, 0, 0), sizeof p);
            fill_cache(cache, p, n_dims, theta_scale, freq_scale, attn_factor, ff);
            cached_token = i2;
        }
        const char* x = row_ptr(a, i1, i2, i3);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i1, i2, i3));
        if (s0 == sizeof(float)) {
            tc.kernels->rope_row(reinterpret_cast<const float*>(x), out, cache, n_dims, neox);
            std::memcpy(out + n_dims, x + n_dims * sizeof(float), static_cast<size_t>(ne0 - n_dims) * sizeof(float));
            continue;
        }
        if (!neox) {
            for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
                const float c = cache[i0], s = cache[i0 + 1];
                const float x0 = load_f32(x + i0 * s0);
                const float x1 = load_f32(x + (i0 + 1) * s0);
                out[i0] = x0 * c - x1 * s;
                out[i0 + 1] = x0 * s + x1 * c;
            }
        } else {
            const int64_t half = n_dims / 2;
            for (int64_t i = 0; i < half; ++i) {
                const float c = cache[2 * i], s = cache[2 * i + 1];
                const float x0 = load_f32(x + i * s0);
                const float x1 = load_f32(x + (i + half) * s0);
                out[i] = x0 * c - x1 * s;
                out[i + half] = x0 * s + x1 * c;
            }
        }
        for (int64_t i0 = n_dims; i0 < ne0; ++i0) out[i0] = load_f32(x + i0 * s0);
    }
}

}  // namespace ember::cpu
