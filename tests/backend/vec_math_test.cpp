// The vectorized exp-based row functions (backends/cpu/vec_math.h) against the scalar
// std::exp references, at every SIMD level this CPU runs: relative error within a few ulp,
// e^-inf exactly 0, overflow to +inf, odd lengths (masked tails), in-place soft_max rows.
#include "backend/simd_levels.h"
#include "backends/cpu/kernel_levels.h"
#include "backends/cpu/vec_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace ember::test {
namespace {

using cpu::CpuKernels;
using cpu::KernelLevel;

constexpr float kInf = std::numeric_limits<float>::infinity();
// Relative tolerance: the polynomial's 1.2e-7 truncation plus a few roundings.
constexpr double kRelTol = 6e-7;
// Below FLT_MIN the SIMD versions may flush to 0 where std::exp gives a denormal.
constexpr double kAbsTol = 1.2e-38;

const CpuKernels& scalar() { return cpu::cpu_kernels_for(KernelLevel::Scalar); }

void expect_close(float got, float want, const char* what, int64_t i, KernelLevel level) {
    if (std::isinf(want) || want == 0.0f) {
        if (want == 0.0f) {
            EXPECT_LE(std::fabs(got), kAbsTol) << what << " [" << i << "] at " << cpu::kernel_level_name(level);
        } else {
            EXPECT_EQ(got, want) << what << " [" << i << "] at " << cpu::kernel_level_name(level);
        }
        return;
    }
    const double err = std::fabs(static_cast<double>(got) - want);
    EXPECT_TRUE(err <= kRelTol * std::fabs(want) || err <= kAbsTol)
        << what << " [" << i << "] at " << cpu::kernel_level_name(level) << ": got " << got << " want " << want;
}

// Random values over the whole useful range plus the edges of the exp range.
std::vector<float> test_inputs(std::mt19937& rng, int64_t n, float lo, float hi) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = u(rng);
    const float edges[] = {0.0f, -0.0f, 1e-8f, -1e-8f, 88.7f, 88.8f, -87.3f, -87.4f, -103.0f, -110.0f, 0.3466f, -0.3466f};
    for (size_t i = 0; i < std::size(edges) && i < x.size(); ++i) x[i * 3 % x.size()] = edges[i];
    return x;
}

TEST(VecMath, ScalarLevelIsTheReference) {
    const CpuKernels& k = scalar();
    ASSERT_NE(k.softmax_exp, nullptr);
    std::vector<float> x = {0.5f, -1.0f, -kInf, 2.0f};
    const double sum = k.softmax_exp(x.data(), 4, 2.0f);
    EXPECT_EQ(x[0], std::exp(0.5f - 2.0f));
    EXPECT_EQ(x[2], 0.0f);
    EXPECT_EQ(x[3], 1.0f);
    EXPECT_DOUBLE_EQ(sum, static_cast<double>(x[0]) + x[1] + x[2] + x[3]);
    float y = 0;
    const float in = 1.5f;
    k.silu_row(&in, &y, 1);
    EXPECT_EQ(y, cpu::silu_ref(1.5f));
}

TEST(VecMath, SoftmaxExpMatchesScalar) {
    std::mt19937 rng(7);
    int tested = 0;
    for (KernelLevel level : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (int64_t n : {1, 7, 8, 15, 16, 17, 33, 64, 255, 512, 1000}) {
            std::vector<float> x = test_inputs(rng, n, -30.0f, 30.0f);
            if (n > 4) x[4] = -kInf;  // a masked position
            const float max = 25.0f;
            std::vector<float> want = x, got = x;
            const double want_sum = scalar().softmax_exp(want.data(), n, max);
            const double got_sum = k.softmax_exp(got.data(), n, max);
            for (int64_t i = 0; i < n; ++i) expect_close(got[i], want[i], "softmax_exp", i, level);
            if (n > 4) {
                EXPECT_EQ(got[4], 0.0f) << "e^-inf must be exactly 0";
            }
            EXPECT_NEAR(got_sum, want_sum, kRelTol * want_sum + 1e-30) << "n=" << n;
            ++tested;
        }
        // Writes nothing past n (the masked tail).
        std::vector<float> guard(20, 7.0f);
        k.softmax_exp(guard.data(), 3, 7.0f);
        for (size_t i = 3; i < guard.size(); ++i) EXPECT_EQ(guard[i], 7.0f) << "wrote past the row at " << i;
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0) << "no SIMD level ran on a SIMD machine";
    }
}

TEST(VecMath, SiluAndSwigluMatchScalar) {
    std::mt19937 rng(11);
    for (KernelLevel level : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (int64_t n : {1, 5, 8, 16, 31, 100, 5632}) {
            const std::vector<float> a = test_inputs(rng, n, -120.0f, 120.0f);
            const std::vector<float> b = test_inputs(rng, n, -3.0f, 3.0f);
            std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n) + 8, 9.0f);
            scalar().silu_row(a.data(), want.data(), n);
            k.silu_row(a.data(), got.data(), n);
            for (int64_t i = 0; i < n; ++i) expect_close(got[i], want[i], "silu", i, level);
            for (int64_t i = n; i < n + 8; ++i) EXPECT_EQ(got[i], 9.0f) << "silu wrote past the row";
            scalar().swiglu_row(a.data(), b.data(), want.data(), n);
            k.swiglu_row(a.data(), b.data(), got.data(), n);
            for (int64_t i = 0; i < n; ++i) expect_close(got[i], want[i], "swiglu", i, level);
        }
        // Large negative inputs: silu(x) -> -0 (e^-x overflows to inf), never NaN.
        const float big[] = {-200.0f, -89.0f, 200.0f, 1.0f};
        float out[4];
        k.silu_row(big, out, 4);
        EXPECT_EQ(out[0], 0.0f);
        EXPECT_EQ(out[1], 0.0f);
        EXPECT_EQ(out[2], 200.0f);
        EXPECT_FALSE(std::isnan(out[0]) || std::isnan(out[1]) || std::isnan(out[2]));
    }
}

}  // namespace
}  // namespace ember::test
