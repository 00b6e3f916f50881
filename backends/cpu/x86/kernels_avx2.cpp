// AVX2 + FMA + F16C kernels of the CPU backend (EMBER_TARGET_AVX2, see simd_target.h; compiled
// with -ffp-contract=off; registered only when CPUID reports all three, see kernel_levels.cpp).
//
// Dot products: int8 products are formed with maddubs (unsigned x signed -> int16 pairs)
// and madd (-> int32), exact for every input the formats allow (the unsigned operand is
// always a 4/5/6-bit weight value; signed weights are handled by subtracting the offset
// times the activation sum, never with the sign trick, so q8 = -128 is exact too). Sums
// stay in int32 within a block and are accumulated across blocks in float vectors, so the
// result differs from the scalar reference only in float summation order.
//
// Conversions and activation quantization repeat the reference's float operations one
// for one (mul then sub, no contraction), so they are bit-identical.
#include "backends/cpu/x86/x86_kernels.h"
#include "backends/cpu/k4_scales.h"

#include "backends/cpu/gemm.h"

#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/q4_0.h"
#include "quant/q4_1.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_1.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_1.h"
#include "quant/q8_k.h"

#include <immintrin.h>

#include <cstring>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx2_helpers.h"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX2)
namespace ember::cpu::avx2 {
namespace {

using namespace ember::quant;

// ---- helpers ---------------------------------------------------------------------------

inline __m256i ones16() { return _mm256_set1_epi16(1); }

// 32 nibbles of 16 bytes: elements 0..15 the low nibbles, 16..31 the high nibbles.
inline __m256i unpack_nibbles_32(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(q, m);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    return _mm256_set_m128i(hi, lo);
}

// Byte e = 0x10 when bit e of the little-endian 32-bit qh is set, else 0.
inline __m256i qh_to_bit4(const uint8_t* qh_bytes) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    const __m256i v = _mm256_set1_epi32(static_cast<int>(qh));
    const __m256i spread = _mm256_shuffle_epi8(
        v, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// sum over pairs of u8 * s8 as int16 (exact: |u| <= 63 everywhere we use it).
inline __m256i dot_u8s8_i16(__m256i u, __m256i s) { return _mm256_maddubs_epi16(u, s); }

// Pair sums of signed bytes as int16 (exact).
inline __m256i pair_sum_s8(__m256i s) { return _mm256_maddubs_epi16(_mm256_set1_epi8(1), s); }

// ---- Q8_0 . Q8_0 -------------------------------------------------------------------------

// Exact int8 x int8 dot of 32 elements as 8 int32 lanes (sign-extend, then madd).
inline __m256i dot_s8s8_32(const int8_t* a, const int8_t* b) {
    const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
    const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 16));
    const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
    const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16));
    const __m256i p0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(a0), _mm256_cvtepi8_epi16(b0));
    const __m256i p1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(a1), _mm256_cvtepi8_epi16(b1));
    return _mm256_add_epi32(p0, p1);
}

float vec_dot_q8_0_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / QK8_0;
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i p0 = dot_s8s8_32(x[b].qs, y[b].qs);
        const __m256i p1 = dot_s8s8_32(x[b + 1].qs, y[b + 1].qs);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256i p = dot_s8s8_32(x[b].qs, y[b].qs);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

// ---- Q4_0 / Q5_0 . Q8_0 (offset weights: sum q*y - off * sum y) ---------------------------

// 8 int32 lanes of sum (u - off) * y over 32 elements, u the unsigned weight values.
inline __m256i dot_offset_32(__m256i u, __m256i y, int shift_off) {
    const __m256i p = dot_u8s8_i16(u, y);                                    // |p| <= 31*128*2
    const __m256i s = _mm256_slli_epi16(pair_sum_s8(y), shift_off);           // |s| <= 16*256
    return _mm256_madd_epi16(_mm256_sub_epi16(p, s), ones16());              // |p - s| < 2^15
}

float vec_dot_q4_0_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK4_0, "Q4_0");
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / QK4_0;
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
        const __m256i p0 = dot_offset_32(unpack_nibbles_32(x[b].qs), y0, 3);
        const __m256i p1 = dot_offset_32(unpack_nibbles_32(x[b + 1].qs), y1, 3);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p0 = dot_offset_32(unpack_nibbles_32(x[b].qs), y0, 3);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

float vec_dot_q5_0_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK5_0, "Q5_0");
    const auto* x = static_cast<const BlockQ5_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / QK5_0;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i u = _mm256_or_si256(unpack_nibbles_32(x[b].qs), qh_to_bit4(x[b].qh));
        const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p = dot_offset_32(u, yv, 4);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum_ps(acc);
}

// ---- Q4_1 / Q5_1 . Q8_1: dx*dy*sum q*y + m*s ------------------------------------------------

float vec_dot_q4_1_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK4_1, "Q4_1");
    const auto* x = static_cast<const BlockQ4_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const int64_t nb = n / QK4_1;
    __m256 acc = _mm256_setzero_ps();
    float sum_m = 0;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p = _mm256_madd_epi16(dot_u8s8_i16(unpack_nibbles_32(x[b].qs), yv), ones16());
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p), acc);
        sum_m += h2f(x[b].m) * h2f(y[b].s);
    }
    return hsum_ps(acc) + sum_m;
}

float vec_dot_q5_1_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK5_1, "Q5_1");
    const auto* x = static_cast<const BlockQ5_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const int64_t nb = n / QK5_1;
    __m256 acc = _mm256_setzero_ps();
    float sum_m = 0;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i u = _mm256_or_si256(unpack_nibbles_32(x[b].qs), qh_to_bit4(x[b].qh));
        const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p = _mm256_madd_epi16(dot_u8s8_i16(u, yv), ones16());
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p), acc);
        sum_m += h2f(x[b].m) * h2f(y[b].s);
    }
    return hsum_ps(acc) + sum_m;
}

// ---- K-quants . Q8_K -------------------------------------------------------------------------

// sum_k bsums[k] * m[k/2] as 8 int32 lanes (lane s holds sub-block s).
inline __m256i mins_dot(const int16_t* bsums, const uint8_t* m8) {
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
    const __m256i pair = _mm256_madd_epi16(bs, ones16());  // bsums[2s] + bsums[2s+1]
    const __m256i mv = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m8)));
    return _mm256_mullo_epi32(pair, mv);
}

float vec_dot_q4_k_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK_K, "Q4_K");
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int64_t nb = n / QK_K;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        __m256i sumq = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * c));
            const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * c + 32));
            const __m256i p0 = _mm256_madd_epi16(dot_u8s8_i16(lo, y0), _mm256_set1_epi16(sm[2 * c]));
            const __m256i p1 = _mm256_madd_epi16(dot_u8s8_i16(hi, y1), _mm256_set1_epi16(sm[2 * c + 1]));
            sumq = _mm256_add_epi32(sumq, _mm256_add_epi32(p0, p1));
        }
        const __m256i summ = mins_dot(y[b].bsums, sm + 8);
        const float dy = y[b].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * dy), _mm256_cvtepi32_ps(sumq), acc);
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].dmin) * dy), _mm256_cvtepi32_ps(summ), acc_m);
    }
    return hsum_ps(acc) - hsum_ps(acc_m);
}

float vec_dot_q5_k_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK_K, "Q5_K");
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int64_t nb = n / QK_K;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i bit0 = _mm256_set1_epi8(0x01);
    __m256 acc = _mm256_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh));
        __m256i sumq = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
            // bit s of qh[l] is bit 4 of sub-block s's element l (s = 2c, 2c+1)
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), bit0), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), bit0), 4);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, low4), h0);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h1);
            const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * c));
            const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * c + 32));
            const __m256i p0 = _mm256_madd_epi16(dot_u8s8_i16(lo, y0), _mm256_set1_epi16(sm[2 * c]));
            const __m256i p1 = _mm256_madd_epi16(dot_u8s8_i16(hi, y1), _mm256_set1_epi16(sm[2 * c + 1]));
            sumq = _mm256_add_epi32(sumq, _mm256_add_epi32(p0, p1));
        }
        const __m256i summ = mins_dot(y[b].bsums, sm + 8);
        const float dy = y[b].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * dy), _mm256_cvtepi32_ps(sumq), acc);
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].dmin) * dy), _mm256_cvtepi32_ps(summ), acc_m);
    }
    return hsum_ps(acc) - hsum_ps(acc_m);
}

// Q6_K: sum_k sc_k * sum (q6 - 32) * q8 = sum_k sc_k * sum q6 * q8 - 32 * sum_k sc_k * bsums[k].
float vec_dot_q6_k_avx2(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK_K, "Q6_K");
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int64_t nb = n / QK_K;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(0x03);
    // For pair index i: the low 128-bit half takes int16 scale 2i, the high half 2i+1.
    const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,  //
                                          2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5);  // 32 * sc_k * bsums[k]
        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
            for (int t = 0; t < 4; ++t) {
                const int i = 4 * h + t;  // pair of 16-element sub-blocks 2i, 2i+1
                const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 32 * i));
                const __m256i sc = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(i)), pick);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(dot_u8s8_i16(q[t], yv), sc));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * y[b].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

// ---- float dots ------------------------------------------------------------------------------

float vec_dot_f32_avx2(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const float*>(vx);
    const auto* y = static_cast<const float*>(vy);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

inline __m256 load_f16x8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load_bf16x8(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

template <__m256 (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
float vec_dot_half(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const uint16_t*>(vx);
    const auto* y = static_cast<const uint16_t*>(vy);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(Load(x + i), Load(y + i), a0);
        a1 = _mm256_fmadd_ps(Load(x + i + 8), Load(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(Load(x + i + 16), Load(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(Load(x + i + 24), Load(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(Load(x + i), Load(y + i), a0);
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; ++i) sum += Scalar(x[i]) * Scalar(y[i]);
    return sum;
}

// ---- activation quantization (bit-identical to quant/) -----------------------------------

// Largest |x| over n (a multiple of 8) floats; NaNs never win (as the reference's a > best).
inline float absmax(const float* x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// roundf (half away from zero) of 8 floats, exactly: trunc, then step away from zero when
// the (exact) remainder is at least one half.
inline __m256 round_half_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, sign));
    return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
}

// Low bytes of 4 x 8 int32 (the int8_t conversion of the reference), in element order.
inline __m256i pack_low_bytes(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i m = _mm256_set1_epi32(0xFF);
    const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, m), _mm256_and_si256(b, m));
    const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, m), _mm256_and_si256(d, m));
    const __m256i abcd = _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// 32 quants q = (int8) roundf(x * id).
inline __m256i quantize_32_round(const float* x, __m256 id) {
    __m256i v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id)));
    return pack_low_bytes(v[0], v[1], v[2], v[3]);
}

void quantize_q8_0_avx2(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    auto* y = static_cast<BlockQ8_0*>(vy);
    for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
        const float d = absmax(x, QK8_0) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), quantize_32_round(x, _mm256_set1_ps(id)));
    }
}

void quantize_q8_1_avx2(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK8_1, "Q8_1");
    auto* y = static_cast<BlockQ8_1*>(vy);
    for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
        const float d = absmax(x, QK8_1) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        const __m256i q = quantize_32_round(x, _mm256_set1_ps(id));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), q);
        const int sum = hsum_epi32(_mm256_madd_epi16(pair_sum_s8(q), ones16()));
        y[b].s = fp32_to_fp16(sum * d);
    }
}

// nearest_int of 8 floats (the reference's 1.5 * 2^23 trick, bit for bit).
inline __m256i nearest_int8(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x00400000));
}

void quantize_q8_k_avx2(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK_K, "Q8_K");
    auto* y = static_cast<BlockQ8_K*>(vy);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        const float amax = absmax(x, QK_K);
        if (amax == 0.0f) {
            y[b].d = 0;
            std::memset(y[b].qs, 0, sizeof(y[b].qs));
            std::memset(y[b].bsums, 0, sizeof(y[b].bsums));
            continue;
        }
        // The first element of largest magnitude, with its sign.
        const __m256 am = _mm256_set1_ps(amax);
        float max = 0;
        for (int i = 0; i < QK_K; i += 8) {
            const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), am, _CMP_EQ_OQ));
            if (mask != 0) {
                max = x[i + __builtin_ctz(static_cast<unsigned>(mask))];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i q127 = _mm256_set1_epi32(127);
        for (int g = 0; g < QK_K / 32; ++g) {
            __m256i v[4];
            for (int k = 0; k < 4; ++k)
                v[k] = _mm256_min_epi32(q127, nearest_int8(_mm256_mul_ps(is, _mm256_loadu_ps(x + 32 * g + 8 * k))));
            const __m256i q = pack_low_bytes(v[0], v[1], v[2], v[3]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + 32 * g), q);
            // bsums of the two 16-element halves
            const __m256i s4 = _mm256_madd_epi16(pair_sum_s8(q), ones16());  // sums of 4: lanes 0-3 half 0, 4-7 half 1
            const __m128i lo = _mm256_castsi256_si128(s4);
            const __m128i hi = _mm256_extracti128_si256(s4, 1);
            const __m128i h = _mm_hadd_epi32(lo, hi);  // lo0+lo1, lo2+lo3, hi0+hi1, hi2+hi3
            const __m128i s = _mm_hadd_epi32(h, h);
            y[b].bsums[2 * g] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
            y[b].bsums[2 * g + 1] = static_cast<int16_t>(_mm_extract_epi32(s, 1));
        }
        y[b].d = 1 / iscale;
    }
}

// ---- to_float (bit-identical to quant/) ------------------------------------------------------

void to_float_f16_avx2(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(vx);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = load_f16x8(x + i);
        _mm256_storeu_ps(y + i, v);
        // F16C quiets signalling NaNs; the reference keeps every payload bit as it is.
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
            for (int j = 0; j < 8; ++j) y[i + j] = fp16_to_fp32(x[i + j]);
        }
    }
    for (; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

void to_float_bf16_avx2(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(vx);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load_bf16x8(x + i));
    for (; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

void to_float_q8_0_avx2(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    for (int64_t b = 0; b < n / QK8_0; ++b, y += QK8_0) {
        const __m256 d = _mm256_set1_ps(h2f(x[b].d));
        for (int k = 0; k < 4; ++k) {
            const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[b].qs + 8 * k)));
            _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

// 32 unsigned bytes u (values of one sub-block) -> y = ds * u - ms.
inline void store_affine_32(__m256i u, __m256 ds, __m256 ms, float* y) {
    const __m128i lo = _mm256_castsi256_si128(u);
    const __m128i hi = _mm256_extracti128_si256(u, 1);
    const __m256i v[4] = {_mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)),
                          _mm256_cvtepu8_epi32(hi), _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))};
    for (int k = 0; k < 4; ++k) _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(ds, _mm256_cvtepi32_ps(v[k])), ms));
}

void to_float_q4_k_avx2(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q4_K");
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = h2f(x[b].d);
        const float dmin = h2f(x[b].dmin);
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        for (int c = 0; c < 4; ++c, y += 64) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
            store_affine_32(_mm256_and_si256(q, low4), _mm256_set1_ps(d * sm[2 * c]), _mm256_set1_ps(dmin * sm[8 + 2 * c]), y);
            store_affine_32(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), _mm256_set1_ps(d * sm[2 * c + 1]),
                            _mm256_set1_ps(dmin * sm[8 + 2 * c + 1]), y + 32);
        }
    }
}

void to_float_q5_k_avx2(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q5_K");
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i bit0 = _mm256_set1_epi8(0x01);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = h2f(x[b].d);
        const float dmin = h2f(x[b].dmin);
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh));
        for (int c = 0; c < 4; ++c, y += 64) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), bit0), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), bit0), 4);
            store_affine_32(_mm256_or_si256(_mm256_and_si256(q, low4), h0), _mm256_set1_ps(d * sm[2 * c]),
                            _mm256_set1_ps(dmin * sm[8 + 2 * c]), y);
            store_affine_32(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h1),
                            _mm256_set1_ps(d * sm[2 * c + 1]), _mm256_set1_ps(dmin * sm[8 + 2 * c + 1]), y + 32);
        }
    }
}

void to_float_q6_k_avx2(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q6_K");
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(0x03);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = h2f(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
            for (int t = 0; t < 4; ++t, y += 32) {
                const __m256i s = _mm256_sub_epi8(q[t], _mm256_set1_epi8(32));  // q6 - 32, signed
                const __m128i lo = _mm256_castsi256_si128(s);
                const __m128i hi = _mm256_extracti128_si256(s, 1);
                const int k = 8 * h + 2 * t;  // 16-element sub-blocks k (lo half) and k+1 (hi half)
                const __m256 d0 = _mm256_set1_ps(d * x[b].scales[k]);
                const __m256 d1 = _mm256_set1_ps(d * x[b].scales[k + 1]);
                _mm256_storeu_ps(y, _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
                _mm256_storeu_ps(y + 8, _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
                _mm256_storeu_ps(y + 16, _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
                _mm256_storeu_ps(y + 24, _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
            }
        }
    }
}

}  // namespace
}  // namespace ember::cpu::avx2
EMBER_TARGET_END

namespace ember::cpu {

void register_avx2_kernels(CpuKernels& k) {
    using namespace avx2;
    register_avx2_gemm(k);
    auto id = [](Type t) { return static_cast<uint32_t>(t); };
    k.vec_dot[id(Type::F32)] = vec_dot_f32_avx2;
    k.vec_dot[id(Type::F16)] = vec_dot_half<load_f16x8, h2f>;
    k.vec_dot[id(Type::BF16)] = vec_dot_half<load_bf16x8, bf16_to_fp32>;
    k.vec_dot[id(Type::Q8_0)] = vec_dot_q8_0_avx2;
    k.vec_dot[id(Type::Q4_0)] = vec_dot_q4_0_avx2;
    k.vec_dot[id(Type::Q5_0)] = vec_dot_q5_0_avx2;
    k.vec_dot[id(Type::Q4_1)] = vec_dot_q4_1_avx2;
    k.vec_dot[id(Type::Q5_1)] = vec_dot_q5_1_avx2;
    k.vec_dot[id(Type::Q4_K)] = vec_dot_q4_k_avx2;
    k.vec_dot[id(Type::Q5_K)] = vec_dot_q5_k_avx2;
    k.vec_dot[id(Type::Q6_K)] = vec_dot_q6_k_avx2;

    k.quantize_row[id(Type::Q8_0)] = quantize_q8_0_avx2;
    k.quantize_row[id(Type::Q8_1)] = quantize_q8_1_avx2;
    k.quantize_row[id(Type::Q8_K)] = quantize_q8_k_avx2;

    k.to_float[id(Type::F16)] = to_float_f16_avx2;
    k.to_float[id(Type::BF16)] = to_float_bf16_avx2;
    k.to_float[id(Type::Q8_0)] = to_float_q8_0_avx2;
    k.to_float[id(Type::Q4_K)] = to_float_q4_k_avx2;
    k.to_float[id(Type::Q5_K)] = to_float_q5_k_avx2;
    k.to_float[id(Type::Q6_K)] = to_float_q6_k_avx2;
}

}  // namespace ember::cpu
