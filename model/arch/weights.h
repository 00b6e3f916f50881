// The weight tensors of a model. Shapes in ggml order, [K, N] = N rows of K; experts are
// [K, N, n_expert]. Tensors an architecture or file does not have are nullptr.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace ember {

struct LayerWeights {
    Tensor* attn_norm = nullptr;  // [n_embd]
    Tensor* wq = nullptr;         // [n_embd, n_embd_q]
    Tensor* wk = nullptr;         // [n_embd, n_embd_kv]
    Tensor* wv = nullptr;         // [n_embd, n_embd_kv]
    Tensor* wo = nullptr;         // [n_embd_q, n_embd]
    Tensor* bq = nullptr;         // [n_embd_q]   (qwen2; optional for llama)
    Tensor* bk = nullptr;         // [n_embd_kv]
    Tensor* bv = nullptr;         // [n_embd_kv]
    Tensor* bo = nullptr;         // [n_embd]     (optional)
    Tensor* wqkv = nullptr;       // [n_embd, n_embd_q + 2 n_embd_kv]: rows q | k | v (phi3)
    Tensor* q_norm = nullptr;     // [head_dim]   per-head RMS norm of q before rope (qwen3, gemma3)
    Tensor* k_norm = nullptr;     // [head_dim]
    Tensor* post_attn_norm = nullptr;  // [n_embd] norm of the attention output (gemma)
    Tensor* ffn_norm = nullptr;   // [n_embd]
    Tensor* ffn_gate = nullptr;   // [n_embd, n_ff]
    Tensor* ffn_up = nullptr;     // [n_embd, n_ff]; phi3: [n_embd, 2 n_ff], rows gate | up
    Tensor* ffn_down = nullptr;   // [n_ff, n_embd]
    Tensor* post_ffn_norm = nullptr;  // [n_embd] norm of the FFN output (gemma)
    Tensor* ffn_router = nullptr;     // [n_embd, n_expert] router logits (ffn_gate_inp)
    Tensor* ffn_gate_exps = nullptr;  // [n_embd, n_ff_exp, n_expert]
    Tensor* ffn_up_exps = nullptr;    // [n_embd, n_ff_exp, n_expert]
    Tensor* ffn_down_exps = nullptr;  // [n_ff_exp, n_embd, n_expert]
};

struct Weights {
    Tensor* tok_embd = nullptr;     // [n_embd, n_vocab]
    Tensor* output_norm = nullptr;  // [n_embd]
    Tensor* output = nullptr;       // [n_embd, n_vocab]; tok_embd when the file ties them
    Tensor* rope_freqs = nullptr;   // [n_rot / 2] optional frequency factors
    std::vector<LayerWeights> layers;
};

}  // namespace ember
