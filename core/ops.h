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

// Mixture of experts: for each token t and slot s, the expert ids[s, t] times one input row.
//   as  [K, N, n_expert]  the experts' weight matrices (any weight type mul_mat takes)
//   b   F32 [K, B1, T]     B1 == 1: one input row per token, used by each of its slots;
//                          B1 == n_used: one input row per slot
//   ids I32 [n_used, T]    expert index per slot and token (e.g. top_k of the router)
//   ->  F32 [N, n_used, T] out[:, s, t] = as[:, :, ids[s, t]] · b[:, B1 == 1 ? 0 : s, t]
// As ggml_mul_mat_id. Ids are checked when the node is computed: one outside [0, n_expert)
// fails the compute with an ember::Error naming it, before anything is read through it.
Tensor* mul_mat_id(Context& ctx, Tensor& as, Tensor& b, Tensor& ids);

// Element-wise; b is repeated to a's shape (a.ne[i] % b.ne[i] == 0). F32.
Tensor* add(Context& ctx, Tensor& a, Tensor& b);
Tensor* mul(Context& ctx, Tensor& a, Tensor& b);
Tensor* div(Context& ctx, Tensor& a, Tensor& b);  // a / b (IEEE: x / 0 is ±inf or NaN)
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
// tanh(x), F32, same shape (soft-capping: scale(tanh(scale(x, 1 / cap)), cap)).
Tensor* tanh(Context& ctx, Tensor& a);
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

// F32 [n, r1, r2, r3] -> I32 [k, r1, r2, r3]: per row, the indices of its k largest values
// in descending order of value; equal values: the lower index first; NaN ranks below every
// number (-inf included). 1 <= k <= n.
Tensor* top_k(Context& ctx, Tensor& a, int64_t k);

// F32 [n, r1, r2, r3] -> F32 [1, r1, r2, r3]: the sum of each row.
Tensor* sum_rows(Context& ctx, Tensor& a);

}  // namespace ember::ops
