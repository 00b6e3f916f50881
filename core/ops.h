// Graph-building ops. Each call checks its shape rule and throws ember::Error
// naming the op and the offending shapes; none computes anything. Results are
// new tensors in `ctx` (usually a no-alloc context) with `op` and `src` set.
//
// Shapes use ggml order: ne[0] innermost. "rows" are ne[0]-long vectors.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

#include <array>

namespace ember::ops {

// rows [ne0, n_rows, (ne2)] of any type, ids I32 [n, (ne2)] -> F32 [ne0, n, (ne2)].
Tensor* get_rows(Context& ctx, Tensor& table, Tensor& ids);

// a [K, N, A2, A3] (any computable weight type) x b [K, M, B2, B3] (F32) -> F32 [N, M, B2, B3].
// B2 % A2 == 0 and B3 % A3 == 0: a's batches are broadcast (grouped-query attention).
Tensor* mul_mat(Context& ctx, Tensor& a, Tensor& b);

// Element-wise; b is repeated to a's shape (a.ne[i] % b.ne[i] == 0). F32.
Tensor* add(Context& ctx, Tensor& a, Tensor& b);
Tensor* mul(Context& ctx, Tensor& a, Tensor& b);
Tensor* scale(Context& ctx, Tensor& a, float s);

// Per row: x / sqrt(mean(x^2) + eps). F32.
Tensor* rms_norm(Context& ctx, Tensor& a, float eps);

struct RopeParams {
    int32_t n_dims = 0;  // rotated dimensions (<= ne[0], even); the rest is copied
    RopeMode mode = RopeMode::Normal;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;   // 1 / linear scaling factor
    float attn_factor = 1.0f;  // multiplies cos and sin
};
// a F32 [head_dim, n_head, n_tokens, 1], positions I32 [n_tokens].
// freq_factors (optional) F32 [n_dims / 2] divides each pair's angle.
Tensor* rope(Context& ctx, Tensor& a, Tensor& positions, const RopeParams& params, Tensor* freq_factors = nullptr);

// Per row of a [n_kv, n_q, H, B]: softmax(a * scale + mask). mask (optional) F32 or F16
// [n_kv, >= n_q, H or 1, B or 1], broadcast over heads and batches; -inf masks out.
Tensor* soft_max(Context& ctx, Tensor& a, Tensor* mask, float scale);

Tensor* silu(Context& ctx, Tensor& a);
Tensor* gelu(Context& ctx, Tensor& a);
// silu(a) * b, same shapes.
Tensor* swiglu(Context& ctx, Tensor& a, Tensor& b);

// Converts a into dst's storage (F32 <-> F16, or the same type); element counts must match.
// Returns a view of dst, so later reads of it are ordered after the copy.
Tensor* cpy(Context& ctx, Tensor& a, Tensor& dst);
// A contiguous copy of a (any layout), same type and shape.
Tensor* cont(Context& ctx, Tensor& a);

// No-compute views (share the storage of a).
Tensor* view(Context& ctx, Tensor& a, std::array<int64_t, 4> ne, std::array<size_t, 3> nb, size_t offset);
Tensor* view_1d(Context& ctx, Tensor& a, int64_t ne0, size_t offset);
Tensor* view_2d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset);
Tensor* view_3d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2, size_t offset);
// a must be contiguous; the element count must match.
Tensor* reshape(Context& ctx, Tensor& a, std::array<int64_t, 4> ne);
Tensor* reshape_2d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1);
Tensor* reshape_3d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, int64_t ne2);
// Source dim i becomes result dim axes[i] (ggml convention); axes is a permutation of 0..3.
Tensor* permute(Context& ctx, Tensor& a, std::array<int, 4> axes);
// Swaps dims 0 and 1.
Tensor* transpose(Context& ctx, Tensor& a);

// F32 [n, rows...] -> I32 [rows]: index of each row's maximum (first wins ties).
Tensor* argmax(Context& ctx, Tensor& a);

}  // namespace ember::ops
