// Internal to the CPU backend's SIMD kernels: the 12 packed scale/min bytes of a Q4_K or
// Q5_K super-block (layout in quant/k_common.h) unpacked into 16 bytes, scales then mins.
#pragma once

#include <cstdint>
#include <cstring>

namespace ember::cpu {

// out[0..7] = the eight 6-bit sub-block scales, out[8..15] = the eight 6-bit mins.
inline void unpack_k4_scales_mins(const uint8_t* scales, uint8_t out[16]) {
    uint32_t a, b, c;
    std::memcpy(&a, scales, 4);
    std::memcpy(&b, scales + 4, 4);
    std::memcpy(&c, scales + 8, 4);
    const uint32_t sc_lo = a & 0x3F3F3F3Fu;
    const uint32_t m_lo = b & 0x3F3F3F3Fu;
    const uint32_t sc_hi = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
    const uint32_t m_hi = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
    std::memcpy(out, &sc_lo, 4);
    std::memcpy(out + 4, &sc_hi, 4);
    std::memcpy(out + 8, &m_lo, 4);
    std::memcpy(out + 12, &m_hi, 4);
}

}  // namespace ember::cpu
