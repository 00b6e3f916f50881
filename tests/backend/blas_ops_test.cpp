// The BLAS backend against the plain mul_mat reference, for every weight type.
//
// BLAS multiplies the dequantized weights with the F32 activations as they are (the CPU
// backend first rounds activations to its vec_dot type), so its reference is the double-
// precision product of the dequantized weights with the unrounded activations, and only
// F32 summation order separates the two: the threshold is tight. Each case also runs on the
// CPU backend, whose activation rounding allows a looser agreement. Beyond the numbers:
// the batch threshold decides supports_op, the scheduler sends mul_mat to BLAS and the rest
// to the CPU without copies, and bad settings fail clearly.
#ifdef EMBER_WITH_BLAS

#include "backend/op_cases.h"
#include "backend/op_harness.h"

#include "backends/blas/blas_backend.h"
#include "backends/cpu/cpu_backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "core/scheduler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

namespace ember::test {
namespace {

using Ne = std::array<int64_t, 4>;

// Sets (or clears) an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

// How a source is laid out in memory.
enum class Layout {
    Dense,
    RowStride,   // rows are the first half of the rows of a tensor twice as wide
    Permuted,    // stored with dims 1 and 2 swapped, then permuted back (rows stay dense)
    Transposed,  // stored with dims 0 and 1 swapped, then transposed back (F32 activations only)
};

const char* layout_name(Layout l) {
    switch (l) {
        case Layout::Dense: return "dense";
        case Layout::RowStride: return "rowstride";
        case Layout::Permuted: return "permuted";
        case Layout::Transposed: return "transposed";
    }
    return "?";
}

Tensor* make_src(Context& ctx, Rng& rng, Type type, Ne ne, Layout layout) {
    switch (layout) {
        case Layout::Dense: return random_tensor(ctx, rng, type, ne);
        case Layout::RowStride: {
            Tensor* wide = random_tensor(ctx, rng, type, {2 * ne[0], ne[1], ne[2], ne[3]});
            return ops::view(ctx, *wide, ne, {wide->nb[1], wide->nb[2], wide->nb[3]}, 0);
        }
        case Layout::Permuted: return ops::permute(ctx, *random_tensor(ctx, rng, type, {ne[0], ne[2], ne[1], ne[3]}), {0, 2, 1, 3});
        case Layout::Transposed: return ops::transpose(ctx, *random_tensor(ctx, rng, type, {ne[1], ne[0], ne[2], ne[3]}));
    }
    return nullptr;
}

struct Shape {
    int64_t K, N, M;
    int64_t a2 = 1, a3 = 1, b2 = 1, b3 = 1;
};

// y[n, m, i2, i3] = Σ_k a[k, n, i2 / r2, i3 / r3] · b[k, m, i2, i3] in double, a dequantized.
std::vector<double> mul_mat_reference(const Tensor& a, const Tensor& b) {
    const int64_t K = a.ne[0], N = a.ne[1], M = b.ne[1];
    const int64_t r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
    std::vector<double> out;
    for (int64_t i3 = 0; i3 < b.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < b.ne[2]; ++i2) {
            std::vector<std::vector<float>> w;
            for (int64_t n = 0; n < N; ++n) w.push_back(row_values(a, n, i2 / r2, i3 / r3));
            for (int64_t m = 0; m < M; ++m)
                for (int64_t n = 0; n < N; ++n) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < K; ++k) sum += double(w[n][k]) * value(b, k, m, i2, i3);
                    out.push_back(sum);
                }
        }
    return out;
}

OpCase blas_case(Type type, Shape s, Layout la, Layout lb, double max_nmse) {
    OpCase c;
    c.name = fmt::format("mul_mat {} K={} N={} M={} a[{},{}] b[{},{}] a:{} b:{}", type_name(type), s.K, s.N, s.M, s.a2, s.a3,
                         s.b2, s.b3, layout_name(la), layout_name(lb));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, type, {s.K, s.N, s.a2, s.a3}, la);
        Tensor* b = make_src(ctx, rng, Type::F32, {s.K, s.M, s.b2, s.b3}, lb);
        Tensor* out = ops::mul_mat(ctx, *a, *b);
        return Built{out, {{"vs dequantized weights x F32 activations", [=] { return mul_mat_reference(*a, *b); }, max_nmse}}};
    };
    return c;
}

// Odd shapes (one row, one column, K of one block and of several, N and M not multiples of
// anything), grouped-query broadcast over dims 2 and 3, and non-contiguous sources.
std::vector<OpCase> cases_for(Type t, double max_nmse) {
    const int64_t bs = block_size(t);
    const int64_t k1 = bs == 1 ? 33 : bs;
    const int64_t k3 = bs == 1 ? 96 : 3 * bs;
    std::vector<OpCase> cases;
    for (Shape s : {Shape{k1, 5, 3}, Shape{k3, 19, 17}, Shape{k1, 1, 1}, Shape{k3, 33, 2}, Shape{k1, 1, 9},
                    Shape{k1, 4, 3, 2, 1, 4, 1}, Shape{k1, 3, 2, 1, 1, 2, 2}, Shape{k1, 5, 4, 2, 3, 4, 3}}) {
        cases.push_back(blas_case(t, s, Layout::Dense, Layout::Dense, max_nmse));
    }
    const Shape s{2 * k1, 6, 5, 2, 1, 4, 1};
    cases.push_back(blas_case(t, s, Layout::RowStride, Layout::Dense, max_nmse));
    cases.push_back(blas_case(t, s, Layout::Dense, Layout::Permuted, max_nmse));
    cases.push_back(blas_case(t, s, Layout::Permuted, Layout::Transposed, max_nmse));
    cases.push_back(blas_case(t, s, Layout::RowStride, Layout::RowStride, max_nmse));
    return cases;
}

// F32 summation of at most a few hundred terms against a double reference.
constexpr double kTight = 1e-9;

// Threshold 1: BLAS takes every batch, so every case runs on it.
BackendOptions every_batch(int n_threads) {
    BackendOptions o;
    o.n_threads = n_threads;
    o.min_batch = 1;
    return o;
}

class BlasOps : public ::testing::TestWithParam<Type> {};

TEST_P(BlasOps, MulMatMatchesTheReference) {
    const Type t = GetParam();
    auto blas = blas::make_backend(every_batch(3));
    const uint64_t calls = blas::sgemm_calls();
    RunOptions must_run;  // no skipping: an unsupported node is an error
    run_cases(*blas, cases_for(t, kTight), must_run);
    EXPECT_GT(blas::sgemm_calls(), calls) << "BLAS never called sgemm";
}

// The same cases on the CPU backend: both backends agree up to the CPU's activation rounding
// (F16, BF16 or 8-bit blocks; the CPU backend's own tests check that rounding tightly).
TEST_P(BlasOps, MulMatAgreesWithTheCpuBackend) {
    const Type t = GetParam();
    auto blas = blas::make_backend(every_batch(2));
    auto cpu = cpu::make_backend(2);
    for (const OpCase& c : cases_for(t, 1e-3)) {
        SCOPED_TRACE(c.name);
        const CaseResult on_blas = run_case(*blas, c);
        const CaseResult on_cpu = run_case(*cpu, c);
        EXPECT_LE(nmse(on_blas.got, on_cpu.got), 1e-3);
    }
}

TEST_P(BlasOps, OneThreadGivesTheSameAccuracy) {
    auto blas = blas::make_backend(every_batch(1));
    run_cases(*blas, cases_for(GetParam(), kTight));
}

INSTANTIATE_TEST_SUITE_P(EveryWeightType, BlasOps, ::testing::ValuesIn(mul_mat_weight_types()),
                         [](const auto& info) { return std::string(type_name(info.param)); });

TEST(BlasBackend, CoversEveryWeightType) {
    const std::vector<Type> types = mul_mat_weight_types();
    for (Type t : {Type::F32, Type::F16, Type::BF16, Type::Q8_0, Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1,
                   Type::Q4_K, Type::Q5_K, Type::Q6_K}) {
        EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << type_name(t);
    }
}

// Large enough for several dequantization chunks and the parallel paths: K = 4096 floats is
// 16 KiB a row, so the 16 MiB chunk holds 1024 rows and N = 2500 takes three chunks.
TEST(BlasBackend, SeveralWeightChunks) {
    auto blas = blas::make_backend(every_batch(2));
    run_cases(*blas, {blas_case(Type::Q8_0, Shape{4096, 2500, 3}, Layout::Dense, Layout::Dense, kTight)}, {});
}

// A mul_mat node of weight type t with an activation batch of m.
struct Node {
    Context ctx{1 << 20, /*no_alloc=*/true};
    Tensor* out;
    Node(Type t, int64_t m) {
        Tensor* a = ctx.new_tensor_2d(t, block_size(t) * 2, 4);
        Tensor* b = ctx.new_tensor_2d(Type::F32, block_size(t) * 2, m);
        out = ops::mul_mat(ctx, *a, *b);
    }
};

TEST(BlasBackend, ExplicitThresholdDecidesSupport) {
    ScopedEnv no_env("EMBER_BLAS_MIN_BATCH", nullptr);
    BackendOptions o;
    o.min_batch = 8;
    auto blas = blas::make_backend(o);
    for (Type t : mul_mat_weight_types()) {
        EXPECT_FALSE(blas->supports_op(*Node(t, 7).out)) << type_name(t);
        EXPECT_TRUE(blas->supports_op(*Node(t, 8).out)) << type_name(t);
        EXPECT_TRUE(blas->supports_op(*Node(t, 300).out)) << type_name(t);
    }
}

TEST(BlasBackend, AutomaticThresholdFollowsTheTable) {
    ScopedEnv no_env("EMBER_BLAS_MIN_BATCH", nullptr);
    auto blas = blas::make_backend({});
    for (Type t : mul_mat_weight_types()) {
        const int64_t min = blas::auto_min_batch(t);
        ASSERT_GE(min, 1) << type_name(t);
        if (min == blas::kNeverBatch) {
            EXPECT_FALSE(blas->supports_op(*Node(t, 4096).out)) << type_name(t);
            continue;
        }
        EXPECT_FALSE(blas->supports_op(*Node(t, min - 1).out)) << type_name(t);
        EXPECT_TRUE(blas->supports_op(*Node(t, min).out)) << type_name(t);
    }
    // One token at a time (generation) never goes to BLAS.
    for (Type t : mul_mat_weight_types()) EXPECT_FALSE(blas->supports_op(*Node(t, 1).out)) << type_name(t);
}

TEST(BlasBackend, EnvironmentOverridesTheTableAndOptionsOverrideTheEnvironment) {
    ScopedEnv env("EMBER_BLAS_MIN_BATCH", "5");
    auto from_env = blas::make_backend({});
    EXPECT_FALSE(from_env->supports_op(*Node(Type::Q4_K, 4).out));
    EXPECT_TRUE(from_env->supports_op(*Node(Type::Q4_K, 5).out));
    BackendOptions o;
    o.min_batch = 2;
    auto from_options = blas::make_backend(o);
    EXPECT_TRUE(from_options->supports_op(*Node(Type::Q4_K, 2).out));
}

TEST(BlasBackend, BadSettingsFailClearly) {
    {
        ScopedEnv env("EMBER_BLAS_MIN_BATCH", "lots");
        try {
            (void)blas::make_backend({});
            ADD_FAILURE() << "a bad EMBER_BLAS_MIN_BATCH was accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("EMBER_BLAS_MIN_BATCH must be a positive integer"), std::string::npos)
                << e.what();
        }
    }
    for (const char* bad : {"0", "-3", "12x", ""}) {
        ScopedEnv env("EMBER_BLAS_MIN_BATCH", bad);
        if (*bad == '\0') {
            EXPECT_NO_THROW((void)blas::make_backend({}));  // empty means unset
        } else {
            EXPECT_THROW((void)blas::make_backend({}), Error) << bad;
        }
    }
    BackendOptions o;
    o.min_batch = -1;
    EXPECT_THROW((void)blas::make_backend(o), Error);
}

TEST(BlasBackend, OnlyMulMat) {
    auto blas = blas::make_backend(every_batch(1));
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* x = ctx.new_tensor_2d(Type::F32, 64, 64);
    EXPECT_FALSE(blas->supports_op(*ops::add(ctx, *x, *x)));
    EXPECT_FALSE(blas->supports_op(*ops::rms_norm(ctx, *x, 1e-5f)));
    EXPECT_FALSE(blas->supports_op(*ops::soft_max(ctx, *x, nullptr, 1.0f)));
    EXPECT_FALSE(blas->supports_op(*ops::cont(ctx, *ops::transpose(ctx, *x))));
    EXPECT_TRUE(blas->supports_op(*ops::mul_mat(ctx, *x, *x)));
    EXPECT_FALSE(blas->supports_op(*ops::top_k(ctx, *x, 4)));
    EXPECT_FALSE(blas->supports_op(*ops::sum_rows(ctx, *x)));
    EXPECT_FALSE(blas->supports_op(*ops::div(ctx, *x, *x)));
    EXPECT_FALSE(blas->supports_op(*ops::tanh(ctx, *x)));
    Tensor* experts = ctx.new_tensor_3d(Type::F32, 64, 16, 4);
    Tensor* ids = ctx.new_tensor_2d(Type::I32, 2, 64);
    EXPECT_FALSE(blas->supports_op(*ops::mul_mat_id(ctx, *experts, *ops::reshape_3d(ctx, *x, 64, 1, 64), *ids)));
}

// mul_mat on BLAS, everything else on the CPU: the scheduler splits the graph and makes no
// copies (both backends compute on host memory), and the result matches the reference.
TEST(BlasBackend, SchedulerSendsOnlyMulMatToBlas) {
    ScopedEnv no_env("EMBER_BLAS_MIN_BATCH", nullptr);
    BackendOptions o;
    o.n_threads = 2;
    o.min_batch = 4;
    auto blas = blas::make_backend(o);
    auto cpu = cpu::make_backend(2);
    Scheduler sched({blas.get(), cpu.get()});

    Context ctx(16 << 20);
    Rng rng(7);
    Tensor* w = random_tensor(ctx, rng, Type::Q4_K, {256, 40, 1, 1});
    w->flags |= kFlagWeight;
    Tensor* x = random_tensor(ctx, rng, Type::F32, {256, 6, 1, 1});
    Tensor* bias = random_tensor(ctx, rng, Type::F32, {40, 6, 1, 1});
    Tensor* y = ops::mul_mat(ctx, *w, *x);
    Tensor* out = ops::add(ctx, *y, *bias);
    Graph graph({out});
    const uint64_t calls = blas::sgemm_calls();
    sched.compute(graph);

    EXPECT_EQ(sched.backend_of(*y), blas.get());
    EXPECT_EQ(sched.backend_of(*out), cpu.get());
    EXPECT_EQ(sched.n_copies(), 0u);
    EXPECT_GT(blas::sgemm_calls(), calls);
    std::vector<double> want = mul_mat_reference(*w, *x);
    for (size_t i = 0; i < want.size(); ++i) want[i] += value(*bias, int64_t(i % 40), int64_t(i / 40));
    EXPECT_LE(nmse(all_values(*out), want), kTight);
}

// Below the threshold the same graph runs on the CPU alone.
TEST(BlasBackend, SchedulerKeepsSmallBatchesOnTheCpu) {
    BackendOptions o;
    o.min_batch = 16;
    auto blas = blas::make_backend(o);
    auto cpu = cpu::make_backend(1);
    Scheduler sched({blas.get(), cpu.get()});
    Context ctx(16 << 20);
    Rng rng(8);
    Tensor* w = random_tensor(ctx, rng, Type::Q8_0, {64, 8, 1, 1});
    w->flags |= kFlagWeight;
    Tensor* y = ops::mul_mat(ctx, *w, *random_tensor(ctx, rng, Type::F32, {64, 15, 1, 1}));
    Graph graph({y});
    sched.compute(graph);
    EXPECT_EQ(sched.backend_of(*y), cpu.get());
}

// The ops of MoE and gemma2 models are the CPU's: BLAS does not claim them, and a graph with
// them runs with BLAS selected, the scheduler sending those nodes to the CPU.
TEST(BlasBackend, MoeOpsRunOnTheCpuThroughTheScheduler) {
    auto blas = blas::make_backend(every_batch(2));
    auto cpu = cpu::make_backend(2);
    bool blas_ran_a_mul_mat = false;
    std::vector<OpCase> cases = moe_chain_cases();
    for (const OpCase& c : mul_mat_id_cases()) {
        if (c.name.find("Q4_K") != std::string::npos) cases.push_back(c);
    }
    for (const OpCase& c : cases) {
        SCOPED_TRACE(c.name);
        const CaseResult r = run_case_scheduled({blas.get(), cpu.get()}, c);
        for (const auto& [op, backend] : r.placed) {
            if (op == Op::MulMat && backend == blas.get()) blas_ran_a_mul_mat = true;
            if (op != Op::MulMat) EXPECT_EQ(backend, cpu.get()) << op_name(op);
        }
    }
    EXPECT_TRUE(blas_ran_a_mul_mat) << "the router's mul_mat should run on BLAS";
}

TEST(BlasBackend, RegisteredAsBlas) {
    const BackendReg& reg = registry().get("blas");
    ASSERT_EQ(reg.device_count(), 1u);
    const DeviceInfo info = reg.device(0).info();
    EXPECT_EQ(info.kind, DeviceKind::Cpu);
    EXPECT_NE(info.description.find("OpenBLAS"), std::string::npos) << info.description;
    EXPECT_THROW((void)reg.device(1), Error);
    EXPECT_EQ(reg.device(0).create_backend({})->name(), "blas");
}

}  // namespace
}  // namespace ember::test

#endif  // EMBER_WITH_BLAS
