// Internal to the CPU backend: the AArch64 SIMD kernel set (kernels_neon.cpp). Advanced
// SIMD is mandatory on AArch64, so the baseline set needs no runtime check; its dot-product
// variants (SDOT, FEAT_DotProd) are only installed when the kernel reports HWCAP_ASIMDDP.
// On other processors the registration function exists but does nothing.
#pragma once

#include "backends/cpu/kernels.h"

namespace ember::cpu {

// Replaces table entries with NEON kernels. With `dotprod` (the CPU has SDOT), the integer
// dot products use vdotq_s32; otherwise widening multiplies (ARMv8.0).
void register_neon_kernels(CpuKernels& k, bool dotprod);

// Replaces the soft_max / silu / swiglu row functions (vec_math.h) with NEON ones; called
// after register_vec_math, which fills in the scalar references.
void register_neon_vec_math(CpuKernels& k);

}  // namespace ember::cpu
