// Building blocks of an architecture's tensor list: the shapes (from the hyper-parameters)
// and the two kinds of entry, global and per-layer. Each family's file writes its list with these.
#pragma once

#include "model/arch/architecture.h"

#include <array>

namespace ember::tensor_spec {
// Internal linkage: is_vector_shape compares the shape functions' addresses in a constant
// expression, which needs functions that cannot be interposed (not inline ones, with -fPIC).
namespace {

using Shape = std::array<int64_t, 3>;
using ShapeFn = Shape (*)(const HParams& hp);

[[maybe_unused]] Shape embd(const HParams& hp) { return {hp.n_embd, 1, 1}; }
[[maybe_unused]] Shape embd_q(const HParams& hp) { return {hp.n_embd_q(), 1, 1}; }
[[maybe_unused]] Shape embd_kv(const HParams& hp) { return {hp.n_embd_kv(), 1, 1}; }
[[maybe_unused]] Shape head(const HParams& hp) { return {hp.head_dim, 1, 1}; }
[[maybe_unused]] Shape vocab_matrix(const HParams& hp) { return {hp.n_embd, hp.n_vocab, 1}; }
[[maybe_unused]] Shape q_matrix(const HParams& hp) { return {hp.n_embd, hp.n_embd_q(), 1}; }
[[maybe_unused]] Shape kv_matrix(const HParams& hp) { return {hp.n_embd, hp.n_embd_kv(), 1}; }
[[maybe_unused]] Shape qkv_matrix(const HParams& hp) { return {hp.n_embd, hp.n_embd_q() + 2 * hp.n_embd_kv(), 1}; }
[[maybe_unused]] Shape o_matrix(const HParams& hp) { return {hp.n_embd_q(), hp.n_embd, 1}; }
[[maybe_unused]] Shape up_matrix(const HParams& hp) { return {hp.n_embd, hp.n_ff, 1}; }
[[maybe_unused]] Shape gate_up_matrix(const HParams& hp) { return {hp.n_embd, 2 * hp.n_ff, 1}; }
[[maybe_unused]] Shape down_matrix(const HParams& hp) { return {hp.n_ff, hp.n_embd, 1}; }
[[maybe_unused]] Shape router_matrix(const HParams& hp) { return {hp.n_embd, hp.n_expert, 1}; }
[[maybe_unused]] Shape up_experts(const HParams& hp) { return {hp.n_embd, hp.n_ff_exp, hp.n_expert}; }
[[maybe_unused]] Shape down_experts(const HParams& hp) { return {hp.n_ff_exp, hp.n_embd, hp.n_expert}; }
[[maybe_unused]] Shape rope_freqs(const HParams& hp) { return {hp.n_rot / 2, 1, 1}; }

// Norms, biases and frequency factors are vectors: F32, used element-wise.
constexpr bool is_vector_shape(ShapeFn shape) {
    return shape == embd || shape == embd_q || shape == embd_kv || shape == head || shape == rope_freqs;
}
constexpr TensorSpec global(const char* name, Need need, ShapeFn shape, Tensor* Weights::*slot) {
    return {name, false, need, is_vector_shape(shape), shape, nullptr, slot};
}
// `name` holds "%d" for the layer index: "blk.%d.attn_q.weight".
constexpr TensorSpec layer(const char* name, Need need, ShapeFn shape, Tensor* LayerWeights::*slot) {
    return {name, true, need, is_vector_shape(shape), shape, slot, nullptr};
}

// The embeddings, the final norm and the output (a missing output.weight means it is tied to
// token_embd, resolved by the loader).
constexpr TensorSpec kTokenEmbd = global("token_embd.weight", Need::Always, vocab_matrix, &Weights::tok_embd);
constexpr TensorSpec kOutputNorm = global("output_norm.weight", Need::Always, embd, &Weights::output_norm);
constexpr TensorSpec kOutput = global("output.weight", Need::Optional, vocab_matrix, &Weights::output);
constexpr TensorSpec kRopeFreqs = global("rope_freqs.weight", Need::Optional, rope_freqs, &Weights::rope_freqs);

// Attention of the llama-shaped block.
constexpr TensorSpec kAttnNorm = layer("blk.%d.attn_norm.weight", Need::Always, embd, &LayerWeights::attn_norm);
constexpr TensorSpec kAttnQ = layer("blk.%d.attn_q.weight", Need::Always, q_matrix, &LayerWeights::wq);
constexpr TensorSpec kAttnK = layer("blk.%d.attn_k.weight", Need::Always, kv_matrix, &LayerWeights::wk);
constexpr TensorSpec kAttnV = layer("blk.%d.attn_v.weight", Need::Always, kv_matrix, &LayerWeights::wv);
constexpr TensorSpec kAttnOutput = layer("blk.%d.attn_output.weight", Need::Always, o_matrix, &LayerWeights::wo);
constexpr TensorSpec kAttnQNorm = layer("blk.%d.attn_q_norm.weight", Need::Always, head, &LayerWeights::q_norm);
constexpr TensorSpec kAttnKNorm = layer("blk.%d.attn_k_norm.weight", Need::Always, head, &LayerWeights::k_norm);

// The FFN: dense gate/up/down, or a router and experts.
constexpr TensorSpec kFfnNorm = layer("blk.%d.ffn_norm.weight", Need::Always, embd, &LayerWeights::ffn_norm);
constexpr TensorSpec kFfnGate = layer("blk.%d.ffn_gate.weight", Need::Dense, up_matrix, &LayerWeights::ffn_gate);
constexpr TensorSpec kFfnUp = layer("blk.%d.ffn_up.weight", Need::Dense, up_matrix, &LayerWeights::ffn_up);
constexpr TensorSpec kFfnDown = layer("blk.%d.ffn_down.weight", Need::Dense, down_matrix, &LayerWeights::ffn_down);
constexpr TensorSpec kFfnRouter = layer("blk.%d.ffn_gate_inp.weight", Need::Experts, router_matrix, &LayerWeights::ffn_router);
constexpr TensorSpec kFfnGateExps = layer("blk.%d.ffn_gate_exps.weight", Need::Experts, up_experts, &LayerWeights::ffn_gate_exps);
constexpr TensorSpec kFfnUpExps = layer("blk.%d.ffn_up_exps.weight", Need::Experts, up_experts, &LayerWeights::ffn_up_exps);
constexpr TensorSpec kFfnDownExps = layer("blk.%d.ffn_down_exps.weight", Need::Experts, down_experts, &LayerWeights::ffn_down_exps);

// The llama-shaped block's tensors (llama, mistral, mixtral, qwen2). `qkv_bias`: qwen2 needs the
// q/k/v biases, llama may have them.
constexpr std::array<TensorSpec, 21> llama_block_tensors(Need qkv_bias) {
    return {{
        kTokenEmbd, kOutputNorm, kOutput, kRopeFreqs,
        kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnOutput,
        layer("blk.%d.attn_q.bias", qkv_bias, embd_q, &LayerWeights::bq),
        layer("blk.%d.attn_k.bias", qkv_bias, embd_kv, &LayerWeights::bk),
        layer("blk.%d.attn_v.bias", qkv_bias, embd_kv, &LayerWeights::bv),
        layer("blk.%d.attn_output.bias", Need::Optional, embd, &LayerWeights::bo),
        kFfnNorm, kFfnGate, kFfnUp, kFfnDown,
        kFfnRouter, kFfnGateExps, kFfnUpExps, kFfnDownExps,
    }};
}

}  // namespace
}  // namespace ember::tensor_spec
