// Dot-product kernels of the CPU backend's kernel table: one weight row of 4096
// elements against an activation row already in the paired vec_dot_type.
// Reports weight bytes read per second (the tg roofline is memory bandwidth).
#include "backends/cpu/kernel_levels.h"
#include "ember/type.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace {

using ember::Type;

void BM_VecDot(benchmark::State& state, Type type) {
    const auto& k = ember::cpu::cpu_kernels();
    const auto id = static_cast<uint32_t>(type);
    const Type act = k.vec_dot_type[id];
    constexpr int64_t n = 4096;
    constexpr int rows = 256;  // 256 rows: beyond L2 for the big types, like a real matrix

    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    std::vector<float> x(n * rows), y(n);
    for (float& v : x) v = dist(rng);
    for (float& v : y) v = dist(rng);

    const size_t row_bytes = ember::row_size(type, n);
    std::vector<uint8_t> w(row_bytes * rows), a(ember::row_size(act, n));
    for (int r = 0; r < rows; ++r) k.quantize_row[id](x.data() + r * n, w.data() + r * row_bytes, n);
    k.quantize_row[static_cast<uint32_t>(act)](y.data(), a.data(), n);

    int r = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(k.vec_dot[id](n, w.data() + r * row_bytes, a.data()));
        r = (r + 1) % rows;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(row_bytes));
    state.SetLabel(k.variant);
}

void BM_QuantizeActivations(benchmark::State& state, Type act) {
    const auto& k = ember::cpu::cpu_kernels();
    constexpr int64_t n = 4096;
    std::vector<float> y(n, 0.5f);
    std::vector<uint8_t> a(ember::row_size(act, n));
    for (auto _ : state) {
        k.quantize_row[static_cast<uint32_t>(act)](y.data(), a.data(), n);
        benchmark::DoNotOptimize(a.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * 4);
}

}  // namespace

BENCHMARK_CAPTURE(BM_VecDot, F32, Type::F32);
BENCHMARK_CAPTURE(BM_VecDot, F16, Type::F16);
BENCHMARK_CAPTURE(BM_VecDot, BF16, Type::BF16);
BENCHMARK_CAPTURE(BM_VecDot, Q8_0, Type::Q8_0);
BENCHMARK_CAPTURE(BM_VecDot, Q4_0, Type::Q4_0);
BENCHMARK_CAPTURE(BM_VecDot, Q4_1, Type::Q4_1);
BENCHMARK_CAPTURE(BM_VecDot, Q5_0, Type::Q5_0);
BENCHMARK_CAPTURE(BM_VecDot, Q5_1, Type::Q5_1);
BENCHMARK_CAPTURE(BM_VecDot, Q4_K, Type::Q4_K);
BENCHMARK_CAPTURE(BM_VecDot, Q5_K, Type::Q5_K);
BENCHMARK_CAPTURE(BM_VecDot, Q6_K, Type::Q6_K);
BENCHMARK_CAPTURE(BM_QuantizeActivations, Q8_0, Type::Q8_0);
BENCHMARK_CAPTURE(BM_QuantizeActivations, Q8_K, Type::Q8_K);
