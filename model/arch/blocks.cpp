#include "model/arch/blocks.h"

#include "core/ops.h"
#include "model/runtime/kv_cache.h"

#include <cmath>

namespace ember::blocks {

Tensor* linear(Context& ctx, Tensor* w, Tensor* b, Tensor& x) {
    Tensor* y = ops::mul_mat(ctx, *w, x);
    return b != nullptr ? ops::add(ctx, *y, *b) : y;
}

Tensor* norm(Context& ctx, Tensor& x, Tensor& weight, float eps) {
    return ops::mul(ctx, *ops::rms_norm(ctx, x, eps), weight);
}

Tensor* soft_cap(Context& ctx, Tensor& x, float cap) {
    return ops::scale(ctx, *ops::tanh(ctx, *ops::scale(ctx, x, 1.0f / cap)), cap);
}

namespace {

// Rows [first, first + n) of x [N, T] as a contiguous [n, T].
Tensor* rows(Context& ctx, Tensor& x, int64_t first, int64_t n) {
    return ops::cont(ctx, *ops::view_2d(ctx, x, n, x.ne[1], x.nb[1], static_cast<size_t>(first) * x.nb[0]));
}

}  // namespace

Qkv project_qkv(GraphBuild& b, uint32_t il, Tensor& h) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    const LayerWeights& lw = b.w.layers[il];
    const int64_t T = b.in.n_tokens, hd = hp.head_dim;

    Tensor *q = nullptr, *k = nullptr, *v = nullptr;
    if (lw.wqkv != nullptr) {
        Tensor* qkv = ops::mul_mat(ctx, *lw.wqkv, h);  // [n_embd_q + 2 n_embd_kv, T]
        q = rows(ctx, *qkv, 0, hp.n_embd_q());
        k = rows(ctx, *qkv, hp.n_embd_q(), hp.n_embd_kv());
        v = rows(ctx, *qkv, hp.n_embd_q() + hp.n_embd_kv(), hp.n_embd_kv());
    } else {
        q = linear(ctx, lw.wq, lw.bq, h);
        k = linear(ctx, lw.wk, lw.bk, h);
        v = linear(ctx, lw.wv, lw.bv, h);
    }
    q = ops::reshape_3d(ctx, *q, hd, hp.n_head, T);
    k = ops::reshape_3d(ctx, *k, hd, hp.n_head_kv, T);
    if (lw.q_norm != nullptr) q = norm(ctx, *q, *lw.q_norm, hp.rms_eps);
    if (lw.k_norm != nullptr) k = norm(ctx, *k, *lw.k_norm, hp.rms_eps);

    const ops::RopeParams rope = rope_params(hp, il);
    q = ops::rope(ctx, *q, *b.in.positions, rope, b.w.rope_freqs);
    k = ops::rope(ctx, *k, *b.in.positions, rope, b.w.rope_freqs);
    return {q, k, v};
}

Tensor* attend(GraphBuild& b, uint32_t il, const Qkv& qkv) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    const int64_t T = b.in.n_tokens, hd = hp.head_dim, n_kv = b.in.n_kv;

    // Cache writes: K rows at cells [kv_head, kv_head + T); V as columns of the transposed cache.
    Tensor& kc = b.cache.k(il);
    Tensor& vc = b.cache.v(il);
    const size_t es = type_size(kc.type);
    Tensor* k_dst = ops::view_2d(ctx, kc, hp.n_embd_kv(), T, kc.nb[1], b.in.kv_head * kc.nb[1]);
    Tensor* v_dst = ops::view_2d(ctx, vc, T, hp.n_embd_kv(), vc.nb[1], b.in.kv_head * es);
    b.ordered.push_back(ops::cpy(ctx, *ops::reshape_2d(ctx, *qkv.k, hp.n_embd_kv(), T), *k_dst));
    b.ordered.push_back(ops::cpy(ctx, *ops::transpose(ctx, *qkv.v), *v_dst));

    // scores [kv, T, n_head] = K·Q per head; query head h reads KV head h / (n_head / n_head_kv).
    Tensor* K = ops::view_3d(ctx, kc, hd, n_kv, hp.n_head_kv, kc.nb[1], hd * es, 0);
    Tensor* Q = ops::permute(ctx, *qkv.q, {0, 2, 1, 3});  // [hd, T, n_head]
    const float scale = hp.attn_scale != 0.0f ? hp.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
    Tensor* mask = hp.is_swa(il) ? b.in.mask_swa : b.in.mask;
    Tensor* scores = ops::mul_mat(ctx, *K, *Q);
    Tensor* p = nullptr;
    if (hp.attn_softcap > 0.0f) {
        p = ops::soft_max(ctx, *soft_cap(ctx, *ops::scale(ctx, *scores, scale), hp.attn_softcap), mask, 1.0f);
    } else {
        p = ops::soft_max(ctx, *scores, mask, scale);
    }

    // out [hd, T, n_head] = V·P, V viewed as [kv, hd, n_head_kv] (rows along the cells).
    Tensor* V = ops::view_3d(ctx, vc, n_kv, hd, hp.n_head_kv, vc.nb[1], hd * vc.nb[1], 0);
    Tensor* o = ops::mul_mat(ctx, *V, *p);
    o = ops::cont(ctx, *ops::permute(ctx, *o, {0, 2, 1, 3}));  // [hd, n_head, T]
    return ops::reshape_2d(ctx, *o, hp.n_embd_q(), T);
}

Tensor* gated_ffn(Context& ctx, const LayerWeights& lw, Tensor& x, Activation act) {
    Tensor *g = nullptr, *u = nullptr;
    if (lw.ffn_gate != nullptr) {
        g = ops::mul_mat(ctx, *lw.ffn_gate, x);
        u = ops::mul_mat(ctx, *lw.ffn_up, x);
    } else {
        Tensor* gu = ops::mul_mat(ctx, *lw.ffn_up, x);  // [2 n_ff, T]: gate | up
        const int64_t n_ff = gu->ne[0] / 2;
        g = rows(ctx, *gu, 0, n_ff);
        u = rows(ctx, *gu, n_ff, n_ff);
    }
    Tensor* h = act == Activation::Silu ? ops::swiglu(ctx, *g, *u) : ops::mul(ctx, *ops::gelu(ctx, *g), *u);
    return ops::mul_mat(ctx, *lw.ffn_down, *h);
}

}  // namespace ember::blocks
