#include "quant/f16.h"

#include <array>

namespace ember::quant {
namespace {

// Exact fp16 -> fp32 by bit manipulation; only used to build the table.
constexpr uint32_t fp16_bits_to_fp32_bits(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x03FFu;
    if (exp == 0x1F) return sign | 0x7F800000u | (mant << 13);  // Inf / NaN (payload kept)
    if (exp != 0) return sign | ((exp + 112u) << 23) | (mant << 13);  // re-bias 15 -> 127
    if (mant == 0) return sign;                                      // +-0
    // Subnormal: mant * 2^-24. Shift the leading one up to the implicit-bit position
    // (bit 10), lowering the exponent once per shift. 2^-14 has biased exponent 113.
    uint32_t e = 113;
    while ((mant & 0x0400u) == 0) {
        mant <<= 1;
        --e;
    }
    return sign | (e << 23) | ((mant & 0x03FFu) << 13);
}

constexpr std::array<float, 65536> build_table() {
    std::array<float, 65536> t{};
    for (uint32_t h = 0; h < 65536; ++h) t[h] = std::bit_cast<float>(fp16_bits_to_fp32_bits(static_cast<uint16_t>(h)));
    return t;
}

}  // namespace

namespace detail {
// Evaluated by the compiler: no run-time initialization, no initialization-order hazard.
alignas(64) constinit const std::array<float, 65536> fp16_to_fp32_table = build_table();
}  // namespace detail

void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

float vec_dot_f16(int64_t n, const uint16_t* x, const uint16_t* y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
    return static_cast<float>(sum);
}

}  // namespace ember::quant
