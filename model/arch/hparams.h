// Hyper-parameters of a model, read from GGUF metadata (docs/FORMATS.md §4.1). Keys are
// "{arch}.<name>". The generic ones are read here; an architecture's own (soft-caps, window
// pattern, query scale rules) by its Architecture::read_hparams hook.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

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

    // Sliding-window attention: on the layers marked in swa_layers, key j is masked for the
    // query at position pos when pos - j >= n_swa. 0: every layer attends to its whole past.
    uint32_t n_swa = 0;
    std::vector<bool> swa_layers;         // [n_layer]; empty: none
    float rope_freq_base_swa = 0.0f;      // rope base of the window layers, unscaled (0: as the others)
    float attn_softcap = 0.0f;            // scores -> cap * tanh(scores / cap); 0: off (gemma2)
    float final_softcap = 0.0f;           // the same on the logits

    // Mixture of experts: n_expert FFNs per layer, n_expert_used of them run per token.
    uint32_t n_expert = 0;
    uint32_t n_expert_used = 0;
    uint32_t n_ff_exp = 0;  // one expert's FFN size

    bool is_swa(uint32_t il) const { return n_swa > 0 && il < swa_layers.size() && swa_layers[il]; }

    uint32_t n_embd_q() const { return head_dim * n_head; }
    uint32_t n_embd_kv() const { return head_dim * n_head_kv; }

    // Reads and validates the hyper-parameters. `rope_mode` comes from the architecture.
    static HParams from_gguf(const gguf::File& file, RopeMode rope_mode);
};

}  // namespace ember
