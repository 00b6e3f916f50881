// Hyper-parameters of a llama-family model, read from GGUF metadata
// (docs/FORMATS.md §4.1). Keys are "{arch}.<name>".
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <string>

namespace ember {
namespace gguf {
class File;
}

struct HParams {
    std::string arch;          // general.architecture
    uint32_t n_vocab = 0;      // {arch}.vocab_size, else the token list's length
    uint32_t n_ctx_train = 0;  // context length the model was trained with
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t n_ff = 0;
    uint32_t head_dim = 0;     // key/value length per head
    uint32_t n_rot = 0;        // rotated dims per head
    float rms_eps = 0.0f;
    float rope_freq_base = 10000.0f;
    float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
    float attn_scale = 0.0f;       // 0: 1/sqrt(head_dim)
    RopeMode rope_mode = RopeMode::Normal;

    uint32_t n_embd_q() const { return head_dim * n_head; }
    uint32_t n_embd_kv() const { return head_dim * n_head_kv; }

    // Reads and validates the hyper-parameters. `rope_mode` comes from the architecture.
    static HParams from_gguf(const gguf::File& file, RopeMode rope_mode);
};

}  // namespace ember
