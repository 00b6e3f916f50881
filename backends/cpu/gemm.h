// Internal to the CPU backend: the tile-matmul kernel sets behind CpuKernels::gemm (the
// prompt-processing path of mul_mat; see op_mul_mat.cpp for the cache blocking around them).
//
// A gemm kernel computes an nr x nc block of outputs, each over the whole of K, walking it
// in micro-tiles of R weight rows x C activation rows: every weight block it loads and
// unpacks is used for C activation rows, every activation block for R weight rows. Edge
// tiles run smaller instantiations of the same micro-kernel, whose per-output arithmetic is
// the same, so an output does not depend on where it falls in a tile (gemm_tiles.h).
#pragma once

#include "backends/cpu/kernels.h"

namespace ember::cpu {

// Scalar reference for every type with a dot product: one vec_dot per output (so at the
// scalar level both mul_mat paths give the same bits). Registered at the scalar level only:
// a SIMD level keeps gemm nullptr for a type it has no gemm kernel for, and mul_mat then
// uses that level's vec_dot.
void register_reference_gemm(CpuKernels& k);

// gemm_avx2.cpp: needs avx2 && fma && f16c. Called by register_avx2_kernels.
void register_avx2_gemm(CpuKernels& k);

// gemm_avx512.cpp: needs avx512f/bw/vl; the integer kernels also need AVX512_VNNI
// (`vnni`), without it the AVX2 ones stay. Called by register_avx512_kernels.
void register_avx512_gemm(CpuKernels& k, bool vnni);

}  // namespace ember::cpu
