// Q8_1: 32 elements per 36-byte block (docs/FORMATS.md §3.5). Activation format only, for
// Q4_1 and Q5_1 weights: s = d * sum(qs) lets the dot apply the weight's offset m once
// per block.
#pragma once

#include <cstdint>

namespace ember::quant {

inline constexpr int QK8_1 = 32;

// Element j = d * qs[j].
struct BlockQ8_1 {
    uint16_t d;         // fp16 scale
    uint16_t s;         // fp16 of d * sum(qs), formed with the unrounded float d
    int8_t qs[QK8_1];   // signed quants
};
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block must be 36 bytes");

void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n);

}  // namespace ember::quant
