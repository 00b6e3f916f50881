// Qwen3: the llama-shaped block without biases, with an RMS norm of each query and key head
// before rope, NeoX rope pairing, and usually a head size (key_length) other than
// n_embd / n_head. The forward pass is the llama one.
#include "model/arch/tensor_spec.h"

namespace ember {
namespace {
using namespace tensor_spec;
constexpr TensorSpec kQwen3Tensors[] = {
    kTokenEmbd, kOutputNorm, kOutput,
    kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnQNorm, kAttnKNorm, kAttnOutput,
    kFfnNorm, kFfnGate, kFfnUp, kFfnDown,
};
}  // namespace

extern const Architecture kQwen3Architecture{"qwen3", RopeMode::Neox, kQwen3Tensors, build_llama_graph, shift_k_rope};

}  // namespace ember
