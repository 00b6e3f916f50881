// The llama-family forward pass (docs/FORMATS.md §4.3), built as a graph for one step of
// n_tokens tokens, and the llama architecture entry. Shapes in ggml order; T = n_tokens,
// kv = cache cells attended to.
#include "core/ops.h"
#include "model/arch/architecture.h"
#include "model/arch/tensor_spec.h"
#include "model/runtime/kv_cache.h"

#include <cmath>

namespace ember {
namespace {

Tensor* linear(Context& ctx, Tensor* w, Tensor* b, Tensor& x) {
    Tensor* y = ops::mul_mat(ctx, *w, x);
    return b != nullptr ? ops::add(ctx, *y, *b) : y;
}

Tensor* norm(Context& ctx, Tensor& x, Tensor& weight, float eps) {
    return ops::mul(ctx, *ops::rms_norm(ctx, x, eps), weight);
}

// Self-attention of one layer: writes this step's K and V into the cache, then attends
// over cells [0, n_kv). Returns [n_embd_q, T].
Tensor* attention(GraphBuild& b, uint32_t il, Tensor& h) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    const LayerWeights& lw = b.w.layers[il];
    const int64_t T = b.in.n_tokens, hd = hp.head_dim, n_kv = b.in.n_kv;

    Tensor* q = ops::reshape_3d(ctx, *linear(ctx, lw.wq, lw.bq, h), hd, hp.n_head, T);
    Tensor* k = ops::reshape_3d(ctx, *linear(ctx, lw.wk, lw.bk, h), hd, hp.n_head_kv, T);
    Tensor* v = linear(ctx, lw.wv, lw.bv, h);  // [n_embd_kv, T]

    const ops::RopeParams rope = rope_params(hp);
    q = ops::rope(ctx, *q, *b.in.positions, rope, b.w.rope_freqs);
    k = ops::rope(ctx, *k, *b.in.positions, rope, b.w.rope_freqs);

    // Cache writes: K rows at cells [kv_head, kv_head + T); V as columns of the transposed cache.
    Tensor& kc = b.cache.k(il);
    Tensor& vc = b.cache.v(il);
    const size_t es = type_size(kc.type);
    Tensor* k_dst = ops::view_2d(ctx, kc, hp.n_embd_kv(), T, kc.nb[1], b.in.kv_head * kc.nb[1]);
    Tensor* v_dst = ops::view_2d(ctx, vc, T, hp.n_embd_kv(), vc.nb[1], b.in.kv_head * es);
    b.ordered.push_back(ops::cpy(ctx, *ops::reshape_2d(ctx, *k, hp.n_embd_kv(), T), *k_dst));
    b.ordered.push_back(ops::cpy(ctx, *ops::transpose(ctx, *v), *v_dst));

    // scores [kv, T, n_head] = K·Q per head; query head h reads KV head h / (n_head / n_head_kv).
    Tensor* K = ops::view_3d(ctx, kc, hd, n_kv, hp.n_head_kv, kc.nb[1], hd * es, 0);
    Tensor* Q = ops::permute(ctx, *q, {0, 2, 1, 3});  // [hd, T, n_head]
    const float scale = hp.attn_scale != 0.0f ? hp.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
    Tensor* p = ops::soft_max(ctx, *ops::mul_mat(ctx, *K, *Q), b.in.mask, scale);

    // out [hd, T, n_head] = V·P, V viewed as [kv, hd, n_head_kv] (rows along the cells).
    Tensor* V = ops::view_3d(ctx, vc, n_kv, hd, hp.n_head_kv, vc.nb[1], hd * vc.nb[1], 0);
    Tensor* o = ops::mul_mat(ctx, *V, *p);
    o = ops::cont(ctx, *ops::permute(ctx, *o, {0, 2, 1, 3}));  // [hd, n_head, T]
    return ops::reshape_2d(ctx, *o, hp.n_embd_q(), T);
}

}  // namespace

Tensor* build_llama_graph(GraphBuild& b) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    Tensor* x = ops::get_rows(ctx, *b.w.tok_embd, *b.in.tokens);  // [n_embd, T]

    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        const LayerWeights& lw = b.w.layers[il];
        Tensor* a = attention(b, il, *norm(ctx, *x, *lw.attn_norm, hp.rms_eps));
        Tensor* r = ops::add(ctx, *linear(ctx, lw.wo, lw.bo, *a), *x);

        Tensor* f = norm(ctx, *r, *lw.ffn_norm, hp.rms_eps);
        Tensor* g = ops::mul_mat(ctx, *lw.ffn_gate, *f);
        Tensor* u = ops::mul_mat(ctx, *lw.ffn_up, *f);
        x = ops::add(ctx, *ops::mul_mat(ctx, *lw.ffn_down, *ops::swiglu(ctx, *g, *u)), *r);
    }

    if (b.in.out_ids != nullptr) x = ops::get_rows(ctx, *x, *b.in.out_ids);  // only rows that need logits
    x = norm(ctx, *x, *b.w.output_norm, hp.rms_eps);
    return ops::mul_mat(ctx, *b.w.output, *x);  // [n_vocab, n_outputs]
}

namespace {
constexpr auto kLlamaTensors = tensor_spec::llama_block_tensors(/*qkv_bias_required=*/false);
}  // namespace

// Llama, Mistral and dense Mixtral-shaped GGUFs all say "llama".
extern const Architecture kLlamaArchitecture{"llama", RopeMode::Normal, kLlamaTensors, build_llama_graph, shift_k_rope};

}  // namespace ember
