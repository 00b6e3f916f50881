// Q5_K: 256 elements per 176-byte super-block of 8 sub-blocks of 32 (docs/FORMATS.md §3.7);
// dotted with Q8_K activations.
#pragma once

#include "quant/k_common.h"
#include "quant/q8_k.h"

#include <cstdint>

namespace ember::quant {

// Scales, mins and the low 4 bits exactly as Q4_K. The 5th bit of element e is bit
// (e/32) of qh[e % 32]. Value = (d * sc_s) * q5 - (dmin * m_s), q5 in 0..31.
struct BlockQ5_K {
    uint16_t d;              // fp16 scale of the sub-block scales
    uint16_t dmin;           // fp16 scale of the sub-block mins
    uint8_t scales[12];      // 8 x 6-bit scales + 8 x 6-bit mins
    uint8_t qh[QK_K / 8];    // 5th bits
    uint8_t qs[QK_K / 2];    // low nibbles
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must be 176 bytes");

void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
float vec_dot_q5_k_q8_k(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y);

}  // namespace ember::quant
