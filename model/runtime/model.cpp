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

namespace {

// Binds each tensor of the architecture's list to the file's, checking name, shape and type.
void bind_weights(Model::Impl& m) {
    m.ctx = std::make_unique<Context>(Context::tensor_overhead() * (m.file.tensors().size() + 1), /*no_alloc=*/true);
    m.weights.layers.resize(m.hp.n_layer);

    const bool experts = m.hp.n_expert > 0;
    auto bind = [&](const TensorSpec& spec, const std::string& name) -> Tensor* {
        const bool wanted = spec.need == Need::Always || spec.need == Need::Optional ||
                            (spec.need == Need::Dense) != experts;
        if (!wanted) return nullptr;
        const gguf::TensorInfo* info = m.file.find_tensor(name);
        if (info == nullptr) {
            if (spec.need != Need::Optional) fail("{}: missing tensor '{}'", m.path, name);
            return nullptr;
        }
        const std::array<int64_t, 3> want = spec.shape(m.hp);
        if (info->ne[0] != want[0] || info->ne[1] != want[1] || info->ne[2] != want[2] || info->ne[3] != 1) {
            fail("{}: tensor '{}' has shape [{}], expected [{}]", m.path, name, fmt::join(info->ne, ", "),
                 fmt::join(want, ", "));
        }
        check_weight_type(m.path, *info, spec.is_vector);
        Tensor* t = m.ctx->new_tensor(info->type, std::span<const int64_t>(info->ne.data(), 4));
        t->data = const_cast<uint8_t*>(info->data);  // read-only mapping: kernels never write weights
        t->flags |= kFlagWeight;
        t->set_name(name);
        m.n_params += static_cast<uint64_t>(t->nelements());
        m.weight_bytes += info->nbytes;
        return t;
    };

    for (const TensorSpec& spec : m.arch->tensors) {
        if (!spec.per_layer) {
            m.weights.*spec.global_slot = bind(spec, spec.name);
            continue;
        }
        for (uint32_t il = 0; il < m.hp.n_layer; ++il) {
            char name[gguf::kMaxNameBytes + 1];
            std::snprintf(name, sizeof name, spec.name, static_cast<int>(il));
            m.weights.layers[il].*spec.layer_slot = bind(spec, name);
        }
    }
    if (m.weights.output == nullptr) m.weights.output = m.weights.tok_embd;  // tied embeddings
}

}  // namespace

Model::Model(gguf::File file) : impl_(std::make_unique<Impl>(std::move(file))) {
    Impl& m = *impl_;
    const std::string arch_name = m.file.get_string("general.architecture");
    try {
        m.arch = &find_architecture(arch_name);
    } catch (const Error& e) {
        fail("{}: {}", m.path, e.what());
    }
    m.hp = HParams::from_gguf(m.file, m.arch->rope_mode);
    if (m.arch->read_hparams != nullptr) m.arch->read_hparams(m.file, m.hp);
    if (m.hp.n_expert > 0 && !m.arch->experts) {
        fail("{}: mixture-of-experts {} models ({} experts) are not supported yet", m.path, arch_name, m.hp.n_expert);
    }
    m.vocab = std::make_unique<Vocab>(Vocab::from_gguf(m.file));
    if (m.hp.n_vocab == 0) m.hp.n_vocab = static_cast<uint32_t>(m.vocab->n_tokens());
    bind_weights(m);
}

Model::~Model() = default;

const std::string& Model::path() const { return impl_->path; }
const gguf::File& Model::file() const { return impl_->file; }
const std::string& Model::architecture() const { return impl_->hp.arch; }
uint32_t Model::n_vocab() const { return impl_->hp.n_vocab; }
uint32_t Model::n_ctx_train() const { return impl_->hp.n_ctx_train; }
uint32_t Model::n_layer() const { return impl_->hp.n_layer; }
uint32_t Model::n_embd() const { return impl_->hp.n_embd; }
uint64_t Model::n_params() const { return impl_->n_params; }
uint64_t Model::weight_bytes() const { return impl_->weight_bytes; }
const HParams& Model::hparams() const { return impl_->hp; }
const Architecture& Model::arch() const { return *impl_->arch; }
const Vocab& Model::vocab() const { return *impl_->vocab; }
const Weights& Model::weights() const { return impl_->weights; }

std::string Model::description() const {
    const gguf::Value* ft = impl_->file.find("general.file_type");
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
        type = type_name(impl_->weights.tok_embd->type);  // no file_type: name the dominant type we can see
    }
    return fmt::format("{} {} {}", impl_->hp.arch, size_class(impl_->n_params), type);
}

}  // namespace ember
