// bfloat16 (ggml's BF16): the upper 16 bits of an IEEE binary32, carried as uint16_t.
// docs/FORMATS.md §2.1: bf16 -> fp32 shifts left by 16 (exact); fp32 -> bf16 rounds to nearest
// even by adding 0x7FFF plus the lowest kept bit, and quiets a NaN by OR-ing bit 6 into the
// truncated pattern (so the payload's top bits and the sign survive).
#pragma once

#include <bit>
#include <cstdint>

namespace ember::quant {

inline float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t fp32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN: force quiet
    // Overflow of the rounding carries into the exponent, giving Inf for values near FLT_MAX.
    return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

// Row conversions (any n).
void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

// BF16 . BF16: float products summed in double (as ggml's scalar ggml_vec_dot_bf16).
float vec_dot_bf16(int64_t n, const uint16_t* x, const uint16_t* y);

}  // namespace ember::quant
