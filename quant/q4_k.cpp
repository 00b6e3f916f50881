#include "quant/q4_k.h"

#include "quant/f16.h"

namespace ember::quant {

// Reference (quantize_row_q4_K_ref): make_qkx2 with nmax 15, rmin -1, rdelta 0.1,
// 20 steps; see quantize_k_scale_min_superblock.
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q4_K");
    uint8_t L[QK_K];
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        quantize_k_scale_min_superblock(x, 15, -1.0f, 0.1f, 20, &y[b].d, &y[b].dmin, y[b].scales, L);
        // Each 32-byte chunk: sub-block 2c in the low nibbles, 2c+1 in the high nibbles.
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) y[b].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        }
    }
}

void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q4_K");
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float dmin = fp16_to_fp32(x[b].dmin);
        for (int s = 0; s < 8; ++s) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(s, x[b].scales, &sc, &m);
            const float ds = d * sc;
            const float ms = dmin * m;
            const uint8_t* q = x[b].qs + 32 * (s / 2);
            const int shift = (s % 2) * 4;
            for (int l = 0; l < 32; ++l) *y++ = ds * ((q[l] >> shift) & 0x0F) - ms;
        }
    }
}

// Per super-block: d*dy*sum_s(sc_s * sum q*q8) - dmin*dy*sum_k(bsums[k] * m_{k/2}).
// The integer sums are exact, so this equals the dequantized weights dotted with dy*q8
// up to the final float rounding. (ggml's scalar code splits the sums into 8 lanes; the
// order of float operations here is simpler and differs only in rounding.)
float vec_dot_q4_k_q8_k(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y) {
    require_whole_blocks(n, QK_K, "Q4_K");
    float sum = 0;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        int32_t sum_q = 0;
        int32_t sum_m = 0;
        for (int s = 0; s < 8; ++s) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(s, x[b].scales, &sc, &m);
            const uint8_t* q = x[b].qs + 32 * (s / 2);
            const int8_t* q8 = y[b].qs + 32 * s;
            const int shift = (s % 2) * 4;
            int32_t dot = 0;
            for (int l = 0; l < 32; ++l) dot += ((q[l] >> shift) & 0x0F) * q8[l];
            sum_q += sc * dot;
            sum_m += m * (y[b].bsums[2 * s] + y[b].bsums[2 * s + 1]);
        }
        const float dy = y[b].d;
        sum += fp16_to_fp32(x[b].d) * dy * sum_q - fp16_to_fp32(x[b].dmin) * dy * sum_m;
    }
    return sum;
}

}  // namespace ember::quant
