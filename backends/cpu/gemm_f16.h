// Internal to the CPU backend: the F16 entries of the x86 SIMD levels (x86/gemm_f16_approx.cpp,
// registered by register_f16_kernels in x86/x86_kernels.h): the tile matmul behind
// CpuKernels::gemm[F16] and F32 -> F16 activation rows (quantize_row[F16]). Other levels keep
// what they have.
#pragma once

#include "backends/cpu/kernel_table.h"

namespace ember::cpu {

#if defined(__x86_64__)
// The kernels themselves, for tests: GemmFn signature (kernel_table.h). Need AVX2+FMA+F16C and
// AVX-512F/BW/VL respectively.
void gemm_f16_avx2(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                   int64_t nc);
void gemm_f16_avx512(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                     int64_t nc);
#endif

}  // namespace ember::cpu
