// The inner loops of the CPU mat-muls: a run of rows of one weight matrix times a block of
// activation rows already converted to the weight's vec_dot_type, with the kernel table's
// gemm, gemv or vec_dot. mul_mat (op_mul_mat.cpp) calls them on runs of one batch's matrix,
// mul_mat_id (op_mul_mat_id.cpp) on runs of one expert's matrix.
//
// Every function here computes
//   out[m * ldd + r] = dot(w row r, activation row m)   for 0 <= r < n_rows, 0 <= m < M
// with weight row r at w + r * ldw (bytes) and activation row m at acts + m * act_row (bytes),
// each output with one kernel call over the whole of K: an output's bits depend on the path
// (mat_path) but not on n_rows, M or where the run was cut.
#pragma once

#include "backends/cpu/kernel_table.h"

#include <cstddef>
#include <cstdint>

namespace ember::cpu {

// Activation rows from which the gemm kernels are used (below: the gemv path).
inline constexpr int64_t kGemmMinRows = 4;
// Tiles of the vec_dot path: weight rows x activation rows that stay in cache while reused.
inline constexpr int64_t kTileN = 16;
inline constexpr int64_t kTileM = 16;

// Bytes of one activation row of k elements converted to the vec_dot_type of `weight_type`.
size_t act_row_bytes(const CpuKernels& k, Type weight_type, int64_t k_elems);

// A run of weight rows and the activations it is multiplied with.
struct MatRows {
    int64_t k;               // elements per row (K)
    const char* w;           // first weight row
    size_t ldw;              // bytes between weight rows
    int64_t n_rows;          // weight rows in the run
    const std::byte* acts;   // first activation row, in the weight's vec_dot_type
    size_t act_row;          // bytes between activation rows
    int64_t m;               // activation rows (M)
    float* out;              // out[m * ldd + r]
    size_t ldd;              // floats between the outputs of two activation rows
};

// Which kernels a product with `m_total` activation rows uses, as mul_mat chooses: the gemm
// kernel from kGemmMinRows rows where the type has one, the gemv path below kGemmMinRows,
// else one vec_dot per output. Decide once per matrix (not per block of its activation rows)
// so that every output of it goes through the same arithmetic.
enum class MatPath { Gemm, Gemv, VecDot };
MatPath mat_path(const CpuKernels& k, Type weight_type, int64_t m_total);

// Prompt processing: the gemm kernel over blocks of activation rows that stay in L2 while
// the run's weight rows pass by (op_mul_mat.cpp's header says why).
void gemm_rows(GemmFn gemm, const MatRows& p);
// Token generation (p.m < kGemmMinRows): the run is cut into several stretches walked in
// lockstep, one row of each per step, with the gemv kernel where the type has one, else
// vec_dot; several weight streams keep the memory system busy (README.md, "Measurements").
void gemv_rows(GemmFn gemv, quant::VecDotFn vec_dot, const MatRows& p);
// One vec_dot per output, weight row by weight row (callers tile so both sides stay in cache).
void vec_dot_rows(quant::VecDotFn vec_dot, const MatRows& p);

// The path's kernel for `weight_type` from the table; vec_dot_rows in tiles of 16 x 16.
void mat_rows(const CpuKernels& k, Type weight_type, MatPath path, const MatRows& p);

}  // namespace ember::cpu
