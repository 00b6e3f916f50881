// Building blocks of an architecture's tensor list: the shapes (from the hyper-parameters)
// and the two kinds of entry, global and per-layer. Each family's file writes its list with these.
#pragma once

#include "model/arch/architecture.h"

#include <array>

namespace ember::tensor_spec {
// Internal linkage: is_vector_shape compares the shape functions' addresses in a constant
// expression, which needs functions that cannot be interposed (not inline ones, with -fPIC).
namespace {

using Shape = std::array<int64_t, 2>;
using ShapeFn = Shape (*)(const HParams& hp);

Shape embd(const HParams& hp) { return {hp.n_embd, 1}; }
Shape embd_q(const HParams& hp) { return {hp.n_embd_q(), 1}; }
Shape embd_kv(const HParams& hp) { return {hp.n_embd_kv(), 1}; }
Shape vocab_matrix(const HParams& hp) { return {hp.n_embd, hp.n_vocab}; }
Shape q_matrix(const HParams& hp) { return {hp.n_embd, hp.n_embd_q()}; }
Shape kv_matrix(const HParams& hp) { return {hp.n_embd, hp.n_embd_kv()}; }
Shape o_matrix(const HParams& hp) { return {hp.n_embd_q(), hp.n_embd}; }
Shape up_matrix(const HParams& hp) { return {hp.n_embd, hp.n_ff}; }
Shape down_matrix(const HParams& hp) { return {hp.n_ff, hp.n_embd}; }
Shape rope_freqs(const HParams& hp) { return {hp.n_rot / 2, 1}; }

// Norms, biases and frequency factors are vectors: F32, used element-wise.
constexpr bool is_vector_shape(ShapeFn shape) {
    return shape == embd || shape == embd_q || shape == embd_kv || shape == rope_freqs;
}
constexpr TensorSpec global(const char* name, bool required, ShapeFn shape, Tensor* Weights::*slot) {
    return {name, false, required, is_vector_shape(shape), shape, nullptr, slot};
}
// `name` holds "%d" for the layer index: "blk.%d.attn_q.weight".
constexpr TensorSpec layer(const char* name, bool required, ShapeFn shape, Tensor* LayerWeights::*slot) {
    return {name, true, required, is_vector_shape(shape), shape, slot, nullptr};
}

// The llama-shaped block's tensors (llama, mistral, qwen2). A missing output.weight means it is
// tied to token_embd (resolved by the loader). `qkv_bias_required`: qwen2 needs the q/k/v biases,
// llama may have them.
constexpr std::array<TensorSpec, 17> llama_block_tensors(bool qkv_bias_required) {
    return {{
        global("token_embd.weight", true, vocab_matrix, &Weights::tok_embd),
        global("output_norm.weight", true, embd, &Weights::output_norm),
        global("output.weight", false, vocab_matrix, &Weights::output),
        global("rope_freqs.weight", false, rope_freqs, &Weights::rope_freqs),
        layer("blk.%d.attn_norm.weight", true, embd, &LayerWeights::attn_norm),
        layer("blk.%d.attn_q.weight", true, q_matrix, &LayerWeights::wq),
        layer("blk.%d.attn_k.weight", true, kv_matrix, &LayerWeights::wk),
        layer("blk.%d.attn_v.weight", true, kv_matrix, &LayerWeights::wv),
        layer("blk.%d.attn_output.weight", true, o_matrix, &LayerWeights::wo),
        layer("blk.%d.attn_q.bias", qkv_bias_required, embd_q, &LayerWeights::bq),
        layer("blk.%d.attn_k.bias", qkv_bias_required, embd_kv, &LayerWeights::bk),
        layer("blk.%d.attn_v.bias", qkv_bias_required, embd_kv, &LayerWeights::bv),
        layer("blk.%d.attn_output.bias", false, embd, &LayerWeights::bo),
        layer("blk.%d.ffn_norm.weight", true, embd, &LayerWeights::ffn_norm),
        layer("blk.%d.ffn_gate.weight", true, up_matrix, &LayerWeights::ffn_gate),
        layer("blk.%d.ffn_up.weight", true, up_matrix, &LayerWeights::ffn_up),
        layer("blk.%d.ffn_down.weight", true, down_matrix, &LayerWeights::ffn_down),
    }};
}

}  // namespace
}  // namespace ember::tensor_spec
