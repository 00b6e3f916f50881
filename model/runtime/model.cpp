#include "model/runtime/model.h"

#include "core/error.h"
#include "quant/quant.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

namespace ember {
namespace {

// Types a weight may have: norms and biases are used by element-wise ops (F32 only);
// matrices by mul_mat and get_rows (any format with kernels).
void check_weight_type(const std::string& path, const gguf::TensorInfo& info, bool is_vector) {
    if (is_vector) {
        if (info.type != Type::F32) fail("{}: tensor '{}' is {}, expected F32", path, info.name, type_name(info.type));
        return;
    }
    const TypeTraits& traits = type_traits(info.type);
    if (!traits.computable || info.type == Type::Q8_K || info.type == Type::Q8_1 || info.type == Type::I32) {
        fail("{}: tensor '{}' has type {}, which ember cannot compute with", path, info.name, traits.name);
    }
}

std::string size_class(uint64_t n_params) {
    if (n_params >= 1000000000ull) return fmt::format("{:.1f}B", static_cast<double>(n_params) / 1e9);
    if (n_params >= 1000000ull) return fmt::format("{}M", (n_params + 500000) / 1000000);
    return fmt::format("{}K", (n_params + 500) / 1000);
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::string& path) {
    gguf::File file = gguf::File::open(path);
    if (file.tensors().empty()) {
        fail("{}: the file has no tensors (a vocabulary-only GGUF?), so it cannot generate text", path);
    }
    return std::shared_ptr<const Model>(new Model(std::move(file)));
}

Model::Model(gguf::File file) : path_(file.path()), file_(std::move(file)) {
    const std::string arch_name = file_.get_string("general.architecture");
    try {
        arch_ = &find_architecture(arch_name);
    } catch (const Error& e) {
        fail("{}: {}", path_, e.what());
    }
    hp_ = HParams::from_gguf(file_, arch_->rope_mode);
    vocab_ = std::make_unique<Vocab>(Vocab::from_gguf(file_));
    if (hp_.n_vocab == 0) hp_.n_vocab = static_cast<uint32_t>(vocab_->n_tokens());
    bind_weights();
}

void Model::bind_weights() {
    ctx_ = std::make_unique<Context>(Context::tensor_overhead() * (file_.tensors().size() + 1), /*no_alloc=*/true);
    weights_.layers.resize(hp_.n_layer);

    auto bind = [&](const TensorSpec& spec, const std::string& name) -> Tensor* {
        const gguf::TensorInfo* info = file_.find_tensor(name);
        if (info == nullptr) {
            if (spec.required) fail("{}: missing tensor '{}'", path_, name);
            return nullptr;
        }
        const std::array<int64_t, 2> want = spec.shape(hp_);
        if (info->ne[0] != want[0] || info->ne[1] != want[1] || info->ne[2] != 1 || info->ne[3] != 1) {
            fail("{}: tensor '{}' has shape [{}], expected [{}]", path_, name, fmt::join(info->ne, ", "),
                 fmt::join(want, ", "));
        }
        check_weight_type(path_, *info, spec.is_vector);
        Tensor* t = ctx_->new_tensor(info->type, std::span<const int64_t>(info->ne.data(), 4));
        t->data = const_cast<uint8_t*>(info->data);  // read-only mapping: kernels never write weights
        t->flags |= kFlagWeight;
        t->set_name(name);
        n_params_ += static_cast<uint64_t>(t->nelements());
        weight_bytes_ += info->nbytes;
        return t;
    };

    for (const TensorSpec& spec : arch_->tensors) {
        if (!spec.per_layer) {
            weights_.*spec.global_slot = bind(spec, spec.name);
            continue;
        }
        for (uint32_t il = 0; il < hp_.n_layer; ++il) {
            char name[gguf::kMaxNameBytes + 1];
            std::snprintf(name, sizeof name, spec.name, static_cast<int>(il));
            weights_.layers[il].*spec.layer_slot = bind(spec, name);
        }
    }
    if (weights_.output == nullptr) weights_.output = weights_.tok_embd;  // tied embeddings
}

std::string Model::description() const {
    const gguf::Value* ft = file_.find("general.file_type");
    std::string type;
    if (ft != nullptr && ft->type == gguf::ValueType::U32) {
        static const std::pair<uint32_t, const char*> kNames[] = {
            {0, "F32"}, {1, "F16"}, {2, "Q4_0"}, {3, "Q4_1"}, {7, "Q8_0"}, {8, "Q5_0"}, {9, "Q5_1"},
            {14, "Q4_K - Small"}, {15, "Q4_K - Medium"}, {16, "Q5_K - Small"}, {17, "Q5_K - Medium"},
            {18, "Q6_K"}, {32, "BF16"}};
        const auto v = std::get<uint64_t>(ft->scalar) & ~1024ull;  // drop the GUESSED flag
        for (const auto& [id, name] : kNames) {
            if (id == v) type = name;
        }
        if (type.empty()) type = fmt::format("ftype {}", v);
    } else {
        type = type_name(weights_.tok_embd->type);  // no file_type: name the dominant type we can see
    }
    return fmt::format("{} {} {}", hp_.arch, size_class(n_params_), type);
}

}  // namespace ember
