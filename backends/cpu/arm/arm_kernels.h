// Internal to the CPU backend: the registration functions of the AArch64 kernel set (this
// folder, built on AArch64 only; kernel_levels.cpp calls them under __aarch64__). Advanced
// SIMD is mandatory on AArch64, so the baseline set needs no runtime check; its dot-product
// variants (SDOT, FEAT_DotProd) are only installed when the kernel reports HWCAP_ASIMDDP.
#pragma once

#include "backends/cpu/kernel_levels.h"

namespace ember::cpu {

// Replaces table entries with NEON kernels (kernels_neon.cpp). With `dotprod` (the CPU has
// SDOT), the integer dot products use vdotq_s32; otherwise widening multiplies (ARMv8.0).
void register_neon_kernels(CpuKernels& k, bool dotprod);

// Replaces the soft_max / silu / swiglu row functions (vec_math.h) with NEON ones; called
// after register_vec_math, which fills in the scalar references.
void register_neon_vec_math(CpuKernels& k);

// Replaces the rms_norm / rope rows (norm_rope_neon.cpp); called after register_norm_rope.
void register_neon_norm_rope(CpuKernels& k);

}  // namespace ember::cpu
