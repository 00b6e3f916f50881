// Phi-3: the llama-shaped block with q|k|v fused in one matrix (attn_qkv rows q, then k, then v)
// and gate|up fused in ffn_up (rows gate, then up), NeoX rope, and a sliding window over every
// layer (phi3.attention.sliding_window). The forward pass is the llama one.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/arch/tensor_spec.h"

namespace ember {
namespace {
using namespace tensor_spec;
constexpr TensorSpec kPhi3Tensors[] = {
    kTokenEmbd, kOutputNorm, kOutput, kRopeFreqs,
    kAttnNorm,
    layer("blk.%d.attn_qkv.weight", Need::Always, qkv_matrix, &LayerWeights::wqkv),
    kAttnOutput,
    kFfnNorm,
    layer("blk.%d.ffn_up.weight", Need::Always, gate_up_matrix, &LayerWeights::ffn_up),
    kFfnDown,
};

void read_phi3_hparams(const gguf::File& f, HParams& hp) {
    // LongRoPE files carry rope_factors_{long,short}: their per-pair factors are not read yet.
    if (f.find_tensor("rope_factors_long.weight") != nullptr || f.find_tensor("rope_factors_short.weight") != nullptr) {
        fail("{}: phi3 LongRoPE factors (rope_factors_long/short) are not supported yet", f.path());
    }
    if (hp.n_swa > 0) hp.swa_layers.assign(hp.n_layer, true);
}
}  // namespace

extern const Architecture kPhi3Architecture{"phi3", RopeMode::Neox, kPhi3Tensors, build_llama_graph, shift_k_rope,
                                            read_phi3_hparams};

}  // namespace ember
