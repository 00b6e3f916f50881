// The Vulkan backend against the plain references of op_cases.cpp: every op family, with
// all tensors placed in device memory (the harness does that for backends that cannot
// read host memory), plus the registry entry and the fallback of unsupported ops.
// Built with the backend only (EMBER_VULKAN=ON): a build configured without it has nothing to
// test here. scripts/test configures with EMBER_VULKAN=ON, so CI cannot lose these silently.
#ifdef EMBER_WITH_VULKAN

#include "backend/op_cases.h"
#include "backend/op_harness.h"
#include "support/vulkan_support.h"

#include "backends/cpu/cpu_backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::test {
namespace {

class VulkanOps : public ::testing::Test {
protected:
    void SetUp() override {
        EMBER_REQUIRE_VULKAN();
        backend = registry().get("vulkan").device(0).create_backend({});
    }
    // No case may be skipped unless listed as unsupported.
    void run_all(const std::vector<OpCase>& cases) {
        RunOptions opt;
        opt.skip_unsupported = true;
        EXPECT_EQ(run_cases(*backend, cases, opt), 0) << "cases the Vulkan backend does not support";
    }
    std::unique_ptr<Backend> backend;
};

TEST_F(VulkanOps, GetRowsEveryType) { run_all(get_rows_cases()); }
TEST_F(VulkanOps, MulMatF32F16) { run_all(mul_mat_plain_cases(Activations::F32)); }
TEST_F(VulkanOps, MulMatQuantized) { run_all(mul_mat_quant_cases(Activations::F32)); }
TEST_F(VulkanOps, AddMulScale) { run_all(binary_cases()); }
TEST_F(VulkanOps, RmsNorm) { run_all(rms_norm_cases()); }
TEST_F(VulkanOps, Rope) { run_all(rope_cases()); }
TEST_F(VulkanOps, SoftMax) { run_all(soft_max_cases()); }
TEST_F(VulkanOps, SiluGeluSwiglu) { run_all(unary_cases()); }
TEST_F(VulkanOps, Argmax) { run_all(argmax_cases()); }
TEST_F(VulkanOps, Chain) { run_all(chain_cases()); }

// F32 <-> F16 copies and conts run on the device; copies of quantized blocks do not (the
// llama graph never makes them) and go to the CPU through the scheduler.
TEST_F(VulkanOps, CpyCont) {
    RunOptions opt;
    opt.skip_unsupported = true;
    int skipped = 0;
    for (const OpCase& c : copy_cases()) {
        SCOPED_TRACE(c.name);
        const bool quantized = c.name.find("Q8_0") != std::string::npos || c.name.find("Q4_K") != std::string::npos;
        const bool was_skipped = run_case(*backend, c, opt).skipped;
        EXPECT_EQ(was_skipped, quantized);
        skipped += was_skipped;
    }
    EXPECT_EQ(skipped, 2);
}

// mul_mat chooses the matrix-vector shader for up to 4 columns and the tiled one above:
// both, around the switch and across tile edges, for a K-quant and a legacy type.
TEST_F(VulkanOps, MulMatBothPaths) {
    for (Type t : {Type::Q4_K, Type::Q5_0, Type::F16}) {
        for (int64_t M : {1, 4, 5, 31, 32, 33, 70}) {
            const int64_t K = 512, N = 45;
            OpCase c;
            c.name = fmt::format("mul_mat {} M={}", type_name(t), M);
            c.build = [&](Context& cx, Rng& r) {
                Tensor* aa = random_tensor(cx, r, t, {K, N, 1, 1});
                Tensor* bb = random_tensor(cx, r, Type::F32, {K, M, 1, 1});
                Tensor* out = ops::mul_mat(cx, *aa, *bb);
                auto ref = [=] {
                    std::vector<double> v;
                    for (int64_t m = 0; m < M; ++m) {
                        for (int64_t n = 0; n < N; ++n) {
                            const std::vector<float> w = row_values(*aa, n);
                            double s = 0;
                            for (int64_t k = 0; k < K; ++k) s += static_cast<double>(w[k]) * value(*bb, k, m);
                            v.push_back(s);
                        }
                    }
                    return v;
                };
                return Built{out, {{"vs F32 activations", ref, 1e-9}}};
            };
            SCOPED_TRACE(c.name);
            run_case(*backend, c);
        }
    }
}

TEST_F(VulkanOps, RegistryAndDevice) {
    const BackendReg& reg = registry().get("vulkan");
    ASSERT_GE(reg.device_count(), 1u);
    const DeviceInfo info = reg.device(0).info();
    EXPECT_FALSE(info.description.empty());
    EXPECT_GT(info.memory_total, 0u);
    const auto has_prefix = [&](const std::string& p) {
        return std::any_of(info.properties.begin(), info.properties.end(),
                           [&](const std::string& s) { return s.rfind(p, 0) == 0; });
    };
    EXPECT_TRUE(has_prefix("subgroup size ")) << "properties list the subgroup size";
    EXPECT_TRUE(has_prefix("fp16") || has_prefix("no fp16"));
    EXPECT_TRUE(has_prefix("int8") || has_prefix("no int8"));
    try {
        reg.device(reg.device_count());
        FAIL() << "no error for a device past the end";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no device"), std::string::npos) << e.what();
    }
    EXPECT_EQ(backend->name(), "vulkan");
    EXPECT_FALSE(backend->buffer_type().is_host());
    EXPECT_FALSE(backend->supports_buffer(HostBufferType::instance()));
}

// Device buffers: data set and read back through every path, including offsets.
TEST_F(VulkanOps, BufferRoundTrip) {
    auto buffer = backend->buffer_type().allocate(1000);
    Tensor t;
    t.type = Type::F32;
    t.ne = {250, 1, 1, 1};
    t.nb = contiguous_strides(Type::F32, t.ne);
    t.buffer = buffer.get();
    t.data = buffer->base();
    std::vector<float> in(250), out(250, -1.0f);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i) * 0.5f;
    tensor_set(t, in.data(), 0, 1000);
    tensor_get(t, out.data(), 0, 1000);
    EXPECT_EQ(in, out);
    std::vector<float> part(10);
    tensor_get(t, part.data(), 40 * 4, 40);
    EXPECT_EQ(part[0], 20.0f);
    buffer->clear(0);
    tensor_get(t, out.data(), 0, 1000);
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float v) { return v == 0.0f; }));
}

// With the CPU as fallback, the scheduler runs what Vulkan supports on the device and the
// rest (here a copy of Q8_0 blocks, which has no shader) on the CPU, copying activations
// across in both directions.
TEST_F(VulkanOps, SchedulerFallsBackToCpu) {
    constexpr int64_t K = 64, N = 32, M = 3;
    auto cpu = cpu::make_backend(2);
    Rng rng(5);
    // Weights: w in device memory, q (Q8_0) in host memory.
    Context host_ctx(1 << 20);
    Tensor* q = random_tensor(host_ctx, rng, Type::Q8_0, {N, 4, 1, 1});
    Context weights_ctx(1 << 20, /*no_alloc=*/true);
    Tensor* w = weights_ctx.new_tensor_2d(Type::F32, K, N);
    auto wbuf = backend->buffer_type().allocate(w->nbytes());
    w->buffer = wbuf.get();
    w->data = wbuf->base();
    std::vector<float> wv(K * N);
    for (float& v : wv) v = rng.uniform(-1, 1);
    tensor_set(*w, wv.data(), 0, wv.size() * 4);

    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* x = ctx.new_tensor_2d(Type::F32, K, M);
    Tensor* ids = ctx.new_tensor_1d(Type::I32, M);
    Tensor* y = ops::silu(ctx, *ops::mul_mat(ctx, *w, *x));  // [N, M] on Vulkan: w lives there
    Tensor* qc = ops::cpy(ctx, *q, *ctx.new_tensor_2d(Type::Q8_0, N, 4));  // Q8_0 blocks: CPU only
    Tensor* rows = ops::get_rows(ctx, *qc, *ids);            // [N, M]
    Tensor* out = ops::add(ctx, *rows, *y);
    Graph g({out});
    Scheduler sched({backend.get(), cpu.get()});
    sched.allocate(g);
    std::vector<float> xv(K * M);
    for (float& v : xv) v = rng.uniform(-1, 1);
    tensor_set(*x, xv.data(), 0, xv.size() * 4);
    const int32_t idv[M] = {2, 0, 3};
    tensor_set(*ids, idv, 0, sizeof idv);
    sched.compute(g);

    EXPECT_EQ(sched.backend_of(*y), backend.get());
    EXPECT_EQ(sched.backend_of(*qc), cpu.get());
    EXPECT_GE(sched.splits().size(), 2u);
    EXPECT_GE(sched.n_copies(), 1u);
    std::vector<float> got(N * M);
    tensor_get(*out, got.data(), 0, got.size() * 4);
    for (int64_t m = 0; m < M; ++m) {
        const std::vector<float> qrow = row_values(*q, idv[m]);
        for (int64_t n = 0; n < N; ++n) {
            double s = 0;
            for (int64_t k = 0; k < K; ++k) s += static_cast<double>(wv[n * K + k]) * xv[m * K + k];
            EXPECT_NEAR(got[m * N + n], qrow[n] + s / (1 + std::exp(-s)), 1e-5) << n << "," << m;
        }
    }
}

// The ops of MoE and gemma2 models are the CPU's for now: Vulkan does not claim them, and a
// graph with them, every tensor in device memory, runs with Vulkan selected: the scheduler runs
// the router's mul_mat and soft_max on the device and sends top_k, mul_mat_id (its experts
// copied out), sum_rows, div and tanh to the CPU.
TEST_F(VulkanOps, MoeOpsFallBackToCpu) {
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* x = ctx.new_tensor_2d(Type::F32, 64, 5);
    Tensor* experts = ctx.new_tensor_3d(Type::Q4_K, 256, 8, 4);
    Tensor* ids = ctx.new_tensor_2d(Type::I32, 2, 5);
    Tensor* xs = ctx.new_tensor_3d(Type::F32, 256, 1, 5);
    for (Tensor* node : {ops::top_k(ctx, *x, 2), ops::sum_rows(ctx, *x), ops::div(ctx, *x, *x), ops::tanh(ctx, *x),
                         ops::mul_mat_id(ctx, *experts, *xs, *ids)}) {
        EXPECT_FALSE(backend->supports_op(*node)) << op_name(node->op);
    }

    auto cpu = cpu::make_backend(2);
    RunOptions opt;
    opt.force_buffer = true;  // weights and inputs in device memory
    for (const OpCase& c : moe_chain_cases()) {
        SCOPED_TRACE(c.name);
        const CaseResult r = run_case_scheduled({backend.get(), cpu.get()}, c, opt);
        bool device_ran_mul_mat = false;
        for (const auto& [op, b] : r.placed) {
            if (op == Op::MulMat && b == backend.get()) device_ran_mul_mat = true;
            if (op == Op::MulMatId || op == Op::TopK || op == Op::SumRows || op == Op::Div || op == Op::Tanh) {
                EXPECT_EQ(b, cpu.get()) << op_name(op);
            }
        }
        EXPECT_TRUE(device_ran_mul_mat);
    }
}

}  // namespace
}  // namespace ember::test

#endif  // EMBER_WITH_VULKAN
