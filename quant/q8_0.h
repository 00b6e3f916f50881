// Q8_0: 32 elements per 34-byte block (docs/FORMATS.md §3.1). Also the activation format
// that Q4_0, Q5_0 and Q8_0 weights are dotted with.
#pragma once

#include <cstdint>

namespace ember::quant {

inline constexpr int QK8_0 = 32;

// Element j = d * qs[j].
struct BlockQ8_0 {
    uint16_t d;         // fp16 scale
    int8_t qs[QK8_0];   // signed quants
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

// n is a multiple of 32 in all row functions.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
float vec_dot_q8_0_q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y);

}  // namespace ember::quant
