#include "quant/q6_k.h"

#include "quant/f16.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::quant {
namespace {

// q6 - 32 (-32..31) of element e.
inline int q6_at(const BlockQ6_K& blk, int e) {
    const int h = e / 128;
    const int p = e % 128;
    const int t = p / 32;
    const int l = p % 32;
    const int low = (blk.ql[64 * h + l + 32 * (t % 2)] >> (t < 2 ? 0 : 4)) & 0x0F;
    const int high = (blk.qh[32 * h + l] >> (2 * t)) & 3;
    return (low | (high << 4)) - 32;
}

}  // namespace

// Reference (quantize_row_q6_K_ref): make_qx_quants per 16-element sub-block, 8-bit
// signed sub-block scales relative to the largest-magnitude one (which maps to -128),
// then re-quantization against fp16(d) * sc.
void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q6_K");
    uint8_t L[QK_K];  // q6 = l + 32, 0..63
    float scales[QK_K / 16];
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        float max_scale = 0;
        float max_abs_scale = 0;
        for (int s = 0; s < QK_K / 16; ++s) {
            scales[s] = make_qx_quants(16, 32, x + 16 * s, L + 16 * s);
            const float abs_scale = std::fabs(scales[s]);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scales[s];
            }
        }
        if (max_abs_scale < 1e-15f) {  // nothing but (near-)zeros: an all-zero block
            std::memset(&y[b], 0, sizeof(y[b]));
            continue;
        }

        const float iscale = -128.f / max_scale;
        y[b].d = fp32_to_fp16(1 / iscale);
        for (int s = 0; s < QK_K / 16; ++s) y[b].scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));

        const float d = fp16_to_fp32(y[b].d);
        for (int s = 0; s < QK_K / 16; ++s) {
            const float ds = d * y[b].scales[s];
            if (ds == 0.0f) continue;  // keep the search's values
            for (int i = 0; i < 16; ++i) {
                const int l = nearest_int(x[16 * s + i] / ds);
                L[16 * s + i] = static_cast<uint8_t>(std::max(-32, std::min(31, l)) + 32);
            }
        }

        // Pack: for each half, byte ql[l] holds quarters 0 (low) and 2 (high) of lane l,
        // ql[l + 32] quarters 1 and 3; qh[l] holds the top 2 bits of quarters 0..3.
        for (int h = 0; h < 2; ++h) {
            const uint8_t* Lh = L + 128 * h;
            uint8_t* ql = y[b].ql + 64 * h;
            uint8_t* qh = y[b].qh + 32 * h;
            for (int l = 0; l < 32; ++l) {
                const int q0 = Lh[l];
                const int q1 = Lh[l + 32];
                const int q2 = Lh[l + 64];
                const int q3 = Lh[l + 96];
                ql[l] = static_cast<uint8_t>((q0 & 0x0F) | ((q2 & 0x0F) << 4));
                ql[l + 32] = static_cast<uint8_t>((q1 & 0x0F) | ((q3 & 0x0F) << 4));
                qh[l] = static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
            }
        }
    }
}

void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q6_K");
    for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
        const float d = fp16_to_fp32(x[b].d);
        for (int e = 0; e < QK_K; ++e) y[e] = (d * x[b].scales[e / 16]) * q6_at(x[b], e);
    }
}

// Per super-block: d * dy * sum_k(sc_k * sum (q6-32)*q8) over the 16 sub-blocks.
float vec_dot_q6_k_q8_k(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
    require_whole_blocks(n, QK_K, "Q6_K");
    float sum = 0;
    for (int64_t b = 0; b < n / QK_K; ++b) {
        int32_t sumi = 0;
        for (int k = 0; k < QK_K / 16; ++k) {
            int32_t dot = 0;
            for (int i = 0; i < 16; ++i) dot += q6_at(x[b], 16 * k + i) * y[b].qs[16 * k + i];
            sumi += x[b].scales[k] * dot;
        }
        sum += fp16_to_fp32(x[b].d) * y[b].d * sumi;
    }
    return sum;
}

}  // namespace ember::quant
