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

#include "quant/q8_0.h"

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

void register_amx_gemm(CpuKernels& k) {
    const auto id = static_cast<uint32_t>(Type::Q8_0);
    if (amx_int8_usable()) k.gemm[id] = gemm_q8_0_amx;
}

}  // namespace ember::cpu

#else  // not x86-64 Linux: no AMX

namespace ember::cpu {
bool amx_int8_usable() { return false; }
void register_amx_gemm(CpuKernels&) {}
GemmFn amx_gemm_q8_0() { return nullptr; }
}  // namespace ember::cpu

#endif
