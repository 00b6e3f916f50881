// Q4_0: 32 elements per 18-byte block (docs/FORMATS.md §3.2); dotted with Q8_0 activations.
#pragma once

#include "quant/q8_0.h"

#include <cstdint>

namespace ember::quant {

inline constexpr int QK4_0 = 32;

// Element j (< 16) is the low nibble of qs[j], element j + 16 its high nibble.
// Value = (nibble - 8) * d.
struct BlockQ4_0 {
    uint16_t d;              // fp16 scale
    uint8_t qs[QK4_0 / 2];   // nibbles
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
float vec_dot_q4_0_q8_0(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y);

}  // namespace ember::quant
