// Shifting cached keys in place: K was stored rotated by its position p; rotating it again by
// delta gives the rotation by p + delta (RoPE's rotations compose, angle = pos * theta_i), so a
// context shift re-ropes the kept cells instead of recomputing them. V has no position.
#include "model/arch/architecture.h"
#include "model/runtime/kv_cache.h"

namespace ember {

ops::RopeParams rope_params(const HParams& hp) {
    return {static_cast<int32_t>(hp.n_rot), hp.rope_mode, hp.rope_freq_base, hp.rope_freq_scale, 1.0f};
}

void shift_k_rope(KShiftBuild& b) {
    const HParams& hp = b.hp;
    const int64_t hd = hp.head_dim, n = b.n_kv;
    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        Tensor& kc = b.cache.k(il);
        // Cells [0, n_kv) as [head_dim, n_head_kv, n_kv]: contiguous, one cell per row of kc.
        Tensor* cells = ops::view_3d(b.ctx, kc, hd, hp.n_head_kv, n, hd * type_size(kc.type), kc.nb[1], 0);
        Tensor* f32 = b.ctx.new_tensor_3d(Type::F32, hd, hp.n_head_kv, n);  // rope computes in F32
        Tensor* rotated = ops::rope(b.ctx, *ops::cpy(b.ctx, *cells, *f32), *b.deltas, rope_params(hp), b.w.rope_freqs);
        b.outputs.push_back(ops::cpy(b.ctx, *rotated, *cells));
    }
}

}  // namespace ember
