// The CPU backend's ops for mixture-of-experts and gemma2 models (mul_mat_id, top_k,
// sum_rows, div, tanh) against the plain references of op_cases.cpp, with 1 and 2 threads;
// that mul_mat_id never reads an expert no id names (those pages are unreadable); bad ids;
// the shape rules of the builders.
#include "backend/op_cases.h"
#include "backend/op_harness.h"

#include "backends/cpu/cpu_backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "quant/quant.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

namespace ember::test {
namespace {

std::vector<OpCase> all_moe_cases() {
    std::vector<OpCase> all;
    for (auto&& cases : {mul_mat_id_cases(), top_k_cases(), sum_rows_cases(), div_tanh_cases(), moe_chain_cases()}) {
        all.insert(all.end(), cases.begin(), cases.end());
    }
    return all;
}

TEST(CpuMoeOps, MatchReferencesWithOneAndTwoThreads) {
    const std::vector<OpCase> cases = all_moe_cases();
    for (int threads : {1, 2}) {
        SCOPED_TRACE(fmt::format("{} threads", threads));
        auto backend = cpu::make_backend(threads);
        RunOptions opt;
        opt.skip_unsupported = true;  // none may be: counted below
        EXPECT_EQ(run_cases(*backend, cases, opt), 0) << "cases the CPU backend does not support";
    }
}

// Through the buffer path a device backend takes (every tensor moved into one buffer).
TEST(CpuMoeOps, BufferPlacement) {
    auto backend = cpu::make_backend(3);
    RunOptions opt;
    opt.force_buffer = true;
    run_cases(*backend, all_moe_cases(), opt);
}

TEST(CpuMoeOps, ThreadCountInvariant) {
    auto one = cpu::make_backend(1);
    for (const OpCase& c : mul_mat_id_cases()) {
        if (c.name.find("Q4_K") == std::string::npos && c.name.find("F16") == std::string::npos) continue;
        SCOPED_TRACE(c.name);
        const std::vector<double> ref = run_case(*one, c).got;
        for (int n : {2, 3, 5}) {
            auto many = cpu::make_backend(n);
            const std::vector<double> got = run_case(*many, c).got;
            ASSERT_EQ(got.size(), ref.size());
            EXPECT_EQ(std::memcmp(got.data(), ref.data(), got.size() * sizeof(double)), 0) << n << " threads";
        }
    }
}

// Experts [K, N, E] of `type` in their own mapping, each expert on whole pages of its own;
// the pages of the experts not in `used` are made unreadable, so a kernel that touched one
// (beyond a prefetch, which cannot fault) would crash the test.
class GuardedExperts {
public:
    GuardedExperts(Context& ctx, Rng& rng, Type type, std::array<int64_t, 3> ne, const std::vector<int32_t>& used) {
        const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        const size_t expert_bytes = row_size(type, ne[0]) * static_cast<size_t>(ne[1]);
        stride_ = (expert_bytes + page - 1) / page * page;
        bytes_ = stride_ * static_cast<size_t>(ne[2]);
        base_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base_ == MAP_FAILED) fail("mmap of {} bytes failed", bytes_);
        tensor = ctx.new_tensor_3d(type, ne[0], ne[1], ne[2]);
        tensor->nb[2] = stride_;
        tensor->nb[3] = bytes_;
        tensor->data = base_;
        // Random values through a dense temporary (random_tensor quantizes row by row).
        for (int64_t e = 0; e < ne[2]; ++e) {
            Context tmp(expert_bytes + (1 << 16));
            Tensor* src = random_tensor(tmp, rng, type, {ne[0], ne[1], 1, 1});
            std::memcpy(static_cast<char*>(base_) + e * stride_, src->data, expert_bytes);
        }
        for (int64_t e = 0; e < ne[2]; ++e) {
            if (std::find(used.begin(), used.end(), e) != used.end()) continue;
            if (mprotect(static_cast<char*>(base_) + e * stride_, stride_, PROT_NONE) != 0) fail("mprotect failed");
        }
    }
    ~GuardedExperts() { munmap(base_, bytes_); }
    GuardedExperts(const GuardedExperts&) = delete;
    GuardedExperts& operator=(const GuardedExperts&) = delete;

    Tensor* tensor = nullptr;

private:
    void* base_ = nullptr;
    size_t stride_ = 0;
    size_t bytes_ = 0;
};

TEST(CpuMoeOps, MulMatIdReadsOnlyTheChosenExperts) {
    constexpr int64_t E = 6, U = 2, N = 19;
    for (Type type : mul_mat_weight_types()) {
        const int64_t bs = block_size(type);
        const int64_t K = bs == 1 ? 64 : 2 * bs;
        for (int64_t T : {1, 7}) {
            // Experts 0, 2 and 4 only; 1, 3 and 5 are unreadable.
            std::vector<int32_t> ids_v;
            for (int64_t t = 0; t < T; ++t) {
                ids_v.push_back(static_cast<int32_t>(2 * (t % 3)));
                ids_v.push_back(static_cast<int32_t>(2 * ((t + 1) % 3)));
            }
            for (int64_t B1 : {int64_t{1}, U}) {
                for (int threads : {1, 2}) {
                    SCOPED_TRACE(fmt::format("{} T={} B1={} threads={}", type_name(type), T, B1, threads));
                    Context ctx(16 << 20);
                    Rng rng(42);
                    GuardedExperts experts(ctx, rng, type, {K, N, E}, ids_v);
                    Tensor* b = random_tensor(ctx, rng, Type::F32, {K, B1, T, 1});
                    Tensor* ids = ctx.new_tensor_2d(Type::I32, U, T);
                    std::memcpy(ids->data, ids_v.data(), ids_v.size() * sizeof(int32_t));
                    Tensor* out = ops::mul_mat_id(ctx, *experts.tensor, *b, *ids);
                    Graph g({out});
                    auto backend = cpu::make_backend(threads);
                    backend->compute(g.nodes());
                    const std::vector<double> got = all_values(*out);
                    // Against F32 activations: also right for F32 weights, loose enough for 8-bit ones.
                    const std::vector<double> want = mul_mat_id_reference(*experts.tensor, *b, *ids, std::nullopt);
                    EXPECT_LE(nmse(got, want), 1e-3);
                }
            }
        }
    }
}

TEST(CpuMoeOps, MulMatIdBadIdsAreErrors) {
    auto backend = cpu::make_backend(2);
    for (int32_t bad : {6, -1, 1 << 30}) {
        Context ctx(1 << 20);
        Rng rng(1);
        Tensor* as = random_tensor(ctx, rng, Type::Q8_0, {32, 4, 6, 1});
        Tensor* b = random_tensor(ctx, rng, Type::F32, {32, 1, 3, 1});
        Tensor* ids = ctx.new_tensor_2d(Type::I32, 2, 3);
        ids->set_name("ids");
        const int32_t v[6] = {0, 5, 2, bad, 1, 1};
        std::memcpy(ids->data, v, sizeof v);
        Tensor* out = ops::mul_mat_id(ctx, *as, *b, *ids);
        out->set_name("ffn_up_exps");
        Graph g({out});
        try {
            backend->compute(g.nodes());
            FAIL() << "no error for id " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()),
                      fmt::format("mul_mat_id: expert id {} out of range [0, 6) in node 'ffn_up_exps'", bad));
        }
        // The backend stays usable after the error.
        const int32_t ok[6] = {0, 5, 2, 3, 1, 1};
        std::memcpy(ids->data, ok, sizeof ok);
        EXPECT_NO_THROW(backend->compute(g.nodes()));
    }
}

// Each builder names the op and the offending shapes.
void expect_error(const std::function<void()>& build, const std::string& op, const std::string& detail) {
    try {
        build();
        ADD_FAILURE() << "no error; expected one naming " << op << " and " << detail;
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(op + ":", 0), 0u) << what;
        EXPECT_NE(what.find(detail), std::string::npos) << what;
    }
}

TEST(CoreMoeOps, ShapeRulesAreCheckedAtBuildTime) {
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* as = ctx.new_tensor_3d(Type::Q4_K, 256, 16, 8);
    Tensor* b1 = ctx.new_tensor_3d(Type::F32, 256, 1, 5);
    Tensor* ids = ctx.new_tensor_2d(Type::I32, 2, 5);
    Tensor* out = ops::mul_mat_id(ctx, *as, *b1, *ids);
    EXPECT_EQ(out->ne, (std::array<int64_t, 4>{16, 2, 5, 1}));
    EXPECT_EQ(out->type, Type::F32);
    EXPECT_NO_THROW(ops::mul_mat_id(ctx, *as, *ctx.new_tensor_3d(Type::F32, 256, 2, 5), *ids));  // B1 == n_used

    expect_error([&] { ops::mul_mat_id(ctx, *as, *ctx.new_tensor_3d(Type::F32, 128, 1, 5), *ids); }, "mul_mat_id",
                 "Q4_K [256, 16, 8, 1] x F32 [128, 1, 5, 1]");
    expect_error([&] { ops::mul_mat_id(ctx, *as, *ctx.new_tensor_3d(Type::F32, 256, 3, 5), *ids); }, "mul_mat_id",
                 "F32 [256, 3, 5, 1]");
    expect_error([&] { ops::mul_mat_id(ctx, *as, *ctx.new_tensor_3d(Type::F32, 256, 1, 4), *ids); }, "mul_mat_id",
                 "I32 [2, 5, 1, 1]");
    expect_error([&] { ops::mul_mat_id(ctx, *as, *b1, *ctx.new_tensor_2d(Type::F32, 2, 5)); }, "mul_mat_id",
                 "expected I32");
    expect_error([&] { ops::mul_mat_id(ctx, *as, *b1, *ctx.new_tensor_3d(Type::I32, 2, 5, 2)); }, "mul_mat_id",
                 "I32 [2, 5, 2, 1]");
    expect_error([&] { ops::mul_mat_id(ctx, *ctx.new_tensor_4d(Type::F32, 256, 16, 8, 2), *b1, *ids); },
                 "mul_mat_id", "F32 [256, 16, 8, 2]");
    expect_error([&] { ops::mul_mat_id(ctx, *ctx.new_tensor_3d(Type::Q8_K, 256, 16, 8), *b1, *ids); }, "mul_mat_id",
                 "Q8_K [256, 16, 8, 1]");
    expect_error([&] { ops::mul_mat_id(ctx, *as, *ctx.new_tensor_3d(Type::F16, 256, 1, 5), *ids); }, "mul_mat_id",
                 "F16 [256, 1, 5, 1]");

    Tensor* logits = ctx.new_tensor_2d(Type::F32, 8, 5);
    EXPECT_EQ(ops::top_k(ctx, *logits, 2)->ne, (std::array<int64_t, 4>{2, 5, 1, 1}));
    EXPECT_EQ(ops::top_k(ctx, *logits, 2)->type, Type::I32);
    expect_error([&] { ops::top_k(ctx, *logits, 0); }, "top_k", "F32 [8, 5, 1, 1]");
    expect_error([&] { ops::top_k(ctx, *logits, 9); }, "top_k", "k = 9");
    expect_error([&] { ops::top_k(ctx, *ctx.new_tensor_2d(Type::F16, 8, 5), 2); }, "top_k", "F16 [8, 5, 1, 1]");

    EXPECT_EQ(ops::sum_rows(ctx, *ctx.new_tensor_3d(Type::F32, 8, 5, 3))->ne, (std::array<int64_t, 4>{1, 5, 3, 1}));
    expect_error([&] { ops::sum_rows(ctx, *ctx.new_tensor_2d(Type::I32, 8, 5)); }, "sum_rows", "I32 [8, 5, 1, 1]");

    EXPECT_NO_THROW(ops::div(ctx, *logits, *ctx.new_tensor_2d(Type::F32, 1, 5)));
    expect_error([&] { ops::div(ctx, *logits, *ctx.new_tensor_2d(Type::F32, 3, 5)); }, "div", "F32 [3, 5, 1, 1]");
    expect_error([&] { ops::tanh(ctx, *ctx.new_tensor_1d(Type::F16, 4)); }, "tanh", "F16 [4, 1, 1, 1]");
}

TEST(CpuMoeOps, SupportsOp) {
    auto backend = cpu::make_backend(1);
    Context ctx(1 << 20, /*no_alloc=*/true);
    Tensor* as = ctx.new_tensor_3d(Type::Q6_K, 256, 16, 8);
    Tensor* b = ctx.new_tensor_3d(Type::F32, 256, 1, 5);
    Tensor* ids = ctx.new_tensor_2d(Type::I32, 2, 5);
    EXPECT_TRUE(backend->supports_op(*ops::mul_mat_id(ctx, *as, *b, *ids)));
    Tensor* x = ctx.new_tensor_2d(Type::F32, 8, 5);
    EXPECT_TRUE(backend->supports_op(*ops::top_k(ctx, *x, 3)));
    EXPECT_TRUE(backend->supports_op(*ops::sum_rows(ctx, *x)));
    EXPECT_TRUE(backend->supports_op(*ops::div(ctx, *x, *x)));
    EXPECT_TRUE(backend->supports_op(*ops::tanh(ctx, *x)));
}

}  // namespace
}  // namespace ember::test
