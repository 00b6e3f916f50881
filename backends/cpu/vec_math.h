// Internal to the CPU backend: row functions for the exponential-heavy ops (soft_max, silu,
// swiglu), one set per kernel level, registered into CpuKernels by register_vec_math().
//
// Why: a 512-token prompt on a TinyLlama-shaped model takes ~185 million exponentials in
// soft_max and ~65 million in swiglu; with libm's scalar expf that is seconds per prompt.
// The scalar level keeps std::exp (the reference); the SIMD levels evaluate e^x as
// 2^n * p(r) with a range reduction and a degree-6 polynomial, within a few ulp of std::exp
// (tests/backend/vec_math_test.cpp) and with e^-inf = 0 exactly, as soft_max's mask needs.
#pragma once

#include "backends/cpu/kernels.h"

#include <cmath>

namespace ember::cpu {

// silu(x) = x * sigmoid(x): the reference every level is tested against.
inline float silu_ref(float x) { return x / (1.0f + std::exp(-x)); }

// Fills k.softmax_exp / silu_row / swiglu_row for `level` (the scalar versions for Scalar,
// the widest SIMD versions the level allows otherwise).
void register_vec_math(CpuKernels& k, KernelLevel level);

}  // namespace ember::cpu
