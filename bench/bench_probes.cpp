// The two roofline probes of `ember bench`: memory read bandwidth and peak FP32 FLOP rate.
//
// The AVX2+FMA loop is compiled for that target with a function attribute (not a per-file
// -mavx2), so no other code in this file — inline library functions included — can end up with
// AVX2 instructions on a machine without them; it only runs when CPUID reports AVX2 and FMA.
#include "bench/bench.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EMBER_PROBE_X86 1
#endif

namespace ember::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

volatile uint64_t g_sink_u64;
volatile float g_sink_f32;

// ---- memory bandwidth --------------------------------------------------------------------

// Sums n words with four independent accumulators (vectorizes to packed 64-bit adds).
uint64_t sum_words(const uint64_t* p, int64_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < n; ++i) s0 += p[i];
    return s0 + s1 + s2 + s3;
}

// ---- FLOP rate ---------------------------------------------------------------------------

constexpr int64_t kFmaIters = 20'000'000;

#ifdef EMBER_PROBE_X86
// 12 independent 8-wide FMA chains: enough to cover FMA latency (4-5 cycles) on two ports.
__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iters) {
    const __m256 b = _mm256_set1_ps(0.999999f);
    const __m256 c = _mm256_set1_ps(1e-6f);
    __m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f);
    __m256 a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f);
    __m256 a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f);
    __m256 a9 = _mm256_set1_ps(1.0f), a10 = _mm256_set1_ps(1.1f), a11 = _mm256_set1_ps(1.2f);
    for (int64_t i = 0; i < iters; ++i) {
        a0 = _mm256_fmadd_ps(a0, b, c);
        a1 = _mm256_fmadd_ps(a1, b, c);
        a2 = _mm256_fmadd_ps(a2, b, c);
        a3 = _mm256_fmadd_ps(a3, b, c);
        a4 = _mm256_fmadd_ps(a4, b, c);
        a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c);
        a7 = _mm256_fmadd_ps(a7, b, c);
        a8 = _mm256_fmadd_ps(a8, b, c);
        a9 = _mm256_fmadd_ps(a9, b, c);
        a10 = _mm256_fmadd_ps(a10, b, c);
        a11 = _mm256_fmadd_ps(a11, b, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    alignas(32) float out[8];
    _mm256_store_ps(out, s);
    g_sink_f32 = out[0] + out[7];
    return static_cast<double>(iters) * 12 * 8 * 2;  // FLOPs: an FMA is two
}

bool have_avx2_fma() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool have_avx2_fma() { return false; }
#endif

// Portable fallback: 8 independent multiply-add chains (2 FLOPs each, fused or not).
double fma_loop_scalar(int64_t iters) {
    float a[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    const float b = 0.999999f, c = 1e-6f;
    for (int64_t i = 0; i < iters; ++i) {
        for (float& x : a) x = x * b + c;
    }
    float s = 0;
    for (float x : a) s += x;
    g_sink_f32 = s;
    return static_cast<double>(iters) * 8 * 2;
}

}  // namespace

double probe_memory_bandwidth(int threads, size_t bytes, int runs) {
    threads = std::max(1, threads);
    const int64_t n = static_cast<int64_t>(bytes / sizeof(uint64_t));
    if (n <= 0) return 0;
    std::unique_ptr<uint64_t[]> buf(new uint64_t[static_cast<size_t>(n)]);
    uint64_t* p = buf.get();
    // First touch by the threads that will read each part (same static partition).
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<uint64_t>(i);

    double best = 0;
    for (int run = 0; run < std::max(1, runs); ++run) {
        uint64_t total = 0;
        const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
        {
            const int nth = omp_get_num_threads(), ith = omp_get_thread_num();
            const int64_t chunk = (n + nth - 1) / nth;
            const int64_t lo = std::min(n, chunk * ith), hi = std::min(n, lo + chunk);
            total += sum_words(p + lo, hi - lo);
        }
        const double s = seconds_since(t0);
        g_sink_u64 = total;
        if (s > 0) best = std::max(best, static_cast<double>(n) * sizeof(uint64_t) / s / 1e9);
    }
    return best;
}

double probe_peak_gflops(int threads, std::string* kernel) {
    threads = std::max(1, threads);
    const bool simd = have_avx2_fma();
    if (kernel != nullptr) *kernel = simd ? "avx2+fma" : "scalar";
    double best = 0;
    for (int run = 0; run < 4; ++run) {  // the first run also warms the cores up to their AVX clock
        double flops = 0;
        const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        {
#ifdef EMBER_PROBE_X86
            flops += simd ? fma_loop_avx2(kFmaIters) : fma_loop_scalar(kFmaIters / 4);
#else
            flops += fma_loop_scalar(kFmaIters / 4);
#endif
        }
        const double s = seconds_since(t0);
        if (s > 0) best = std::max(best, flops / s / 1e9);
    }
    return best;
}

Probes run_probes(int threads, size_t bandwidth_bytes) {
    Probes p;
    p.threads = std::max(1, threads);
    p.bandwidth_gbs = probe_memory_bandwidth(p.threads, bandwidth_bytes);
    p.peak_gflops = probe_peak_gflops(p.threads, &p.flops_kernel);
    return p;
}

}  // namespace ember::bench
