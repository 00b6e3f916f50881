// Internal to the CPU backend: the tile-matmul kernel sets behind CpuKernels::gemm (the
// prompt-processing path of mul_mat; see op_mul_mat.cpp for the cache blocking around them).
//
// A gemm kernel computes an nr x nc block of outputs, each over the whole of K, walking it
// in micro-tiles of R weight rows x C activation rows: every weight block it loads and
// unpacks is used for C activation rows, every activation block for R weight rows. Edge
// tiles run smaller instantiations of the same micro-kernel, whose per-output arithmetic is
// the same, so an output does not depend on where it falls in a tile (gemm_tiles.h).
#pragma once

#include "backends/cpu/kernel_table.h"

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
// The AVX-512 VNNI kernels (also the AMX kernels' fallbacks for very long rows).
void gemm_q8_0_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);
void gemm_q4_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);
void gemm_q5_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);
void gemm_q6_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);

// gemv_avx512.cpp: the AVX-512 VNNI mat-vec kernels behind CpuKernels::gemv for Q4_K,
// Q5_K and Q6_K (the token-generation path; any nr and nc, rows in groups of 4, each
// output's bits independent of nr, nc and its position). Registered by register_avx512_gemm
// with VNNI.
void gemv_q4_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);
void gemv_q5_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);
void gemv_q6_k_vnni(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc);

// gemm_amx.cpp: AMX-INT8 tile kernels (Q8_0, Q4_K, Q5_K, Q6_K). True when the CPU has AMX-TILE + AMX-INT8, the
// OS enables the tile state and Linux granted it to this process (asked once, on first call).
bool amx_int8_usable();
// Replaces those types' gemm with the AMX kernels when amx_int8_usable(). Called by
// register_avx512_gemm when it has VNNI.
void register_amx_gemm(CpuKernels& k);
// Test hook: the AMX kernel for `t`, nullptr where AMX is not usable or has none for t.
GemmFn amx_gemm(Type t);

}  // namespace ember::cpu
