// The pieces the architectures' forward passes are made of: projections, norms, attention over
// the KV cache, the gated FFNs. Shapes in ggml order; T = tokens of the step, kv = cache cells.
#pragma once

#include "model/arch/architecture.h"

namespace ember::blocks {

// w · x (+ b): w [K, N], x [K, T] -> [N, T].
Tensor* linear(Context& ctx, Tensor* w, Tensor* b, Tensor& x);

// RMS norm of each row times weight (weight [ne0]; for per-head norms ne0 = head_dim).
Tensor* norm(Context& ctx, Tensor& x, Tensor& weight, float eps);

// cap * tanh(x / cap): gemma2's soft-capping of attention scores and logits.
Tensor* soft_cap(Context& ctx, Tensor& x, float cap);

// q [hd, n_head, T], k [hd, n_head_kv, T] after their norms and rope, v [n_embd_kv, T] of layer il.
struct Qkv {
    Tensor* q;
    Tensor* k;
    Tensor* v;
};

// The projections of h [n_embd, T]: separate q/k/v weights (with biases when present) or the
// fused q|k|v matrix, then the per-head q/k norms when the layer has them, then rope.
Qkv project_qkv(GraphBuild& b, uint32_t il, Tensor& h);

// Writes k and v into the cache at cells [kv_head, kv_head + T), then attends over cells
// [0, n_kv) through the layer's mask (the windowed one on sliding-window layers), scores scaled
// by hp.attn_scale (0: 1/sqrt(head_dim)) and soft-capped by hp.attn_softcap. Returns [n_embd_q, T].
Tensor* attend(GraphBuild& b, uint32_t il, const Qkv& qkv);

// down · (act(gate · x) * (up · x)) for a dense layer: gate and up separate, or fused in ffn_up
// as rows gate | up (phi3). act: silu (swiglu) or gelu (gemma's GELU-tanh). x [n_embd, T].
enum class Activation { Silu, Gelu };
Tensor* gated_ffn(Context& ctx, const LayerWeights& lw, Tensor& x, Activation act);

}  // namespace ember::blocks
