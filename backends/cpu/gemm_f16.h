// Internal to the CPU backend: the F16 entries of the SIMD levels (gemm_f16.cpp): the tile
// matmul behind CpuKernels::gemm[F16] and F32 -> F16 activation rows (quantize_row[F16]).
#pragma once

#include "backends/cpu/kernels.h"

namespace ember::cpu {

// Fills gemm[F16] and quantize_row[F16] for the AVX2 and AVX-512 levels (x86-64 only;
// other levels keep what they have).
void register_f16_kernels(CpuKernels& k, KernelLevel level);

#if defined(__x86_64__)
// The kernels themselves, for tests: GemmFn signature (kernels.h). Need AVX2+FMA+F16C and
// AVX-512F/BW/VL respectively.
void gemm_f16_avx2(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                   int64_t nc);
void gemm_f16_avx512(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd, int64_t nr,
                     int64_t nc);
#endif

}  // namespace ember::cpu
