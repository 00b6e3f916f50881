// The CPU backend's kernel table: the one place where the backend picks, per format,
// the row conversions and dot products it runs. It is filled once, on first use, from
// what CPUID reports; ops read it and never call quant_traits() on the hot path.
//
// Today every entry is the scalar reference from quant/. SIMD kernels (AVX2, AVX-512,
// NEON) replace entries here when they arrive; each one must match the scalar reference
// it replaces (bit for bit for conversions, within tolerance for dot products).
#pragma once

#include "core/type.h"
#include "quant/quant.h"

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
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool neon = false;

    // Names of the extensions present, e.g. {"AVX", "AVX2", "FMA", "F16C"}.
    std::vector<std::string> names() const;
};

// What was detected, once per process.
const CpuFeatures& cpu_features();

struct CpuKernels {
    // Indexed by the type id. nullptr where ember has no kernel for that type.
    quant::ToFloatFn to_float[kTypeIdCount] = {};      // dequantize a row
    quant::FromFloatFn quantize_row[kTypeIdCount] = {};  // quantize a row of F32 (activations)
    quant::VecDotFn vec_dot[kTypeIdCount] = {};        // weight row . activation row (in vec_dot_type)
    Type vec_dot_type[kTypeIdCount] = {};              // the activation format vec_dot expects

    const char* variant = "scalar";  // which kernel set was chosen

    bool can_dequantize(Type t) const { return to_float[static_cast<uint32_t>(t)] != nullptr; }
    // True when mul_mat can use `t` as its weight type.
    bool can_mul_mat(Type t) const {
        const auto i = static_cast<uint32_t>(t);
        return vec_dot[i] != nullptr && quantize_row[static_cast<uint32_t>(vec_dot_type[i])] != nullptr;
    }
};

// The kernel table for this machine, chosen once (thread-safe).
const CpuKernels& cpu_kernels();

}  // namespace ember::cpu
