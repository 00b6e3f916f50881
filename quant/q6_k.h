// Q6_K: 256 elements per 210-byte super-block of 16 sub-blocks of 16 (docs/FORMATS.md §3.8);
// dotted with Q8_K activations.
#pragma once

#include "quant/k_common.h"
#include "quant/q8_k.h"

#include <cstdint>

namespace ember::quant {

// Element e: half h = e/128, p = e%128, quarter t = p/32, lane l = p%32.
//   low 4 bits:  ql[64h + l + 32*(t%2)], low nibble for t in {0,1}, high nibble for {2,3}
//   high 2 bits: (qh[32h + l] >> 2t) & 3
// q6 = low | high << 4 (0..63). Value = (d * scales[e/16]) * (q6 - 32).
struct BlockQ6_K {
    uint8_t ql[QK_K / 2];      // low 4 bits
    uint8_t qh[QK_K / 4];      // high 2 bits
    int8_t scales[QK_K / 16];  // signed 8-bit sub-block scales
    uint16_t d;                // fp16 super-block scale (stored last)
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must be 210 bytes");

void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);
float vec_dot_q6_k_q8_k(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y);

}  // namespace ember::quant
