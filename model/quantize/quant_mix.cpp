// The reference's per-tensor type rules (docs/FORMATS.md §2.3) for the file types ember writes.
#include "model/quantize/quant_mix.h"

#include "core/error.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ember {

namespace {

// enum llama_ftype values the rules test.
constexpr uint32_t kQ4_0 = 2, kQ8_0 = 7, kQ4_K_S = 14, kQ4_K_M = 15, kQ5_K_S = 16, kQ5_K_M = 17, kQ6_K = 18;

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// The layer index of "blk.N.…", or -1 (sscanf("blk.%d.") in the reference).
int layer_of(std::string_view name) {
    if (!name.starts_with("blk.")) return -1;
    size_t i = 4;
    int n = 0;
    if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) n = n * 10 + (name[i++] - '0');
    return n;
}

}  // namespace

const std::vector<QuantFileType>& quant_file_types() {
    static const std::vector<QuantFileType> kTypes = {
        {"F32", 0, Type::F32},           {"F16", 1, Type::F16},           {"Q4_0", kQ4_0, Type::Q4_0},
        {"Q8_0", kQ8_0, Type::Q8_0},     {"Q4_K_S", kQ4_K_S, Type::Q4_K}, {"Q4_K_M", kQ4_K_M, Type::Q4_K},
        {"Q5_K_S", kQ5_K_S, Type::Q5_K}, {"Q5_K_M", kQ5_K_M, Type::Q5_K}, {"Q6_K", kQ6_K, Type::Q6_K},
    };
    return kTypes;
}

std::string quant_file_type_names() {
    std::string names;
    for (const QuantFileType& t : quant_file_types()) names += (names.empty() ? "" : ", ") + std::string(t.name);
    return names;
}

const QuantFileType& quant_file_type(std::string_view name) {
    for (const QuantFileType& t : quant_file_types()) {
        if (name.size() == std::strlen(t.name) &&
            std::equal(name.begin(), name.end(), t.name,
                       [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; })) {
            return t;
        }
    }
    fail("unknown model type '{}' (known: {})", name, quant_file_type_names());
}

bool quant_use_more_bits(uint32_t i, uint32_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i >= n / 8 && (i - n / 8) % 3 == 2);
}

bool quant_tensor_is_quantized(std::string_view name, uint32_t n_dims) {
    return name.ends_with("weight") && n_dims >= 2 && !contains(name, "_norm.weight") &&
           !contains(name, "ffn_gate_inp.weight") && name != "position_embd.weight" && name != "token_types.weight" &&
           !contains(name, "ssm_conv1d.weight") && !contains(name, "time_mix_first.weight") &&
           !contains(name, "time_mix_w1.weight") && !contains(name, "time_mix_w2.weight") &&
           !contains(name, "time_mix_decay_w1.weight") && !contains(name, "time_mix_decay_w2.weight") &&
           !contains(name, "time_mix_lerp_fused.weight") && !contains(name, "attn_rel_b.weight");
}

std::optional<Type> quant_tensor_type(const QuantFileType& ft, const QuantMixModel& model, const QuantMixTensor& t) {
    if (!quant_tensor_is_quantized(t.name, t.n_dims)) return std::nullopt;
    Type type = ft.base;
    if (!is_quantized(type)) return type;  // F32 / F16 files: no per-tensor rules
    const uint32_t f = ft.ftype;
    const std::string_view name = t.name;

    if (name == "output.weight" || (!model.has_output && name == "token_embd.weight")) {
        // The output projection (or the tied embedding that serves as one) gets more bits.
        if (t.ne0 % block_size(ft.base) != 0) {
            type = Type::Q8_0;
        } else if (type != Type::Q8_0) {
            type = Type::Q6_K;
        }
    } else if (name == "token_embd.weight") {
        // No rule for the file types ember writes.
    } else if (contains(name, "attn_v.weight")) {
        if ((f == kQ4_K_M || f == kQ5_K_M) && quant_use_more_bits(t.i_attn_v, model.n_attn_v)) {
            type = Type::Q6_K;
        } else if (f == kQ4_K_S && t.i_attn_v < 4) {
            type = Type::Q5_K;
        }
        // 8 query heads share each attn_v row in a 70B: more bits there cost almost nothing.
        if (model.is_70b && type == Type::Q4_K) type = Type::Q5_K;
        if (model.n_expert == 8) type = Type::Q8_0;
    } else if (contains(name, "attn_k.weight")) {
        if (model.n_expert == 8) type = Type::Q8_0;
    } else if (contains(name, "attn_q.weight")) {
        // No rule for the file types ember writes.
    } else if (contains(name, "ffn_down")) {
        uint32_t i = t.i_ffn_down;
        if (model.n_expert > 1) {
            // Experts' ffn_down tensors are not in layer order: the reference reads the layer from the name.
            const int il = layer_of(name);
            if (il < 0 || static_cast<uint32_t>(il) >= model.n_layer) {
                fail("tensor '{}': cannot tell its layer (0 to {})", name, model.n_layer);
            }
            i = static_cast<uint32_t>(il);
        }
        const uint32_t n = model.n_layer;
        if ((f == kQ4_K_M || f == kQ5_K_M) && quant_use_more_bits(i, n)) {
            type = Type::Q6_K;
        } else if (f == kQ4_K_S && i < n / 8) {
            type = Type::Q5_K;
        }
    } else if (contains(name, "attn_output.weight")) {
        if (model.n_expert == 8 && (f == kQ4_K_S || f == kQ4_K_M)) type = Type::Q5_K;
    } else if (contains(name, "attn_qkv.weight")) {
        if (f == kQ4_K_M) type = Type::Q5_K;
        if (f == kQ5_K_M) type = Type::Q6_K;
    }

    // Rows that do not fill whole blocks of the chosen type fall back.
    if (t.ne0 % block_size(type) != 0) {
        switch (type) {
            case Type::Q4_K: type = Type::Q5_0; break;
            case Type::Q5_K: type = Type::Q5_1; break;
            case Type::Q6_K: type = Type::Q8_0; break;
            default: return std::nullopt;  // Q8_0 / Q4_0: the reference aborts; we keep the source type
        }
        if (t.ne0 % block_size(type) != 0) type = Type::F16;
    }
    return type;
}

std::optional<Type> QuantMix::next(std::string_view name, uint32_t n_dims, int64_t ne0) {
    const QuantMixTensor t{name, n_dims, ne0, i_attn_v_, i_ffn_down_};
    const std::optional<Type> type = quant_tensor_type(ft_, model_, t);
    // The reference counts the tensors its rules looked at: quantized ones, in a quantized file type.
    if (quant_tensor_is_quantized(name, n_dims) && is_quantized(ft_.base) && name != "output.weight" &&
        name != "token_embd.weight") {
        if (contains(name, "attn_v.weight")) {
            ++i_attn_v_;
        } else if (!contains(name, "attn_k.weight") && !contains(name, "attn_q.weight") && contains(name, "ffn_down")) {
            ++i_ffn_down_;
        }
    }
    return type;
}

}  // namespace ember
