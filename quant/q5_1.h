// Q5_1: 32 elements per 24-byte block (docs/FORMATS.md §3.4); dotted with Q8_1 activations.
#pragma once

#include "quant/q8_1.h"

#include <cstdint>

namespace ember::quant {

inline constexpr int QK5_1 = 32;

// Bit layout as Q5_0. Value = q * d + m, q unsigned 0..31.
struct BlockQ5_1 {
    uint16_t d;              // fp16 scale
    uint16_t m;              // fp16 block minimum
    uint8_t qh[4];           // 5th bits, little-endian u32
    uint8_t qs[QK5_1 / 2];   // low nibbles
};
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must be 24 bytes");

void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
float vec_dot_q5_1_q8_1(int64_t n, const BlockQ5_1* x, const BlockQ8_1* y);

}  // namespace ember::quant
