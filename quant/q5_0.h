// Q5_0: 32 elements per 22-byte block (docs/FORMATS.md §3.3); dotted with Q8_0 activations.
#pragma once

#include "quant/q8_0.h"

#include <cstdint>

namespace ember::quant {

inline constexpr int QK5_0 = 32;

// Low 4 bits as in Q4_0; bit e of the little-endian u32 qh is bit 4 of element e.
// Value = (q5 - 16) * d.
struct BlockQ5_0 {
    uint16_t d;              // fp16 scale
    uint8_t qh[4];           // 5th bits
    uint8_t qs[QK5_0 / 2];   // low nibbles
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must be 22 bytes");

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
float vec_dot_q5_0_q8_0(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y);

}  // namespace ember::quant
