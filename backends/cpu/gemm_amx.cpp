// AMX gemm kernel (gemm.h) for Q8_0 x Q8_0: Intel Advanced Matrix Extensions (AMX-TILE +
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
// Loop nest per call: weight rows in blocks of kRowBlock (kept in L2), inside that the
// activation rows in groups of 16 (packed on the stack, reused by every 16-row group).
#include "backends/cpu/gemm.h"

#if defined(__x86_64__) && defined(__linux__)

#include "backends/cpu/k4_scales.h"
#include "quant/q4_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <utility>

// GCC 12's AVX-512 headers seed some intrinsics with _mm512_undefined_*() and then warn
// about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember::cpu {
namespace {

using namespace ember::quant;

constexpr int kTile = 16;             // weight rows per A/C tile; activation rows per B tile
constexpr int64_t kRowBlock = 128;    // weight rows per L2 block
constexpr int64_t kMaxBlocks = 256;   // K / 32 up to which the packed group fits the stack (144 KiB)
constexpr int kBTileBytes = 8 * 64;   // one block of 16 activation rows in VNNI layout

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

struct alignas(64) TileConfig {
    uint8_t palette_id = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "AMX tile configuration is 64 bytes");

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

// Rows weight rows (tile config loaded for Rows) x one packed column group.
template <int Rows>
void row_group(const char* w, size_t ldw, const int8_t* tiles, const float* scales, int64_t nb, float* dst,
               size_t ldd, int cols) {
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
            const float dx = h2f(reinterpret_cast<const BlockQ8_0*>(w + static_cast<size_t>(i) * ldw)[b].d);
            const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(sums[i]));
            acc[i] = _mm512_fmadd_ps(s, _mm512_mul_ps(_mm512_set1_ps(dx), dy), acc[i]);
        }
    }
    for (int i = 0; i < Rows; ++i) {
        alignas(64) float out[kTile];
        _mm512_store_ps(out, acc[i]);
        for (int j = 0; j < cols; ++j) dst[static_cast<size_t>(j) * ldd + static_cast<size_t>(i)] = out[j];
    }
}

using RowGroupFn = void (*)(const char*, size_t, const int8_t*, const float*, int64_t, float*, size_t, int);

template <size_t... I>
constexpr std::array<RowGroupFn, kTile + 1> row_group_table(std::index_sequence<I...>) {
    return {nullptr, &row_group<static_cast<int>(I) + 1>...};
}
constexpr std::array<RowGroupFn, kTile + 1> kRowGroup = row_group_table(std::make_index_sequence<kTile>{});

void gemm_q8_0_amx(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                   int64_t nr, int64_t nc) {
    const int64_t nb = k / QK8_0;
    if (nb > kMaxBlocks) {
        gemm_q8_0_vnni(k, w, ldw, y, ldy, dst, ldd, nr, nc);  // the packed group would not fit the stack
        return;
    }
    alignas(64) int8_t tiles[kMaxBlocks * kBTileBytes];
    alignas(64) float scales[kMaxBlocks * kTile];
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    int loaded = 0;  // rows of the loaded tile configuration
    for (int64_t rb0 = 0; rb0 < nr; rb0 += kRowBlock) {
        const int64_t rb1 = nr - rb0 < kRowBlock ? nr : rb0 + kRowBlock;
        for (int64_t c0 = 0; c0 < nc; c0 += kTile) {
            const int cols = static_cast<int>(nc - c0 < kTile ? nc - c0 : kTile);
            pack_columns(yb + static_cast<size_t>(c0) * ldy, ldy, cols, nb, tiles, scales);
            for (int64_t r0 = rb0; r0 < rb1; r0 += kTile) {
                const int rows = static_cast<int>(rb1 - r0 < kTile ? rb1 - r0 : kTile);
                if (rows != loaded) {
                    const TileConfig cfg = config_for(rows);
                    _tile_loadconfig(&cfg);
                    loaded = rows;
                }
                kRowGroup[static_cast<size_t>(rows)](wb + static_cast<size_t>(r0) * ldw, ldw, tiles, scales, nb,
                                                     dst + static_cast<size_t>(c0) * ldd + static_cast<size_t>(r0), ldd,
                                                     cols);
            }
        }
    }
    _tile_release();
}

// ---- Q4_K x Q8_K -------------------------------------------------------------------------
//
// Per super-block and 16-row group: the weights' nibbles are unpacked to bytes (16 rows x
// 256, the A tiles of the 8 sub-blocks at stride 256) and their scales and mins turned into
// floats d*sc and dmin*m; per sub-block one tdpbusd (u8 weights x s8 activations) gives the
// exact 16 x 16 int32 sums, and the epilogue adds, row by row and sub-block after sub-block,
//   acc[i] += float(sum[i]) * (d*sc)[i] * dy  -  (dmin*m)[i] * dy * (bsums pair)
// so each output's float operations do not depend on the tile it is in.

constexpr int64_t kMaxSuperBlocks = 32;  // K / 256 up to which the packed group fits the stack
constexpr int kSubTiles = QK_K / 32;     // B tiles per super-block
struct PackedK4 {                        // one super-block of 16 activation rows
    int8_t tiles[kSubTiles][kBTileBytes];  // sub-block j in VNNI layout
    float dy[kTile];                       // activation scales
    float ymin[kSubTiles][kTile];          // dy * (bsums[2j] + bsums[2j+1])
};

void pack_columns_q8_k(const char* y, size_t ldy, int cols, int64_t nb, PackedK4* out) {
    std::memset(static_cast<void*>(out), 0, static_cast<size_t>(nb) * sizeof(PackedK4));
    for (int c = 0; c < cols; ++c) {
        const auto* row = reinterpret_cast<const BlockQ8_K*>(y + static_cast<size_t>(c) * ldy);
        for (int64_t b = 0; b < nb; ++b) {
            PackedK4& p = out[b];
            p.dy[c] = row[b].d;
            for (int j = 0; j < kSubTiles; ++j) {
                for (int kk = 0; kk < 8; ++kk) std::memcpy(&p.tiles[j][64 * kk + 4 * c], row[b].qs + 32 * j + 4 * kk, 4);
                p.ymin[j][c] = row[b].d * static_cast<float>(row[b].bsums[2 * j] + row[b].bsums[2 * j + 1]);
            }
        }
    }
}

template <int Rows>
void row_group_q4_k(const char* w, size_t ldw, const PackedK4* packed, int64_t nb, float* dst, size_t ldd, int cols) {
    alignas(64) int32_t sums[kTile][kTile];
    alignas(64) uint8_t unpacked[kTile][QK_K];  // A tiles: sub-block j at column 32j
    float dsc[kSubTiles][kTile];                // d * sc per sub-block and row
    float dmm[kSubTiles][kTile];                // dmin * m
    __m512 acc[Rows];
    for (int i = 0; i < Rows; ++i) acc[i] = _mm512_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
        for (int i = 0; i < Rows; ++i) {
            const BlockQ4_K& x = reinterpret_cast<const BlockQ4_K*>(w + static_cast<size_t>(i) * ldw)[b];
            for (int ch = 0; ch < 4; ++ch) {
                const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * ch));
                _mm256_store_si256(reinterpret_cast<__m256i*>(&unpacked[i][64 * ch]), _mm256_and_si256(q, low4));
                _mm256_store_si256(reinterpret_cast<__m256i*>(&unpacked[i][64 * ch + 32]),
                                   _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
            }
            alignas(16) uint8_t sm[16];
            unpack_k4_scales_mins(x.scales, sm);
            const float d = h2f(x.d);
            const float dmin = h2f(x.dmin);
            for (int j = 0; j < kSubTiles; ++j) {
                dsc[j][i] = d * static_cast<float>(sm[j]);
                dmm[j][i] = dmin * static_cast<float>(sm[8 + j]);
            }
        }
        const PackedK4& p = packed[b];
        const __m512 dy = _mm512_loadu_ps(p.dy);
        for (int j = 0; j < kSubTiles; ++j) {
            _tile_zero(0);
            _tile_loadd(1, &unpacked[0][32 * j], QK_K);
            _tile_loadd(2, p.tiles[j], 64);
            _tile_dpbusd(0, 1, 2);
            _tile_stored(0, sums, 64);
            const __m512 ymin = _mm512_loadu_ps(p.ymin[j]);
            for (int i = 0; i < Rows; ++i) {
                const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(sums[i]));
                acc[i] = _mm512_fmadd_ps(s, _mm512_mul_ps(_mm512_set1_ps(dsc[j][i]), dy), acc[i]);
                acc[i] = _mm512_fnmadd_ps(_mm512_set1_ps(dmm[j][i]), ymin, acc[i]);
            }
        }
    }
    for (int i = 0; i < Rows; ++i) {
        alignas(64) float out[kTile];
        _mm512_store_ps(out, acc[i]);
        for (int j = 0; j < cols; ++j) dst[static_cast<size_t>(j) * ldd + static_cast<size_t>(i)] = out[j];
    }
}

using RowGroupK4Fn = void (*)(const char*, size_t, const PackedK4*, int64_t, float*, size_t, int);

template <size_t... I>
constexpr std::array<RowGroupK4Fn, kTile + 1> row_group_q4_k_table(std::index_sequence<I...>) {
    return {nullptr, &row_group_q4_k<static_cast<int>(I) + 1>...};
}
constexpr std::array<RowGroupK4Fn, kTile + 1> kRowGroupQ4K = row_group_q4_k_table(std::make_index_sequence<kTile>{});

void gemm_q4_k_amx(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                   int64_t nr, int64_t nc) {
    const int64_t nb = k / QK_K;
    if (nb > kMaxSuperBlocks) {
        gemm_q4_k_vnni(k, w, ldw, y, ldy, dst, ldd, nr, nc);  // the packed group would not fit the stack
        return;
    }
    PackedK4 packed[kMaxSuperBlocks];
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    int loaded = 0;
    for (int64_t rb0 = 0; rb0 < nr; rb0 += kRowBlock) {
        const int64_t rb1 = nr - rb0 < kRowBlock ? nr : rb0 + kRowBlock;
        for (int64_t c0 = 0; c0 < nc; c0 += kTile) {
            const int cols = static_cast<int>(nc - c0 < kTile ? nc - c0 : kTile);
            pack_columns_q8_k(yb + static_cast<size_t>(c0) * ldy, ldy, cols, nb, packed);
            for (int64_t r0 = rb0; r0 < rb1; r0 += kTile) {
                const int rows = static_cast<int>(rb1 - r0 < kTile ? rb1 - r0 : kTile);
                if (rows != loaded) {
                    const TileConfig cfg = config_for(rows);
                    _tile_loadconfig(&cfg);
                    loaded = rows;
                }
                kRowGroupQ4K[static_cast<size_t>(rows)](wb + static_cast<size_t>(r0) * ldw, ldw, packed, nb,
                                                        dst + static_cast<size_t>(c0) * ldd + static_cast<size_t>(r0),
                                                        ldd, cols);
            }
        }
    }
    _tile_release();
}

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

GemmFn amx_gemm_q8_0() { return amx_int8_usable() ? gemm_q8_0_amx : nullptr; }
GemmFn amx_gemm_q4_k() { return amx_int8_usable() ? gemm_q4_k_amx : nullptr; }

void register_amx_gemm(CpuKernels& k) {
    const auto id = static_cast<uint32_t>(Type::Q8_0);
    if (!amx_int8_usable()) return;
    k.gemm[id] = gemm_q8_0_amx;
    k.gemm[static_cast<uint32_t>(Type::Q4_K)] = gemm_q4_k_amx;
}

}  // namespace ember::cpu

#else  // not x86-64 Linux: no AMX

namespace ember::cpu {
bool amx_int8_usable() { return false; }
void register_amx_gemm(CpuKernels&) {}
GemmFn amx_gemm_q8_0() { return nullptr; }
GemmFn amx_gemm_q4_k() { return nullptr; }
}  // namespace ember::cpu

#endif
