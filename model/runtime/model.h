// A loaded model: the memory-mapped GGUF file, its hyper-parameters, vocabulary and
// weight tensors (zero-copy views of the mapping). Immutable once loaded, so one
// Model can serve several sessions on several threads.
#pragma once

#include "core/context.h"
#include "model/arch/architecture.h"
#include "model/gguf/gguf.h"
#include "model/arch/hparams.h"
#include "model/tokenizer/vocab.h"
#include "model/arch/weights.h"

#include <cstdint>
#include <memory>
#include <string>

namespace ember {

class Model {
public:
    // Maps and validates `path`: architecture supported, every required tensor present
    // with the right shape and a type ember computes with. Throws ember::Error naming
    // the file and the tensor or key at fault.
    static std::shared_ptr<const Model> load(const std::string& path);

    const std::string& path() const { return path_; }
    const gguf::File& file() const { return file_; }
    const HParams& hparams() const { return hp_; }
    const Architecture& arch() const { return *arch_; }
    const Vocab& vocab() const { return *vocab_; }
    const Weights& weights() const { return weights_; }

    uint64_t n_params() const { return n_params_; }
    uint64_t weight_bytes() const { return weight_bytes_; }
    // "llama 260K F32", in the style of llama-bench's model column.
    std::string description() const;

    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

private:
    explicit Model(gguf::File file);
    void bind_weights();

    std::string path_;
    gguf::File file_;
    HParams hp_;
    const Architecture* arch_ = nullptr;
    std::unique_ptr<Vocab> vocab_;
    std::unique_ptr<Context> ctx_;  // weight metadata; data points into the mapping
    Weights weights_;
    uint64_t n_params_ = 0;
    uint64_t weight_bytes_ = 0;
};

}  // namespace ember
