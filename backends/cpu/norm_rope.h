// Internal to the CPU backend: the row functions of rms_norm and rope (F32, contiguous rows),
// one set per kernel level: the scalar one in norm_rope.cpp, the SIMD ones in
// x86/norm_rope_x86.cpp and arm/norm_rope_neon.cpp.
//
// Why: both ops run on every row of every layer (rms_norm twice per layer on [n_embd] rows,
// rope on every Q and K head); their scalar loops were a visible share of token generation.
//
// Results against the scalar level (tests/backend/norm_rope_test.cpp):
//   rms_norm: the squares are float products, as in the reference; the SIMD levels sum them
//     in double in a fixed order of their own (several double lanes, then a fixed reduction),
//     so the scale may differ from the scalar one in its last bit; the multiply is the same.
//   rope: bit for bit. Every level computes x0*c - x1*s and x0*s + x1*c as separate float
//     multiplies and an add / subtract (the files are compiled with -ffp-contract=off).
#pragma once

#include "backends/cpu/kernel_table.h"

#include <cmath>
#include <cstdint>

namespace ember::cpu {

// rms_norm's scale for a row of n values whose squares sum to sum_sq (docs/FORMATS.md §4.4):
// mean = (float)(sum_sq / n), scale = 1 / sqrtf(mean + eps). Shared by every level and the
// op's strided path, so the scale depends only on the sum.
inline float rms_norm_scale(double sum_sq, int64_t n, float eps) {
    const float mean = static_cast<float>(sum_sq / static_cast<double>(n));
    return 1.0f / std::sqrt(mean + eps);
}

// Fills k.rms_norm_row / k.rope_row with the scalar references (the scalar level's; a SIMD
// level's register function replaces them).
void register_norm_rope(CpuKernels& k);

}  // namespace ember::cpu
