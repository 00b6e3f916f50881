// Per-tensor type mixes: which type llama-quantize gives each tensor of a file type such as
// Q4_K_M (docs/FORMATS.md §2.3, `llama_tensor_get_type`). Shared by `ember quantize`
// (model/quantize/quantize.h), which reproduces the reference's tensor types exactly, and by the
// synthetic models of `ember synth` / `ember bench --synth` (model/quantize/synth.h).
//
//   const QuantFileType& ft = quant_file_type("Q4_K_M");        // ftype 15, base Q4_K
//   QuantMixModel m{.n_layer = 22, .n_attn_v = 22};
//   quant_tensor_type(ft, m, {"blk.0.attn_v.weight", 2, 2048, 0, 0}) -> Q6_K
#pragma once

#include "ember/type.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

// A file type llama-quantize can produce: "Q4_K_M" -> 15 (general.file_type, enum llama_ftype).
struct QuantFileType {
    const char* name;  // "Q4_K_M"
    uint32_t ftype;    // enum llama_ftype
    Type base;         // the default type of quantized 2-D weights
};

// F32, F16, Q4_0, Q8_0, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K.
const std::vector<QuantFileType>& quant_file_types();
// Case-insensitive lookup ("q4_k_m" works); throws ember::Error listing the known names.
const QuantFileType& quant_file_type(std::string_view name);
// "F32, F16, Q4_0, ..." for usage messages.
std::string quant_file_type_names();

// use_more_bits(i, n) from §2.3: i < n/8, or i >= 7n/8, or (i - n/8) % 3 == 2 (integer division).
bool quant_use_more_bits(uint32_t i, uint32_t n);

// Whether the reference quantizes a tensor at all: its name ends in "weight", it has >= 2
// dimensions, and it is not a norm, an MoE router, a positional / token-type embedding,
// ssm_conv1d, an RWKV time_mix tensor or attn_rel_b. Other tensors keep their source type.
bool quant_tensor_is_quantized(std::string_view name, uint32_t n_dims);

// The facts about the whole model that the rules look at.
struct QuantMixModel {
    uint32_t n_layer = 0;      // {arch}.block_count: the n of use_more_bits for ffn_down
    uint32_t n_attn_v = 0;     // tensors named *attn_v.weight, *attn_qkv.weight or *attn_kv_b.weight: the n for attn_v
    bool has_output = true;    // false: token_embd is also the output (tied) and gets the output's type
    uint32_t n_expert = 0;     // {arch}.expert_count (8 bumps attn_v / attn_k to Q8_0)
    bool is_70b = false;       // a 70B-class llama (80 layers with GQA): Q4_K attn_v becomes Q5_K
};

// One tensor, with its running indices in processing order (llama-quantize's output order:
// non-"blk." tensors first, then by layer, then by name), which for a dense model are the layer index.
struct QuantMixTensor {
    std::string_view name;
    uint32_t n_dims = 2;
    int64_t ne0 = 0;        // elements per row
    uint32_t i_attn_v = 0;  // how many attn_v tensors came before this one
    uint32_t i_ffn_down = 0;  // how many ffn_down tensors came before this one
};

// The type the reference gives `t` in file type `ft`, including the fallbacks for rows that are
// not whole 256-element super-blocks (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, F16 when even
// 32 does not divide the row). nullopt: keep the source type, either because the tensor is not
// quantized at all (quant_tensor_is_quantized) or because no block type fits its rows (Q8_0 or
// Q4_0 with rows that are not a multiple of 32, where the reference aborts).
std::optional<Type> quant_tensor_type(const QuantFileType& ft, const QuantMixModel& model, const QuantMixTensor& t);

// Walks a model's tensors in output order and keeps the running attn_v / ffn_down indices,
// as llama-quantize does: call next() once per tensor, in order.
class QuantMix {
public:
    QuantMix(const QuantFileType& ft, const QuantMixModel& model) : ft_(ft), model_(model) {}
    std::optional<Type> next(std::string_view name, uint32_t n_dims, int64_t ne0);

private:
    const QuantFileType& ft_;
    QuantMixModel model_;
    uint32_t i_attn_v_ = 0;
    uint32_t i_ffn_down_ = 0;
};

}  // namespace ember
