// ember::Model: a GGUF model, memory-mapped and validated, ready to run. Immutable once loaded,
// so one Model serves several Sessions on several threads.
//
//   std::shared_ptr<const ember::Model> model = ember::Model::load("model.gguf");
//   std::printf("%s, %u-token training context\n", model->description().c_str(), model->n_ctx_train());
#pragma once

#include "ember/gguf.h"

#include <cstdint>
#include <memory>
#include <string>

namespace ember {

// Defined inside the library (model/arch/, model/tokenizer/); reachable from in-tree code only.
struct HParams;
struct Architecture;
struct Weights;
class Vocab;

class Model {
public:
    // Maps and validates `path`: architecture supported, every required tensor present with
    // the right shape and a type ember computes with. Throws ember::Error naming the file and
    // the tensor or key at fault.
    static std::shared_ptr<const Model> load(const std::string& path);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const std::string& path() const;
    const gguf::File& file() const;    // the GGUF metadata and tensor table
    const std::string& architecture() const;  // "llama", "qwen2"
    uint32_t n_vocab() const;
    uint32_t n_ctx_train() const;      // the context length the model was trained with
    uint32_t n_layer() const;
    uint32_t n_embd() const;
    uint64_t n_params() const;         // elements of the weight tensors
    uint64_t weight_bytes() const;
    // "llama 260K F32", in the style of llama-bench's model column.
    std::string description() const;

    // The runtime's view (in-tree code; the types are defined by model/runtime/model.h).
    const HParams& hparams() const;
    const Architecture& arch() const;
    const Vocab& vocab() const;
    const Weights& weights() const;

    struct Impl;

private:
    explicit Model(gguf::File file);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ember
