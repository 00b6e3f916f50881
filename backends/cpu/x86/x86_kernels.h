// Internal to the CPU backend: the registration functions of the x86-64 kernel sets (this
// folder, built on x86-64 only; kernel_levels.cpp calls them under __x86_64__). Each set's
// kernels are compiled for its instruction set (simd_target.h) with internal linkage, and are
// only called after CPUID has confirmed the extensions.
#pragma once

#include "backends/cpu/kernel_levels.h"

namespace ember::cpu {

// Replaces table entries with AVX2 + FMA + F16C kernels (kernels_avx2.cpp, gemm_avx2.cpp).
// Needs avx2 && fma && f16c.
void register_avx2_kernels(CpuKernels& k);

// Replaces table entries with AVX-512 kernels (run after register_avx2_kernels). Needs
// avx512f && avx512bw && avx512vl && avx512dq (plus avx2/fma/f16c). The Q8_0 and Q4_0 dots (vpdpbusd)
// are only replaced when `vnni` is true (AVX512_VNNI); otherwise the AVX2 ones stay.
void register_avx512_kernels(CpuKernels& k, bool vnni);

// gemm[F16] and quantize_row[F16] for the Avx2 and Avx512 levels (gemm_f16_approx.cpp).
void register_f16_kernels(CpuKernels& k, KernelLevel level);

// The soft_max / silu / swiglu rows of the Avx2 and Avx512 levels (vec_math_approx.cpp), over
// the scalar ones register_vec_math put in.
void register_x86_vec_math(CpuKernels& k, KernelLevel level);

// The rms_norm / rope rows of the Avx2 and Avx512 levels (norm_rope_x86.cpp), over the
// scalar ones register_norm_rope put in.
void register_x86_norm_rope(CpuKernels& k, KernelLevel level);

}  // namespace ember::cpu
