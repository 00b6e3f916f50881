// The CPU backend against the plain references of op_cases.cpp, plus what only the CPU
// backend promises: thread-count invariance, the registry entry, the kernel table.
#include "backend/op_cases.h"
#include "backend/op_harness.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/kernel_levels.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ember::test {
namespace {

// Most cases run with 3 threads: more than one, and not a divisor of most sizes.
class CpuOps : public ::testing::Test {
protected:
    std::unique_ptr<Backend> backend = cpu::make_backend(3);
};

TEST_F(CpuOps, GetRowsEveryType) { run_cases(*backend, get_rows_cases()); }
TEST_F(CpuOps, MulMatF32F16) { run_cases(*backend, mul_mat_plain_cases()); }
TEST_F(CpuOps, MulMatQuantized) { run_cases(*backend, mul_mat_quant_cases()); }
TEST_F(CpuOps, AddMulScale) { run_cases(*backend, binary_cases()); }
TEST_F(CpuOps, RmsNorm) { run_cases(*backend, rms_norm_cases()); }
TEST_F(CpuOps, Rope) { run_cases(*backend, rope_cases()); }
TEST_F(CpuOps, SoftMax) { run_cases(*backend, soft_max_cases()); }
TEST_F(CpuOps, SiluGeluSwiglu) { run_cases(*backend, unary_cases()); }
TEST_F(CpuOps, CpyCont) { run_cases(*backend, copy_cases()); }
TEST_F(CpuOps, Argmax) { run_cases(*backend, argmax_cases()); }
TEST_F(CpuOps, Chain) { run_cases(*backend, chain_cases()); }

TEST_F(CpuOps, SingleThread) {
    auto one = cpu::make_backend(1);
    run_cases(*one, mul_mat_plain_cases());
    run_cases(*one, soft_max_cases());
    run_cases(*one, copy_cases());
}

// Every op family through the buffer path a device backend takes (tensors moved into one
// buffer of the backend's type before compute).
TEST_F(CpuOps, BufferPlacement) {
    RunOptions opt;
    opt.force_buffer = true;
    for (const auto& cases : {get_rows_cases(), binary_cases(), rope_cases(), soft_max_cases(), copy_cases(),
                              argmax_cases(), chain_cases()}) {
        run_cases(*backend, cases, opt);
    }
    run_cases(*backend, mul_mat_plain_cases(), opt);
}

// The CPU backend is the fallback: it must support every case, so none may be skipped.
TEST_F(CpuOps, SupportsEveryCase) {
    RunOptions opt;
    opt.skip_unsupported = true;
    int skipped = 0;
    for (const auto& cases : {get_rows_cases(), mul_mat_plain_cases(), mul_mat_quant_cases(), binary_cases(),
                              rms_norm_cases(), rope_cases(), soft_max_cases(), unary_cases(), copy_cases(),
                              argmax_cases(), chain_cases()}) {
        skipped += run_cases(*backend, cases, opt);
    }
    EXPECT_EQ(skipped, 0);
}

TEST_F(CpuOps, MulMatCoversEveryWeightType) {
    const std::vector<Type> types = mul_mat_weight_types();
    for (Type t : {Type::F32, Type::F16, Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0,
                   Type::Q4_K, Type::Q5_K, Type::Q6_K}) {
        EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << type_name(t);
    }
}

TEST_F(CpuOps, ThreadCountInvariant) {
    auto one = cpu::make_backend(1);
    for (const OpCase& c : determinism_cases()) {
        SCOPED_TRACE(c.name);
        const std::vector<double> ref = run_case(*one, c).got;
        for (int n : {2, 3, 5, 8}) {
            auto many = cpu::make_backend(n);
            const std::vector<double> got = run_case(*many, c).got;
            ASSERT_EQ(got.size(), ref.size());
            EXPECT_EQ(std::memcmp(got.data(), ref.data(), got.size() * sizeof(double)), 0) << n << " threads";
        }
    }
}

TEST_F(CpuOps, GetRowsOutOfRangeThrows) {
    for (int32_t bad : {10, -1, 1 << 30}) {
        Context ctx(1 << 20);
        Tensor* table = ctx.new_tensor_2d(Type::F32, 4, 10);
        Tensor* ids = ctx.new_tensor_1d(Type::I32, 3);
        const int32_t v[3] = {1, bad, 2};
        std::memcpy(ids->data, v, sizeof v);
        Tensor* out = ops::get_rows(ctx, *table, *ids);
        Graph g({out});
        try {
            backend->compute(g.nodes());
            FAIL() << "no error for id " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()), fmt::format("get_rows: id {} out of range [0, 10)", bad));
        }
        // The backend stays usable after the error.
        const int32_t ok[3] = {1, 9, 0};
        std::memcpy(ids->data, ok, sizeof ok);
        EXPECT_NO_THROW(backend->compute(g.nodes()));
    }
}

TEST_F(CpuOps, MissingDataThrows) {
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* a = ctx.new_tensor_2d(Type::F32, 4, 2);
    Tensor* out = ops::silu(ctx, *a);
    Graph g({out});
    EXPECT_THROW(backend->compute(g.nodes()), Error);
}

TEST_F(CpuOps, RegistryAndDevice) {
    const BackendReg& reg = registry().get("cpu");
    EXPECT_EQ(reg.name(), "cpu");
    ASSERT_EQ(reg.device_count(), 1u);
    const DeviceInfo info = reg.device(0).info();
    EXPECT_EQ(info.kind, DeviceKind::Cpu);
    EXPECT_FALSE(info.description.empty());
    EXPECT_GT(info.memory_total, 0u);
    EXPECT_THROW(reg.device(1), Error);
    BackendOptions opt;
    opt.n_threads = 2;
    auto b = reg.device(0).create_backend(opt);
    EXPECT_EQ(b->name(), "cpu");
    EXPECT_TRUE(b->buffer_type().is_host());
    EXPECT_TRUE(b->supports_buffer(HostBufferType::instance()));
#if defined(__x86_64__)
    // Every x86-64 CPU this runs on in practice has SSE3.
    const std::vector<std::string> props = info.properties;
    EXPECT_NE(std::find(props.begin(), props.end(), "SSE3"), props.end());
#endif
}

TEST_F(CpuOps, KernelTableMatchesQuantTraits) {
    const cpu::CpuKernels& k = cpu::cpu_kernels();
    for (Type t : mul_mat_weight_types()) {
        const auto id = static_cast<uint32_t>(t);
        const quant::QuantTraits& q = quant::quant_traits(t);
        EXPECT_NE(k.vec_dot[id], nullptr) << type_name(t);
        EXPECT_EQ(k.vec_dot_type[id], q.vec_dot_type) << type_name(t);
        EXPECT_TRUE(k.can_mul_mat(t)) << type_name(t);
    }
    for (Type t : get_rows_table_types()) {
        if (t != Type::I32) {
            EXPECT_TRUE(k.can_dequantize(t)) << type_name(t);
        }
    }
    EXPECT_FALSE(k.can_mul_mat(Type::I32));
}

TEST_F(CpuOps, SupportsOp) {
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* w = ctx.new_tensor_2d(Type::Q4_K, 256, 4);
    Tensor* x = ctx.new_tensor_2d(Type::F32, 256, 3);
    EXPECT_TRUE(backend->supports_op(*ops::mul_mat(ctx, *w, *x)));
    EXPECT_TRUE(backend->supports_op(*ops::silu(ctx, *x)));
    EXPECT_TRUE(backend->supports_op(*ops::transpose(ctx, *x)));
}

}  // namespace
}  // namespace ember::test
