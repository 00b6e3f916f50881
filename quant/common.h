// Helpers shared by the block formats (docs/FORMATS.md §3.11 "Common rules").
// Internal to quant/: not part of the kernel-table API.
#pragma once

#include "core/error.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ember::quant {

// Round to nearest, ties to even, the way ggml's reference quantizers do it: adding
// 1.5 * 2^23 moves the integer part into the low mantissa bits (the FPU rounds to nearest
// even while doing so) and the integer is read back from those bits. Exact for
// |x| < 2^22; outside that range it wraps exactly as the reference does.
inline int nearest_int(float x) {
    const float shifted = x + 12582912.0f;
    const int32_t bits = std::bit_cast<int32_t>(shifted);
    return (bits & 0x007FFFFF) - 0x00400000;
}

// Throws unless n is a whole number of blocks (the row functions process whole blocks only).
inline void require_whole_blocks(int64_t n, int64_t block, const char* type) {
    if (n < 0 || n % block != 0) fail("{}: {} elements is not a multiple of the block size {}", type, n, block);
}

// The element with the largest magnitude, keeping its sign; the first one wins on ties.
// `amax` receives its magnitude. Returns 0 (amax 0) for an all-zero block.
inline float signed_absmax(const float* x, int n, float* amax) {
    float best = 0.0f;
    float max = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > best) {
            best = a;
            max = x[i];
        }
    }
    *amax = best;
    return max;
}

// Smallest and largest element, scanning from +-FLT_MAX like the reference (Q4_1, Q5_1).
inline void block_min_max(const float* x, int n, float* mn, float* mx) {
    float lo = 3.402823466e+38f;
    float hi = -3.402823466e+38f;
    for (int i = 0; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    *mn = lo;
    *mx = hi;
}

// 32-element blocks store 4-bit values as 16 bytes: element j (j < 16) in the low nibble
// of qs[j], element j + 16 in the high nibble (Q4_0, Q4_1, and the low bits of Q5_0/Q5_1).
inline void pack_nibbles_32(const uint8_t q[32], uint8_t qs[16]) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
}

// Q5_0 / Q5_1: the low 4 bits as pack_nibbles_32, bit 4 of element e in bit e of the
// little-endian u32 qh.
inline void pack_q5_32(const uint8_t q[32], uint8_t qs[16], uint8_t qh_bytes[4]) {
    pack_nibbles_32(q, qs);
    uint32_t qh = 0;
    for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>((q[e] >> 4) & 1u) << e;
    for (int b = 0; b < 4; ++b) qh_bytes[b] = static_cast<uint8_t>(qh >> (8 * b));
}

// Inverse of pack_q5_32 for one element: the unsigned 5-bit value 0..31.
inline int unpack_q5(const uint8_t qs[16], uint32_t qh, int e) {
    const int nibble = e < 16 ? (qs[e] & 0x0F) : (qs[e - 16] >> 4);
    return nibble | static_cast<int>(((qh >> e) & 1u) << 4);
}

inline uint32_t load_u32_le(const uint8_t b[4]) {
    return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) | (static_cast<uint32_t>(b[2]) << 16) |
           (static_cast<uint32_t>(b[3]) << 24);
}

}  // namespace ember::quant
