// The llama-family forward pass (docs/FORMATS.md §4.3), built as a graph for one step of
// n_tokens tokens, and the llama architecture entry. The same pass runs qwen2/qwen3 (q/k biases,
// per-head q/k norms) and phi3 (fused q|k|v and gate|up) through what their weights hold.
// Shapes in ggml order; T = n_tokens.
#include "core/ops.h"
#include "model/arch/architecture.h"
#include "model/arch/blocks.h"
#include "model/arch/tensor_spec.h"

namespace ember {

Tensor* build_llama_graph(GraphBuild& b) {
    Context& ctx = b.ctx;
    const HParams& hp = b.hp;
    Tensor* x = ops::get_rows(ctx, *b.w.tok_embd, *b.in.tokens);  // [n_embd, T]

    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        const LayerWeights& lw = b.w.layers[il];
        Tensor* h = blocks::norm(ctx, *x, *lw.attn_norm, hp.rms_eps);
        Tensor* a = blocks::attend(b, il, blocks::project_qkv(b, il, *h));
        Tensor* r = ops::add(ctx, *blocks::linear(ctx, lw.wo, lw.bo, *a), *x);

        Tensor* f = blocks::norm(ctx, *r, *lw.ffn_norm, hp.rms_eps);
        x = ops::add(ctx, *blocks::gated_ffn(ctx, lw, *f, blocks::Activation::Silu), *r);
    }

    if (b.in.out_ids != nullptr) x = ops::get_rows(ctx, *x, *b.in.out_ids);  // only rows that need logits
    x = blocks::norm(ctx, *x, *b.w.output_norm, hp.rms_eps);
    return ops::mul_mat(ctx, *b.w.output, *x);  // [n_vocab, n_outputs]
}

namespace {
constexpr auto kLlamaTensors = tensor_spec::llama_block_tensors(Need::Optional);
}  // namespace

// Llama, Mistral and dense Mixtral-shaped GGUFs all say "llama".
extern const Architecture kLlamaArchitecture{"llama", RopeMode::Normal, kLlamaTensors, build_llama_graph, shift_k_rope};

}  // namespace ember
