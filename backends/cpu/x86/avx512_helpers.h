// The AVX-512 level's shared pieces (see avx2_helpers.h for the rules they follow): the 16-lane
// horizontal sum, and avx2's h2f and hsum_ps under this level's namespace. Compiled for
// EMBER_TARGET_AVX512, which every AVX-512 target (VNNI, AMX) contains, so files of those
// targets call them as well.
#pragma once

#include <cstdint>

#include <immintrin.h>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx2_helpers.h"

// GCC 12's AVX-512 headers seed some intrinsics (extractf64x4) with _mm512_undefined_*() and
// then warn about it at every use: a header false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512)
namespace ember::cpu::avx512 {
namespace {

// The AVX2 ones serve: F16C and the 256-bit sums are part of this level.
using avx2::h2f;
using avx2::hsum_ps;

// Sum of the 16 lanes: the two 256-bit halves added, then avx2::hsum_ps's order.
inline float hsum512(__m512 v) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));  // AVX512F only
    return hsum_ps(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

}  // namespace
}  // namespace ember::cpu::avx512
EMBER_TARGET_END

#pragma GCC diagnostic pop
