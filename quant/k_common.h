// Pieces shared by the K-quant formats (docs/FORMATS.md §3.6-3.8, §3.11). Internal to quant/.
#pragma once

#include "quant/common.h"

#include <cstdint>

namespace ember::quant {

inline constexpr int QK_K = 256;  // elements per K-quant super-block

// ---- 6-bit sub-block scales and mins of Q4_K / Q5_K (12 bytes for 8 of each) ----------
// Layout, k = 0..3:
//   scales[k]     bits 7-6: bits 5-4 of sc[4+k]   bits 5-0: sc[k]
//   scales[4+k]   bits 7-6: bits 5-4 of m[4+k]    bits 5-0: m[k]
//   scales[8+k]   high nibble: bits 3-0 of m[4+k] low nibble: bits 3-0 of sc[4+k]

// Scale and min of sub-block j (0..7).
inline void get_scale_min_k4(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *m = scales[j + 4] & 63;
    } else {
        *sc = static_cast<uint8_t>((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

// Packs eight 6-bit scales and eight 6-bit mins (each 0..63) into the 12 bytes.
void set_scales_mins_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t scales[12]);

// ---- reference searches ----------------------------------------------------------------

// ggml's make_qkx2_quants with squared error: fits x ~ scale * L + min over n elements,
// L in 0..nmax, min <= 0, minimizing sum w * err^2 over a grid of nstep+1 candidate
// inverse scales (rmin + rdelta*s + nmax) / (max - min). Writes L (n bytes), returns
// scale and stores the offset -min (>= 0) in *the_min. `Laux` is n bytes of scratch.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep);

// ggml's make_qx_quants with rmse_type 1 (weights x^2) and no importance matrix: a
// symmetric fit x ~ scale * l with l in -nmax..nmax-1, trying inverse scales
// -(nmax + 0.1 s)/max for s = -9..9. Writes L = l + nmax (n bytes) and returns scale
// (L = 0, scale 0 when the block is all below 1e-15).
float make_qx_quants(int n, int nmax, const float* x, uint8_t* L);

// Steps 1-4 of the Q4_K / Q5_K reference quantizer for one 256-element super-block
// (docs/FORMATS.md §3.11): per-sub-block make_qkx2 search, 6-bit quantization of the scales
// and mins, fp16 d/dmin, and re-quantization against the rounded values. Writes d, dmin,
// the 12 packed scale bytes, and the 256 unsigned values L (0..nmax); packing L into the
// format's bit layout is left to the caller.
void quantize_k_scale_min_superblock(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* d,
                                     uint16_t* dmin, uint8_t scales[12], uint8_t L[QK_K]);

}  // namespace ember::quant
