#include "quant/q5_k.h"

#include "quant/f16.h"

#include <cstring>

namespace ember::quant {
namespace {

// The 5-bit value of element 32*s + l.
inline int q5_at(const BlockQ5_K& blk, int s, int l) {
    const int low = (blk.qs[32 * (s / 2) + l] >> ((s % 2) * 4)) & 0x0F;
    const int high = (blk.qh[l] >> s) & 1;
    return low | (high << 4);
}

}  // namespace

// Reference (quantize_row_q5_K_ref): make_qkx2 with nmax 31, rmin -0.5, rdelta 0.1,
// 15 steps; see quantize_k_scale_min_superblock.
void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q5_K");
    uint8_t L[QK_K];
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        quantize_k_scale_min_superblock(x, 31, -0.5f, 0.1f, 15, &y[b].d, &y[b].dmin, y[b].scales, L);
        std::memset(y[b].qh, 0, sizeof(y[b].qh));
        for (int e = 0; e < QK_K; ++e) {
            const int s = e / 32;
            const int l = e % 32;
            int q = L[e];
            if (q > 15) {
                q -= 16;
                y[b].qh[l] |= static_cast<uint8_t>(1u << s);
            }
            uint8_t& byte = y[b].qs[32 * (s / 2) + l];
            if (s % 2 == 0) {
                byte = static_cast<uint8_t>(q);
            } else {
                byte = static_cast<uint8_t>(byte | (q << 4));
            }
        }
    }
}

void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q5_K");
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = fp16_to_fp32(x[b].d);
        const float dmin = fp16_to_fp32(x[b].dmin);
        for (int s = 0; s < 8; ++s) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(s, x[b].scales, &sc, &m);
            const float ds = d * sc;
            const float ms = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = ds * q5_at(x[b], s, l) - ms;
        }
    }
}

// As Q4_K (see vec_dot_q4_k_q8_k) with q5 in place of q4.
float vec_dot_q5_k_q8_k(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y) {
    require_whole_blocks(n, QK_K, "Q5_K");
    float sum = 0;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        int32_t sum_q = 0;
        int32_t sum_m = 0;
        for (int s = 0; s < 8; ++s) {
            uint8_t sc = 0;
            uint8_t m = 0;
            get_scale_min_k4(s, x[b].scales, &sc, &m);
            const int8_t* q8 = y[b].qs + 32 * s;
            int32_t dot = 0;
            for (int l = 0; l < 32; ++l) dot += q5_at(x[b], s, l) * q8[l];
            sum_q += sc * dot;
            sum_m += m * (y[b].bsums[2 * s] + y[b].bsums[2 * s + 1]);
        }
        const float dy = y[b].d;
        sum += fp16_to_fp32(x[b].d) * dy * sum_q - fp16_to_fp32(x[b].dmin) * dy * sum_m;
    }
    return sum;
}

}  // namespace ember::quant
