// Which kernel table the CPU backend runs (kernel_levels.cpp): the table is built once, on
// first use, from what CPUID reports (cpu_features.h). It starts from the scalar references
// of quant/; the SIMD sets of x86/ (AVX2, AVX-512, compiled for their ISA by simd_target.h)
// or arm/ (NEON) then replace entries when CPUID (on AArch64: the kernel's HWCAP bits)
// reports the extensions.
//
// Environment: EMBER_CPU_KERNELS=scalar|avx2|avx512|neon caps the level cpu_kernels() picks
// (for testing and comparison). A level above what the CPU supports falls back to the
// best supported one below it (in the order of KernelLevel); an unknown value is ignored
// (with a warning on stderr).
#pragma once

#include "backends/cpu/kernel_table.h"

namespace ember::cpu {

// The kernel table for this machine, chosen once (thread-safe), honouring EMBER_CPU_KERNELS.
const CpuKernels& cpu_kernels();

// Kernel sets, lowest first. Each level includes the entries of the levels below it that it
// does not replace.
// Neon is the AArch64 set (it includes only Scalar); Avx2 and Avx512 are x86-64 only.
enum class KernelLevel { Scalar, Avx2, Avx512, Neon };

const char* kernel_level_name(KernelLevel level);
// True when this CPU (and this build) can run `level`.
bool kernel_level_supported(KernelLevel level);
// Test hook: the table for exactly `level` (built once per level). Throws ember::Error when
// the level is not supported here.
const CpuKernels& cpu_kernels_for(KernelLevel level);

}  // namespace ember::cpu
