// The instruction-set extensions of the machine ember runs on, asked once (CPUID on x86-64,
// HWCAP on AArch64). The kernel levels (kernel_levels.h) and `ember devices` read them.
#pragma once

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

}  // namespace ember::cpu
