// The two roofline probes of `ember bench`: memory read bandwidth and peak FP32 FLOP rate.
//
// The AVX2+FMA, AVX2 and AVX-512 loops are compiled for their targets with function attributes
// (not a per-file -mavx2), so no other code in this file — inline library functions included —
// can end up with those instructions on a machine without them; each runs only when CPUID
// reports its features.
#include "bench/bench.h"

#include "backends/cpu/kernel_levels.h"
#include "core/error.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EMBER_PROBE_X86 1
#endif

namespace ember::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

volatile float g_sink_f32;

// ---- memory bandwidth --------------------------------------------------------------------
//
// Each thread reads its share of the buffer as S interleaved streams: the share is cut into S
// equal parts and every step reads one 256-byte block from each part in turn. Why several
// streams: the L2 hardware prefetcher tracks a stream per 4 KiB page, and one sequential stream
// per core keeps too few cache-line misses outstanding to saturate DRAM (on the Sapphire Rapids
// development VM, AVX-512, 2 threads, 4-8 streams read about 1.3× what one stream does). The
// best S differs between machines, so the probe times S = 1, 2, 4, 8 and keeps the fastest. Each loop sums the words it
// reads so that the result can be checked (every word read exactly once) and the loads cannot be optimized away.

constexpr int64_t kBlockWords = 32;  // 256 bytes: a block of one stream per step
constexpr int64_t kPageWords = 512;  // 4 KiB: thread shares start on a page boundary

// Sums the `n` words the streams loops leave over after S · part words (at most S blocks).
uint64_t sum_tail(const uint64_t* p, int64_t n) {
    uint64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += p[i];
    return s;
}

// Portable: plain 64-bit adds (the baseline compiler flags vectorize them to SSE2 at most).
template <int S>
uint64_t sum_streams_portable(const uint64_t* p, int64_t n) {
    const int64_t part = n / S / kBlockWords * kBlockWords;
    uint64_t acc[S] = {};
    for (int64_t i = 0; i < part; i += kBlockWords) {
        for (int s = 0; s < S; ++s) {
            const uint64_t* q = p + s * part + i;
            uint64_t a = 0;
            for (int64_t j = 0; j < kBlockWords; ++j) a += q[j];
            acc[s] += a;
        }
    }
    uint64_t total = sum_tail(p + S * part, n - S * part);
    for (uint64_t a : acc) total += a;
    return total;
}

#ifdef EMBER_PROBE_X86
// AVX2: eight 32-byte loads per block.
template <int S>
__attribute__((target("avx2"))) uint64_t sum_streams_avx2(const uint64_t* p, int64_t n) {
    const int64_t part = n / S / kBlockWords * kBlockWords;
    __m256i acc[S];
    for (int s = 0; s < S; ++s) acc[s] = _mm256_setzero_si256();
    for (int64_t i = 0; i < part; i += kBlockWords) {
        for (int s = 0; s < S; ++s) {
            const __m256i* q = reinterpret_cast<const __m256i*>(p + s * part + i);
            const __m256i a = _mm256_add_epi64(_mm256_load_si256(q + 0), _mm256_load_si256(q + 1));
            const __m256i b = _mm256_add_epi64(_mm256_load_si256(q + 2), _mm256_load_si256(q + 3));
            const __m256i c = _mm256_add_epi64(_mm256_load_si256(q + 4), _mm256_load_si256(q + 5));
            const __m256i d = _mm256_add_epi64(_mm256_load_si256(q + 6), _mm256_load_si256(q + 7));
            acc[s] = _mm256_add_epi64(acc[s], _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
        }
    }
    __m256i v = acc[0];
    for (int s = 1; s < S; ++s) v = _mm256_add_epi64(v, acc[s]);
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
    return sum_tail(lanes, 4) + sum_tail(p + S * part, n - S * part);
}

// AVX-512: four 64-byte loads (four cache lines) per block.
template <int S>
__attribute__((target("avx512f"))) uint64_t sum_streams_avx512(const uint64_t* p, int64_t n) {
    const int64_t part = n / S / kBlockWords * kBlockWords;
    __m512i acc[S];
    for (int s = 0; s < S; ++s) acc[s] = _mm512_setzero_si512();
    for (int64_t i = 0; i < part; i += kBlockWords) {
        for (int s = 0; s < S; ++s) {
            const uint64_t* q = p + s * part + i;
            const __m512i a = _mm512_add_epi64(_mm512_load_si512(q), _mm512_load_si512(q + 8));
            const __m512i b = _mm512_add_epi64(_mm512_load_si512(q + 16), _mm512_load_si512(q + 24));
            acc[s] = _mm512_add_epi64(acc[s], _mm512_add_epi64(a, b));
        }
    }
    __m512i v = acc[0];
    for (int s = 1; s < S; ++s) v = _mm512_add_epi64(v, acc[s]);
    alignas(64) uint64_t lanes[8];  // not _mm512_reduce_add_epi64: GCC 12 warns inside it (-Wuninitialized)
    _mm512_store_si512(lanes, v);
    return sum_tail(lanes, 8) + sum_tail(p + S * part, n - S * part);
}
#endif

using SumStreamsFn = uint64_t (*)(const uint64_t* p, int64_t n);

struct ReadPattern {
    int streams;
    SumStreamsFn sum;
};

// The read loops of the widest vector width this CPU has, one per stream count; `isa` receives
// its name.
std::vector<ReadPattern> read_patterns(std::string* isa) {
#ifdef EMBER_PROBE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *isa = "avx512";
        return {{1, sum_streams_avx512<1>},
                {2, sum_streams_avx512<2>},
                {4, sum_streams_avx512<4>},
                {8, sum_streams_avx512<8>}};
    }
    if (__builtin_cpu_supports("avx2")) {
        *isa = "avx2";
        return {{1, sum_streams_avx2<1>}, {2, sum_streams_avx2<2>}, {4, sum_streams_avx2<4>}, {8, sum_streams_avx2<8>}};
    }
#endif
    *isa = "portable";
    return {{1, sum_streams_portable<1>},
            {2, sum_streams_portable<2>},
            {4, sum_streams_portable<4>},
            {8, sum_streams_portable<8>}};
}

// Thread `ith` of `nth`'s share [lo, hi) of n words: page-aligned starts, the last share shorter.
std::pair<int64_t, int64_t> thread_share(int64_t n, int nth, int ith) {
    const int64_t chunk = ((n + nth - 1) / nth + kPageWords - 1) / kPageWords * kPageWords;
    const int64_t lo = std::min(n, chunk * ith);
    return {lo, std::min(n, lo + chunk)};
}

// 0 + 1 + ... + (n - 1) modulo 2^64: what a complete read of the buffer (word i holds i) sums to.
uint64_t sum_of_indices(int64_t n) {
    const auto u = static_cast<uint64_t>(n);
    return u % 2 == 0 ? u / 2 * (u - 1) : (u - 1) / 2 * u;
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

// The same with 16-wide AVX-512 FMAs: what the avx512 kernel set's float gemms (F16, BF16,
// F32 weights and the attention products) run on.
__attribute__((target("avx512f"))) double fma_loop_avx512(int64_t iters) {
    const __m512 b = _mm512_set1_ps(0.999999f);
    const __m512 c = _mm512_set1_ps(1e-6f);
    __m512 a[12];
    for (int j = 0; j < 12; ++j) a[j] = _mm512_set1_ps(0.1f * static_cast<float>(j + 1));
    for (int64_t i = 0; i < iters; ++i) {
        for (__m512& v : a) v = _mm512_fmadd_ps(v, b, c);
    }
    __m512 s = a[0];
    for (int j = 1; j < 12; ++j) s = _mm512_add_ps(s, a[j]);
    alignas(64) float out[16];
    _mm512_store_ps(out, s);
    g_sink_f32 = out[0] + out[15];
    return static_cast<double>(iters) * 12 * 16 * 2;
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

double probe_memory_bandwidth(int threads, size_t bytes, int runs, std::string* pattern) {
    threads = std::max(1, threads);
    const int64_t n = static_cast<int64_t>(bytes / sizeof(uint64_t));
    if (n <= 0) return 0;
    // Page-aligned, so that every block is too (thread shares start on a page, parts are whole blocks).
    const size_t alloc_bytes = (static_cast<size_t>(n) * sizeof(uint64_t) + 4095) / 4096 * 4096;
    std::unique_ptr<uint64_t, decltype(&std::free)> buf(static_cast<uint64_t*>(std::aligned_alloc(4096, alloc_bytes)),
                                                        &std::free);
    if (!buf) ember::fail("bandwidth probe: cannot allocate a {} MiB buffer", alloc_bytes >> 20);
    uint64_t* p = buf.get();
    // First touch by the threads that will read each share, so its pages sit on their NUMA node.
#pragma omp parallel num_threads(threads)
    {
        const auto [lo, hi] = thread_share(n, omp_get_num_threads(), omp_get_thread_num());
        for (int64_t i = lo; i < hi; ++i) p[i] = static_cast<uint64_t>(i);
    }

    std::string isa;
    const std::vector<ReadPattern> patterns = read_patterns(&isa);
    const uint64_t expected = sum_of_indices(n);
    double best = 0;
    int best_streams = 0;
    for (int run = 0; run < std::max(1, runs); ++run) {
        for (const ReadPattern& pat : patterns) {
            uint64_t total = 0;
            const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
            {
                const auto [lo, hi] = thread_share(n, omp_get_num_threads(), omp_get_thread_num());
                total += pat.sum(p + lo, hi - lo);
            }
            const double s = seconds_since(t0);
            if (total != expected) {
                ember::fail("bandwidth probe: the {} loop, {} stream(s)/thread, summed {}, not {}", isa, pat.streams,
                            total, expected);
            }
            const double gbs = s > 0 ? static_cast<double>(n) * sizeof(uint64_t) / s / 1e9 : 0;
            if (gbs > best) {
                best = gbs;
                best_streams = pat.streams;
            }
        }
    }
    if (pattern != nullptr)
        *pattern = fmt::format("{}, {} stream{}/thread", isa, best_streams, best_streams == 1 ? "" : "s");
    return best;
}

double probe_peak_gflops(int threads, std::string* kernel) {
    threads = std::max(1, threads);
    const bool simd = have_avx2_fma();
    // 512-bit FMAs only where the kernels in use are the avx512 set (EMBER_CPU_KERNELS may cap it)
    const bool wide = simd && std::string_view(cpu::cpu_kernels().variant) == "avx512";
    if (kernel != nullptr) *kernel = wide ? "avx512f" : simd ? "avx2+fma" : "scalar";
    double best = 0;
    for (int run = 0; run < 4; ++run) {  // the first run also warms the cores up to their AVX clock
        double flops = 0;
        const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        {
#ifdef EMBER_PROBE_X86
            flops += wide ? fma_loop_avx512(kFmaIters) : simd ? fma_loop_avx2(kFmaIters) : fma_loop_scalar(kFmaIters / 4);
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
    p.bandwidth_gbs = probe_memory_bandwidth(p.threads, bandwidth_bytes, kBandwidthRuns, &p.bandwidth_pattern);
    p.peak_gflops = probe_peak_gflops(p.threads, &p.flops_kernel);
    p.peak_int8_gops = probe_peak_int8_gops(p.threads, &p.int8_kernel);
    return p;
}

}  // namespace ember::bench
