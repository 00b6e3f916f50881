// The int8 roofline probe of `ember bench`: how many int8 x int8 multiply-adds per second the
// unit that the CPU backend's quantized matmuls run on can do. A quantized model's prompt
// processing multiplies int8 weights by int8 activations (Q8_0 / Q8_1 / Q8_K) into int32, so
// its roofline is this rate, not the FP32 FMA rate: on a CPU with AMX the two differ by 10-50x.
//
// The unit follows the kernel set in use (cpu_kernels(), so EMBER_CPU_KERNELS=avx2 measures
// the AVX2 loop): AMX-INT8 tiles where the AVX-512 set runs its gemms on AMX, AVX512_VNNI
// vpdpbusd, AVX2 maddubs + madd (what the AVX2 kernels do per 32 multiply-adds), or a
// portable loop. Each loop is compiled for its target with a function attribute and only
// runs when the kernel set (and so CPUID) says the CPU has it. Ops count 2 per multiply-add,
// as FLOPs do.
#include "bench/bench.h"

#include "backends/cpu/x86/amx_tile_config.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/kernel_levels.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__x86_64__)
#include <immintrin.h>
#define EMBER_INT8_PROBE_X86 1
#endif

// GCC 12's AVX-512 headers seed some intrinsics (reduce_add_epi32) with _mm512_undefined_*()
// and then warn about it at every use: a header false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember::bench {
namespace {

using Clock = std::chrono::steady_clock;

volatile int32_t g_sink_i32;

#ifdef EMBER_INT8_PROBE_X86
// 12 independent vpdpbusd chains of 64 multiply-adds each (latency 5, two ports on some cores).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double vnni_loop(int64_t iters) {
    const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    __m512i c[12];
    for (__m512i& v : c) v = _mm512_setzero_si512();
    for (int64_t i = 0; i < iters; ++i) {
        for (__m512i& v : c) v = _mm512_dpbusd_epi32(v, a, b);
    }
    __m512i s = c[0];
    for (int j = 1; j < 12; ++j) s = _mm512_add_epi32(s, c[j]);
    g_sink_i32 = _mm512_reduce_add_epi32(s);
    return static_cast<double>(iters) * 12 * 64 * 2;
}

// 8 independent chains of maddubs (32 u8 x s8 products into 16 pairs) + madd (pairs to int32)
// + add: the AVX2 kernels' integer inner loop.
__attribute__((target("avx2"))) double maddubs_loop_avx2(int64_t iters) {
    const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    __m256i c[8];
    for (__m256i& v : c) v = _mm256_setzero_si256();
    for (int64_t i = 0; i < iters; ++i) {
        for (__m256i& v : c) v = _mm256_add_epi32(v, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
    }
    __m256i s = c[0];
    for (int j = 1; j < 8; ++j) s = _mm256_add_epi32(s, c[j]);
    g_sink_i32 = _mm256_extract_epi32(s, 0) + _mm256_extract_epi32(s, 7);
    return static_cast<double>(iters) * 8 * 32 * 2;
}

// Four independent 16 x 16 int32 accumulators (tmm0-3) fed by two A tiles (tmm4-5, 16 x 64
// int8) and two B tiles (tmm6-7): 4 x 16 x 16 x 64 multiply-adds per iteration.
__attribute__((target("amx-tile,amx-int8"))) double amx_loop(int64_t iters) {
    cpu::TileConfig cfg;
    for (int t = 0; t < 8; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    alignas(64) static thread_local int8_t data[16 * 64];
    std::memset(data, 1, sizeof data);
    _tile_loadconfig(&cfg);
    _tile_loadd(4, data, 64);
    _tile_loadd(5, data, 64);
    _tile_loadd(6, data, 64);
    _tile_loadd(7, data, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t i = 0; i < iters; ++i) {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    alignas(64) static thread_local int32_t out[16 * 16];
    _tile_stored(0, out, 64);
    _tile_release();
    g_sink_i32 = out[0];
    return static_cast<double>(iters) * 4 * 16 * 16 * 64 * 2;
}
#endif

// Portable: 8 independent int32 multiply-add chains of int8 operands.
double int8_loop_scalar(int64_t iters) {
    int32_t c[8] = {};
    volatile int8_t va = 3, vb = -2;
    const int32_t a = va, b = vb;
    for (int64_t i = 0; i < iters; ++i) {
        for (int32_t& v : c) v += a * b;
    }
    int32_t s = 0;
    for (int32_t v : c) s += v;
    g_sink_i32 = s;
    return static_cast<double>(iters) * 8 * 2;
}

enum class Unit { Scalar, Avx2, Vnni, Amx };

Unit unit_in_use() {
#ifdef EMBER_INT8_PROBE_X86
    const std::string_view variant = cpu::cpu_kernels().variant;
    const bool vnni = cpu::cpu_features().avx512vnni;
    if (variant == "avx512" && vnni && cpu::amx_int8_usable()) return Unit::Amx;
    if (variant == "avx512" && vnni) return Unit::Vnni;
    if (variant == "avx512" || variant == "avx2") return Unit::Avx2;
#endif
    return Unit::Scalar;
}

double run_unit(Unit unit) {
    switch (unit) {
#ifdef EMBER_INT8_PROBE_X86
        case Unit::Amx: return amx_loop(2'500'000);  // ~80 ms: long enough to reach the AMX clock
        case Unit::Vnni: return vnni_loop(5'000'000);
        case Unit::Avx2: return maddubs_loop_avx2(5'000'000);
#endif
        default: return int8_loop_scalar(5'000'000);
    }
}

const char* unit_name(Unit unit) {
    switch (unit) {
        case Unit::Amx: return "amx-int8";
        case Unit::Vnni: return "avx512-vnni";
        case Unit::Avx2: return "avx2 maddubs";
        default: return "scalar";
    }
}

}  // namespace

double probe_peak_int8_gops(int threads, std::string* kernel) {
    threads = std::max(1, threads);
    const Unit unit = unit_in_use();  // before the threads: AMX asks Linux for the tile state once
    if (kernel != nullptr) *kernel = unit_name(unit);
    double best = 0;
    for (int run = 0; run < 4; ++run) {  // the first run also warms the cores up
        double ops = 0;
        const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : ops)
        ops += run_unit(unit);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (s > 0) best = std::max(best, ops / s / 1e9);
    }
    return best;
}

}  // namespace ember::bench
