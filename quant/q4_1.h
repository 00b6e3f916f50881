// Q4_1: 32 elements per 20-byte block (docs/FORMATS.md §3.4); dotted with Q8_1 activations.
#pragma once

#include "quant/q8_1.h"

#include <cstdint>

namespace ember::quant {

inline constexpr int QK4_1 = 32;

// Nibble order as Q4_0. Value = q * d + m, q unsigned 0..15.
struct BlockQ4_1 {
    uint16_t d;              // fp16 scale
    uint16_t m;              // fp16 block minimum
    uint8_t qs[QK4_1 / 2];   // nibbles
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must be 20 bytes");

void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
float vec_dot_q4_1_q8_1(int64_t n, const BlockQ4_1* x, const BlockQ8_1* y);

}  // namespace ember::quant
