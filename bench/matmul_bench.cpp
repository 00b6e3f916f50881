// mul_mat's two compute paths on one thread, at the TinyLlama-1.1B matrix shapes
// (K x N weights: 2048 x 2048 attention, 2048 x 5632 FFN up/gate, 5632 x 2048 FFN down)
// by M activation rows (1: token generation, 512: a prompt), activations already in the
// weight's vec_dot_type (as after mul_mat's phase 1):
//   VecDot: one vec_dot per output over 16 x 16 tiles (op_mul_mat.cpp's tg path);
//   Gemm:   the kernel table's tile kernel over activation blocks of ~512 KB, as the op
//           calls it (op_mul_mat.cpp's pp path).
//   Gemv:   M = 1 only: the kernel table's gemv kernel over 8 row stretches read in
//           lockstep, 8 rows (one per stretch) per call, as the op's tg path calls it; also
//           reports weight bytes/s (on repeat the matrix sits in L2/L3: the kernel's speed
//           where memory is not the limit).
// FLOP/s = 2 K N M per iteration over CPU time (the machine is shared: CPU time is the
// steadier number). Run with --benchmark_filter=Q4_K etc. to pick types.
#include "backends/cpu/kernel_levels.h"
#include "ember/type.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

namespace {

using ember::Type;

struct Operands {
    int64_t K, N, M;
    size_t w_row, a_row;
    std::vector<uint8_t> w, a;
    std::vector<float> dst;
};

Operands make_operands(Type type, int64_t K, int64_t N, int64_t M) {
    const auto& k = ember::cpu::cpu_kernels();
    const auto id = static_cast<uint32_t>(type);
    const Type act = k.vec_dot_type[id];
    Operands o{K, N, M, ember::row_size(type, K), ember::row_size(act, K), {}, {}, {}};
    o.w.resize(o.w_row * static_cast<size_t>(N));
    o.a.resize(o.a_row * static_cast<size_t>(M));
    o.dst.resize(static_cast<size_t>(N * M));
    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    std::vector<float> x(static_cast<size_t>(K));
    for (int64_t r = 0; r < N; ++r) {
        for (float& v : x) v = dist(rng);
        k.quantize_row[id](x.data(), o.w.data() + static_cast<size_t>(r) * o.w_row, K);
    }
    for (int64_t r = 0; r < M; ++r) {
        for (float& v : x) v = dist(rng);
        k.quantize_row[static_cast<uint32_t>(act)](x.data(), o.a.data() + static_cast<size_t>(r) * o.a_row, K);
    }
    return o;
}

void report(benchmark::State& state, const Operands& o, const char* variant) {
    const double flops = 2.0 * static_cast<double>(o.K) * static_cast<double>(o.N) * static_cast<double>(o.M);
    state.counters["FLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(variant);
}

void BM_VecDot(benchmark::State& state, Type type) {
    const auto& k = ember::cpu::cpu_kernels();
    const auto vec_dot = k.vec_dot[static_cast<uint32_t>(type)];
    Operands o = make_operands(type, state.range(0), state.range(1), state.range(2));
    constexpr int64_t tile = 16;
    for (auto _ : state) {
        for (int64_t n0 = 0; n0 < o.N; n0 += tile) {
            for (int64_t m0 = 0; m0 < o.M; m0 += tile) {
                for (int64_t n = n0; n < std::min(o.N, n0 + tile); ++n) {
                    for (int64_t m = m0; m < std::min(o.M, m0 + tile); ++m) {
                        o.dst[static_cast<size_t>(m * o.N + n)] =
                            vec_dot(o.K, o.w.data() + static_cast<size_t>(n) * o.w_row, o.a.data() + static_cast<size_t>(m) * o.a_row);
                    }
                }
            }
        }
        benchmark::DoNotOptimize(o.dst.data());
    }
    report(state, o, k.variant);
}

void BM_Gemm(benchmark::State& state, Type type) {
    const auto& k = ember::cpu::cpu_kernels();
    const ember::cpu::GemmFn gemm = k.gemm[static_cast<uint32_t>(type)];
    if (gemm == nullptr) {
        state.SkipWithError("no gemm kernel for this type at this kernel level");
        return;
    }
    Operands o = make_operands(type, state.range(0), state.range(1), state.range(2));
    const int64_t block_m = std::max<int64_t>(16, static_cast<int64_t>((512u << 10) / o.a_row));
    for (auto _ : state) {
        for (int64_t m0 = 0; m0 < o.M; m0 += block_m) {
            const int64_t mb = std::min(block_m, o.M - m0);
            gemm(o.K, o.w.data(), o.w_row, o.a.data() + static_cast<size_t>(m0) * o.a_row, o.a_row,
                 o.dst.data() + static_cast<size_t>(m0 * o.N), static_cast<size_t>(o.N), o.N, mb);
        }
        benchmark::DoNotOptimize(o.dst.data());
    }
    report(state, o, k.variant);
}

void BM_Gemv(benchmark::State& state, Type type) {
    const auto& k = ember::cpu::cpu_kernels();
    const ember::cpu::GemmFn gemv = k.gemv[static_cast<uint32_t>(type)];
    if (gemv == nullptr) {
        state.SkipWithError("no gemv kernel for this type at this kernel level (mul_mat uses vec_dot)");
        return;
    }
    Operands o = make_operands(type, state.range(0), state.range(1), 1);
    constexpr int64_t streams = 8;
    const int64_t len = (o.N + streams - 1) / streams;  // rows per stretch; the last may be shorter
    float out[streams];
    for (auto _ : state) {
        for (int64_t i = 0; i < len; ++i) {
            int64_t nr = 0;
            while (nr < streams && nr * len + i < o.N) ++nr;
            gemv(o.K, o.w.data() + static_cast<size_t>(i) * o.w_row, static_cast<size_t>(len) * o.w_row, o.a.data(), o.a_row,
                 out, streams, nr, 1);
            for (int64_t s = 0; s < nr; ++s) o.dst[static_cast<size_t>(s * len + i)] = out[s];
        }
        benchmark::DoNotOptimize(o.dst.data());
    }
    report(state, o, k.variant);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(o.w.size()));
}

void shapes_m1(benchmark::internal::Benchmark* b) {
    b->ArgNames({"K", "N"});
    b->Args({2048, 2048});
    b->Args({2048, 5632});
    b->Args({5632, 2048});
    b->Unit(benchmark::kMillisecond);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"K", "N", "M"});
    for (int64_t m : {1, 512}) {
        b->Args({2048, 2048, m});
        b->Args({2048, 5632, m});
        b->Args({5632, 2048, m});
    }
    b->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK_CAPTURE(BM_VecDot, Q4_K, Type::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemm, Q4_K, Type::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemv, Q4_K, Type::Q4_K)->Apply(shapes_m1);
BENCHMARK_CAPTURE(BM_VecDot, Q5_K, Type::Q5_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemm, Q5_K, Type::Q5_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemv, Q5_K, Type::Q5_K)->Apply(shapes_m1);
BENCHMARK_CAPTURE(BM_VecDot, Q6_K, Type::Q6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemm, Q6_K, Type::Q6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemv, Q6_K, Type::Q6_K)->Apply(shapes_m1);
BENCHMARK_CAPTURE(BM_VecDot, Q8_0, Type::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemm, Q8_0, Type::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Gemv, Q8_0, Type::Q8_0)->Apply(shapes_m1);
