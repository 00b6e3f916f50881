// Internal to the CPU backend: row functions for the exponential-heavy ops (soft_max, silu,
// swiglu): the scalar level here (vec_math.cpp), the SIMD levels in x86/vec_math_approx.cpp and
// arm/kernels_neon.cpp, registered over the scalar ones by the level's register function.
//
// Why: a 512-token prompt on a TinyLlama-shaped model takes ~185 million exponentials in
// soft_max and ~65 million in swiglu; with libm's scalar expf that is seconds per prompt.
// The scalar level keeps std::exp (the reference); the SIMD levels evaluate e^x as
// 2^n * p(r) with a range reduction and a degree-6 polynomial, within a few ulp of std::exp
// (tests/backend/vec_math_test.cpp) and with e^-inf = 0 exactly, as soft_max's mask needs.
#pragma once

#include "backends/cpu/kernel_table.h"

#include <cmath>

namespace ember::cpu {

// silu(x) = x * sigmoid(x): the reference every level is tested against.
inline float silu_ref(float x) { return x / (1.0f + std::exp(-x)); }

// The SIMD levels' e^x = 2^n * e^r, n = round(x / ln 2), r = x - n ln 2, |r| <= ln(2) / 2, with
// these constants (every level the same ones).
namespace exp_poly {
// ln 2 in two parts (the high part exact in few bits) so that n * ln2_hi is exact.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
// Taylor coefficients of e^r up to r^6: the truncation error r^7/7! < 1.2e-7 relative.
constexpr float kC2 = 1.0f / 2, kC3 = 1.0f / 6, kC4 = 1.0f / 24, kC5 = 1.0f / 120, kC6 = 1.0f / 720;
// Beyond these e^x is +inf or below FLT_MIN (flushed to 0; e^-inf = 0 exactly).
constexpr float kExpHi = 88.72283935546875f;
constexpr float kExpLo = -87.33654022216797f;
}  // namespace exp_poly

// Fills k.softmax_exp / silu_row / swiglu_row with the scalar versions (the scalar level's).
void register_vec_math(CpuKernels& k);

}  // namespace ember::cpu
