#include "backends/cpu/cpu_features.h"

#include <utility>

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

}  // namespace ember::cpu
