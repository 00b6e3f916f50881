// The CPU backend's kernel table: the one place where the backend picks, per format,
// the row conversions and dot products it runs. It is filled once, on first use, from
// what CPUID reports; ops read it and never call quant_traits() on the hot path.
//
// The table starts from the scalar references of quant/; SIMD kernel sets (AVX2, AVX-512,
// in kernels_avx2.cpp / kernels_avx512.cpp, compiled for their ISA by simd_target.h; NEON on
// AArch64, kernels_neon.cpp) then replace entries when CPUID (on AArch64: the kernel's
// HWCAP bits) reports the extensions. Each SIMD kernel matches the scalar reference
// it replaces: bit for bit for conversions and activation quantization, up to float
// summation order for dot products.
//
// Environment: EMBER_CPU_KERNELS=scalar|avx2|avx512|neon caps the level cpu_kernels() picks
// (for testing and comparison). A level above what the CPU supports falls back to the
// best supported one below it (in the order of KernelLevel); an unknown value is ignored
// (with a warning on stderr).
#pragma once

#include "core/type.h"
#include "quant/quant.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ember::cpu {

// Instruction-set extensions of the machine we run on (not of the compiler's target).
struct CpuFeatures {
    bool sse3 = false;
    bool ssse3 = false;
    bool avx = false;
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool neon = false;
    bool neon_dotprod = false;  // SDOT / UDOT (AArch64 HWCAP_ASIMDDP)

    // Names of the extensions present, e.g. {"AVX", "AVX2", "FMA", "F16C"}.
    std::vector<std::string> names() const;
};

// What was detected, once per process.
const CpuFeatures& cpu_features();

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
