// The scheduler splitting one graph across two backends: a test-only "device"
// backend that supports add and mul on memory the CPU may not touch, and the CPU.
#include "backend/op_cases.h"
#include "backend/op_harness.h"
#include "backends/cpu/cpu_backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

namespace ember {
namespace {

// Device memory is plain malloc here, but marked non-host, so the scheduler must
// copy across and only this backend may read it.
class DeviceBufferType final : public BufferType {
public:
    std::string name() const override { return "test-device"; }
    std::unique_ptr<Buffer> allocate(size_t size) const override;
    size_t alignment() const override { return 128; }
    bool is_host() const override { return false; }
};

class DeviceBuffer final : public Buffer {
public:
    DeviceBuffer(const DeviceBufferType& type, size_t size) : type_(type), bytes_(size + 128) {}
    void* base() override { return bytes_.data(); }
    size_t size() const override { return bytes_.size() - 128; }
    const BufferType& type() const override { return type_; }
    void set(Tensor& t, const void* src, size_t offset, size_t n) override {
        std::memcpy(static_cast<char*>(t.data) + offset, src, n);
        ++transfers;
    }
    void get(const Tensor& t, void* dst, size_t offset, size_t n) const override {
        std::memcpy(dst, static_cast<const char*>(t.data) + offset, n);
        ++transfers;
    }
    void clear(uint8_t value) override { std::memset(bytes_.data(), value, bytes_.size()); }
    mutable int transfers = 0;

private:
    const DeviceBufferType& type_;
    std::vector<uint8_t> bytes_;
};

std::unique_ptr<Buffer> DeviceBufferType::allocate(size_t size) const {
    return std::make_unique<DeviceBuffer>(*this, size);
}

class HalfBackend final : public Backend {
public:
    std::string name() const override { return "half"; }
    const BufferType& buffer_type() const override { return type_; }
    bool supports_op(const Tensor& node) const override {
        return (node.op == Op::Add || node.op == Op::Mul) && node.src[0]->is_contiguous() &&
               node.src[1]->is_contiguous() && node.src[0]->same_shape(*node.src[1]);
    }
    void compute(std::span<Tensor* const> nodes) override {
        for (Tensor* n : nodes) {
            for (Tensor* s : {n, n->src[0], n->src[1]}) {
                if (s->buffer == nullptr || &s->buffer->type() != &type_) {
                    fail("half backend got '{}' outside its memory", s->name);
                }
            }
            const auto* a = static_cast<const float*>(n->src[0]->data);
            const auto* b = static_cast<const float*>(n->src[1]->data);
            auto* y = static_cast<float*>(n->data);
            for (int64_t i = 0; i < n->nelements(); ++i) y[i] = n->op == Op::Add ? a[i] + b[i] : a[i] * b[i];
            ++computed;
        }
    }
    int computed = 0;

private:
    DeviceBufferType type_;
};

TEST(Scheduler, SplitsAcrossTwoBackendsWithCopies) {
    constexpr int64_t n = 64, rows = 3;
    HalfBackend half;
    auto cpu = cpu::make_backend(2);

    std::mt19937 rng(7);
    std::normal_distribution<float> dist;
    std::vector<float> xs(n * rows), ws(n * rows);
    for (float& v : xs) v = dist(rng);
    for (float& v : ws) v = dist(rng);

    // The weight lives in the device's memory.
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* w = ctx.new_tensor_2d(Type::F32, n, rows);
    w->set_name("w");
    w->flags |= kFlagWeight;
    auto weights = half.buffer_type().allocate(w->nbytes());
    w->data = weights->base();
    w->buffer = weights.get();
    tensor_set(*w, ws.data(), 0, w->nbytes());

    Tensor* x = ctx.new_tensor_2d(Type::F32, n, rows);
    x->set_name("x");
    Tensor* norm = ops::rms_norm(ctx, *x, 1e-5f);  // cpu: half cannot
    Tensor* prod = ops::mul(ctx, *norm, *w);       // half: the weight is there
    Tensor* sum = ops::add(ctx, *prod, *x);        // half: stays with the previous node
    Tensor* out = ops::silu(ctx, *sum);            // cpu again
    Graph graph{out};

    Scheduler sched({&half, cpu.get()});
    sched.allocate(graph);
    tensor_set(*x, xs.data(), 0, x->nbytes());  // inputs get host memory from the scheduler
    sched.compute(graph);

    ASSERT_EQ(sched.splits().size(), 3u);
    EXPECT_EQ(sched.splits()[0].backend, cpu.get());
    EXPECT_EQ(sched.splits()[1].backend, &half);
    EXPECT_EQ(sched.splits()[1].nodes.size(), 2u);
    EXPECT_EQ(sched.splits()[2].backend, cpu.get());
    EXPECT_EQ(sched.backend_of(*prod), &half);
    // Into the device: norm and x. Out of it: sum.
    EXPECT_EQ(sched.splits()[1].copies.size(), 2u);
    EXPECT_EQ(sched.splits()[2].copies.size(), 1u);
    EXPECT_EQ(sched.n_copies(), 3u);
    EXPECT_EQ(half.computed, 2);
    EXPECT_GT(sched.peak_bytes(half), 0u);
    EXPECT_GT(sched.peak_bytes(*cpu), 0u);

    std::vector<float> got(n * rows);
    tensor_get(*out, got.data(), 0, out->nbytes());
    for (int64_t r = 0; r < rows; ++r) {
        double ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += double(xs[r * n + i]) * xs[r * n + i];
        const float scale = 1.0f / std::sqrt(static_cast<float>(ss / n) + 1e-5f);
        for (int64_t i = 0; i < n; ++i) {
            const float z = xs[r * n + i] * scale * ws[r * n + i] + xs[r * n + i];
            const float want = z / (1.0f + std::exp(-z));
            EXPECT_NEAR(got[r * n + i], want, 1e-5f * (1.0f + std::fabs(want))) << "row " << r << " col " << i;
        }
    }
}

TEST(Scheduler, CpuAloneRunsOneSplitWithoutCopies) {
    auto cpu = cpu::make_backend(1);
    Context ctx(1 << 20, true);
    Tensor* x = ctx.new_tensor_1d(Type::F32, 8);
    Tensor* y = ops::scale(ctx, *ops::silu(ctx, *x), 2.0f);
    Graph graph{y};
    Scheduler sched({cpu.get()});
    sched.allocate(graph);
    const std::vector<float> xs{-3, -1, 0, 0.5f, 1, 2, 4, 8};
    tensor_set(*x, xs.data(), 0, x->nbytes());
    sched.compute(graph);
    EXPECT_EQ(sched.splits().size(), 1u);
    EXPECT_EQ(sched.n_copies(), 0u);
    std::vector<float> got(8);
    tensor_get(*y, got.data(), 0, y->nbytes());
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(got[i], 2 * xs[i] / (1 + std::exp(-xs[i])), 1e-6f);
}

// A graph with the MoE ops, its tensors in the device's memory: the device takes its adds and
// muls, the CPU the rest (top_k, mul_mat_id, sum_rows, div, tanh), with copies both ways.
TEST(Scheduler, MoeOpsGoToTheCpu) {
    HalfBackend half;
    auto cpu = cpu::make_backend(2);
    test::RunOptions opt;
    opt.force_buffer = true;
    for (const test::OpCase& c : test::moe_chain_cases()) {
        SCOPED_TRACE(c.name);
        const test::CaseResult r = test::run_case_scheduled({&half, cpu.get()}, c, opt);
        for (const auto& [op, b] : r.placed) {
            if (op == Op::MulMatId || op == Op::TopK || op == Op::SumRows || op == Op::Div || op == Op::Tanh) {
                EXPECT_EQ(b, cpu.get()) << op_name(op);
            }
        }
    }
}

TEST(Scheduler, CpyIntoMemoryNoSupportingBackendCanWriteIsAnError) {
    HalfBackend half;
    auto cpu = cpu::make_backend(1);
    Context ctx(1 << 20, true);
    Tensor* cache = ctx.new_tensor_1d(Type::F32, 8);
    cache->set_name("cache");
    auto mem = half.buffer_type().allocate(cache->nbytes());
    cache->data = mem->base();
    cache->buffer = mem.get();
    Tensor* x = ctx.new_tensor_1d(Type::F32, 8);
    Graph graph{ops::cpy(ctx, *x, *cache)};
    Scheduler sched({&half, cpu.get()});
    try {
        sched.allocate(graph);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cache"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ember
