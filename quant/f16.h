// IEEE-754 binary16 ("fp16", ggml's F16): scalar and row conversions, and the F16 dot.
//
// fp16 values are carried as their raw uint16_t bit pattern everywhere in ember.
// Conversions follow docs/FORMATS.md §2.1: fp16 -> fp32 is exact; fp32 -> fp16 rounds to
// nearest even, overflows to +-Inf, and turns every NaN into 0x7E00 with its sign kept.
//
// Everything here is plain integer code (quant/ is compiled for baseline x86-64, so no
// F16C); backends that can use hardware conversions must give identical results.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace ember::quant {

namespace detail {
// fp32 value of every fp16 bit pattern, built at compile time (constant-initialized, so
// it is usable from any static initializer). 256 KiB.
extern const std::array<float, 65536> fp16_to_fp32_table;
}  // namespace detail

// Exact fp16 -> fp32 (one table load).
inline float fp16_to_fp32(uint16_t h) { return detail::fp16_to_fp32_table[h]; }

// fp32 -> fp16, round to nearest even. Pure integer arithmetic, so it is the same in
// every translation unit whatever its floating-point flags.
inline uint16_t fp32_to_fp16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7FFFFFFFu;

    if (ax > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN -> canonical quiet NaN
    // 65520 (0x477FF000) is halfway between the largest half 65504 (odd mantissa) and
    // 65536: from there on, round-to-nearest-even goes to infinity.
    if (ax >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);

    if (ax >= 0x38800000u) {
        // Normal half (|f| >= 2^-14). Re-bias the exponent from 127 to 15 (subtract
        // 112 << 23); the 13 dropped mantissa bits round to nearest even. A carry out of
        // the mantissa correctly bumps the exponent.
        const uint32_t r = ax - 0x38000000u;
        const uint32_t rounded = r + 0x0FFFu + ((r >> 13) & 1u);
        return static_cast<uint16_t>(sign | (rounded >> 13));
    }

    // Subnormal half (or zero): the result counts units of 2^-24. With the implicit bit
    // restored the float is m * 2^(e - 150), i.e. m >> (126 - e) units.
    const uint32_t e = ax >> 23;
    const uint32_t shift = 126u - e;  // >= 14 here
    if (shift > 24) return static_cast<uint16_t>(sign);  // below 2^-25 (half a unit): zero
    const uint32_t m = (ax & 0x007FFFFFu) | 0x00800000u;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal: still correct
    return static_cast<uint16_t>(sign | q);
}

// Row conversions (any n).
void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);

// F16 . F16: each product is formed in float, the products are summed in double
// (the order ggml's scalar ggml_vec_dot_f16 uses), and the sum is returned as float.
float vec_dot_f16(int64_t n, const uint16_t* x, const uint16_t* y);

}  // namespace ember::quant
