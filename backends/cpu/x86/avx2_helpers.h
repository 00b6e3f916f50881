// The small pieces every AVX2-level kernel file uses: F16 -> F32 of a block scale and the
// horizontal sums that end a dot product. Compiled for the level's own instruction set
// (EMBER_TARGET_AVX2), in its namespace, with internal linkage (README.md, "Writing SIMD"):
// each including file gets its own copy, inlined into its kernels, and no other object file
// can hold a same-named function the linker could pick instead. Include it with the file's
// other includes, before its own EMBER_TARGET_BEGIN; an AVX-512 file may call these too (its
// target holds all of AVX2's).
#pragma once

#include <cstdint>

#include <immintrin.h>

#include "backends/cpu/simd_target.h"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX2)
namespace ember::cpu::avx2 {
namespace {

// An F16 block scale as float: exact, the same value as quant::fp16_to_fp32.
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Sum of the 8 lanes, in a fixed order: (lo + hi) halves, then pairs, then the last two.
inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Sum of the 8 int32 lanes (exact while it fits).
inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

}  // namespace
}  // namespace ember::cpu::avx2
EMBER_TARGET_END
