#include "backends/cpu/kernels.h"

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
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
    f.avx512vnni = __builtin_cpu_supports("avx512vnni");
    f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    // GCC's __builtin_cpu_supports has no "f16c" before GCC 14; read CPUID leaf 1, ECX bit 29.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) f.f16c = ((ecx >> 29) & 1u) != 0 && f.avx;
#elif defined(__aarch64__)
    f.neon = true;  // Advanced SIMD is mandatory on AArch64
#endif
    return f;
}

CpuKernels select_kernels() {
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
    // The SIMD kernel sets go here, chosen from cpu_features(), e.g.
    //   if (features.avx2 && features.fma && features.f16c) { k.vec_dot[Q4_K] = ...; k.variant = "avx2"; }
    k.variant = "scalar";
    return k;
}

}  // namespace

std::vector<std::string> CpuFeatures::names() const {
    std::vector<std::string> out;
    const std::pair<bool, const char*> all[] = {
        {sse3, "SSE3"},         {ssse3, "SSSE3"},       {avx, "AVX"},           {avx2, "AVX2"},
        {fma, "FMA"},           {f16c, "F16C"},         {avx512f, "AVX512F"},   {avx512bw, "AVX512BW"},
        {avx512vl, "AVX512VL"}, {avx512vnni, "AVX512_VNNI"}, {avx512bf16, "AVX512_BF16"}, {neon, "NEON"},
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

const CpuKernels& cpu_kernels() {
    static const CpuKernels kernels = select_kernels();
    return kernels;
}

}  // namespace ember::cpu
