// The weight tensors of a llama-family model. Shapes in ggml order, [K, N] = N rows of K.
// Optional tensors are nullptr when the file does not have them.
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
    Tensor* ffn_norm = nullptr;   // [n_embd]
    Tensor* ffn_gate = nullptr;   // [n_embd, n_ff]
    Tensor* ffn_up = nullptr;     // [n_embd, n_ff]
    Tensor* ffn_down = nullptr;   // [n_ff, n_embd]
};

struct Weights {
    Tensor* tok_embd = nullptr;     // [n_embd, n_vocab]
    Tensor* output_norm = nullptr;  // [n_embd]
    Tensor* output = nullptr;       // [n_embd, n_vocab]; tok_embd when the file ties them
    Tensor* rope_freqs = nullptr;   // [n_rot / 2] optional frequency factors
    std::vector<LayerWeights> layers;
};

}  // namespace ember
