// NEON (AArch64 Advanced SIMD) kernels of the CPU backend, compiled with -ffp-contract=off.
// The baseline set is ARMv8.0; the integer dot products also exist compiled for the
// dot-product extension (SDOT) and replace the baseline ones when the kernel reports
// HWCAP_ASIMDDP (see kernel_levels.cpp). Both sets share one source, kernels_neon_int.inc.
//
// Dot products: see kernels_neon_int.inc (exact int32 sums per block, float accumulation
// across blocks). F32 / F16 / BF16 dots accumulate float products in four vectors.
//
// Conversions and activation quantization repeat the reference's float operations one for
// one (no contraction; FRINTA-style rounding via vcvtaq for roundf, the 1.5 * 2^23 trick
// for nearest_int), so they are bit-identical to quant/.
//
// The soft_max / silu / swiglu rows evaluate e^x as the x86 levels do (x86/vec_math_approx.cpp) (range
// reduction + polynomial, within a few ulp of std::exp; tests/backend/vec_math_test.cpp).
#include "backends/cpu/arm/arm_kernels.h"

#include "backends/cpu/k4_scales.h"
#include "backends/cpu/vec_math.h"
#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/q4_0.h"
#include "quant/q4_1.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_1.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_1.h"
#include "quant/q8_k.h"

#include <arm_neon.h>

#include <cmath>
#include <cstring>

namespace ember::cpu {
namespace {

using namespace ember::quant;

// ---- helpers shared by both integer sets (plain ARMv8.0) ---------------------------------

inline float h2f(uint16_t h) { return fp16_to_fp32(h); }

// Byte e of lo (e = 0..15) / hi (e = 16..31) is 0x10 when bit e of the little-endian
// 32-bit qh is set, else 0 (the fifth bit of Q5_0 / Q5_1 element e).
inline void qh_to_bit4(const uint8_t* qh, uint8x16_t& lo, uint8x16_t& hi) {
    static constexpr uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bits = vld1q_u8(kBits);
    const uint8x16_t b01 = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t b23 = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    lo = vandq_u8(vtstq_u8(b01, bits), vdupq_n_u8(0x10));
    hi = vandq_u8(vtstq_u8(b23, bits), vdupq_n_u8(0x10));
}

// sum_s m[s] * (bsums[2s] + bsums[2s+1]) over the 8 sub-blocks, in int32 (exact).
inline int32_t mins_dot(const int16_t* bsums, const uint8_t* m8) {
    const int32x4_t pair_lo = vpaddlq_s16(vld1q_s16(bsums));      // sub-blocks 0..3
    const int32x4_t pair_hi = vpaddlq_s16(vld1q_s16(bsums + 8));  // sub-blocks 4..7
    const uint16x8_t m16 = vmovl_u8(vld1_u8(m8));
    const int32x4_t m_lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(m16)));
    const int32x4_t m_hi = vreinterpretq_s32_u32(vmovl_high_u16(m16));
    return vaddvq_s32(vmlaq_s32(vmulq_s32(pair_lo, m_lo), pair_hi, m_hi));
}

// ---- integer dot products: ARMv8.0 ---------------------------------------------------------

namespace base {

// Products of elements i and i+8 share an int16 lane before the pairwise widening add:
// exact while |a_i * b_i| + |a_{i+8} * b_{i+8}| < 2^15, i.e. |a| <= 64 against int8 b.
inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
}

// Exact for every int8 pair (-128 * -128 twice would not fit an int16 lane).
inline int32x4_t dot16_any(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}

#include "backends/cpu/arm/kernels_neon_int.inc"

}  // namespace base

// ---- integer dot products: SDOT (FEAT_DotProd, Armv8.2+) ------------------------------------

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
namespace sdot {

inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
inline int32x4_t dot16_any(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }

#include "backends/cpu/arm/kernels_neon_int.inc"

}  // namespace sdot
#pragma GCC pop_options

// ---- float dots ------------------------------------------------------------------------------

float vec_dot_f32(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const float*>(vx);
    const auto* y = static_cast<const float*>(vy);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
        a1 = vfmaq_f32(a1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

// Eight halves as two float vectors (elements 0..3, 4..7). FCVTL is exact.
struct F32x8 {
    float32x4_t lo, hi;
};
inline F32x8 load_f16x8(const uint16_t* p) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
}
inline F32x8 load_bf16x8(const uint16_t* p) {
    const uint16x8_t h = vld1q_u16(p);
    return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))};
}

template <F32x8 (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
float vec_dot_half(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const uint16_t*>(vx);
    const auto* y = static_cast<const uint16_t*>(vy);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const F32x8 x0 = Load(x + i), y0 = Load(y + i);
        const F32x8 x1 = Load(x + i + 8), y1 = Load(y + i + 8);
        a0 = vfmaq_f32(a0, x0.lo, y0.lo);
        a1 = vfmaq_f32(a1, x0.hi, y0.hi);
        a2 = vfmaq_f32(a2, x1.lo, y1.lo);
        a3 = vfmaq_f32(a3, x1.hi, y1.hi);
    }
    for (; i + 8 <= n; i += 8) {
        const F32x8 x0 = Load(x + i), y0 = Load(y + i);
        a0 = vfmaq_f32(a0, x0.lo, y0.lo);
        a1 = vfmaq_f32(a1, x0.hi, y0.hi);
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; ++i) sum += Scalar(x[i]) * Scalar(y[i]);
    return sum;
}

// ---- activation quantization (bit-identical to quant/) -----------------------------------

// Largest |x| over n (a multiple of 8) floats. A lane takes a value only when it is
// greater (as the reference's a > best), so NaNs never win; vmaxvq then sees no NaN.
inline float absmax(const float* x, int n) {
    float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0;
    for (int i = 0; i < n; i += 8) {
        const float32x4_t a0 = vabsq_f32(vld1q_f32(x + i));
        const float32x4_t a1 = vabsq_f32(vld1q_f32(x + i + 4));
        m0 = vbslq_f32(vcgtq_f32(a0, m0), a0, m0);
        m1 = vbslq_f32(vcgtq_f32(a1, m1), a1, m1);
    }
    return vmaxvq_f32(vmaxq_f32(m0, m1));
}

// Low bytes of 4 x 4 int32 (the int8_t conversion of the reference), in element order.
inline int8x16_t low_bytes(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    const int16x8_t cd = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vcombine_s8(vmovn_s16(ab), vmovn_s16(cd));
}

// 32 quants q = (int8) roundf(x * id): FCVTAS rounds half away from zero like roundf.
inline void quantize_32_round(const float* x, float id, int8_t* q) {
    int32x4_t v[8];
    for (int k = 0; k < 8; ++k) v[k] = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4 * k), id));
    vst1q_s8(q, low_bytes(v[0], v[1], v[2], v[3]));
    vst1q_s8(q + 16, low_bytes(v[4], v[5], v[6], v[7]));
}

void quantize_q8_0(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    auto* y = static_cast<BlockQ8_0*>(vy);
    for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
        const float d = absmax(x, QK8_0) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        quantize_32_round(x, id, y[b].qs);
    }
}

void quantize_q8_1(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK8_1, "Q8_1");
    auto* y = static_cast<BlockQ8_1*>(vy);
    for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
        const float d = absmax(x, QK8_1) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        quantize_32_round(x, id, y[b].qs);
        const int sum = vaddlvq_s8(vld1q_s8(y[b].qs)) + vaddlvq_s8(vld1q_s8(y[b].qs + 16));
        y[b].s = fp32_to_fp16(sum * d);
    }
}

// nearest_int of 4 floats (the reference's 1.5 * 2^23 trick, bit for bit).
inline int32x4_t nearest_int4(float32x4_t v) {
    const int32x4_t bits = vreinterpretq_s32_f32(vaddq_f32(v, vdupq_n_f32(12582912.0f)));
    return vsubq_s32(vandq_s32(bits, vdupq_n_s32(0x007FFFFF)), vdupq_n_s32(0x00400000));
}

void quantize_q8_k(const float* x, void* vy, int64_t n) {
    require_whole_blocks(n, QK_K, "Q8_K");
    auto* y = static_cast<BlockQ8_K*>(vy);
    for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        const float amax = absmax(x, QK_K);
        if (amax == 0.0f) {
            y[b].d = 0;
            std::memset(y[b].qs, 0, sizeof(y[b].qs));
            std::memset(y[b].bsums, 0, sizeof(y[b].bsums));
            continue;
        }
        // The first element of largest magnitude, with its sign.
        const float32x4_t am = vdupq_n_f32(amax);
        float max = 0;
        for (int i = 0; i < QK_K; i += 4) {
            if (vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + i)), am)) != 0) {
                int j = i;
                while (std::fabs(x[j]) != amax) ++j;
                max = x[j];
                break;
            }
        }
        const float iscale = -127.f / max;
        const int32x4_t q127 = vdupq_n_s32(127);
        for (int g = 0; g < QK_K / 16; ++g) {
            int32x4_t v[4];
            for (int k = 0; k < 4; ++k) v[k] = vminq_s32(q127, nearest_int4(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * k), iscale)));
            const int8x16_t q = low_bytes(v[0], v[1], v[2], v[3]);
            vst1q_s8(y[b].qs + 16 * g, q);
            y[b].bsums[g] = vaddlvq_s8(q);
        }
        y[b].d = 1 / iscale;
    }
}

// ---- to_float (bit-identical to quant/) ------------------------------------------------------

void to_float_f16(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(vx);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const F32x8 v = load_f16x8(x + i);
        vst1q_f32(y + i, v.lo);
        vst1q_f32(y + i + 4, v.hi);
        // FCVTL quiets signalling NaNs; the reference keeps every payload bit as it is.
        const uint32x4_t ordered = vandq_u32(vceqq_f32(v.lo, v.lo), vceqq_f32(v.hi, v.hi));
        if (vminvq_u32(ordered) == 0) {
            for (int j = 0; j < 8; ++j) y[i + j] = fp16_to_fp32(x[i + j]);
        }
    }
    for (; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

void to_float_bf16(const void* vx, float* y, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(vx);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const F32x8 v = load_bf16x8(x + i);
        vst1q_f32(y + i, v.lo);
        vst1q_f32(y + i + 4, v.hi);
    }
    for (; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

// 16 signed bytes -> y[0..15] = float(q) * d.
inline void store_scaled_s8x16(int8x16_t q, float d, float* y) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q));
    const int16x8_t hi = vmovl_high_s8(q);
    vst1q_f32(y, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(y + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d));
    vst1q_f32(y + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(y + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d));
}

void to_float_q8_0(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK8_0, "Q8_0");
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    for (int64_t b = 0; b < n / QK8_0; ++b, y += QK8_0) {
        const float d = h2f(x[b].d);
        store_scaled_s8x16(vld1q_s8(x[b].qs), d, y);
        store_scaled_s8x16(vld1q_s8(x[b].qs + 16), d, y + 16);
    }
}

// 16 unsigned bytes u -> y = ds * u - ms (multiply, then subtract: no contraction).
inline void store_affine_u8x16(uint8x16_t u, float ds, float ms, float* y) {
    const uint16x8_t lo = vmovl_u8(vget_low_u8(u));
    const uint16x8_t hi = vmovl_high_u8(u);
    const float32x4_t m = vdupq_n_f32(ms);
    vst1q_f32(y, vsubq_f32(vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), ds), m));
    vst1q_f32(y + 4, vsubq_f32(vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(lo)), ds), m));
    vst1q_f32(y + 8, vsubq_f32(vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), ds), m));
    vst1q_f32(y + 12, vsubq_f32(vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(hi)), ds), m));
}

void to_float_q4_k(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q4_K");
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = h2f(x[b].d);
        const float dmin = h2f(x[b].dmin);
        uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        for (int c = 0; c < 4; ++c, y += 64) {
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * c);
            const uint8x16_t q1 = vld1q_u8(x[b].qs + 32 * c + 16);
            const float ds0 = d * sm[2 * c], ms0 = dmin * sm[8 + 2 * c];
            const float ds1 = d * sm[2 * c + 1], ms1 = dmin * sm[8 + 2 * c + 1];
            store_affine_u8x16(vandq_u8(q0, low4), ds0, ms0, y);
            store_affine_u8x16(vandq_u8(q1, low4), ds0, ms0, y + 16);
            store_affine_u8x16(vshrq_n_u8(q0, 4), ds1, ms1, y + 32);
            store_affine_u8x16(vshrq_n_u8(q1, 4), ds1, ms1, y + 48);
        }
    }
}

void to_float_q5_k(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q5_K");
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    const uint8x16_t bit4 = vdupq_n_u8(0x10);
    for (int64_t b = 0; b < n / QK_K; ++b) {
        const float d = h2f(x[b].d);
        const float dmin = h2f(x[b].dmin);
        uint8_t sm[16];
        unpack_k4_scales_mins(x[b].scales, sm);
        const uint8x16_t qh0 = vld1q_u8(x[b].qh);
        const uint8x16_t qh1 = vld1q_u8(x[b].qh + 16);
        for (int c = 0; c < 4; ++c, y += 64) {
            const uint8x16_t s_lo = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
            const uint8x16_t s_hi = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c + 1)));
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * c);
            const uint8x16_t q1 = vld1q_u8(x[b].qs + 32 * c + 16);
            const float ds0 = d * sm[2 * c], ms0 = dmin * sm[8 + 2 * c];
            const float ds1 = d * sm[2 * c + 1], ms1 = dmin * sm[8 + 2 * c + 1];
            store_affine_u8x16(vorrq_u8(vandq_u8(q0, low4), vandq_u8(vtstq_u8(qh0, s_lo), bit4)), ds0, ms0, y);
            store_affine_u8x16(vorrq_u8(vandq_u8(q1, low4), vandq_u8(vtstq_u8(qh1, s_lo), bit4)), ds0, ms0, y + 16);
            store_affine_u8x16(vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vtstq_u8(qh0, s_hi), bit4)), ds1, ms1, y + 32);
            store_affine_u8x16(vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vtstq_u8(qh1, s_hi), bit4)), ds1, ms1, y + 48);
        }
    }
}

void to_float_q6_k(const void* vx, float* y, int64_t n) {
    require_whole_blocks(n, QK_K, "Q6_K");
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    const uint8x16_t two = vdupq_n_u8(0x03);
    const int8x16_t off = vdupq_n_s8(32);
    for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
        const float d = h2f(x[b].d);
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[b].ql + 64 * h;
            const uint8_t* qh = x[b].qh + 32 * h;
            for (int j = 0; j < 2; ++j) {
                const uint8x16_t l0 = vld1q_u8(ql + 16 * j);
                const uint8x16_t l1 = vld1q_u8(ql + 32 + 16 * j);
                const uint8x16_t hb = vld1q_u8(qh + 16 * j);
                uint8x16_t w[4];
                w[0] = vorrq_u8(vandq_u8(l0, low4), vshlq_n_u8(vandq_u8(hb, two), 4));
                w[1] = vorrq_u8(vandq_u8(l1, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), two), 4));
                w[2] = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), two), 4));
                w[3] = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int t = 0; t < 4; ++t) {
                    const int e = 128 * h + 32 * t + 16 * j;  // first element; sub-block e / 16
                    const float ds = d * x[b].scales[e / 16];
                    store_scaled_s8x16(vsubq_s8(vreinterpretq_s8_u8(w[t]), off), ds, y + e);
                }
            }
        }
    }
}


// ---- exponential-heavy rows (soft_max, silu, swiglu): see vec_math.h ---------------------------
// The same evaluation as the x86 levels (x86/vec_math_approx.cpp), with vec_math.h's exp_poly
// constants: e^x = 2^n * p(r), n = round(x / ln 2) (at most 127, so 2^n stays a normal float),
// r = x - n ln 2 in two steps (ln 2 split so that n * ln2_hi is exact), p the degree-6 Taylor
// polynomial; below kExpLo the result is 0 (so e^-inf = 0 exactly, as soft_max's mask needs),
// above kExpHi +inf, NaN stays NaN.
using namespace exp_poly;

inline float32x4_t exp4(float32x4_t x) {
    const float32x4_t xc = vminq_f32(vdupq_n_f32(kExpHi), vmaxq_f32(vdupq_n_f32(kExpLo), x));  // NaN stays
    const float32x4_t n = vminq_f32(vrndnq_f32(vmulq_n_f32(xc, kLog2e)), vdupq_n_f32(127.0f));
    float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(kLn2Hi));
    r = vfmsq_f32(r, n, vdupq_n_f32(kLn2Lo));
    float32x4_t p = vdupq_n_f32(kC6);
    p = vfmaq_f32(vdupq_n_f32(kC5), p, r);
    p = vfmaq_f32(vdupq_n_f32(kC4), p, r);
    p = vfmaq_f32(vdupq_n_f32(kC3), p, r);
    p = vfmaq_f32(vdupq_n_f32(kC2), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    float32x4_t y = vmulq_f32(p, vreinterpretq_f32_s32(bits));
    y = vbslq_f32(vcltq_f32(x, vdupq_n_f32(kExpLo)), vdupq_n_f32(0.0f), y);
    y = vbslq_f32(vcgtq_f32(x, vdupq_n_f32(kExpHi)), vdupq_n_f32(INFINITY), y);
    return y;
}

inline float32x4_t silu4(float32x4_t x) { return vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(x)))); }

// Up to 3 trailing elements in a padded vector (padding `pad`), and back.
inline float32x4_t load_tail(const float* x, int64_t n, float pad) {
    float t[4] = {pad, pad, pad, pad};
    for (int64_t j = 0; j < n; ++j) t[j] = x[j];
    return vld1q_f32(t);
}
inline void store_tail(float* y, int64_t n, float32x4_t v) {
    float t[4];
    vst1q_f32(t, v);
    for (int64_t j = 0; j < n; ++j) y[j] = t[j];
}

double softmax_exp_neon(float* x, int64_t n, float max) {
    const float32x4_t vmax = vdupq_n_f32(max);
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), vmax));
        vst1q_f32(x + i, e);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
    }
    if (i < n) {  // padding lanes hold -inf: e^(-inf - max) = 0 adds nothing
        const float32x4_t e = exp4(vsubq_f32(load_tail(x + i, n - i, -INFINITY), vmax));
        store_tail(x + i, n - i, e);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
    }
    return vaddvq_f64(vaddq_f64(s0, s1));
}

void silu_row_neon(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, silu4(vld1q_f32(x + i)));
    if (i < n) store_tail(y + i, n - i, silu4(load_tail(x + i, n - i, 0.0f)));
}

void swiglu_row_neon(const float* a, const float* b, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(silu4(vld1q_f32(a + i)), vld1q_f32(b + i)));
    if (i < n) {
        store_tail(y + i, n - i, vmulq_f32(silu4(load_tail(a + i, n - i, 0.0f)), load_tail(b + i, n - i, 0.0f)));
    }
}

}  // namespace

void register_neon_kernels(CpuKernels& k, bool dotprod) {
    auto id = [](Type t) { return static_cast<uint32_t>(t); };
    k.vec_dot[id(Type::F32)] = vec_dot_f32;
    k.vec_dot[id(Type::F16)] = vec_dot_half<load_f16x8, h2f>;
    k.vec_dot[id(Type::BF16)] = vec_dot_half<load_bf16x8, bf16_to_fp32>;
    if (dotprod) {
        k.vec_dot[id(Type::Q8_0)] = sdot::vec_dot_q8_0;
        k.vec_dot[id(Type::Q4_0)] = sdot::vec_dot_q4_0;
        k.vec_dot[id(Type::Q5_0)] = sdot::vec_dot_q5_0;
        k.vec_dot[id(Type::Q4_1)] = sdot::vec_dot_q4_1;
        k.vec_dot[id(Type::Q5_1)] = sdot::vec_dot_q5_1;
        k.vec_dot[id(Type::Q4_K)] = sdot::vec_dot_q4_k;
        k.vec_dot[id(Type::Q5_K)] = sdot::vec_dot_q5_k;
        k.vec_dot[id(Type::Q6_K)] = sdot::vec_dot_q6_k;
    } else {
        k.vec_dot[id(Type::Q8_0)] = base::vec_dot_q8_0;
        k.vec_dot[id(Type::Q4_0)] = base::vec_dot_q4_0;
        k.vec_dot[id(Type::Q5_0)] = base::vec_dot_q5_0;
        k.vec_dot[id(Type::Q4_1)] = base::vec_dot_q4_1;
        k.vec_dot[id(Type::Q5_1)] = base::vec_dot_q5_1;
        k.vec_dot[id(Type::Q4_K)] = base::vec_dot_q4_k;
        k.vec_dot[id(Type::Q5_K)] = base::vec_dot_q5_k;
        k.vec_dot[id(Type::Q6_K)] = base::vec_dot_q6_k;
    }

    k.quantize_row[id(Type::Q8_0)] = quantize_q8_0;
    k.quantize_row[id(Type::Q8_1)] = quantize_q8_1;
    k.quantize_row[id(Type::Q8_K)] = quantize_q8_k;

    k.to_float[id(Type::F16)] = to_float_f16;
    k.to_float[id(Type::BF16)] = to_float_bf16;
    k.to_float[id(Type::Q8_0)] = to_float_q8_0;
    k.to_float[id(Type::Q4_K)] = to_float_q4_k;
    k.to_float[id(Type::Q5_K)] = to_float_q5_k;
    k.to_float[id(Type::Q6_K)] = to_float_q6_k;
}

void register_neon_vec_math(CpuKernels& k) {
    k.softmax_exp = softmax_exp_neon;
    k.silu_row = silu_row_neon;
    k.swiglu_row = swiglu_row_neon;
}

}  // namespace ember::cpu
