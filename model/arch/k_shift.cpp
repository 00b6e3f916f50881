// Shifting cached keys in place: K was stored rotated by its position p; rotating it again by
// delta gives the rotation by p + delta (RoPE's rotations compose, angle = pos * theta_i), so a
// context shift re-ropes the kept cells instead of recomputing them. V has no position.
#include "model/arch/architecture.h"
#include "model/runtime/kv_cache.h"

namespace ember {

ops::RopeParams rope_params(const HParams& hp, uint32_t il) {
    // gemma3's window layers have their own base and no context scaling.
    const bool own_base = hp.is_swa(il) && hp.rope_freq_base_swa > 0.0f;
    return {static_cast<int32_t>(hp.n_rot), hp.rope_mode, own_base ? hp.rope_freq_base_swa : hp.rope_freq_base,
            own_base ? 1.0f : hp.rope_freq_scale, 1.0f};
}

void shift_k_rope(KShiftBuild& b) {
    const HParams& hp = b.hp;
    const int64_t hd = hp.head_dim, n = b.n_kv;
    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        Tensor& kc = b.cache.k(il);
        // Cells [0, n_kv) as head rows [head_dim, n_head_kv * n_kv]: contiguous, a cell is
        // n_head_kv rows. get_rows converts them to F32, which rope computes in, on any backend.
        Tensor* heads = ops::view_2d(b.ctx, kc, hd, hp.n_head_kv * n, hd * type_size(kc.type), 0);
        Tensor* f32 = ops::reshape_3d(b.ctx, *ops::get_rows(b.ctx, *heads, *b.iota), hd, hp.n_head_kv, n);
        Tensor* rotated = ops::rope(b.ctx, *f32, *b.deltas, rope_params(hp, il), b.w.rope_freqs);
        Tensor* cells = ops::view_3d(b.ctx, kc, hd, hp.n_head_kv, n, hd * type_size(kc.type), kc.nb[1], 0);
        b.outputs.push_back(ops::cpy(b.ctx, *rotated, *cells));
    }
}

}  // namespace ember
