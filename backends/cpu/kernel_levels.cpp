#include "backends/cpu/kernel_levels.h"

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/vec_math.h"
#include "core/error.h"
#if defined(__x86_64__)
#include "backends/cpu/x86/x86_kernels.h"
#endif
#if defined(__aarch64__)
#include "backends/cpu/arm/arm_kernels.h"
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ember::cpu {
namespace {

CpuKernels build_kernels(KernelLevel level) {
    CpuKernels k;
    // Scalar references for every format quant/ knows. Types it rejects stay nullptr.
    for (uint32_t id = 0; id < kTypeIdCount; ++id) {
        const std::optional<Type> type = type_from_id(id);
        if (!type || !type_traits(*type).computable) continue;
        try {
            const quant::QuantTraits& q = quant::quant_traits(*type);
            k.to_float[id] = q.to_float;
            k.quantize_row[id] = q.from_float;
            k.vec_dot[id] = q.vec_dot;
            k.vec_dot_type[id] = q.vec_dot_type;
        } catch (const Error&) {
            // Not computable by quant/ (e.g. I32): no kernels.
        }
    }
    k.variant = "scalar";
    if (level == KernelLevel::Scalar) register_reference_gemm(k);  // SIMD levels bring their own (gemm.h)
    register_vec_math(k);  // the scalar rows; a SIMD level replaces them below
    register_norm_rope(k);
#if defined(__x86_64__)
    if (level == KernelLevel::Avx2 || level == KernelLevel::Avx512) {
        register_avx2_kernels(k);
        k.variant = "avx2";
    }
    if (level == KernelLevel::Avx512) {
        register_avx512_kernels(k, cpu_features().avx512vnni);
        k.variant = "avx512";
    }
    register_f16_kernels(k, level);
    register_x86_vec_math(k, level);
    register_x86_norm_rope(k, level);
#endif
#if defined(__aarch64__)
    if (level == KernelLevel::Neon) {
        register_neon_kernels(k, cpu_features().neon_dotprod);
        register_neon_vec_math(k);
        register_neon_norm_rope(k);
        k.variant = "neon";
    }
#endif
    return k;
}

KernelLevel best_supported_level() {
    if (kernel_level_supported(KernelLevel::Neon)) return KernelLevel::Neon;
    if (kernel_level_supported(KernelLevel::Avx512)) return KernelLevel::Avx512;
    if (kernel_level_supported(KernelLevel::Avx2)) return KernelLevel::Avx2;
    return KernelLevel::Scalar;
}

// The level cpu_kernels() uses: the best one, capped by EMBER_CPU_KERNELS.
KernelLevel chosen_level() {
    KernelLevel level = best_supported_level();
    const char* env = std::getenv("EMBER_CPU_KERNELS");
    if (env == nullptr || *env == '\0') return level;
    KernelLevel cap = level;
    if (std::strcmp(env, "scalar") == 0) {
        cap = KernelLevel::Scalar;
    } else if (std::strcmp(env, "avx2") == 0) {
        cap = KernelLevel::Avx2;
    } else if (std::strcmp(env, "avx512") == 0) {
        cap = KernelLevel::Avx512;
    } else if (std::strcmp(env, "neon") == 0) {
        cap = KernelLevel::Neon;
    } else {
        std::fprintf(stderr, "ember: ignoring unknown EMBER_CPU_KERNELS=%s (use scalar, avx2, avx512 or neon)\n", env);
        return level;
    }
    while (cap > KernelLevel::Scalar && !kernel_level_supported(cap)) cap = static_cast<KernelLevel>(static_cast<int>(cap) - 1);
    return cap < level ? cap : level;
}

}  // namespace

const char* kernel_level_name(KernelLevel level) {
    switch (level) {
        case KernelLevel::Scalar: return "scalar";
        case KernelLevel::Avx2: return "avx2";
        case KernelLevel::Avx512: return "avx512";
        case KernelLevel::Neon: return "neon";
    }
    return "?";
}

bool kernel_level_supported(KernelLevel level) {
    const CpuFeatures& f = cpu_features();
    (void)f;  // unused where no SIMD level is built
    switch (level) {
        case KernelLevel::Scalar: return true;
#if defined(__x86_64__)
        case KernelLevel::Avx2: return f.avx2 && f.fma && f.f16c;  // EMBER_TARGET_AVX2
        // Everything EMBER_TARGET_AVX512 (simd_target.h) lets the compiler use.
        case KernelLevel::Avx512:
            return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
#else
        case KernelLevel::Avx2:
        case KernelLevel::Avx512: return false;
#endif
#if defined(__aarch64__)
        case KernelLevel::Neon: return f.neon;
#else
        case KernelLevel::Neon: return false;
#endif
    }
    return false;
}

const CpuKernels& cpu_kernels_for(KernelLevel level) {
    if (!kernel_level_supported(level)) fail("CPU kernel level {} is not supported on this CPU", kernel_level_name(level));
    static const CpuKernels scalar = build_kernels(KernelLevel::Scalar);
    if (level == KernelLevel::Scalar) return scalar;
    if (level == KernelLevel::Neon) {
        static const CpuKernels neon = build_kernels(KernelLevel::Neon);
        return neon;
    }
    static const CpuKernels avx2 = build_kernels(KernelLevel::Avx2);
    if (level == KernelLevel::Avx2) return avx2;
    static const CpuKernels avx512 = build_kernels(KernelLevel::Avx512);
    return avx512;
}

const CpuKernels& cpu_kernels() {
    static const CpuKernels& kernels = cpu_kernels_for(chosen_level());
    return kernels;
}

}  // namespace ember::cpu
