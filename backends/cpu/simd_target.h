// The one way the CPU backend compiles code for an instruction set the running CPU may lack
// (see backends/cpu/README.md, "Writing SIMD"):
//
//   #include ...                       // every include first: what they define stays baseline
//   #include "backends/cpu/simd_target.h"
//
//   EMBER_TARGET_BEGIN(EMBER_TARGET_AVX2)
//   namespace ember::cpu::avx2 {       // a namespace of the level's own
//   namespace {                        // internal linkage: nothing here is one-definition-per-program
//   float vec_dot_q8_0(...) { ... intrinsics ... }
//   }  // namespace
//   }  // namespace ember::cpu::avx2
//   EMBER_TARGET_END
//
//   namespace ember::cpu {
//   void register_avx2_kernels(CpuKernels& k) { k.vec_dot[...] = avx2::vec_dot_q8_0; }  // baseline
//   }
//
// Only the functions defined between BEGIN and END get the instruction set. Inline and template
// functions of the headers included above keep the baseline target (an instantiation takes the
// target of its template's definition), so std::vector<float>::resize or ember::fail compiled
// here is the same baseline code as everywhere else: the linker may keep any copy. The
// compiler still inlines them into the SIMD functions (a baseline callee fits any caller).
// scripts/isa_scan checks every built binary for a function with external linkage that holds
// such instructions.
#pragma once

#define EMBER_SIMD_PRAGMA(text) _Pragma(#text)

#if defined(__clang__)
#define EMBER_TARGET_BEGIN(features) \
    EMBER_SIMD_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define EMBER_TARGET_END EMBER_SIMD_PRAGMA(clang attribute pop)
#else
#define EMBER_TARGET_BEGIN(features) EMBER_SIMD_PRAGMA(GCC push_options) EMBER_SIMD_PRAGMA(GCC target(features))
#define EMBER_TARGET_END EMBER_SIMD_PRAGMA(GCC pop_options)
#endif

// The instruction sets of the kernel levels (kernel_levels.h), each what kernel_level_supported()
// checks before anything compiled for it runs.
#define EMBER_TARGET_AVX2 "avx2,fma,f16c"
#define EMBER_TARGET_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"
// At the avx512 level, only where CPUID also reports AVX512_VNNI (vpdpbusd, vpdpwssd).
#define EMBER_TARGET_AVX512_VNNI "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"
// Only after amx_int8_usable() (gemm.h): AMX-TILE + AMX-INT8, which come with all of the above.
#define EMBER_TARGET_AMX "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,amx-tile,amx-int8"
