// F16 x F16 tile matmul and F32 -> F16 activation rows for the SIMD levels: the attention
// products of prompt processing (K·Q and V·softmax read the F16 KV cache, K = head_dim or
// n_kv), where one vec_dot call per output spent more time in call overhead and horizontal
// sums than in arithmetic.
//
// gemm: an R x C micro-tile keeps R*C float accumulators, each summing its own products
// lane-wise over K (masked loads for the tail) and reduced once at the end, so an output's
// arithmetic does not depend on R, C or its place in the tile (CpuKernels::gemm's contract).
// Activation conversion: F16C's round-to-nearest-even equals quant::fp32_to_fp16 except for
// NaN payloads; lanes holding NaN take the scalar path (canonical quiet NaN), so it is
// bit-exact.
#include "backends/cpu/gemm_f16.h"

#include "quant/f16.h"

#include <cstddef>
#include "backends/cpu/x86/x86_kernels.h"
#include <cstdint>

#include <immintrin.h>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx2_helpers.h"

// GCC 12's AVX-512 headers seed some intrinsics (reduce_add, cvtps_pd) with _mm512_undefined_*()
// and then warn about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember::cpu {
namespace {

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX2)

void fp32_to_fp16_row_f16c(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<uint16_t*>(vy);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
            for (int64_t j = i; j < i + 8; ++j) y[j] = quant::fp32_to_fp16(x[j]);
            continue;
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; ++i) y[i] = quant::fp32_to_fp16(x[i]);
}

inline __m256 load_h8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// AVX2: R x C outputs, 8 lanes. Tail (k % 8) in scalar float, added after the reduction.
template <int R, int C>
void tile_f16_avx2(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const int64_t k8 = k / 8 * 8;
    for (int64_t i = 0; i < k8; i += 8) {
        __m256 yv[C];
        for (int c = 0; c < C; ++c) yv[c] = load_h8(reinterpret_cast<const uint16_t*>(y + c * ldy) + i);
        for (int r = 0; r < R; ++r) {
            const __m256 wv = load_h8(reinterpret_cast<const uint16_t*>(w + r * ldw) + i);
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, yv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < R; ++r) {
        const auto* wr = reinterpret_cast<const uint16_t*>(w + r * ldw);
        for (int c = 0; c < C; ++c) {
            const auto* yc = reinterpret_cast<const uint16_t*>(y + c * ldy);
            float s = avx2::hsum_ps(acc[r][c]);
            for (int64_t i = k8; i < k; ++i) s += quant::fp16_to_fp32(wr[i]) * quant::fp16_to_fp32(yc[i]);
            dst[c * ldd + r] = s;
        }
    }
}

template <int R, int C>
struct Avx2Tile {
    static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
        tile_f16_avx2<R, C>(k, w, ldw, y, ldy, dst, ldd);
    }
};

EMBER_TARGET_END
EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512)

inline __m512 load_h16(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

// AVX-512: R x C outputs, 16 lanes, the K tail through a masked load (zeros add nothing).
template <int R, int C>
void tile_f16_avx512(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < k; i += 16) {
        const __mmask16 m = k - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (k - i)) - 1u);
        __m512 yv[C];
        for (int c = 0; c < C; ++c) yv[c] = load_h16(reinterpret_cast<const uint16_t*>(y + c * ldy) + i, m);
        for (int r = 0; r < R; ++r) {
            const __m512 wv = load_h16(reinterpret_cast<const uint16_t*>(w + r * ldw) + i, m);
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, yv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) dst[c * ldd + r] = _mm512_reduce_add_ps(acc[r][c]);
}

template <int R, int C>
struct Avx512Tile {
    static void run(int64_t k, const char* w, size_t ldw, const char* y, size_t ldy, float* dst, size_t ldd) {
        tile_f16_avx512<R, C>(k, w, ldw, y, ldy, dst, ldd);
    }
};

EMBER_TARGET_END

// Walks an nr x nc block in kR x kC tiles; the edges use smaller instantiations of the same
// template. Tile(r, c) picks the instantiation for an edge of r rows and c columns.
template <int kR, int kC, template <int, int> class Tile>
struct Walk {
    using Fn = void (*)(int64_t, const char*, size_t, const char*, size_t, float*, size_t);
    template <int R, int C>
    static Fn pick_c(int64_t c) {
        if constexpr (C == 0) {
            return nullptr;
        } else {
            return c == C ? &Tile<R, C>::run : pick_c<R, C - 1>(c);
        }
    }
    template <int R>
    static Fn pick(int64_t r, int64_t c) {
        if constexpr (R == 0) {
            return nullptr;
        } else {
            return r == R ? pick_c<R, kC>(c) : pick<R - 1>(r, c);
        }
    }
    static void gemm(int64_t k, const void* vw, size_t ldw, const void* vy, size_t ldy, float* dst, size_t ldd, int64_t nr,
                     int64_t nc) {
        const auto* w = static_cast<const char*>(vw);
        const auto* y = static_cast<const char*>(vy);
        for (int64_t c0 = 0; c0 < nc; c0 += kC) {
            const int64_t c = nc - c0 < kC ? nc - c0 : kC;
            for (int64_t r0 = 0; r0 < nr; r0 += kR) {
                const int64_t r = nr - r0 < kR ? nr - r0 : kR;
                pick<kR>(r, c)(k, w + r0 * ldw, ldw, y + c0 * ldy, ldy, dst + c0 * ldd + r0, ldd);
            }
        }
    }
};


}  // namespace

// 4 x 3 with AVX2 (12 accumulators + 3 activations + 1 weight of 16 ymm); 4 x 4 with
// AVX-512 (16 + 4 + 1 of 32 zmm).
void gemm_f16_avx2(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                   int64_t nc) {
    Walk<4, 3, Avx2Tile>::gemm(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemm_f16_avx512(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                     int64_t nc) {
    Walk<4, 4, Avx512Tile>::gemm(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void register_f16_kernels(CpuKernels& k, KernelLevel level) {
    const auto f16 = static_cast<uint32_t>(Type::F16);
    if (level == KernelLevel::Avx2 || level == KernelLevel::Avx512) {
        k.quantize_row[f16] = fp32_to_fp16_row_f16c;
        k.gemm[f16] = gemm_f16_avx2;
    }
    if (level == KernelLevel::Avx512) k.gemm[f16] = gemm_f16_avx512;
}

}  // namespace ember::cpu
