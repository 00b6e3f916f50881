// AVX-512 kernels of the CPU backend (EMBER_TARGET_AVX512, the VNNI dots EMBER_TARGET_AVX512_VNNI;
// compiled with -ffp-contract=off; registered after the AVX2 set, which supplies every entry not
// replaced here: activation quantization, to_float, Q5_K and the Q4_1/Q5_0/Q5_1 dots).
//
// Always (AVX512F+BW+VL): F32/F16/BF16 dots with 512-bit FMA; Q4_K and Q6_K dots with
// 512-bit maddubs/madd (one sub-block pair per instruction instead of one sub-block).
// Only with AVX512_VNNI: Q8_0 and Q4_0 dots with vpdpbusd, exact for every int8 input
// (signed weights go through x + 128 or the unsigned nibble, minus the offset times the
// activation sum, computed with vpdpbusd as well).
//
// As in the AVX2 set, integer sums are exact within a block and only the float summation
// order differs from the scalar reference.
#include "backends/cpu/x86/x86_kernels.h"
#include "backends/cpu/k4_scales.h"

#include "backends/cpu/gemm.h"

#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

#include <immintrin.h>

#include <cstring>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx512_helpers.h"

// GCC 12's AVX-512 headers seed some intrinsics (extractf64x4, cvtepu16_epi32, slli_epi32)
// with _mm512_undefined_*() and then warn about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512)
namespace ember::cpu::avx512 {
namespace {

using namespace ember::quant;

// ---- float dots --------------------------------------------------------------------------

inline __m512 load_f32x16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load_f16x16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load_bf16x16(const uint16_t* p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline float f32_of(float v) { return v; }

template <typename T, __m512 (*Load)(const T*), float (*Scalar)(T)>
float vec_dot_float512(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const T*>(vx);
    const auto* y = static_cast<const T*>(vy);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(Load(x + i), Load(y + i), a0);
        a1 = _mm512_fmadd_ps(Load(x + i + 16), Load(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(Load(x + i + 32), Load(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(Load(x + i + 48), Load(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(Load(x + i), Load(y + i), a0);
    float sum = hsum512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < n; ++i) sum += Scalar(x[i]) * Scalar(y[i]);
    return sum;
}

// ---- K-quants with 512-bit maddubs ------------------------------------------------------------

// Index vector for permutexvar_epi16: 32 entries, entry j = base + j / per.
inline __m512i repeat_index(int base, int per) {
    alignas(64) int16_t idx[32];
    for (int j = 0; j < 32; ++j) idx[j] = static_cast<int16_t>(base + j / per);
    return _mm512_load_si512(idx);
}

inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

float vec_dot_q4_k_avx512(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK_K, "Q4_K");
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int64_t nb = n / QK_K;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m512i idx[4] = {repeat_index(0, 16), repeat_index(2, 16), repeat_index(4, 16), repeat_index(6, 16)};
    __m512 acc = _mm512_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        const __m128i sm_bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm_bytes));  // int16 0..7: scales
        __m512i sumq = _mm512_setzero_si512();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * c));
            const __m512i u = join256(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
            const __m512i yv = _mm512_loadu_si512(y[b].qs + 64 * c);
            const __m512i p = _mm512_maddubs_epi16(u, yv);  // |p| <= 15*128*2
            sumq = _mm512_add_epi32(sumq, _mm512_madd_epi16(p, _mm512_permutexvar_epi16(idx[c], sc16)));
        }
        // mins: sum_k bsums[k] * m[k/2]
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
        const __m256i pair = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));
        const __m256i mv = _mm256_cvtepu8_epi32(_mm_srli_si128(sm_bytes, 8));
        const __m256i summ = _mm256_mullo_epi32(pair, mv);
        const float dy = y[b].d;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(h2f(x[b].d) * dy), _mm512_cvtepi32_ps(sumq), acc);
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].dmin) * dy), _mm256_cvtepi32_ps(summ), acc_m);
    }
    return hsum512(acc) - hsum_ps(acc_m);
}

float vec_dot_q6_k_avx512(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK_K, "Q6_K");
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int64_t nb = n / QK_K;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(0x03);
    // 64 elements = four 16-element sub-blocks, 8 int16 maddubs lanes each.
    const __m512i idx[4] = {repeat_index(0, 8), repeat_index(4, 8), repeat_index(8, 8), repeat_index(12, 8)};
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
        const __m512i sc512 = _mm512_castsi256_si512(sc16);
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums));
        const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5);  // 32 * sc_k * bsums[k]
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * h));
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
            const __m512i y01 = _mm512_loadu_si512(y[b].qs + 128 * h);
            const __m512i y23 = _mm512_loadu_si512(y[b].qs + 128 * h + 64);
            const __m512i p01 = _mm512_maddubs_epi16(join256(q0, q1), y01);  // |p| <= 63*128*2
            const __m512i p23 = _mm512_maddubs_epi16(join256(q2, q3), y23);
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p01, _mm512_permutexvar_epi16(idx[2 * h], sc512)));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p23, _mm512_permutexvar_epi16(idx[2 * h + 1], sc512)));
        }
        const __m256i s256 =
            _mm256_sub_epi32(_mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1)), off);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * y[b].d), _mm256_cvtepi32_ps(s256), acc);
    }
    return hsum_ps(acc);
}

}  // namespace
}  // namespace ember::cpu::avx512
EMBER_TARGET_END

// Registered only where CPUID reports AVX512_VNNI as well.
EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512_VNNI)
namespace ember::cpu::avx512 {
namespace {

// ---- VNNI: Q8_0 / Q4_0 . Q8_0 ----------------------------------------------------------------

// 8 int32 lanes of sum (u - off) * y for 32 unsigned u, off = 8 or 128 (exact).
inline __m256i dot_offset_vnni(__m256i u, __m256i y, __m256i off) {
    const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, y);
    const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), off, y);
    return _mm256_sub_epi32(p, s);
}

float vec_dot_q8_0_vnni(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / QK8_0;
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));  // x + 128 as unsigned; also the offset 128
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs));
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
        const __m256i p0 = dot_offset_vnni(_mm256_xor_si256(x0, flip), y0, flip);
        const __m256i p1 = dot_offset_vnni(_mm256_xor_si256(x1, flip), y1, flip);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p0 = dot_offset_vnni(_mm256_xor_si256(x0, flip), y0, flip);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

inline __m256i unpack_nibbles_32(const uint8_t* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

float vec_dot_q4_0_vnni(int64_t n, const void* vx, const void* vy) {
    require_whole_blocks(n, QK4_0, "Q4_0");
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / QK4_0;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
        const __m256i p0 = dot_offset_vnni(unpack_nibbles_32(x[b].qs), y0, eight);
        const __m256i p1 = dot_offset_vnni(unpack_nibbles_32(x[b + 1].qs), y1, eight);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b + 1].d) * h2f(y[b + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
        const __m256i p0 = dot_offset_vnni(unpack_nibbles_32(x[b].qs), y0, eight);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d)), _mm256_cvtepi32_ps(p0), acc0);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}

}  // namespace
}  // namespace ember::cpu::avx512
EMBER_TARGET_END

namespace ember::cpu {

void register_avx512_kernels(CpuKernels& k, bool vnni) {
    using namespace avx512;
    register_avx512_gemm(k, vnni);
    auto id = [](Type t) { return static_cast<uint32_t>(t); };
    k.vec_dot[id(Type::F32)] = vec_dot_float512<float, load_f32x16, f32_of>;
    k.vec_dot[id(Type::F16)] = vec_dot_float512<uint16_t, load_f16x16, h2f>;
    k.vec_dot[id(Type::BF16)] = vec_dot_float512<uint16_t, load_bf16x16, bf16_to_fp32>;
    k.vec_dot[id(Type::Q4_K)] = vec_dot_q4_k_avx512;
    k.vec_dot[id(Type::Q6_K)] = vec_dot_q6_k_avx512;
    if (vnni) {
        k.vec_dot[id(Type::Q8_0)] = vec_dot_q8_0_vnni;
        k.vec_dot[id(Type::Q4_0)] = vec_dot_q4_0_vnni;
    }
}

}  // namespace ember::cpu
