// AVX2 gemm kernels (gemm.h) for Q4_K, Q5_K, Q6_K (x Q8_K) and Q8_0 (x Q8_0) (compiled
// for EMBER_TARGET_AVX2 like kernels_avx2.cpp: AVX2 + FMA + F16C).
//
// 16 ymm registers: micro-tiles of 2 weight rows x 4 activation rows (K-quants) and 3 x 2
// (Q8_0), float accumulators live for the whole of K. K-quants go sub-block by sub-block:
// each weight sub-block is unpacked once to unsigned bytes and dotted with every activation
// row of the tile (maddubs -> int16 pairs, exact; madd with the sub-block scale -> int32,
// exact), and the super-block's float scales are applied once per 256 elements. Q8_0
// sign-extends both sides to int16 once per block (madd, exact) and applies the block's
// two scales per output.
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
#include "backends/cpu/x86/avx2_helpers.h"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX2)
namespace ember::cpu::avx2 {
namespace {

using namespace ember::quant;
using gemm_detail::gemm_tiles;
using gemm_detail::row_at;

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

template <int R, int C>
inline void store_sums(__m256 (&acc)[R][C], float* dst, size_t ldd) {
    for (int r = 0; r < R; ++r) {
        for (int c = 0; c < C; ++c) dst[static_cast<size_t>(c) * ldd + r] = hsum_ps(acc[r][c]);
    }
}

// ---- Q4_K / Q5_K x Q8_K ------------------------------------------------------------------

// Unsigned values of sub-block s (32 elements) of a super-block.
template <typename Block>
inline __m256i unpack_sub(const Block& x, int s, __m256i qh);

template <>
inline __m256i unpack_sub<BlockQ4_K>(const BlockQ4_K& x, int s, __m256i) {
    const __m256i q = load256(x.qs + 32 * (s / 2));
    return _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(4 * (s % 2))), _mm256_set1_epi8(0x0F));
}

template <>
inline __m256i unpack_sub<BlockQ5_K>(const BlockQ5_K& x, int s, __m256i qh) {
    const __m256i q = load256(x.qs + 32 * (s / 2));
    const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(4 * (s % 2))), _mm256_set1_epi8(0x0F));
    // bit s of qh[l] is bit 4 of element 32s + l; epi16 shifts are fine after the mask
    const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(s)), _mm256_set1_epi8(1));
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
}

template <typename Block>
inline __m256i load_qh(const Block&) {
    return _mm256_setzero_si256();
}
template <>
inline __m256i load_qh<BlockQ5_K>(const BlockQ5_K& x) {
    return load256(x.qh);
}

template <typename Block>
struct TileK4 {  // Q4_K and Q5_K: 6-bit scales and mins per 32-element sub-block
    template <int R, int C>
    struct Tile {
        static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
            const int64_t nb = k / QK_K;
            const Block* xr[R];
            const BlockQ8_K* yr[C];
            for (int r = 0; r < R; ++r) xr[r] = row_at<Block>(w, ldw, r);
            for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_K>(y, ldy, c);
            __m256 acc[R][C];
            for (int r = 0; r < R; ++r) {
                for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
            }
            for (int64_t b = 0; b < nb; ++b) {
                __m256 ymins[C];  // dy * (bsums[2j] + bsums[2j+1]): the activation side of the mins
                for (int c = 0; c < C; ++c) {
                    const __m256i pairs = _mm256_madd_epi16(load256(yr[c][b].bsums), _mm256_set1_epi16(1));
                    ymins[c] = _mm256_mul_ps(_mm256_cvtepi32_ps(pairs), _mm256_set1_ps(yr[c][b].d));
                }
                for (int r = 0; r < R; ++r) {
                    const Block& x = xr[r][b];
                    alignas(16) uint8_t sm[16];
                    unpack_k4_scales_mins(x.scales, sm);
                    const __m256i qh = load_qh(x);
                    __m256i sum[C];
                    for (int c = 0; c < C; ++c) sum[c] = _mm256_setzero_si256();
                    for (int s = 0; s < 8; ++s) {
                        const __m256i u = unpack_sub(x, s, qh);
                        const __m256i sc = _mm256_set1_epi16(sm[s]);
                        for (int c = 0; c < C; ++c) {
                            const __m256i p = _mm256_maddubs_epi16(u, load256(yr[c][b].qs + 32 * s));  // |p| <= 2*31*128
                            sum[c] = _mm256_add_epi32(sum[c], _mm256_madd_epi16(p, sc));
                        }
                    }
                    const __m256 wmins = _mm256_mul_ps(
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)))),
                        _mm256_set1_ps(h2f(x.dmin)));
                    const __m256 dx = _mm256_set1_ps(h2f(x.d));
                    for (int c = 0; c < C; ++c) {
                        const __m256 dxy = _mm256_mul_ps(dx, _mm256_set1_ps(yr[c][b].d));
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[c]), dxy, acc[r][c]);
                        acc[r][c] = _mm256_fnmadd_ps(wmins, ymins[c], acc[r][c]);
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
        const BlockQ6_K* xr[R];
        const BlockQ8_K* yr[C];
        for (int r = 0; r < R; ++r) xr[r] = row_at<BlockQ6_K>(w, ldw, r);
        for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_K>(y, ldy, c);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r) {
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        }
        for (int64_t b = 0; b < nb; ++b) {
            for (int r = 0; r < R; ++r) {
                const BlockQ6_K& x = xr[r][b];
                __m256i sum[C];
                for (int c = 0; c < C; ++c) sum[c] = _mm256_setzero_si256();
                // 32 elements at a time: quarter t of half h = elements 128h + 32t .. +31, sub-blocks
                // 8h + 2t and 8h + 2t + 1 (int16 maddubs lanes 0..7 and 8..15).
                for (int h = 0; h < 2; ++h) {
                    const __m256i qh = load256(x.qh + 32 * h);
                    for (int t = 0; t < 4; ++t) {
                        const __m256i ql = load256(x.ql + 64 * h + 32 * (t % 2));
                        const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(ql, _mm_cvtsi32_si128(4 * (t / 2))), low4);
                        const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * t)), two);
                        const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));  // 0..63
                        const int s = 8 * h + 2 * t;
                        const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(x.scales[s + 1]), _mm_set1_epi16(x.scales[s]));
                        for (int c = 0; c < C; ++c) {
                            const __m256i yq = load256(yr[c][b].qs + 128 * h + 32 * t);
                            sum[c] = _mm256_add_epi32(sum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(u, yq), sc));
                        }
                    }
                }
                // the -32 offset: 32 * sum_k sc_k * bsums[k]
                const __m256i sc32 =
                    _mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales))), 5);
                const __m256 dx = _mm256_set1_ps(h2f(x.d));
                for (int c = 0; c < C; ++c) {
                    const __m256i off = _mm256_madd_epi16(load256(yr[c][b].bsums), sc32);
                    const __m256 dxy = _mm256_mul_ps(dx, _mm256_set1_ps(yr[c][b].d));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sum[c], off)), dxy, acc[r][c]);
                }
            }
        }
        store_sums<R, C>(acc, dst, ldd);
    }
};

// ---- Q8_0 x Q8_0 -------------------------------------------------------------------------

template <int R, int C>
struct TileQ80 {
    static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
        const int64_t nb = k / QK8_0;
        const BlockQ8_0* xr[R];
        const BlockQ8_0* yr[C];
        for (int r = 0; r < R; ++r) xr[r] = row_at<BlockQ8_0>(w, ldw, r);
        for (int c = 0; c < C; ++c) yr[c] = row_at<BlockQ8_0>(y, ldy, c);
        __m256 acc[R][C];
        for (int r = 0; r < R; ++r) {
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
        }
        for (int64_t b = 0; b < nb; ++b) {
            __m256i y0[C], y1[C];  // the block's activations as int16
            __m256 dy[C];
            for (int c = 0; c < C; ++c) {
                y0[c] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(yr[c][b].qs)));
                y1[c] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(yr[c][b].qs + 16)));
                dy[c] = _mm256_set1_ps(h2f(yr[c][b].d));
            }
            for (int r = 0; r < R; ++r) {
                const __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xr[r][b].qs)));
                const __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xr[r][b].qs + 16)));
                const __m256 dx = _mm256_set1_ps(h2f(xr[r][b].d));
                for (int c = 0; c < C; ++c) {
                    const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(x0, y0[c]), _mm256_madd_epi16(x1, y1[c]));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dx, dy[c]), acc[r][c]);
                }
            }
        }
        store_sums<R, C>(acc, dst, ldd);
    }
};

}  // namespace
}  // namespace ember::cpu::avx2
EMBER_TARGET_END

namespace ember::cpu {

void register_avx2_gemm(CpuKernels& k) {
    using namespace avx2;
    auto id = [](Type t) { return static_cast<uint32_t>(t); };
    k.gemm[id(Type::Q4_K)] = gemm_tiles<2, 4, TileK4<BlockQ4_K>::Tile>;
    k.gemm[id(Type::Q5_K)] = gemm_tiles<2, 4, TileK4<BlockQ5_K>::Tile>;
    k.gemm[id(Type::Q6_K)] = gemm_tiles<2, 4, TileQ6K>;
    k.gemm[id(Type::Q8_0)] = gemm_tiles<3, 2, TileQ80>;
    // Token generation (one activation column): the tiles beat one vec_dot per row for Q4_K,
    // Q5_K and Q8_0; Q6_K's 2-row tile did not, so Q6_K keeps vec_dot (README.md, "Measurements").
    k.gemv[id(Type::Q4_K)] = k.gemm[id(Type::Q4_K)];
    k.gemv[id(Type::Q5_K)] = k.gemm[id(Type::Q5_K)];
    k.gemv[id(Type::Q8_0)] = k.gemm[id(Type::Q8_0)];
}

}  // namespace ember::cpu
