// Architectures, table-driven: each is a name, a RoPE mode, a tensor list
// (names, shapes, required or optional) and one graph function.
#pragma once

#include "core/context.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "model/arch/hparams.h"
#include "model/arch/weights.h"

#include <array>
#include <span>
#include <string_view>

namespace ember {

class KvCache;
namespace gguf {
class File;
}

// Everything one forward step needs to build its graph.
struct GraphInputs {
    Tensor* tokens = nullptr;     // I32 [n_tokens]
    Tensor* positions = nullptr;  // I32 [n_tokens]
    Tensor* mask = nullptr;       // F32 [n_kv, n_tokens]: 0 or -inf
    Tensor* mask_swa = nullptr;   // the same with the sliding window applied (hp.n_swa > 0)
    Tensor* out_ids = nullptr;    // I32 [n_outputs]: rows that get logits (nullptr: all)
    uint32_t n_tokens = 0;
    uint32_t kv_head = 0;  // first cache cell written by this step
    uint32_t n_kv = 0;     // cache cells attended to
};

struct GraphBuild {
    Context& ctx;
    const HParams& hp;
    const Weights& w;
    KvCache& cache;
    const GraphInputs& in;
    std::vector<Tensor*>& ordered;  // tensors to expand in this order first (cache writes)
};

// Builds the forward graph; returns the logits F32 [n_vocab, n_outputs].
using GraphFn = Tensor* (*)(GraphBuild& b);

// A graph that moves cached keys to new positions in place (Engine::seq_shift): cell j's K
// is rotated by deltas[j] positions (0: unchanged). `outputs` gets the tensors to compute.
struct KShiftBuild {
    Context& ctx;
    const HParams& hp;
    const Weights& w;
    KvCache& cache;
    Tensor* deltas;  // I32 [n_kv]
    Tensor* iota;    // I32 [n_head_kv * n_kv]: 0, 1, 2, ... (row ids for get_rows)
    uint32_t n_kv;   // cells [0, n_kv) are rewritten
    std::vector<Tensor*>& outputs;
};
using KShiftFn = void (*)(KShiftBuild& b);

// When a tensor of a list must be in the file.
enum class Need : uint8_t {
    Always,
    Optional,
    Dense,    // required without experts (hp.n_expert == 0), absent with them
    Experts,  // required with experts, absent without
};

// One entry of a tensor list. Shapes come from the hyper-parameters.
struct TensorSpec {
    const char* name;  // "blk.%d.attn_q.weight" for per-layer tensors
    bool per_layer;
    Need need;
    bool is_vector;  // norms, biases, frequency factors: F32, used element-wise
    std::array<int64_t, 3> (*shape)(const HParams& hp);
    Tensor* LayerWeights::*layer_slot;  // for per-layer tensors
    Tensor* Weights::*global_slot;      // for the others
};

// Reads the architecture's own metadata keys into hp (after the generic ones) and checks them.
using HParamsFn = void (*)(const gguf::File& file, HParams& hp);

struct Architecture {
    std::string_view name;
    RopeMode rope_mode;
    std::span<const TensorSpec> tensors;
    GraphFn build;
    KShiftFn shift_k;
    HParamsFn read_hparams = nullptr;  // nullptr: the generic keys are all
    bool experts = false;              // runs mixture-of-experts FFNs when the file has them
};

// The architecture named `name`; throws ember::Error listing the supported ones.
const Architecture& find_architecture(std::string_view name);

// One per family file (model/arch/<family>.cpp), listed in model/arch/registry.cpp.
extern const Architecture kLlamaArchitecture;  // llama.cpp: llama, mistral (dense)
extern const Architecture kQwen2Architecture;  // qwen2.cpp
extern const Architecture kQwen3Architecture;  // qwen3.cpp
extern const Architecture kPhi3Architecture;   // phi3.cpp
extern const Architecture kGemma2Architecture;  // gemma.cpp
extern const Architecture kGemma3Architecture;  // gemma.cpp

// The rotary embedding of layer il's attention (window layers may have their own base).
ops::RopeParams rope_params(const HParams& hp, uint32_t il);
// K shift for RoPE models: rotating by delta composes with the rotation by the old position
// (model/arch/k_shift.cpp).
void shift_k_rope(KShiftBuild& b);

// The llama-family forward pass (llama, mistral, qwen2, qwen3 and phi3 share it; biases, q/k
// norms and fused matrices are used when the weights have them).
Tensor* build_llama_graph(GraphBuild& b);

}  // namespace ember
