// The CPU backend's kernel table: the one place where the backend keeps, per format, the row
// conversions, dot products, gemm and gemv kernels and the row functions the ops call. Ops
// read it (CpuKernels) and never call quant_traits() on the hot path; which table they get is
// kernel_levels.h's business. Each SIMD entry matches the scalar reference it replaces: bit
// for bit for conversions and activation quantization, up to float summation order for dot
// products.
#pragma once

#include "ember/type.h"
#include "quant/quant.h"

#include <cstddef>
#include <cstdint>

namespace ember::cpu {

// Tile matrix product for prompt processing (see gemm.h):
//   dst[c * ldd + r] = dot(k, w + r * ldw, y + c * ldy)   for 0 <= r < nr, 0 <= c < nc
// w holds nr weight rows (ldw bytes apart), y holds nc activation rows in the weight's
// vec_dot_type (ldy bytes apart), dst is in floats (ldd floats between activation rows).
// Each output's summation order is fixed by the kernel, not by nr, nc or the output's place
// in the tile, so mul_mat results do not depend on how the work is split.
using GemmFn = void (*)(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                        int64_t nr, int64_t nc);

struct CpuKernels {
    // Indexed by the type id. nullptr where ember has no kernel for that type.
    quant::ToFloatFn to_float[kTypeIdCount] = {};      // dequantize a row
    quant::FromFloatFn quantize_row[kTypeIdCount] = {};  // quantize a row of F32 (activations)
    quant::VecDotFn vec_dot[kTypeIdCount] = {};        // weight row . activation row (in vec_dot_type)
    Type vec_dot_type[kTypeIdCount] = {};              // the activation format vec_dot expects
    // Register-tiled matmul for several activation rows at once (prompt processing). Set
    // only where it beats vec_dot at the same level; nullptr: mul_mat uses vec_dot.
    GemmFn gemm[kTypeIdCount] = {};
    // The same contract for 1 to 3 activation rows (token generation): a kernel that stays
    // efficient when nc is 1, i.e. one that walks several weight rows at once and so shares
    // each activation block's loads and per-block work between them (a dedicated mat-vec
    // kernel, gemv_avx512.cpp, or a gemm tile run with one column). mul_mat hands it up to 8
    // rows from as many stretches of the matrix (ldw = the stretch), which keeps several
    // memory streams in flight. nullptr: mul_mat uses vec_dot, one row at a time.
    GemmFn gemv[kTypeIdCount] = {};

    // Row functions for the exponential-heavy ops, F32 and contiguous (vec_math.h). Never
    // nullptr in a built table: the scalar level has the std::exp references.
    double (*softmax_exp)(float* x, int64_t n, float max) = nullptr;  // x = e^(x - max); returns the sum
    void (*silu_row)(const float* x, float* y, int64_t n) = nullptr;
    void (*swiglu_row)(const float* a, const float* b, float* y, int64_t n) = nullptr;  // silu(a) * b

    // Row functions of rms_norm and rope, F32 and contiguous (norm_rope.h). Never nullptr in a
    // built table. y may be x.
    // y[0, n) = x * 1/sqrtf((float)(Σ x² / n) + eps), the float squares summed in double (docs/FORMATS.md §4.4).
    void (*rms_norm_row)(const float* x, float* y, int64_t n, float eps) = nullptr;
    // Rotates y[0, n_dims) from x by the angles of cache (cache[2i] = cos_i, cache[2i+1] = sin_i):
    // pairs (x[2i], x[2i+1]), or with neox (x[i], x[i + n_dims/2]); n_dims even (docs/FORMATS.md §4.5).
    void (*rope_row)(const float* x, float* y, const float* cache, int64_t n_dims, bool neox) = nullptr;

    const char* variant = "scalar";  // which kernel set was chosen

    bool can_dequantize(Type t) const { return to_float[static_cast<uint32_t>(t)] != nullptr; }
    // True when mul_mat can use `t` as its weight type.
    bool can_mul_mat(Type t) const {
        const auto i = static_cast<uint32_t>(t);
        return vec_dot[i] != nullptr && quantize_row[static_cast<uint32_t>(vec_dot_type[i])] != nullptr;
    }
};

}  // namespace ember::cpu
