// The NEON level of the rms_norm and rope rows (norm_rope.h), over the scalar ones of
// norm_rope.cpp, whose loops (norm_rope_rows.h) also do its tails.
#include "backends/cpu/arm/arm_kernels.h"
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/norm_rope_rows.h"

#include <cstdint>

#include <arm_neon.h>

namespace ember::cpu {
namespace {

// NEON (baseline on AArch64). rms_norm: 8 double lanes (4 vectors of 2) reduced as
// ((s0 + s1) + (s2 + s3)), then lane 0 + lane 1; the tail (< 8) last.
void rms_norm_row_neon(const float* x, float* y, int64_t n, float eps) {
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        const float32x4_t qa = vmulq_f32(a, a), qb = vmulq_f32(b, b);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(qa)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(qa));
        s2 = vaddq_f64(s2, vcvt_f64_f32(vget_low_f32(qb)));
        s3 = vaddq_f64(s3, vcvt_high_f64_f32(qb));
    }
    const float64x2_t s = vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3));
    const double sum = add_squares(x, i, n, vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1));

    const float scale = rms_norm_scale(sum, n, eps);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) vst1q_f32(y + j, vmulq_n_f32(vld1q_f32(x + j), scale));
    scale_row(x, y, j, n, scale);
}

// Normal mode, 2 pairs per vector: p = x * (c, c), q = rev(x) * (s, s) = (x1 s, x0 s); the
// even lanes take p - q, the odd ones p + q. NeoX mode: 4 pairs, vld2 de-interleaves the cache.
void rope_row_neon(const float* x, float* y, const float* cache, int64_t n_dims, bool neox) {
    if (!neox) {
        const uint32x4_t even = {~0u, 0u, ~0u, 0u};
        int64_t i = 0;
        for (; i + 4 <= n_dims; i += 4) {
            const float32x4_t v = vld1q_f32(x + i);
            const float32x4_t cs = vld1q_f32(cache + i);
            const float32x4_t p = vmulq_f32(v, vtrn1q_f32(cs, cs));
            const float32x4_t q = vmulq_f32(vrev64q_f32(v), vtrn2q_f32(cs, cs));
            vst1q_f32(y + i, vbslq_f32(even, vsubq_f32(p, q), vaddq_f32(p, q)));
        }
        rope_pairs(x, y, cache, i / 2, n_dims / 2, n_dims, false);
        return;
    }
    const int64_t half = n_dims / 2;
    int64_t i = 0;
    for (; i + 4 <= half; i += 4) {
        const float32x4x2_t cs = vld2q_f32(cache + 2 * i);
        const float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + half);
        vst1q_f32(y + i, vsubq_f32(vmulq_f32(x0, cs.val[0]), vmulq_f32(x1, cs.val[1])));
        vst1q_f32(y + i + half, vaddq_f32(vmulq_f32(x0, cs.val[1]), vmulq_f32(x1, cs.val[0])));
    }
    rope_pairs(x, y, cache, i, half, n_dims, true);
}

}  // namespace

void register_neon_norm_rope(CpuKernels& k) {
    k.rms_norm_row = rms_norm_row_neon;
    k.rope_row = rope_row_neon;
}

}  // namespace ember::cpu
