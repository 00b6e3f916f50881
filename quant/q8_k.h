// Q8_K: 256 elements per 292-byte block (docs/FORMATS.md §3.9). Activation format only: the
// K-quant weights are dotted with it.
#pragma once

#include "quant/k_common.h"

#include <cstdint>

namespace ember::quant {

// Element j = d * qs[j]; bsums[k] = sum of qs[16k .. 16k+15] (lets the K-quant dots apply
// per-sub-block mins without touching the quants again).
struct BlockQ8_K {
    float d;                 // float32 scale (not fp16)
    int8_t qs[QK_K];         // signed quants
    int16_t bsums[QK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block must be 292 bytes");

void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n);
void dequantize_row_q8_k(const BlockQ8_K* x, float* y, int64_t n);

}  // namespace ember::quant
