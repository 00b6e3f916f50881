// Gemma 2 and Gemma 3: embeddings scaled by sqrt(n_embd), a norm after the attention and after
// the FFN as well as before them (the files store each norm as its final multiplier), a
// GELU-tanh gated FFN, NeoX rope, sliding-window attention on most layers, tied output.
// gemma2 soft-caps attention scores and logits; gemma3 norms each query and key head and
// ropes its window layers with base 10000. Shapes in ggml order; T = n_tokens.
#include "core/error.h"
#include "core/ops.h"
#include "ember/gguf.h"
#include "model/arch/architecture.h"
#include "model/arch/blocks.h"
#include "model/arch/tensor_spec.h"

#include <cmath>

namespace ember {
namespace {

Tensor* build_gemma_graph(GraphBuild& b) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    Tensor* x = ops::get_rows(ctx, *b.w.tok_embd, *b.in.tokens);  // [n_embd, T]
    x = ops::scale(ctx, *x, std::sqrt(static_cast<float>(hp.n_embd)));

    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        const LayerWeights& lw = b.w.layers[il];
        Tensor* h = blocks::norm(ctx, *x, *lw.attn_norm, hp.rms_eps);
        Tensor* a = blocks::linear(ctx, lw.wo, nullptr, *blocks::attend(b, il, blocks::project_qkv(b, il, *h)));
        Tensor* r = ops::add(ctx, *blocks::norm(ctx, *a, *lw.post_attn_norm, hp.rms_eps), *x);

        Tensor* f = blocks::norm(ctx, *r, *lw.ffn_norm, hp.rms_eps);
        Tensor* d = blocks::gated_ffn(ctx, lw, *f, blocks::Activation::Gelu);
        x = ops::add(ctx, *blocks::norm(ctx, *d, *lw.post_ffn_norm, hp.rms_eps), *r);
    }

    if (b.in.out_ids != nullptr) x = ops::get_rows(ctx, *x, *b.in.out_ids);
    x = blocks::norm(ctx, *x, *b.w.output_norm, hp.rms_eps);
    Tensor* logits = ops::mul_mat(ctx, *b.w.output, *x);  // [n_vocab, n_outputs]
    return hp.final_softcap > 0.0f ? blocks::soft_cap(ctx, *logits, hp.final_softcap) : logits;
}

using namespace tensor_spec;
constexpr TensorSpec kPostAttnNorm = layer("blk.%d.post_attention_norm.weight", Need::Always, embd, &LayerWeights::post_attn_norm);
constexpr TensorSpec kPostFfnNorm = layer("blk.%d.post_ffw_norm.weight", Need::Always, embd, &LayerWeights::post_ffn_norm);

constexpr TensorSpec kGemma2Tensors[] = {
    kTokenEmbd, kOutputNorm, kOutput,
    kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnOutput, kPostAttnNorm,
    kFfnNorm, kFfnGate, kFfnUp, kFfnDown, kPostFfnNorm,
};
constexpr TensorSpec kGemma3Tensors[] = {
    kTokenEmbd, kOutputNorm, kOutput,
    kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnQNorm, kAttnKNorm, kAttnOutput, kPostAttnNorm,
    kFfnNorm, kFfnGate, kFfnUp, kFfnDown, kPostFfnNorm,
};

// Layer il has the sliding window when il % period < period - 1 (the last of each period is global).
void window_every_but_last_of(HParams& hp, uint32_t period) {
    hp.swa_layers.assign(hp.n_layer, false);
    for (uint32_t il = 0; il < hp.n_layer; ++il) hp.swa_layers[il] = il % period < period - 1;
}

float positive_f32(const gguf::File& f, const std::string& key) {
    const float v = f.get_f32_opt(key).value_or(0.0f);
    if (!std::isfinite(v) || v < 0.0f) fail("{}: {} must be finite and positive, not {}", f.path(), key, v);
    return v;
}

void read_gemma2_hparams(const gguf::File& f, HParams& hp) {
    hp.attn_softcap = positive_f32(f, "gemma2.attn_logit_softcapping");
    hp.final_softcap = positive_f32(f, "gemma2.final_logit_softcapping");
    window_every_but_last_of(hp, 2);  // even layers local, odd global
    // The released sizes' query scale (query_pre_attn_scalar is not in the files): 1/sqrt(head_dim)
    // for 2B and 9B (26 and 42 layers), 1/sqrt(n_embd / n_head) for 27B (46 layers).
    if (hp.n_layer == 46) {
        hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.n_embd / hp.n_head));
    } else if (hp.n_layer == 26 || hp.n_layer == 42) {
        hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
    } else {
        fail("{}: gemma2 with {} layers: its query scale is not known (26, 42 or 46 layers)", f.path(), hp.n_layer);
    }
}

void read_gemma3_hparams(const gguf::File& f, HParams& hp) {
    (void)f;
    window_every_but_last_of(hp, 6);  // 5 local layers, then 1 global
    hp.rope_freq_base_swa = 10000.0f;
    if (hp.attn_scale == 0.0f) hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
}

}  // namespace

extern const Architecture kGemma2Architecture{"gemma2", RopeMode::Neox, kGemma2Tensors, build_gemma_graph, shift_k_rope,
                                              read_gemma2_hparams};
extern const Architecture kGemma3Architecture{"gemma3", RopeMode::Neox, kGemma3Tensors, build_gemma_graph, shift_k_rope,
                                              read_gemma3_hparams};

}  // namespace ember
