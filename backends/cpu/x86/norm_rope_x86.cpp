// The AVX2 and AVX-512 levels of the rms_norm and rope rows (norm_rope.h), over the scalar
// ones of norm_rope.cpp, whose loops (norm_rope_rows.h) also do their tails.
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/norm_rope_rows.h"
#include "backends/cpu/x86/x86_kernels.h"

#include <cstdint>

#include <immintrin.h>

#include "backends/cpu/simd_target.h"

// GCC 12's AVX-512 headers seed some intrinsics (cvtps_pd, extractf64x4, moveldup) with
// _mm512_undefined_*() and then warn about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember::cpu {
namespace {

// Without FMA: GCC fuses _mm256_mul_ps into a following addsub (vfmaddsub) even under
// -ffp-contract=off, and the rope must round like the scalar one.
EMBER_TARGET_BEGIN("avx2")

// Squares in float; their doubles summed in 16 lanes (4 vectors), reduced as
// ((s0 + s1) + (s2 + s3)), then lane 0+1+2+3 in order; the tail (< 8) is added last.
void rms_norm_row_avx2(const float* x, float* y, int64_t n, float eps) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        const __m256 qa = _mm256_mul_ps(a, a), qb = _mm256_mul_ps(b, b);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(qa)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(qa, 1)));
        s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm256_castps256_ps128(qb)));
        s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm256_extractf128_ps(qb, 1)));
    }
    if (i + 8 <= n) {
        const __m256 a = _mm256_loadu_ps(x + i);
        const __m256 qa = _mm256_mul_ps(a, a);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(qa)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(qa, 1)));
        i += 8;
    }
    const __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, s);
    const double sum = add_squares(x, i, n, ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]);

    const float scale = rms_norm_scale(sum, n, eps);
    const __m256 vs = _mm256_set1_ps(scale);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(x + j), vs));
    scale_row(x, y, j, n, scale);
}

// Normal mode, 4 pairs per vector: with x = (x0, x1, ...) and the cache (c, s, ...),
// p = x * (c, c) = (x0 c, x1 c), q = swap(x) * (s, s) = (x1 s, x0 s), and addsub gives
// (x0 c - x1 s, x1 c + x0 s): the reference's products, subtraction and (commuted) addition.
// NeoX mode: 8 pairs per vector, the cache de-interleaved into 8 cos and 8 sin.
void rope_row_avx2(const float* x, float* y, const float* cache, int64_t n_dims, bool neox) {
    if (!neox) {
        int64_t i = 0;
        for (; i + 8 <= n_dims; i += 8) {
            const __m256 v = _mm256_loadu_ps(x + i);
            const __m256 cs = _mm256_loadu_ps(cache + i);
            const __m256 p = _mm256_mul_ps(v, _mm256_moveldup_ps(cs));
            const __m256 q = _mm256_mul_ps(_mm256_permute_ps(v, 0xB1), _mm256_movehdup_ps(cs));
            _mm256_storeu_ps(y + i, _mm256_addsub_ps(p, q));
        }
        rope_pairs(x, y, cache, i / 2, n_dims / 2, n_dims, false);
        return;
    }
    const int64_t half = n_dims / 2;
    int64_t i = 0;
    for (; i + 8 <= half; i += 8) {
        const __m256 lo = _mm256_loadu_ps(cache + 2 * i), hi = _mm256_loadu_ps(cache + 2 * i + 8);
        // shuffle gives (c0 c1 c4 c5 | c2 c3 c6 c7); permuting the 64-bit halves restores the order.
        const __m256 c = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 s = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
        const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + half);
        _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s)));
        _mm256_storeu_ps(y + i + half, _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c)));
    }
    rope_pairs(x, y, cache, i, half, n_dims, true);
}

EMBER_TARGET_END
EMBER_TARGET_BEGIN("avx512f,avx2")

// As the AVX2 version, with 32 double lanes (4 vectors) reduced as ((s0 + s1) + (s2 + s3)),
// then the 8 lanes pairwise (0+4, 1+5, ...; then 0+2, 1+3; then 0+1); the tail (< 16) last.
void rms_norm_row_avx512(const float* x, float* y, int64_t n, float eps) {
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    auto halves = [](__m512 q, __m512d& lo, __m512d& hi) {
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(q)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(q), 1))));
    };
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        halves(_mm512_mul_ps(a, a), s0, s1);
        halves(_mm512_mul_ps(b, b), s2, s3);
    }
    if (i + 16 <= n) {
        const __m512 a = _mm512_loadu_ps(x + i);
        halves(_mm512_mul_ps(a, a), s0, s1);
        i += 16;
    }
    const __m512d s = _mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3));
    const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
    const __m128d s2l = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    const double sum = add_squares(x, i, n, _mm_cvtsd_f64(_mm_add_sd(s2l, _mm_unpackhi_pd(s2l, s2l))));

    const float scale = rms_norm_scale(sum, n, eps);
    const __m512 vs = _mm512_set1_ps(scale);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(y + j, _mm512_mul_ps(_mm512_loadu_ps(x + j), vs));
    scale_row(x, y, j, n, scale);
}

// As the AVX2 version, 8 (normal) or 16 (NeoX) pairs per vector. AVX-512 has no addsub:
// the sum p + q is computed in every lane and the even lanes are replaced by p - q.
void rope_row_avx512(const float* x, float* y, const float* cache, int64_t n_dims, bool neox) {
    if (!neox) {
        int64_t i = 0;
        for (; i + 16 <= n_dims; i += 16) {
            const __m512 v = _mm512_loadu_ps(x + i);
            const __m512 cs = _mm512_loadu_ps(cache + i);
            const __m512 p = _mm512_mul_ps(v, _mm512_moveldup_ps(cs));
            const __m512 q = _mm512_mul_ps(_mm512_permute_ps(v, 0xB1), _mm512_movehdup_ps(cs));
            _mm512_storeu_ps(y + i, _mm512_mask_sub_ps(_mm512_add_ps(p, q), 0x5555, p, q));
        }
        rope_pairs(x, y, cache, i / 2, n_dims / 2, n_dims, false);
        return;
    }
    const int64_t half = n_dims / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    int64_t i = 0;
    for (; i + 16 <= half; i += 16) {
        const __m512 lo = _mm512_loadu_ps(cache + 2 * i), hi = _mm512_loadu_ps(cache + 2 * i + 16);
        const __m512 c = _mm512_permutex2var_ps(lo, even, hi);
        const __m512 s = _mm512_permutex2var_ps(lo, odd, hi);
        const __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + half);
        _mm512_storeu_ps(y + i, _mm512_sub_ps(_mm512_mul_ps(x0, c), _mm512_mul_ps(x1, s)));
        _mm512_storeu_ps(y + i + half, _mm512_add_ps(_mm512_mul_ps(x0, s), _mm512_mul_ps(x1, c)));
    }
    rope_pairs(x, y, cache, i, half, n_dims, true);
}

EMBER_TARGET_END

}  // namespace

void register_x86_norm_rope(CpuKernels& k, KernelLevel level) {
    if (level == KernelLevel::Avx2) {
        k.rms_norm_row = rms_norm_row_avx2;
        k.rope_row = rope_row_avx2;
    } else if (level == KernelLevel::Avx512) {
        k.rms_norm_row = rms_norm_row_avx512;
        k.rope_row = rope_row_avx512;
    }
}

}  // namespace ember::cpu
