// The CPU kernel levels the backend tests compare, level by level, against the scalar one.
#pragma once

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/kernel_levels.h"

#include <iostream>
#include <vector>

namespace ember::test {

// True where a SIMD level must run: AVX2 + FMA + F16C on x86-64, NEON (mandatory) on AArch64.
// A baseline x86-64 CPU (no AVX2) runs only the scalar table.
inline bool cpu_has_simd() {
#if defined(__aarch64__)
    return true;
#elif defined(__x86_64__)
    const auto& f = cpu::cpu_features();
    return f.avx2 && f.fma && f.f16c;
#else
    return false;
#endif
}

// The SIMD levels this CPU runs; prints the ones it does not (visibly: they are not tested).
inline std::vector<cpu::KernelLevel> simd_levels() {
    std::vector<cpu::KernelLevel> out;
    for (cpu::KernelLevel level : {cpu::KernelLevel::Avx2, cpu::KernelLevel::Avx512, cpu::KernelLevel::Neon}) {
        if (cpu::kernel_level_supported(level)) {
            out.push_back(level);
        } else {
            std::cout << "[ SIMD     ] " << cpu::kernel_level_name(level) << " not available on this CPU: NOT TESTED\n";
        }
    }
    return out;
}

}  // namespace ember::test
