// AVX-512 VNNI gemv kernels (CpuKernels::gemv, the token-generation path of mul_mat) for
// Q4_K, Q5_K and Q6_K x Q8_K: up to 8 weight rows `ldw` bytes apart against 1-3 activation
// rows. Q4_K / Q5_K are described here; Q6_K (same structure) at its section below.
//
// Unlike the prompt-processing tiles (gemm_avx512.cpp), which reuse every unpacked weight
// block for several activation rows, a mat-vec uses each weight byte once, so the work per
// weight super-block (256 elements, 144 / 176 bytes) is what limits the speed. Per row and
// super-block this kernel does about 28 vector instructions (the tile about 60):
//   - the 128 nibble bytes as two 64-byte loads; low nibbles = `q & 15`, high nibbles =
//     `(q >> 4) & 15`. Load j (qs[64j .. 64j+63]) holds, in its low nibbles, sub-block 4j in
//     bytes 0..31 and 4j+2 in bytes 32..63, in its high nibbles 4j+1 and 4j+3. The
//     activations are permuted once per block (shared by all rows) to the same order.
//   - vpdpbusd (u8 weights x s8 activations, 4 products per int32 lane, |.| <= 4*31*128,
//     so it fits int16), two vpackssdw (exact: no value saturates) and two vpdpwssd with the
//     sub-block scales: the 8 scaled sub-block sums in int32 lanes.
//   - the 6-bit scales and mins of four rows unpacked at once with byte shuffles and shifts
//     (one 128-bit lane per row: its first 16 block bytes), then spread to int16 lanes
//     with vpshufb; their d and dmin converted together (one vcvtph2ps for four rows).
//   - per row one convert and one FMA by d * dy; the mins term of four rows in one
//     vpdpwssd (the 8 mins by the activation's bsums pair sums, row r in lane r), one
//     convert and one FMA by -dmin * dy into a register shared by the four rows.
//   - each row's stream prefetched kPrefetchBytes ahead (the hardware prefetcher alone
//     leaves DRAM bandwidth unused with 8 streams per core).
// All integer sums are exact for every input. An output's float operations are the same
// whatever nr, nc or its position among the rows (rows run in groups of 4, then a group of
// the remaining 1-3 with the same per-row code; columns one after another), so the bits of
// an output do not depend on how mul_mat splits the rows.
#include "backends/cpu/gemm.h"

#include "quant/q4_k.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_k.h"

#include <immintrin.h>

#include <cstddef>
#include <cstring>
#include <utility>

#include "backends/cpu/simd_target.h"

// GCC 12's AVX-512 headers seed some intrinsics with _mm512_undefined_*() and then warn
// about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

EMBER_TARGET_BEGIN(EMBER_TARGET_AVX512_VNNI)
namespace ember::cpu::avx512 {
namespace {

using namespace ember::quant;

constexpr int kGroup = 4;  // rows walked together (one 16-byte lane each in the scale unpack)
// Software prefetch distance in each weight row's stream: with 8 streams per core the hardware
// prefetcher alone leaves DRAM bandwidth unused (README.md, "Measurements"; 512 did as well).
constexpr size_t kPrefetchBytes = 1024;

// 16 bytes repeated in every 128-bit lane of a zmm (vpshufb works per lane).
inline __m512i per_lane_bytes(const int8_t (&b)[16]) {
    __m128i v;
    std::memcpy(&v, b, 16);
    return _mm512_broadcast_i32x4(v);
}

// A vpshufb index for 4 lanes that differ: lane L gets bytes[L].
inline __m512i lane_bytes(const int8_t (&b)[4][16]) {
    __m512i v;
    std::memcpy(&v, b, 64);
    return v;
}

constexpr int8_t Z = -128;  // vpshufb: a zero byte

// The constants of the kernel, built once per call.
struct Consts {
    // User-provided: an implicit constructor would not get EMBER_TARGET_BEGIN's instruction set.
    Consts() {}

    __m512i low4 = _mm512_set1_epi8(0x0F);
    // Scale/min unpack, per 16-byte lane holding a row's first 16 block bytes: d, dmin (fp16),
    // then the 12 packed bytes a[0..3] b[0..3] c[0..3] (layout in quant/k_common.h):
    // t1 = [a, c, b, c], t2 = [0, a, 0, b]; then sc[0..3] = a & 63, sc[4..7] = (c & 15) |
    // ((a >> 2) & 48), m[0..3] = b & 63, m[4..7] = (c >> 4) | ((b >> 2) & 48).
    __m512i pick_acbc = per_lane_bytes({4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15});
    __m512i pick_0a0b = per_lane_bytes({Z, Z, Z, Z, 4, 5, 6, 7, Z, Z, Z, Z, 8, 9, 10, 11});
    __m512i keep_low = per_lane_bytes({63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0});
    __m512i keep_cnib = per_lane_bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15});
    __m512i keep_top = per_lane_bytes({0, 0, 0, 0, 48, 48, 48, 48, 0, 0, 0, 0, 48, 48, 48, 48});
    // From a row's unpacked [sc0..7, m0..7] in every lane to int16 scales matching the
    // packed sub-block sums of load j (scales01: j = 0, scales23: j = 1): 128-bit lanes 0-1
    // hold sub-blocks (4j, 4j+1), lanes 2-3 (4j+2, 4j+3), four int16 each.
    __m512i scales01 = lane_bytes({{0, Z, 0, Z, 0, Z, 0, Z, 1, Z, 1, Z, 1, Z, 1, Z},
                                   {0, Z, 0, Z, 0, Z, 0, Z, 1, Z, 1, Z, 1, Z, 1, Z},
                                   {2, Z, 2, Z, 2, Z, 2, Z, 3, Z, 3, Z, 3, Z, 3, Z},
                                   {2, Z, 2, Z, 2, Z, 2, Z, 3, Z, 3, Z, 3, Z, 3, Z}});
    __m512i scales23 = lane_bytes({{4, Z, 4, Z, 4, Z, 4, Z, 5, Z, 5, Z, 5, Z, 5, Z},
                                   {4, Z, 4, Z, 4, Z, 4, Z, 5, Z, 5, Z, 5, Z, 5, Z},
                                   {6, Z, 6, Z, 6, Z, 6, Z, 7, Z, 7, Z, 7, Z, 7, Z},
                                   {6, Z, 6, Z, 6, Z, 6, Z, 7, Z, 7, Z, 7, Z, 7, Z}});
    // The eight mins of each lane's row as int16.
    __m512i mins16 = per_lane_bytes({8, Z, 9, Z, 10, Z, 11, Z, 12, Z, 13, Z, 14, Z, 15, Z});
    // d|dmin (the first 4 bytes) of each lane's row into the low 128 bits.
    __m512i first_dwords = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    // From [d0, dmin0, d1, dmin1, ...] (times dy): -dmin_r * dy in all four lanes of lane r.
    __m512i dmin_per_lane = _mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7);
    __m256 odd_sign = _mm256_castsi256_ps(_mm256_set1_epi64x(static_cast<int64_t>(0x8000000000000000ull)));
    __m256i ones16 = _mm256_set1_epi16(1);
    // Q5_K: the fifth bit of the bytes of low/high-nibble vector h of load j sits at bit
    // (4j + h) of qh for bytes 0..31 and (4j + h + 2) for bytes 32..63.
    __m512i qh_bit[2][2] = {{join(0x01, 0x04), join(0x02, 0x08)}, {join(0x10, 0x40), join(0x20, 0x80)}};
    __m512i sixteen = _mm512_set1_epi8(16);

    static __m512i join(int lo, int hi) {
        return _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(lo)), _mm256_set1_epi8(static_cast<char>(hi)), 1);
    }
};

// The activation side of one super-block, shared by all rows.
struct Act {
    __m512i y[2][2];  // [load j][low/high nibbles]: the 64 activations matching that vector
    __m512i pairs;    // bsums[2j] + bsums[2j+1] for j = 0..7 as int16, in every 128-bit lane
    __m256 dy;        // [dy, -dy, dy, -dy, ...]
};

inline Act prepare_act(const BlockQ8_K& y, const Consts& k) {
    Act a;
    for (int j = 0; j < 2; ++j) {
        const __m512i y0 = _mm512_loadu_si512(y.qs + 128 * j);
        const __m512i y1 = _mm512_loadu_si512(y.qs + 128 * j + 64);
        a.y[j][0] = _mm512_shuffle_i64x2(y0, y1, 0x44);  // elements 128j + [0..31, 64..95]
        a.y[j][1] = _mm512_shuffle_i64x2(y0, y1, 0xEE);  // elements 128j + [32..63, 96..127]
    }
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
    // |bsums[k]| <= 16 * 128, so a pair sum fits int16
    a.pairs = _mm512_broadcast_i32x4(_mm256_cvtepi32_epi16(_mm256_madd_epi16(bs, k.ones16)));
    a.dy = _mm256_xor_ps(_mm256_set1_ps(y.d), k.odd_sign);
    return a;
}

// The 64 unsigned weight values of load j (low and high nibbles) of a Q4_K / Q5_K block.
template <typename Block>
inline void unpack(const Block& x, int j, const Consts& k, __m512i qh, __m512i (&u)[2]);

template <>
inline void unpack<BlockQ4_K>(const BlockQ4_K& x, int j, const Consts& k, __m512i, __m512i (&u)[2]) {
    const __m512i q = _mm512_loadu_si512(x.qs + 64 * j);
    u[0] = _mm512_and_si512(q, k.low4);
    u[1] = _mm512_and_si512(_mm512_srli_epi16(q, 4), k.low4);
}

template <>
inline void unpack<BlockQ5_K>(const BlockQ5_K& x, int j, const Consts& k, __m512i qh, __m512i (&u)[2]) {
    const __m512i q = _mm512_loadu_si512(x.qs + 64 * j);
    const __m512i lo = _mm512_and_si512(q, k.low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), k.low4);
    u[0] = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(qh, k.qh_bit[j][0]), lo, k.sixteen);
    u[1] = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(qh, k.qh_bit[j][1]), hi, k.sixteen);
}

template <typename Block>
inline __m512i load_qh(const Block&) {
    return _mm512_setzero_si512();
}
template <>
inline __m512i load_qh<BlockQ5_K>(const BlockQ5_K& x) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh)));
}

// The first 16 bytes (d, dmin, scales) of up to four rows' blocks, one row per 128-bit lane
// (rows past R repeat row 0; their lanes are not used).
template <typename Block, int R>
inline __m512i load_heads(const Block* const (&x)[R]) {
    static_assert(offsetof(Block, d) == 0 && offsetof(Block, dmin) == 2 && offsetof(Block, scales) == 4);
    auto head = [&](int r) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[r])); };
    __m512i s = _mm512_broadcast_i32x4(head(0));
    if constexpr (R > 1) s = _mm512_inserti32x4(s, head(1), 1);
    if constexpr (R > 2) s = _mm512_inserti32x4(s, head(2), 2);
    if constexpr (R > 3) s = _mm512_inserti32x4(s, head(3), 3);
    return s;
}

// [sc0..7, m0..7] of each lane's row.
inline __m512i unpack_scales_mins(__m512i heads, const Consts& k) {
    const __m512i t1 = _mm512_shuffle_epi8(heads, k.pick_acbc);
    const __m512i t2 = _mm512_shuffle_epi8(heads, k.pick_0a0b);
    // 0xF8: a | (b & c)
    __m512i out = _mm512_and_si512(t1, k.keep_low);
    out = _mm512_ternarylogic_epi32(out, _mm512_srli_epi16(t1, 4), k.keep_cnib, 0xF8);
    out = _mm512_ternarylogic_epi32(out, _mm512_srli_epi16(t2, 2), k.keep_top, 0xF8);
    return out;
}

// sum_s sc_s * (sum of sub-block s of u * y) of one row's block, spread over 16 int32 lanes
// (`sm`: that row's [sc0..7, m0..7] in every 128-bit lane).
template <typename Block>
inline __m512i scaled_sums(const Block& x, const Act& a, __m512i sm, const Consts& k) {
    const __m512i qh = load_qh(x);
    __m512i s[2][2];
    for (int j = 0; j < 2; ++j) {
        __m512i u[2];
        unpack(x, j, k, qh, u);
        for (int h = 0; h < 2; ++h) s[j][h] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[h], a.y[j][h]);
    }
    // int16 lanes: per 128-bit lane L, sub-blocks (4j + 2(L/2), 4j + 2(L/2) + 1), four sums each
    const __m512i p0 = _mm512_packs_epi32(s[0][0], s[0][1]);
    const __m512i p1 = _mm512_packs_epi32(s[1][0], s[1][1]);
    const __m512i q = _mm512_dpwssd_epi32(_mm512_setzero_si512(), p0, _mm512_shuffle_epi8(sm, k.scales01));
    return _mm512_dpwssd_epi32(q, p1, _mm512_shuffle_epi8(sm, k.scales23));
}

// R (1..4) rows against one activation row: dst[r] = dot(row r, y). Per row and block,
// acc[r] += d * dy * (scaled sums); the mins term of all R rows goes into one register,
// row r in 128-bit lane r: macc += -dmin * dy * (sum_j m_j * pairs_j).
template <typename Block, int R>
void gemv_rows(int64_t nb, const char* w, size_t ldw, const BlockQ8_K* y, float* dst, const Consts& k) {
    const Block* xr[R];
    for (int r = 0; r < R; ++r) xr[r] = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * ldw);
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    __m512 macc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const Act a = prepare_act(y[b], k);
        const Block* x[R];
        for (int r = 0; r < R; ++r) {
            x[r] = xr[r] + b;
            // Three lines (>= one block of either type) kPrefetchBytes ahead in each row's stream.
            const char* ahead = reinterpret_cast<const char*>(x[r]) + kPrefetchBytes;
            for (int line = 0; line < 3; ++line) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
        }
        const __m512i heads = load_heads<Block, R>(x);
        const __m512i sm = unpack_scales_mins(heads, k);
        // [d_r * dy, -dmin_r * dy] for r = 0..3
        const __m128i dd = _mm512_castsi512_si128(_mm512_permutexvar_epi32(k.first_dwords, heads));
        const __m512 scale = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_cvtph_ps(dd), a.dy));
        const __m512i mins = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_shuffle_epi8(sm, k.mins16), a.pairs);
        macc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_permutexvar_ps(k.dmin_per_lane, scale), macc);
        [&]<int... r>(std::integer_sequence<int, r...>) {
            ((acc[r] = _mm512_fmadd_ps(
                  _mm512_cvtepi32_ps(scaled_sums(*x[r], a, _mm512_shuffle_i32x4(sm, sm, r * 0x55), k)),
                  _mm512_permutexvar_ps(_mm512_set1_epi32(2 * r), scale), acc[r])),
             ...);
        }(std::make_integer_sequence<int, R>());
    }
    alignas(64) float m[16];
    _mm512_store_ps(m, macc);
    for (int r = 0; r < R; ++r) {
        const float* mr = m + 4 * r;
        dst[r] = _mm512_reduce_add_ps(acc[r]) + ((mr[0] + mr[1]) + (mr[2] + mr[3]));
    }
}

// ---- Q6_K ---------------------------------------------------------------------------------
//
// Per half h of a Q6_K block, one 64-byte load of ql[64h .. 64h+63] holds, in its low nibbles,
// elements 128h + 0..63 in order and, in its high nibbles, 128h + 64..127 (quant/q6_k.h), so
// the activations need no permutation. The two high bits of byte l (of 64) come from
// qh[32h + l%32]: bits (0,1) for low nibbles l < 32, (2,3) for l >= 32, (4,5) and (6,7) for
// high nibbles; one 32-byte qh broadcast, a per-half vpsllvw / vpsrlvw and a mask put them
// at bits 4-5. Per row and super-block about 28 vector instructions (TileQ6K<4,1>: ~55):
//   - vpdpbusd on the unsigned q (0..63) accumulating onto -32 * (sum of the 4 activations)
//     (computed once per block, shared by the rows): each int32 lane is the exact
//     sum of four (q - 32) * y, |.| <= 4 * 32 * 128, so vpackssdw to int16 is exact.
//   - vpdpwssd with the signed sub-block scales (vpmovsxbw, then vpermw to the packed order).
//   - per row one convert and one FMA by d * dy (the d of the group's rows converted together).

namespace q6 {

// The constants of the Q6_K kernel, built once per call.
struct Consts {
    // User-provided: an implicit constructor would not get EMBER_TARGET_BEGIN's instruction set.
    Consts() {}

    __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512i bits45 = _mm512_set1_epi8(0x30);
    __m512i u8_32 = _mm512_set1_epi8(32);
    // Low nibbles: qh bits (0,1) to (4,5) for bytes 0..31, (2,3) for bytes 32..63 (epi16 shifts).
    __m512i shl_low = Consts::halves(4, 2);
    // High nibbles: qh bits (4,5) stay for bytes 0..31, (6,7) move down for bytes 32..63.
    __m512i shr_high = Consts::halves(0, 2);
    // vpermw indices from the 16 int16 scales to the packed sums of half h (see scaled_sums):
    // 128-bit lane L holds four sums of sub-block 8h + L, then four of 8h + 4 + L.
    __m512i scale_idx[2] = {Consts::scale_order(0), Consts::scale_order(1)};

    static __m512i halves(int lo, int hi) {
        return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)), 1);
    }
    static __m512i scale_order(int h) {
        alignas(64) int16_t idx[32];
        for (int i = 0; i < 32; ++i) {
            const int lane = i / 8;
            idx[i] = static_cast<int16_t>(8 * h + lane + (i % 8 < 4 ? 0 : 4));
        }
        return _mm512_load_si512(idx);
    }
};

// The activation side of one super-block, shared by all rows.
struct Act {
    __m512i y[2][2];     // [half h][low/high nibbles]: activations 128h + 64v + 0..63
    __m512i base[2][2];  // -32 * (sum of each 4 of those activations), int32: the offset's share
    float dy;
};

inline Act prepare_act(const BlockQ8_K& y, const Consts& k) {
    Act a;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
        for (int v = 0; v < 2; ++v) {
            a.y[h][v] = _mm512_loadu_si512(y.qs + 128 * h + 64 * v);
            // |32 * sum of 4| <= 16384: no overflow either way
            const __m512i s32 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), k.u8_32, a.y[h][v]);
            a.base[h][v] = _mm512_sub_epi32(_mm512_setzero_si512(), s32);
        }
    }
    a.dy = y.d;
    return a;
}

// sum_s sc_s * (sum of sub-block s of (q - 32) * y) of one row's block, over 16 int32 lanes.
inline __m512i scaled_sums(const BlockQ6_K& x, const Act& a, const Consts& k) {
    const __m512i sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales))));
    __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(x.ql + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h)));
        const __m512i hi_lo = _mm512_and_si512(_mm512_sllv_epi16(qh, k.shl_low), k.bits45);
        const __m512i hi_hi = _mm512_and_si512(_mm512_srlv_epi16(qh, k.shr_high), k.bits45);
        // 0xEA: (a & b) | c
        const __m512i u_lo = _mm512_ternarylogic_epi32(ql, k.low4, hi_lo, 0xEA);
        const __m512i u_hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), k.low4, hi_hi, 0xEA);
        const __m512i s_lo = _mm512_dpbusd_epi32(a.base[h][0], u_lo, a.y[h][0]);
        const __m512i s_hi = _mm512_dpbusd_epi32(a.base[h][1], u_hi, a.y[h][1]);
        // int16 lanes: per 128-bit lane L, four sums of sub-block 8h + L, four of 8h + 4 + L
        const __m512i p = _mm512_packs_epi32(s_lo, s_hi);
        sum = _mm512_dpwssd_epi32(sum, p, _mm512_permutexvar_epi16(k.scale_idx[h], sc));
    }
    return sum;
}

// R (1..4) rows against one activation row: dst[r] = dot(row r, y); acc[r] += d_r * dy *
// (scaled sums) per block.
template <int R>
void gemv_rows(int64_t nb, const char* w, size_t ldw, const BlockQ8_K* y, float* dst, const Consts& k) {
    const BlockQ6_K* xr[R];
    for (int r = 0; r < R; ++r) xr[r] = reinterpret_cast<const BlockQ6_K*>(w + static_cast<size_t>(r) * ldw);
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const Act a = prepare_act(y[b], k);
        const BlockQ6_K* x[R];
        uint64_t dbits = 0;  // the R fp16 d, row r in bits 16r..16r+15
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            x[r] = xr[r] + b;
            // Four lines (>= one 210-byte block) kPrefetchBytes ahead in each row's stream.
            const char* ahead = reinterpret_cast<const char*>(x[r]) + kPrefetchBytes;
            for (int line = 0; line < 4; ++line) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
            dbits |= static_cast<uint64_t>(x[r]->d) << (16 * r);
        }
        const __m512 scale = _mm512_castps128_ps512(
            _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(dbits))), _mm_set1_ps(a.dy)));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(scaled_sums(*x[r], a, k)),
                                     _mm512_permutexvar_ps(_mm512_set1_epi32(r), scale), acc[r]);
        }
    }
    for (int r = 0; r < R; ++r) dst[r] = _mm512_reduce_add_ps(acc[r]);
}

}  // namespace q6

// The row kernels of each format, for gemv_walk: Rows::run<R> computes R rows (1 <= R <= 4).
template <typename Block>
struct K4Rows {
    using Consts = ::ember::cpu::avx512::Consts;
    template <int R>
    static void run(int64_t nb, const char* w, size_t ldw, const BlockQ8_K* y, float* dst, const Consts& k) {
        gemv_rows<Block, R>(nb, w, ldw, y, dst, k);
    }
};
struct Q6Rows {
    using Consts = q6::Consts;
    template <int R>
    static void run(int64_t nb, const char* w, size_t ldw, const BlockQ8_K* y, float* dst, const Consts& k) {
        q6::gemv_rows<R>(nb, w, ldw, y, dst, k);
    }
};

// The GemmFn around a row kernel: for each activation column, the rows in groups of kGroup,
// then the remaining 1-3 with the same per-row code.
template <typename Rows>
void gemv_walk(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
               int64_t nc) {
    const typename Rows::Consts consts;
    const int64_t nb = k / QK_K;
    const char* wb = static_cast<const char*>(w);
    for (int64_t c = 0; c < nc; ++c) {
        const auto* yc = reinterpret_cast<const BlockQ8_K*>(static_cast<const char*>(y) + static_cast<size_t>(c) * ldy);
        float* out = dst + static_cast<size_t>(c) * ldd;
        int64_t r = 0;
        for (; r + kGroup <= nr; r += kGroup) Rows::template run<kGroup>(nb, wb + static_cast<size_t>(r) * ldw, ldw, yc, out + r, consts);
        const char* wr = wb + static_cast<size_t>(r) * ldw;
        switch (nr - r) {
            case 3: Rows::template run<3>(nb, wr, ldw, yc, out + r, consts); break;
            case 2: Rows::template run<2>(nb, wr, ldw, yc, out + r, consts); break;
            case 1: Rows::template run<1>(nb, wr, ldw, yc, out + r, consts); break;
            default: break;
        }
    }
}

}  // namespace
}  // namespace ember::cpu::avx512
EMBER_TARGET_END

namespace ember::cpu {

void gemv_q4_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemv_walk<K4Rows<BlockQ4_K>>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemv_q5_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemv_walk<K4Rows<BlockQ5_K>>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

void gemv_q6_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    using namespace avx512;
    gemv_walk<Q6Rows>(k, w, ldw, y, ldy, dst, ldd, nr, nc);
}

}  // namespace ember::cpu
