// Qwen2 (and Qwen2.5): the llama-shaped block with required q/k/v biases and NeoX RoPE
// pairing (docs/FORMATS.md §4.3). The forward pass is the llama one.
#include "model/arch/tensor_spec.h"

namespace ember {
namespace {
constexpr auto kQwen2Tensors = tensor_spec::llama_block_tensors(Need::Always);
}  // namespace

extern const Architecture kQwen2Architecture{"qwen2", RopeMode::Neox, kQwen2Tensors, build_llama_graph, shift_k_rope};

}  // namespace ember
