#include "backends/cpu/kernels.h"

#include "backends/cpu/gemm.h"
#include "backends/cpu/gemm_f16.h"
#include "backends/cpu/kernels_arm.h"
#include "backends/cpu/kernels_x86.h"
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/vec_math.h"
#include "core/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace ember::cpu {
namespace {

CpuFeatures detect_features() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();  // needed before the first query when called from a static initializer
    f.sse3 = __builtin_cpu_supports("sse3");
    f.ssse3 = __builtin_cpu_supports("ssse3");
    f.avx = __builtin_cpu_supports("avx");
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    f.avx512vnni = __builtin_cpu_supports("avx512vnni");
    f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    // GCC's __builtin_cpu_supports has no "f16c" before GCC 14; read CPUID leaf 1, ECX bit 29.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) f.f16c = ((ecx >> 29) & 1u) != 0 && f.avx;
#elif defined(__aarch64__)
    f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__)
    // The kernel reports the optional extensions in AT_HWCAP (bit 20: ASIMDDP, SDOT/UDOT).
    f.neon_dotprod = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;
#endif
#endif
    return f;
}

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
    if (level == KernelLevel::Avx2 || level == KernelLevel::Avx512) {
        register_avx2_kernels(k);
        k.variant = "avx2";
    }
    if (level == KernelLevel::Avx512) {
        register_avx512_kernels(k, cpu_features().avx512vnni);
        k.variant = "avx512";
    }
    if (level == KernelLevel::Neon) {
        register_neon_kernels(k, cpu_features().neon_dotprod);
        k.variant = "neon";
    }
    register_f16_kernels(k, level);
    register_vec_math(k, level);
    register_norm_rope(k, level);
    if (level == KernelLevel::Neon) register_neon_vec_math(k);  // over vec_math's scalar rows
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

std::vector<std::string> CpuFeatures::names() const {
    std::vector<std::string> out;
    const std::pair<bool, const char*> all[] = {
        {sse3, "SSE3"},         {ssse3, "SSSE3"},       {avx, "AVX"},           {avx2, "AVX2"},
        {fma, "FMA"},           {f16c, "F16C"},         {avx512f, "AVX512F"},   {avx512bw, "AVX512BW"},
        {avx512vl, "AVX512VL"}, {avx512dq, "AVX512DQ"}, {avx512vnni, "AVX512_VNNI"}, {avx512bf16, "AVX512_BF16"}, {neon, "NEON"},
        {neon_dotprod, "DOTPROD"},
    };
    for (const auto& [present, name] : all) {
        if (present) out.emplace_back(name);
    }
    return out;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect_features();
    return features;
}

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
