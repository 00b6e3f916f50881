// Q4_K: 256 elements per 144-byte super-block of 8 sub-blocks of 32 (docs/FORMATS.md §3.6);
// dotted with Q8_K activations.
#pragma once

#include "quant/k_common.h"
#include "quant/q8_k.h"

#include <cstdint>

namespace ember::quant {

// Sub-block s (0..7) has 6-bit scale sc_s and min m_s (packed in `scales`, see
// k_common.h). Element e: s = e/32, chunk c = e/64, lane l = e%32; its 4 bits are the low
// nibble of qs[32c + l] when s is even, the high nibble when s is odd.
// Value = (d * sc_s) * q - (dmin * m_s).
struct BlockQ4_K {
    uint16_t d;              // fp16 scale of the sub-block scales
    uint16_t dmin;           // fp16 scale of the sub-block mins
    uint8_t scales[12];      // 8 x 6-bit scales + 8 x 6-bit mins
    uint8_t qs[QK_K / 2];    // nibbles
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must be 144 bytes");

void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
float vec_dot_q4_k_q8_k(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y);

}  // namespace ember::quant
