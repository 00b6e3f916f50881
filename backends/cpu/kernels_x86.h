// Internal to the CPU backend: the x86 SIMD kernel sets. Each set lives in its own
// translation unit, its kernels compiled for that set's instruction set (simd_target.h) with
// internal linkage, and is only called after CPUID has confirmed the extensions. On other processors the
// registration functions exist but do nothing.
#pragma once

#include "backends/cpu/kernels.h"

namespace ember::cpu {

// Replaces table entries with AVX2 + FMA + F16C kernels. Needs avx2 && fma && f16c.
void register_avx2_kernels(CpuKernels& k);

// Replaces table entries with AVX-512 kernels (run after register_avx2_kernels). Needs
// avx512f && avx512bw && avx512vl && avx512dq (plus avx2/fma/f16c). The Q8_0 and Q4_0 dots (vpdpbusd)
// are only replaced when `vnni` is true (AVX512_VNNI); otherwise the AVX2 ones stay.
void register_avx512_kernels(CpuKernels& k, bool vnni);

}  // namespace ember::cpu
