// The runtime side of ember::Model (include/ember/model.h): what a loaded model holds. The file's
// mapping, its hyper-parameters, architecture, vocabulary and weight tensors (zero-copy views of
// the mapping). In-tree code includes this header to use Model::hparams(), arch(), vocab() and
// weights().
#pragma once

#include "core/context.h"
#include "ember/model.h"
#include "model/arch/architecture.h"
#include "model/arch/hparams.h"
#include "model/arch/weights.h"
#include "model/tokenizer/vocab.h"

#include <memory>
#include <string>

namespace ember {

struct Model::Impl {
    explicit Impl(gguf::File f) : path(f.path()), file(std::move(f)) {}

    std::string path;
    gguf::File file;
    HParams hp;
    const Architecture* arch = nullptr;
    std::unique_ptr<Vocab> vocab;
    std::unique_ptr<Context> ctx;  // weight metadata; data points into the mapping
    Weights weights;
    uint64_t n_params = 0;
    uint64_t weight_bytes = 0;
};

}  // namespace ember
