// AVX-512 gemm kernels (gemm.h) for Q4_K, Q5_K, Q6_K (x Q8_K) and Q8_0 (x Q8_0), built on
// AVX512_VNNI (compiled for EMBER_TARGET_AVX512_VNNI; registered only when
// CPUID reports VNNI, otherwise the AVX2 gemm kernels stay).
//
// Micro-tile: 4 weight rows x 4 activation rows, 16 float accumulators (zmm) that live for
// the whole of K. Per super-block (K-quants) each weight row is unpacked once to unsigned
// bytes and then dotted with the 4 activation rows:
//   maddubs(u8 weights, s8 activations) -> int16 pairs (exact: |p| <= 2*63*128)
//   vpdpwssd(sum, pairs, sub-block scales) -> int32 (exact)
// so the inner loop is two instructions per 64 multiply-adds per output; the super-block's
// float scales are applied once per 256 elements. The mins (Q4_K/Q5_K) go in as a float
// dot of 8 lanes: (dmin * m_j) . (dy * (bsums[2j] + bsums[2j+1])). Q8_0 uses vpdpbusd on
// (w + 128) with the activation's 128 * sum subtracted first, exact for every int8 input.
//
// Every output runs the same instruction sequence whatever the tile size, so edge tiles
// (smaller instantiations) give the same bits as full ones. Integer sums are exact; only
// the float summation order differs from the scalar reference.
#include "backends/cpu/gemm.h"
#include "backends/cpu/gemm_tiles.h"
#include "backends/cpu/k4_scales.h"
#include "quant/q4_k.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

#include <immintrin.h>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx512_helpers.h"

// GCC 12's AVX-512 headers seed some intrinsics with _mm512_undefined_*() and then warn
// about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512_VNNI)
namespace ember::cpu::avx512 {
namespace {

using namespace ember::quant;
using gemm_detail::gemm_tiles;
using gemm_detail::row_at;

inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

// Index vector for permutexvar_epi16: entry j = base + j / per.
inline __m512i repeat_index(int base, int per) {
    alignas(64) int16_t idx[32];
    for (int j = 0; j < 32; ++j) idx[j] = static_cast<int16_t>(base + j / per);
    return _mm512_load_si512(idx);
}

template <int R, int C>
inline void store_sums(__m512 (&acc)[R][C], float* dst, size_t ldd) {
    for (int r = 0; r < R; ++r) {
        for (int c = 0; c < C; ++c) dst[static_cast<size_t>(c) * ldd + r] = _mm512_reduce_add_ps(acc[r][c]);
    }
}

// (dy * (bsums[2j] + bsums[2j+1])) for j = 0..7: the activation side of the mins term.
inline __m256 pair_bsums_scaled(const BlockQ8_K& y) {
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
    const __m256i pairs = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(pairs), _mm256_set1_ps(y.d));
}

// ---- Q4_K / Q5_K x Q8_K ------------------------------------------------------------------

// Unsigned 5-bit (Q5_K) or 4-bit (Q4_K) values of 64-element chunk `ch` of a super-block:
// bytes 0..31 = sub-block 2ch, 32..63 = sub-block 2ch+1. The 32 nibble bytes are broadcast
// to both halves (a load, no shuffle) and shifted by 0 / 4 per half with one srlv.
inline __m512i half_shifts(int lo, int hi) {  // epi16 shift counts: lo for lanes 0..15, hi for 16..31
    return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)), 1);
}

inline __m512i nibbles_of_chunk(const uint8_t* qs, int ch) {
    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * ch)));
    return _mm512_and_si512(_mm512_srlv_epi16(q, half_shifts(0, 4)), _mm512_set1_epi8(0x0F));
}

template <typename Block>
inline __m512i unpack_chunk(const Block& x, int ch, __m512i qh);

template <>
inline __m512i unpack_chunk<BlockQ4_K>(const BlockQ4_K& x, int ch, __m512i) {
    return nibbles_of_chunk(x.qs, ch);
}

template <>
inline __m512i unpack_chunk<BlockQ5_K>(const BlockQ5_K& x, int ch, __m512i qh) {
    // bit s of qh[l] is bit 4 of element 32s + l (s = 2ch for the low half, 2ch+1 for the
    // high half); epi16 shifts are fine after the mask
    const __m512i h = _mm512_and_si512(_mm512_srlv_epi16(qh, half_shifts(2 * ch, 2 * ch + 1)), _mm512_set1_epi8(1));
    return _mm512_or_si512(nibbles_of_chunk(x.qs, ch), _mm512_slli_epi16(h, 4));
}

template <typename Block>
inline __m512i load_qh(const Block&) {
    return _mm512_setzero_si512();
}
template <>
inline __m512i load_qh<BlockQ5_K>(const BlockQ5_K& x) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh)));
}

template <typename Block>
struct TileK4 {  // Q4_K and Q5_K: 6-bit scales and mins per 32-element sub-block
    template <int R, int C>
    struct Tile {
        static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
            const int64_t nb = k / QK_K;
            const __m512i idx[4] = {repeat_index(0, 16), repeat_index(2, 16), repeat_index(4, 16), repeat_index(6, 16)};
            const Block* xr[R];
            const BlockQ8_K* yr[C];
            for (int r = 0; r < R; ++r) xr[r] = row_at<Block>(w, ldw, r);
            for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_K>(y, ldy, c);
            __m512 acc[R][C];
            for (int r = 0; r < R; ++r) {
                for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
            }
            for (int64_t b = 0; b < nb; ++b) {
                __m256 ymins[C];
                for (int c = 0; c < C; ++c) ymins[c] = pair_bsums_scaled(yr[c][b]);
                for (int r = 0; r < R; ++r) {
                    const Block& x = xr[r][b];
                    alignas(16) uint8_t sm[16];
                    unpack_k4_scales_mins(x.scales, sm);
                    const __m128i sm_bytes = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
                    const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm_bytes));  // lanes 0..7 used
                    const __m256 wmins = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm_bytes, 8))),
                                                       _mm256_set1_ps(h2f(x.dmin)));
                    const __m512 dx = _mm512_set1_ps(h2f(x.d));
                    const __m512i qh = load_qh(x);
                    __m512i sum[C];
                    for (int c = 0; c < C; ++c) sum[c] = _mm512_setzero_si512();
                    for (int ch = 0; ch < 4; ++ch) {
                        const __m512i u = unpack_chunk(x, ch, qh);
                        const __m512i sc = _mm512_permutexvar_epi16(idx[ch], sc16);
                        for (int c = 0; c < C; ++c) {
                            const __m512i yq = _mm512_loadu_si512(yr[c][b].qs + 64 * ch);
                            sum[c] = _mm512_dpwssd_epi32(sum[c], _mm512_maddubs_epi16(u, yq), sc);
                        }
                    }
                    for (int c = 0; c < C; ++c) {
                        const __m512 dxy = _mm512_mul_ps(dx, _mm512_set1_ps(yr[c][b].d));
                        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[c]), dxy, acc[r][c]);
                        acc[r][c] = _mm512_fnmadd_ps(_mm512_zextps256_ps512(wmins), _mm512_zextps256_ps512(ymins[c]),
                                                     acc[r][c]);
                    }
                }
            }
            store_sums<R, C>(acc, dst, ldd);
        }
    };
};

// ---- Q6_K x Q8_K -------------------------------------------------------------------------

template <int R, int C>
struct TileQ6K {
    static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
        const int64_t nb = k / QK_K;
        const __m256i low4 = _mm256_set1_epi8(0x0F);
        const __m256i two = _mm256_set1_epi8(0x03);
        // 64 elements = four 16-element sub-blocks, 8 int16 maddubs lanes each.
        const __m512i idx[4] = {repeat_index(0, 8), repeat_index(4, 8), repeat_index(8, 8), repeat_index(12, 8)};
        const BlockQ6_K* xr[R];
        const BlockQ8_K* yr[C];
        for (int r = 0; r < R; ++r) xr[r] = row_at<BlockQ6_K>(w, ldw, r);
        for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_K>(y, ldy, c);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r) {
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        }
        for (int64_t b = 0; b < nb; ++b) {
            for (int r = 0; r < R; ++r) {
                const BlockQ6_K& x = xr[r][b];
                const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
                const __m512i sc512 = _mm512_castsi256_si512(sc16);
                const __m256i sc32 = _mm256_slli_epi16(sc16, 5);  // 32 * sc: |.| <= 4096, the -32 offset's weight
                const __m512 dx = _mm512_set1_ps(h2f(x.d));
                __m512i sum[C];
                for (int c = 0; c < C; ++c) sum[c] = _mm512_setzero_si512();
                for (int h = 0; h < 2; ++h) {
                    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.ql + 64 * h));
                    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.ql + 64 * h + 32));
                    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h));
                    const __m256i q0 =
                        _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
                    const __m256i q1 = _mm256_or_si256(
                        _mm256_and_si256(ql1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
                    const __m256i q2 =
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
                    const __m256i q3 =
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
                    const __m512i u01 = join256(q0, q1);
                    const __m512i u23 = join256(q2, q3);
                    const __m512i s01 = _mm512_permutexvar_epi16(idx[2 * h], sc512);
                    const __m512i s23 = _mm512_permutexvar_epi16(idx[2 * h + 1], sc512);
                    for (int c = 0; c < C; ++c) {
                        const __m512i y01 = _mm512_loadu_si512(yr[c][b].qs + 128 * h);
                        const __m512i y23 = _mm512_loadu_si512(yr[c][b].qs + 128 * h + 64);
                        sum[c] = _mm512_dpwssd_epi32(sum[c], _mm512_maddubs_epi16(u01, y01), s01);
                        sum[c] = _mm512_dpwssd_epi32(sum[c], _mm512_maddubs_epi16(u23, y23), s23);
                    }
                }
                for (int c = 0; c < C; ++c) {
                    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yr[c][b].bsums));
                    const __m256i off = _mm256_madd_epi16(bs, sc32);  // sum_k 32 * sc_k * bsums[k], 8 lanes
                    const __m512i s = _mm512_sub_epi32(sum[c], _mm512_zextsi256_si512(off));
                    const __m512 dxy = _mm512_mul_ps(dx, _mm512_set1_ps(yr[c][b].d));
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), dxy, acc[r][c]);
                }
            }
        }
        store_sums<R, C>(acc, dst, ldd);
    }
};

// ---- Q8_0 x Q8_0 -------------------------------------------------------------------------

// The quants of blocks b and b+1 (b+1 only when `pair`; else zeros) in one register.
inline __m512i load_q8_0_pair(const BlockQ8_0* p, bool pair) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[0].qs));
    const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[1].qs)) : _mm256_setzero_si256();
    return join256(lo, hi);
}
// Their scales, 8 lanes each (zeros for a missing b+1).
inline __m512 load_q8_0_scales(const BlockQ8_0* p, bool pair) {
    const __m256 hi = pair ? _mm256_set1_ps(h2f(p[1].d)) : _mm256_setzero_ps();
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(h2f(p[0].d))), hi, 1);
}

// Run with one activation column, the Q8_0 tile is the token-generation mat-vec (gemv[Q8_0])
// and streams each weight row once: it prefetches the two lines this far ahead in each row
// (a block pair is 68 bytes, so two lines cover every line the stream touches), as the
// dedicated gemv kernels do (gemv_avx512.cpp).
constexpr size_t kGemvPrefetchBytes = 1024;

template <int R, int C>
struct TileQ80 {
    static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
        const int64_t nb = k / QK8_0;
        const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // w + 128 as unsigned; also the offset
        const BlockQ8_0* xr[R];
        const BlockQ8_0* yr[C];
        for (int r = 0; r < R; ++r) xr[r] = row_at<BlockQ8_0>(w, ldw, r);
        for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_0>(y, ldy, c);
        __m512 acc[R][C];
        for (int r = 0; r < R; ++r) {
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
        }
        for (int64_t b = 0; b < nb; b += 2) {
            const bool pair = b + 1 < nb;
            __m512i yq[C];
            __m512i ycorr[C];  // -128 * (sum of 4 activations) per int32 lane
            __m512 dy[C];
            for (int c = 0; c < C; ++c) {
                yq[c] = load_q8_0_pair(yr[c] + b, pair);
                ycorr[c] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, yq[c]));
                dy[c] = load_q8_0_scales(yr[c] + b, pair);
            }
            for (int r = 0; r < R; ++r) {
                if constexpr (C == 1) {  // as a gemv (one activation row): see kGemvPrefetchBytes
                    const char* ahead = reinterpret_cast<const char*>(xr[r] + b) + kGemvPrefetchBytes;
                    _mm_prefetch(ahead, _MM_HINT_T0);
                    _mm_prefetch(ahead + 64, _MM_HINT_T0);
                }
                const __m512i wu = _mm512_xor_si512(load_q8_0_pair(xr[r] + b, pair), flip);
                const __m512 dx = load_q8_0_scales(xr[r] + b, pair);
                for (int c = 0; c < C; ++c) {
                    const __m512i s = _mm512_dpbusd_epi32(ycorr[c], wu, yq[c]);  // exact: sum w * y per 4 lanes
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dx, dy[c]), acc[r][c]);
                }
            }
        }
        store_sums<R, C>(acc, dst, ldd);
    }
};

}  // namespace
}  // namespace ember::cpu::avx512
EMBER_TARGET_END

namespace ember::cpu {

void gemm_q8_0_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemm_tiles<4, 3, TileQ80>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemm_q4_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemm_tiles<4, 4, TileK4<BlockQ4_K>::Tile>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemm_q5_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemm_tiles<4, 4, TileK4<BlockQ5_K>::Tile>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemm_q6_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemm_tiles<4, 4, TileQ6K>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void register_avx512_gemm(CpuKernels& k, bool vnni) {
    using namespace avx512;
    if (!vnni) return;  // vpdpwssd / vpdpbusd: keep the AVX2 gemm kernels
    auto id = [](Type t) { return static_cast<uint32_t>(t); };
    k.gemm[id(Type::Q4_K)] = gemm_q4_k_vnni;
    k.gemm[id(Type::Q5_K)] = gemm_q5_k_vnni;
    k.gemm[id(Type::Q6_K)] = gemm_q6_k_vnni;
    k.gemm[id(Type::Q8_0)] = gemm_q8_0_vnni;
    // Token generation: Q8_0's 4-row tile runs with one activation column (Tile<4, 1>); in a
    // streaming mat-vec over 4 row stretches they read 1.3-1.6x the bytes/s of one vec_dot
    // per row (see op_mul_mat.cpp). AMX, below, replaces only the many-row kernels.
    k.gemv[id(Type::Q8_0)] = k.gemm[id(Type::Q8_0)];
    // The K-quants have dedicated mat-vec kernels (gemv_avx512.cpp): in cache, 8 strided
    // rows, one thread, they read ~1.6x (Q4_K, Q5_K) and ~1.9x (Q6_K) the bytes/s of Tile<4, 1>.
    k.gemv[id(Type::Q4_K)] = gemv_q4_k_vnni;
    k.gemv[id(Type::Q5_K)] = gemv_q5_k_vnni;
    k.gemv[id(Type::Q6_K)] = gemv_q6_k_vnni;
    register_amx_gemm(k);  // Q8_0 and K-quants on AMX tiles where the CPU and OS allow it
}

}  // namespace ember::cpu
