// AMX gemm kernels (gemm.h) for Q8_0 x Q8_0 and Q4_K/Q5_K/Q6_K x Q8_K (the latter described
// further down): Intel Advanced Matrix Extensions (AMX-TILE +
// AMX-INT8, Sapphire Rapids and later), used at the avx512 level when the CPU has them and
// Linux grants the process the tile-data state (arch_prctl ARCH_REQ_XCOMP_PERM).
//
// One tdpbssd multiplies a 16 x 32 int8 tile of weights (one Q8_0 block of 16 weight rows,
// loaded straight from the rows with their stride) by a 32 x 16 int8 tile of activations
// (one block of 16 activation rows, packed once per column group into the VNNI layout:
// 8 rows of 16 columns x 4 consecutive K bytes) into 16 x 16 exact int32 block sums.
// The float epilogue then does, for each weight row i (a zmm over the 16 columns):
//   acc[i] += float(sum[i]) * (dx[i] * dy)
// block after block in K order, so every output is the same sequence of float operations
// whatever its place in a tile; tail tiles load fewer weight rows (tile config) or pad
// columns with zeros, which does not change the other outputs' arithmetic.
//
// Loop nest per call: every group of 16 activation rows is packed once, then each group of
// 16 weight rows runs against all of them.
#include "backends/cpu/gemm.h"

#if defined(__linux__)

#include "backends/cpu/x86/amx_tile_config.h"
#include "backends/cpu/k4_scales.h"
#include "quant/q4_k.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "backends/cpu/simd_target.h"
#include "backends/cpu/x86/avx512_helpers.h"

// GCC 12's AVX-512 headers seed some intrinsics with _mm512_undefined_*() and then warn
// about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

EMBER_TARGET_BEGIN(EMBER_TARGET_AMX)
namespace ember::cpu::amx {
namespace {

using namespace ember::quant;

constexpr int kTile = 16;             // weight rows per A/C tile; activation rows per B tile
constexpr int kBTileBytes = 8 * 64;   // one block of 16 activation rows in VNNI layout

using avx512::h2f;

// tmm0: C, int32 [rows][16]; tmm1: A, int8 [rows][32]; tmm2: B, int8 [8][64].
TileConfig config_for(int rows) {
    TileConfig c;
    c.rows[0] = static_cast<uint8_t>(rows);
    c.colsb[0] = 64;
    c.rows[1] = static_cast<uint8_t>(rows);
    c.colsb[1] = 32;
    c.rows[2] = 8;
    c.colsb[2] = 64;
    return c;
}

// Block b of `cols` activation rows -> B tile b (column j, bytes 4kk..4kk+3 at row kk) and
// their scales; columns cols..15 are zeros (quants and scale).
void pack_columns(const char* y, size_t ldy, int cols, int64_t nb, int8_t* tiles, float* scales) {
    std::memset(tiles, 0, static_cast<size_t>(nb) * kBTileBytes);
    std::memset(scales, 0, static_cast<size_t>(nb) * kTile * sizeof(float));
    for (int j = 0; j < cols; ++j) {
        const auto* row = reinterpret_cast<const BlockQ8_0*>(y + static_cast<size_t>(j) * ldy);
        for (int64_t b = 0; b < nb; ++b) {
            int8_t* t = tiles + b * kBTileBytes + 4 * j;
            for (int kk = 0; kk < 8; ++kk) std::memcpy(t + 64 * kk, row[b].qs + 4 * kk, 4);
            scales[b * kTile + j] = h2f(row[b].d);
        }
    }
}

// Rows weight rows (tile config loaded for Rows) x one packed column group; dx holds the
// rows' block scales as floats, [block][16].
template <int Rows>
void row_group(const char* w, size_t ldw, const float* dx, const int8_t* tiles, const float* scales, int64_t nb,
               float* dst, size_t ldd, int cols) {
    alignas(64) int32_t sums[kTile][kTile];
    __m512 acc[Rows];
    for (int i = 0; i < Rows; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        _tile_zero(0);
        _tile_loadd(1, w + b * static_cast<int64_t>(sizeof(BlockQ8_0)) + offsetof(BlockQ8_0, qs), static_cast<long>(ldw));
        _tile_loadd(2, tiles + b * kBTileBytes, 64);
        _tile_dpbssd(0, 1, 2);
        _tile_stored(0, sums, 64);
        const __m512 dy = _mm512_load_ps(scales + b * kTile);
        for (int i = 0; i < Rows; ++i) {
            const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(sums[i]));
            acc[i] = _mm512_fmadd_ps(s, _mm512_mul_ps(_mm512_set1_ps(dx[b * kTile + i]), dy), acc[i]);
        }
    }
    for (int i = 0; i < Rows; ++i) {
        alignas(64) float out[kTile];
        _mm512_store_ps(out, acc[i]);
        for (int j = 0; j < cols; ++j) dst[static_cast<size_t>(j) * ldd + static_cast<size_t>(i)] = out[j];
    }
}

using RowGroupFn = void (*)(const char*, size_t, const float*, const int8_t*, const float*, int64_t, float*, size_t,
                            int);

template <size_t... I>
constexpr std::array<RowGroupFn, kTile + 1> row_group_table(std::index_sequence<I...>) {
    return {nullptr, &row_group<static_cast<int>(I) + 1>...};
}
constexpr std::array<RowGroupFn, kTile + 1> kRowGroup = row_group_table(std::make_index_sequence<kTile>{});

// Loop nest: every activation column tile is packed once per call (mul_mat hands over
// activation blocks of ~512 KB, which stay in L2), then each 16-row group of weights (read
// straight from its rows by the tile loads) runs against every column tile.
void gemm_q8_0_amx(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                   int64_t nr, int64_t nc) {
    // Per thread, reused across calls (grown on first use): no allocation once warm.
    thread_local std::vector<int8_t> tiles;  // [column tile][block] B tiles
    thread_local std::vector<float> scales;  // [column tile][block][16] activation scales
    thread_local std::vector<float> dx;      // [block][16] the row group's weight scales
    const int64_t nb = k / QK8_0;
    const int64_t col_tiles = (nc + kTile - 1) / kTile;
    const auto tile_bytes = static_cast<size_t>(nb) * kBTileBytes;
    const auto scale_count = static_cast<size_t>(nb) * kTile;
    if (tiles.size() < static_cast<size_t>(col_tiles) * tile_bytes) {
        // 64-byte alignment for the tile loads: over-allocate and round up below
        tiles.resize(static_cast<size_t>(col_tiles) * tile_bytes + 64);
    }
    if (scales.size() < static_cast<size_t>(col_tiles) * scale_count + 16) scales.resize(static_cast<size_t>(col_tiles) * scale_count + 16);
    if (dx.size() < scale_count) dx.resize(scale_count);
    auto* tiles0 = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(tiles.data()) + 63) & ~uintptr_t{63});
    auto* scales0 = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scales.data()) + 63) & ~uintptr_t{63});
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    for (int64_t ct = 0; ct < col_tiles; ++ct) {
        const int cols = static_cast<int>(nc - ct * kTile < kTile ? nc - ct * kTile : kTile);
        pack_columns(yb + static_cast<size_t>(ct * kTile) * ldy, ldy, cols, nb, tiles0 + ct * tile_bytes,
                     scales0 + ct * scale_count);
    }
    int loaded = 0;  // rows of the loaded tile configuration
    for (int64_t r0 = 0; r0 < nr; r0 += kTile) {
        const int rows = static_cast<int>(nr - r0 < kTile ? nr - r0 : kTile);
        const char* wr = wb + static_cast<size_t>(r0) * ldw;
        for (int i = 0; i < rows; ++i) {
            const auto* x = reinterpret_cast<const BlockQ8_0*>(wr + static_cast<size_t>(i) * ldw);
            for (int64_t b = 0; b < nb; ++b) dx[static_cast<size_t>(b * kTile + i)] = h2f(x[b].d);
        }
        if (rows != loaded) {
            const TileConfig cfg = config_for(rows);
            _tile_loadconfig(&cfg);
            loaded = rows;
        }
        for (int64_t ct = 0; ct < col_tiles; ++ct) {
            const int cols = static_cast<int>(nc - ct * kTile < kTile ? nc - ct * kTile : kTile);
            kRowGroup[static_cast<size_t>(rows)](wr, ldw, dx.data(), tiles0 + ct * tile_bytes, scales0 + ct * scale_count,
                                                 nb, dst + static_cast<size_t>(ct * kTile) * ldd + static_cast<size_t>(r0),
                                                 ldd, cols);
        }
    }
    _tile_release();
}

// ---- K-quants x Q8_K ---------------------------------------------------------------------
//
// Per super-block and 16-row group: the weights are unpacked to unsigned bytes (16 rows x
// 256, the A tiles of the sub-blocks at stride 256) and their per-sub-block factors turned
// into floats; per sub-block one tdpbusd (u8 weights x s8 activations) gives the exact
// 16 x 16 int32 sums, and the epilogue adds, row by row and sub-block after sub-block,
//   part[i] += float(sum[i]) * scale[i]  -  offset[i] * bsum
// and after the super-block acc[i] += part[i] * dy, with (scale, offset) = (d*sc, dmin*m) for
// Q4_K/Q5_K (32-element sub-blocks) and (d*sc, 32*d*sc) for Q6_K (16-element sub-blocks,
// unsigned q6 = signed value + 32), bsum the sub-block's activation sum (from Q8_K's bsums)
// and dy the activation's scale. Each output's float operations do not depend on the tile
// it is in.

template <int Sub>  // elements per sub-block: 32 or 16
struct PackedK {    // one super-block of 16 activation rows
    static constexpr int kSubs = QK_K / Sub;
    static constexpr int kTileBytes = Sub / 4 * 64;
    int8_t tiles[kSubs][kTileBytes];  // sub-block j in VNNI layout (Sub/4 rows of 64 bytes)
    float dy[kTile];                  // activation scales
    float bsum[kSubs][kTile];         // sum of the sub-block's activations (exact in float)
};

template <int Sub>
void pack_columns_q8_k(const char* y, size_t ldy, int cols, int64_t nb, PackedK<Sub>* out) {
    constexpr int kPer = Sub / 16;  // bsums per sub-block
    std::memset(static_cast<void*>(out), 0, static_cast<size_t>(nb) * sizeof(PackedK<Sub>));
    for (int c = 0; c < cols; ++c) {
        const auto* row = reinterpret_cast<const BlockQ8_K*>(y + static_cast<size_t>(c) * ldy);
        for (int64_t b = 0; b < nb; ++b) {
            PackedK<Sub>& p = out[b];
            p.dy[c] = row[b].d;
            for (int j = 0; j < PackedK<Sub>::kSubs; ++j) {
                for (int kk = 0; kk < Sub / 4; ++kk) std::memcpy(&p.tiles[j][64 * kk + 4 * c], row[b].qs + Sub * j + 4 * kk, 4);
                int bsum = 0;
                for (int t = 0; t < kPer; ++t) bsum += row[b].bsums[kPer * j + t];
                p.bsum[j][c] = static_cast<float>(bsum);
            }
        }
    }
}

// Row i of a super-block: 256 unsigned values and the per-sub-block (scale, offset) factors.
template <typename Block>
struct Unpack;

template <>
struct Unpack<BlockQ4_K> {
    static constexpr int kSub = 32;
    static void row(const BlockQ4_K& x, uint8_t* u, float* scale, float* offset, int stride) {
        const __m256i low4 = _mm256_set1_epi8(0x0F);
        for (int ch = 0; ch < 4; ++ch) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * ch));
            _mm256_store_si256(reinterpret_cast<__m256i*>(u + 64 * ch), _mm256_and_si256(q, low4));
            _mm256_store_si256(reinterpret_cast<__m256i*>(u + 64 * ch + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
        }
        k4_factors(x.d, x.dmin, x.scales, scale, offset, stride);
    }
    static void k4_factors(uint16_t d16, uint16_t dmin16, const uint8_t* scales, float* scale, float* offset, int stride) {
        alignas(16) uint8_t sm[16];
        unpack_k4_scales_mins(scales, sm);
        const float d = h2f(d16);
        const float dmin = h2f(dmin16);
        for (int j = 0; j < 8; ++j) {
            scale[j * stride] = d * static_cast<float>(sm[j]);
            offset[j * stride] = dmin * static_cast<float>(sm[8 + j]);
        }
    }
};

template <>
struct Unpack<BlockQ5_K> {
    static constexpr int kSub = 32;
    static void row(const BlockQ5_K& x, uint8_t* u, float* scale, float* offset, int stride) {
        const __m256i low4 = _mm256_set1_epi8(0x0F);
        const __m256i one = _mm256_set1_epi8(1);
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh));
        for (int ch = 0; ch < 4; ++ch) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * ch));
            // bit s of qh[l] is bit 4 of element 32s + l; epi16 shifts are fine after the mask
            const __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * ch)), one);
            const __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * ch + 1)), one);
            _mm256_store_si256(reinterpret_cast<__m256i*>(u + 64 * ch),
                               _mm256_or_si256(_mm256_and_si256(q, low4), _mm256_slli_epi16(h0, 4)));
            _mm256_store_si256(reinterpret_cast<__m256i*>(u + 64 * ch + 32),
                               _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), _mm256_slli_epi16(h1, 4)));
        }
        Unpack<BlockQ4_K>::k4_factors(x.d, x.dmin, x.scales, scale, offset, stride);
    }
};

template <>
struct Unpack<BlockQ6_K> {
    static constexpr int kSub = 16;
    static void row(const BlockQ6_K& x, uint8_t* u, float* scale, float* offset, int stride) {
        const __m256i low4 = _mm256_set1_epi8(0x0F);
        const __m256i two = _mm256_set1_epi8(0x03);
        // element 128h + 32t + l: low bits from ql[64h + 32(t%2) + l] (nibble t/2), high bits
        // (qh[32h + l] >> 2t) & 3
        for (int h = 0; h < 2; ++h) {
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h));
            for (int t = 0; t < 4; ++t) {
                const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.ql + 64 * h + 32 * (t % 2)));
                const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(ql, _mm_cvtsi32_si128(4 * (t / 2))), low4);
                const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * t)), two);
                _mm256_store_si256(reinterpret_cast<__m256i*>(u + 128 * h + 32 * t),
                                   _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));
            }
        }
        const float d = h2f(x.d);
        for (int j = 0; j < 16; ++j) {
            scale[j * stride] = d * static_cast<float>(x.scales[j]);
            offset[j * stride] = 32.0f * scale[j * stride];  // exact: a power-of-two multiple
        }
    }
};

// A tile: Sub bytes of `rows` rows; B tile: Sub/4 rows of 64 bytes.
TileConfig config_for_sub(int rows, int sub) {
    TileConfig c = config_for(rows);
    c.colsb[1] = static_cast<uint16_t>(sub);
    c.rows[2] = static_cast<uint8_t>(sub / 4);
    return c;
}

// One 16-row group of weights, unpacked once per call and then used for every column tile:
// super-block b's A tiles (u8, row i at unpacked[b][i], sub-block j at column kSub * j) and
// per-sub-block factors (scale[b][j][i], offset[b][j][i]).
template <typename Block>
struct UnpackedRows {
    static constexpr int kSubs = QK_K / Unpack<Block>::kSub;
    struct SuperBlock {
        alignas(64) uint8_t u[kTile][QK_K];
        float scale[kSubs][kTile];
        float offset[kSubs][kTile];
    };
    std::vector<SuperBlock> blocks;

    void unpack(const char* w, size_t ldw, int rows, int64_t nb) {
        if (blocks.size() < static_cast<size_t>(nb)) blocks.resize(static_cast<size_t>(nb));
        for (int i = 0; i < rows; ++i) {
            const auto* x = reinterpret_cast<const Block*>(w + static_cast<size_t>(i) * ldw);
            for (int64_t b = 0; b < nb; ++b) {
                SuperBlock& sb = blocks[static_cast<size_t>(b)];
                Unpack<Block>::row(x[b], sb.u[i], &sb.scale[0][i], &sb.offset[0][i], kTile);
            }
        }
    }
};

// Rows unpacked weight rows (tile config loaded for Rows) x one packed column tile.
template <typename Block, int Rows>
void row_group_k(const typename UnpackedRows<Block>::SuperBlock* rows, const PackedK<Unpack<Block>::kSub>* packed,
                 int64_t nb, float* dst, size_t ldd, int cols) {
    constexpr int kSub = Unpack<Block>::kSub;
    constexpr int kSubs = QK_K / kSub;
    alignas(64) int32_t sums[kTile][kTile];
    __m512 acc[Rows];
    __m512 part[Rows];  // the super-block's sum before the activation scale dy
    for (int i = 0; i < Rows; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const auto& x = rows[b];
        const auto& p = packed[b];
        for (int j = 0; j < kSubs; ++j) {
            _tile_zero(0);
            _tile_loadd(1, &x.u[0][kSub * j], QK_K);
            _tile_loadd(2, p.tiles[j], 64);
            _tile_dpbusd(0, 1, 2);
            _tile_stored(0, sums, 64);
            const __m512 bsum = _mm512_loadu_ps(p.bsum[j]);
            for (int i = 0; i < Rows; ++i) {
                const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(sums[i]));
                part[i] = j == 0 ? _mm512_mul_ps(s, _mm512_set1_ps(x.scale[j][i]))
                                 : _mm512_fmadd_ps(s, _mm512_set1_ps(x.scale[j][i]), part[i]);
                part[i] = _mm512_fnmadd_ps(_mm512_set1_ps(x.offset[j][i]), bsum, part[i]);
            }
        }
        const __m512 dy = _mm512_loadu_ps(p.dy);
        for (int i = 0; i < Rows; ++i) acc[i] = _mm512_fmadd_ps(part[i], dy, acc[i]);
    }
    for (int i = 0; i < Rows; ++i) {
        alignas(64) float out[kTile];
        _mm512_store_ps(out, acc[i]);
        for (int j = 0; j < cols; ++j) dst[static_cast<size_t>(j) * ldd + static_cast<size_t>(i)] = out[j];
    }
}

template <typename Block>
using RowGroupKFn = void (*)(const typename UnpackedRows<Block>::SuperBlock*, const PackedK<Unpack<Block>::kSub>*,
                             int64_t, float*, size_t, int);

template <typename Block, size_t... I>
constexpr std::array<RowGroupKFn<Block>, kTile + 1> row_group_k_table(std::index_sequence<I...>) {
    return {nullptr, &row_group_k<Block, static_cast<int>(I) + 1>...};
}

// Loop nest: every activation column tile is packed once per call (all of them stay in L2:
// mul_mat hands over activation blocks of ~512 KB), then each 16-row group of weights is
// unpacked once and runs against every column tile. Unpacking was 45% of Q4_K_M prompt time
// when it was redone for every 16 activation rows.
template <typename Block>
void gemm_k_amx(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                int64_t nc) {
    constexpr int kSub = Unpack<Block>::kSub;
    static constexpr std::array<RowGroupKFn<Block>, kTile + 1> kRowGroups =
        row_group_k_table<Block>(std::make_index_sequence<kTile>{});
    // Per thread, reused across calls (grown on first use): no allocation once warm.
    thread_local std::vector<PackedK<kSub>> packed;
    thread_local UnpackedRows<Block> unpacked;
    const int64_t nb = k / QK_K;
    const int64_t col_tiles = (nc + kTile - 1) / kTile;
    if (packed.size() < static_cast<size_t>(col_tiles * nb)) packed.resize(static_cast<size_t>(col_tiles * nb));
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    for (int64_t ct = 0; ct < col_tiles; ++ct) {
        const int cols = static_cast<int>(nc - ct * kTile < kTile ? nc - ct * kTile : kTile);
        pack_columns_q8_k<kSub>(yb + static_cast<size_t>(ct * kTile) * ldy, ldy, cols, nb, &packed[static_cast<size_t>(ct * nb)]);
    }
    int loaded = 0;
    for (int64_t r0 = 0; r0 < nr; r0 += kTile) {
        const int rows = static_cast<int>(nr - r0 < kTile ? nr - r0 : kTile);
        unpacked.unpack(wb + static_cast<size_t>(r0) * ldw, ldw, rows, nb);
        if (rows != loaded) {
            const TileConfig cfg = config_for_sub(rows, kSub);
            _tile_loadconfig(&cfg);
            loaded = rows;
        }
        for (int64_t ct = 0; ct < col_tiles; ++ct) {
            const int cols = static_cast<int>(nc - ct * kTile < kTile ? nc - ct * kTile : kTile);
            kRowGroups[static_cast<size_t>(rows)](unpacked.blocks.data(), &packed[static_cast<size_t>(ct * nb)], nb,
                                                  dst + static_cast<size_t>(ct * kTile) * ldd + static_cast<size_t>(r0),
                                                  ldd, cols);
        }
    }
    _tile_release();
}


}  // namespace
}  // namespace ember::cpu::amx
EMBER_TARGET_END

namespace ember::cpu {
namespace {

// Baseline code: it runs on every CPU, before anything above may.
bool detect_amx_int8() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || ((c >> 27) & 1u) == 0) return false;  // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (((d >> 24) & 1u) == 0 || ((d >> 25) & 1u) == 0) return false;  // AMX-TILE, AMX-INT8
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (((lo >> 17) & 3u) != 3u) return false;  // XTILECFG and XTILEDATA enabled by the OS
    // Linux hands out the 8 KiB tile-data state only on request, once per process.
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

}  // namespace

bool amx_int8_usable() {
    static const bool usable = detect_amx_int8();
    return usable;
}

GemmFn amx_gemm(Type t) {
    using namespace amx;
    if (!amx_int8_usable()) return nullptr;
    switch (t) {
        case Type::Q8_0: return gemm_q8_0_amx;
        case Type::Q4_K: return gemm_k_amx<BlockQ4_K>;
        case Type::Q5_K: return gemm_k_amx<BlockQ5_K>;
        case Type::Q6_K: return gemm_k_amx<BlockQ6_K>;
        default: return nullptr;
    }
}

void register_amx_gemm(CpuKernels& k) {
    using namespace amx;
    const auto id = static_cast<uint32_t>(Type::Q8_0);
    if (!amx_int8_usable()) return;
    k.gemm[id] = gemm_q8_0_amx;
    k.gemm[static_cast<uint32_t>(Type::Q4_K)] = gemm_k_amx<BlockQ4_K>;
    k.gemm[static_cast<uint32_t>(Type::Q5_K)] = gemm_k_amx<BlockQ5_K>;
    k.gemm[static_cast<uint32_t>(Type::Q6_K)] = gemm_k_amx<BlockQ6_K>;
}

}  // namespace ember::cpu

#else  // not Linux: no AMX (the tile state needs arch_prctl permission)

namespace ember::cpu {
bool amx_int8_usable() { return false; }
void register_amx_gemm(CpuKernels&) {}
GemmFn amx_gemm(Type) { return nullptr; }
}  // namespace ember::cpu

#endif
