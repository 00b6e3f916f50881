// The kernel table for every computable format: reference dequantize (to_float),
// reference quantize (from_float) and reference dot product (vec_dot).
//
// These scalar functions are the ground truth: every SIMD kernel and every GPU
// shader is tested against them. They are compiled with -ffp-contract=off so that
// quantizing gives the same bytes as the reference implementation.
#pragma once

#include "ember/type.h"

#include <cstdint>

namespace ember::quant {

// Converts n elements (n a multiple of the block size) of `type` to float.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Quantizes n floats (n a multiple of the block size) into `type`, reference algorithm.
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n elements: x is in the weight type, y in its vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

struct QuantTraits {
    ToFloatFn to_float = nullptr;
    FromFloatFn from_float = nullptr;
    VecDotFn vec_dot = nullptr;   // nullptr for activation-only formats without a dot (Q8_K, Q8_1)
    Type vec_dot_type = Type::F32;  // the type activations are converted to before vec_dot
};

// Kernels for `type`. Throws ember::Error for a type ember cannot compute with.
const QuantTraits& quant_traits(Type type);

}  // namespace ember::quant
