// The kernel table: binds each computable type's typed row functions to the
// type-erased signatures of quant.h.
#include "quant/quant.h"

#include "core/error.h"
#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/f32.h"
#include "quant/q4_0.h"
#include "quant/q4_1.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_1.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_1.h"
#include "quant/q8_k.h"

#include <array>

namespace ember::quant {
namespace {

// Adapters from typed functions (Block = the storage element: a block struct, uint16_t
// for F16/BF16, float for F32) to the void-pointer table signatures.
template <typename Block, void (*F)(const Block*, float*, int64_t)>
void to_float(const void* src, float* dst, int64_t n) {
    F(static_cast<const Block*>(src), dst, n);
}

template <typename Block, void (*F)(const float*, Block*, int64_t)>
void from_float(const float* src, void* dst, int64_t n) {
    F(src, static_cast<Block*>(dst), n);
}

template <typename X, typename Y, float (*F)(int64_t, const X*, const Y*)>
float vec_dot(int64_t n, const void* x, const void* y) {
    return F(n, static_cast<const X*>(x), static_cast<const Y*>(y));
}

// F32's from_float and to_float are both copies.
void f32_copy_from(const float* src, float* dst, int64_t n) { copy_f32_row(src, dst, n); }

struct Entry {
    Type type;
    QuantTraits traits;
};

constexpr Entry kEntries[] = {
    {Type::F32, {to_float<float, copy_f32_row>, from_float<float, f32_copy_from>,
                 vec_dot<float, float, vec_dot_f32>, Type::F32}},
    {Type::F16, {to_float<uint16_t, fp16_to_fp32_row>, from_float<uint16_t, fp32_to_fp16_row>,
                 vec_dot<uint16_t, uint16_t, vec_dot_f16>, Type::F16}},
    {Type::BF16, {to_float<uint16_t, bf16_to_fp32_row>, from_float<uint16_t, fp32_to_bf16_row>,
                  vec_dot<uint16_t, uint16_t, vec_dot_bf16>, Type::BF16}},
    {Type::Q4_0, {to_float<BlockQ4_0, dequantize_row_q4_0>, from_float<BlockQ4_0, quantize_row_q4_0>,
                  vec_dot<BlockQ4_0, BlockQ8_0, vec_dot_q4_0_q8_0>, Type::Q8_0}},
    {Type::Q4_1, {to_float<BlockQ4_1, dequantize_row_q4_1>, from_float<BlockQ4_1, quantize_row_q4_1>,
                  vec_dot<BlockQ4_1, BlockQ8_1, vec_dot_q4_1_q8_1>, Type::Q8_1}},
    {Type::Q5_0, {to_float<BlockQ5_0, dequantize_row_q5_0>, from_float<BlockQ5_0, quantize_row_q5_0>,
                  vec_dot<BlockQ5_0, BlockQ8_0, vec_dot_q5_0_q8_0>, Type::Q8_0}},
    {Type::Q5_1, {to_float<BlockQ5_1, dequantize_row_q5_1>, from_float<BlockQ5_1, quantize_row_q5_1>,
                  vec_dot<BlockQ5_1, BlockQ8_1, vec_dot_q5_1_q8_1>, Type::Q8_1}},
    {Type::Q8_0, {to_float<BlockQ8_0, dequantize_row_q8_0>, from_float<BlockQ8_0, quantize_row_q8_0>,
                  vec_dot<BlockQ8_0, BlockQ8_0, vec_dot_q8_0_q8_0>, Type::Q8_0}},
    // Activation-only formats: no dot of their own; vec_dot_type names themselves.
    {Type::Q8_1, {to_float<BlockQ8_1, dequantize_row_q8_1>, from_float<BlockQ8_1, quantize_row_q8_1>, nullptr,
                  Type::Q8_1}},
    {Type::Q4_K, {to_float<BlockQ4_K, dequantize_row_q4_k>, from_float<BlockQ4_K, quantize_row_q4_k>,
                  vec_dot<BlockQ4_K, BlockQ8_K, vec_dot_q4_k_q8_k>, Type::Q8_K}},
    {Type::Q5_K, {to_float<BlockQ5_K, dequantize_row_q5_k>, from_float<BlockQ5_K, quantize_row_q5_k>,
                  vec_dot<BlockQ5_K, BlockQ8_K, vec_dot_q5_k_q8_k>, Type::Q8_K}},
    {Type::Q6_K, {to_float<BlockQ6_K, dequantize_row_q6_k>, from_float<BlockQ6_K, quantize_row_q6_k>,
                  vec_dot<BlockQ6_K, BlockQ8_K, vec_dot_q6_k_q8_k>, Type::Q8_K}},
    {Type::Q8_K, {to_float<BlockQ8_K, dequantize_row_q8_k>, from_float<BlockQ8_K, quantize_row_q8_k>, nullptr,
                  Type::Q8_K}},
};

}  // namespace

const QuantTraits& quant_traits(Type type) {
    for (const Entry& e : kEntries) {
        if (e.type == type) return e.traits;
    }
    const auto id = static_cast<uint32_t>(type);
    const auto named = type_from_id(id);
    if (named) fail("type {} has no quantization kernels", type_name(*named));
    fail("type id {} has no quantization kernels", id);
}

}  // namespace ember::quant
