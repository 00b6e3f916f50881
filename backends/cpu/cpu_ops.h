// The CPU backend's op kernels, one file per op family (op_*.cpp).
//
// Threading model: compute() runs a whole list of nodes as one job on the backend's thread
// pool (thread_pool.h). Each node is split into chunks; a kernel call does one chunk, told
// by its ThreadCtx (ith of nth) which fixed, contiguous share of the work is its own
// (split_range). Threads take chunks from a counter and meet after each node. Each output
// element is computed by exactly one chunk with the same code in the same order whatever
// nth is, so results are bit-identical for any thread and chunk count.
//
// Kernels never throw and never allocate: the backend sizes the workspace beforehand
// (work sizes below) and checks every node with supports_op() before the region.
// Sources may have any strides (views, permutes, transposes); results are contiguous
// except for cpy, which writes through its destination view's strides.
#pragma once

#include "backends/cpu/kernel_table.h"
#include "core/tensor.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace ember::cpu {

struct ThreadCtx {
    int ith = 0;                     // this chunk, 0..nth-1
    int nth = 1;                     // chunks of the node
    std::byte* shared = nullptr;     // the node's shared workspace (see *_shared_size)
    std::byte* local = nullptr;      // the running thread's scratch (see local_size), 64-byte aligned
    const CpuKernels* kernels = nullptr;
};

// Thread ith's share [begin, end) of n items: contiguous, deterministic, balanced to within one.
inline std::pair<int64_t, int64_t> split_range(int64_t n, int ith, int nth) {
    const int64_t begin = n * ith / nth;
    const int64_t end = n * (ith + 1) / nth;
    return {begin, end};
}

// Byte address of element (i0, i1, i2, i3) of a plain (non-block) tensor, through its strides.
inline char* elem(const Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return static_cast<char*>(t.data) + i0 * static_cast<int64_t>(t.nb[0]) + i1 * static_cast<int64_t>(t.nb[1]) +
           i2 * static_cast<int64_t>(t.nb[2]) + i3 * static_cast<int64_t>(t.nb[3]);
}
// Start of row (i1, i2, i3).
inline char* row_ptr(const Tensor& t, int64_t i1, int64_t i2, int64_t i3) { return elem(t, 0, i1, i2, i3); }

// Unaligned-safe F32 load / store through a byte address.
inline float load_f32(const char* p) {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store_f32(char* p, float v) { std::memcpy(p, &v, sizeof v); }

// Splits a flat row index of a tensor with ne[1..3] into (i1, i2, i3).
inline void unflatten_row(const Tensor& t, int64_t r, int64_t& i1, int64_t& i2, int64_t& i3) {
    i1 = r % t.ne[1];
    r /= t.ne[1];
    i2 = r % t.ne[2];
    i3 = r / t.ne[2];
}

// Per-thread scratch bytes a node needs (0 for most).
size_t local_size(const Tensor& node, const CpuKernels& kernels);

// ---- get_rows (op_get_rows.cpp) ----
// True when every id is in range [0, table rows); else false with the first bad id.
// Reads all ids; every thread may call it and all get the same answer, so they can stop together.
bool get_rows_check(const Tensor& dst, int32_t* bad_id);
void get_rows(const ThreadCtx& tc, Tensor& dst);

// ---- mul_mat (op_mul_mat.cpp): two phases with a barrier between ----
// Shared bytes for src1 converted to the weight's vec_dot_type.
size_t mul_mat_shared_size(const Tensor& dst, const CpuKernels& kernels);
size_t mul_mat_local_size(const Tensor& dst);
void mul_mat_convert(const ThreadCtx& tc, Tensor& dst);  // phase 1: activations -> vec_dot_type
void mul_mat(const ThreadCtx& tc, Tensor& dst);          // phase 2: the dot products

// ---- mul_mat_id (op_mul_mat_id.cpp): three phases with a barrier after each ----
// Shared bytes: the inputs of every (slot, token) pair in vec_dot_type, and the grouping.
size_t mul_mat_id_shared_size(const Tensor& dst, const CpuKernels& kernels);
size_t mul_mat_id_local_size(const Tensor& dst);
// Phase 0, one chunk: checks every id (false with the first one outside [0, n_expert), and
// nothing else is done) and groups the pairs by expert.
bool mul_mat_id_group(const ThreadCtx& tc, Tensor& dst, int32_t* bad_id);
void mul_mat_id_convert(const ThreadCtx& tc, Tensor& dst);  // phase 1: the pairs' inputs -> vec_dot_type
void mul_mat_id(const ThreadCtx& tc, Tensor& dst);          // phase 2: each expert used times its inputs

// ---- element-wise (op_binary.cpp, op_unary.cpp) ----
void add(const ThreadCtx& tc, Tensor& dst);
void mul(const ThreadCtx& tc, Tensor& dst);
void div(const ThreadCtx& tc, Tensor& dst);
void scale(const ThreadCtx& tc, Tensor& dst);
void silu(const ThreadCtx& tc, Tensor& dst);
void gelu(const ThreadCtx& tc, Tensor& dst);
void tanh(const ThreadCtx& tc, Tensor& dst);
void swiglu(const ThreadCtx& tc, Tensor& dst);

// ---- row ops ----
void rms_norm(const ThreadCtx& tc, Tensor& dst);  // op_rms_norm.cpp
size_t rope_local_size(const Tensor& dst);
void rope(const ThreadCtx& tc, Tensor& dst);      // op_rope.cpp
void soft_max(const ThreadCtx& tc, Tensor& dst);  // op_soft_max.cpp
void argmax(const ThreadCtx& tc, Tensor& dst);    // op_argmax.cpp
size_t top_k_local_size(const Tensor& dst);
void top_k(const ThreadCtx& tc, Tensor& dst);     // op_top_k.cpp
void sum_rows(const ThreadCtx& tc, Tensor& dst);  // op_sum_rows.cpp

// ---- copies (op_copy.cpp) ----
// Whether cpy/cont can convert src type `from` into `to` (same type, or F32/F16/BF16 pairs).
bool copy_supported(Type from, Type to);
void cpy(const ThreadCtx& tc, Tensor& dst);   // src0 into src1's storage, through dst's (= src1's) strides
void cont(const ThreadCtx& tc, Tensor& dst);  // src0 into dst, contiguous

}  // namespace ember::cpu
