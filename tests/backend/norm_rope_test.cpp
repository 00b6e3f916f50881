// The rms_norm and rope row functions of the kernel table (backends/cpu/norm_rope.h) at every
// SIMD level this CPU runs, against the scalar level: rms_norm within 2 ulp (the SIMD levels
// sum the squares in another fixed order), rope bit for bit; odd lengths (scalar tails), zero,
// huge, tiny (denormal) and negative values, in place, nothing written past the row.
#include "backend/simd_levels.h"
#include "backends/cpu/kernel_levels.h"
#include "backends/cpu/norm_rope.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

namespace ember::test {
namespace {

using cpu::CpuKernels;
using cpu::KernelLevel;

constexpr float kGuard = 12345.0f;  // fills the space past a row; must survive every call

const CpuKernels& scalar() { return cpu::cpu_kernels_for(KernelLevel::Scalar); }

// Distance in units in the last place between two finite floats of the same sign (or zeros).
int64_t ulp_distance(float a, float b) {
    auto key = [](float f) {
        const auto bits = static_cast<int64_t>(std::bit_cast<int32_t>(f));
        return bits < 0 ? -(bits & 0x7fffffff) : bits;  // monotonic: -0 and +0 both map to 0
    };
    return std::llabs(key(a) - key(b));
}

// Random values in [-4, 4] with zeros, huge, tiny (denormal) and negative values mixed in.
std::vector<float> row_values(std::mt19937& rng, int64_t n) {
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = u(rng);
    const float specials[] = {0.0f, -0.0f, 3.0e15f, -2.5e15f, 1e-40f, -3e-41f, 1e-20f, -1234.5f, 7.0f, -0.001f};
    for (size_t i = 0; i < std::size(specials) && i < x.size(); ++i) x[(i * 7 + 3) % x.size()] = specials[i];
    return x;
}

TEST(NormRope, TableIsFilledAtEveryLevel) {
    for (KernelLevel level : {KernelLevel::Scalar, KernelLevel::Avx2, KernelLevel::Avx512, KernelLevel::Neon}) {
        if (!cpu::kernel_level_supported(level)) continue;
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        EXPECT_NE(k.rms_norm_row, nullptr) << cpu::kernel_level_name(level);
        EXPECT_NE(k.rope_row, nullptr) << cpu::kernel_level_name(level);
    }
    EXPECT_NE(cpu::cpu_kernels().rms_norm_row, nullptr);
}

// The scalar level is docs/FORMATS.md §4.4 / §4.5 written out.
TEST(NormRope, ScalarLevelIsTheSpec) {
    const std::vector<float> x = {1.5f, -2.0f, 0.25f, 3.0f, -0.5f};
    double sum = 0.0;
    for (float v : x) sum += static_cast<double>(v * v);
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / 5.0) + 1e-5f);
    std::vector<float> y(5);
    scalar().rms_norm_row(x.data(), y.data(), 5, 1e-5f);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(y[i], x[i] * scale) << i;

    // n_dims 4: normal pairs (0,1), (2,3); NeoX pairs (0,2), (1,3).
    const float cache[4] = {std::cos(0.7f), std::sin(0.7f), std::cos(-2.0f), std::sin(-2.0f)};
    std::vector<float> r(4);
    scalar().rope_row(x.data(), r.data(), cache, 4, false);
    EXPECT_EQ(r[0], x[0] * cache[0] - x[1] * cache[1]);
    EXPECT_EQ(r[1], x[0] * cache[1] + x[1] * cache[0]);
    EXPECT_EQ(r[2], x[2] * cache[2] - x[3] * cache[3]);
    EXPECT_EQ(r[3], x[2] * cache[3] + x[3] * cache[2]);
    scalar().rope_row(x.data(), r.data(), cache, 4, true);
    EXPECT_EQ(r[0], x[0] * cache[0] - x[2] * cache[1]);
    EXPECT_EQ(r[2], x[0] * cache[1] + x[2] * cache[0]);
    EXPECT_EQ(r[1], x[1] * cache[2] - x[3] * cache[3]);
    EXPECT_EQ(r[3], x[1] * cache[3] + x[3] * cache[2]);
}

TEST(NormRope, RmsNormMatchesScalar) {
    std::mt19937 rng(5);
    int tested = 0;
    for (KernelLevel level : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        const char* name = cpu::kernel_level_name(level);
        for (int64_t n : {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 100, 2048, 4103}) {
            for (float eps : {1e-5f, 1e-6f, 0.0f}) {
                const std::vector<float> x = row_values(rng, n);
                std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n) + 16, kGuard);
                scalar().rms_norm_row(x.data(), want.data(), n, eps);
                k.rms_norm_row(x.data(), got.data(), n, eps);
                for (int64_t i = 0; i < n; ++i) {
                    if (std::isnan(want[i])) {  // a row of zeros with eps 0: 0 * inf, in every level
                        EXPECT_TRUE(std::isnan(got[i])) << name << " n=" << n << " [" << i << "]";
                        continue;
                    }
                    EXPECT_LE(ulp_distance(got[i], want[i]), 2)
                        << name << " n=" << n << " eps=" << eps << " [" << i << "]: got " << got[i] << " want " << want[i];
                }
                for (int64_t i = n; i < n + 16; ++i) EXPECT_EQ(got[i], kGuard) << name << " wrote past the row, n=" << n;
                // In place gives what out of place gave.
                std::vector<float> in_place = x;
                k.rms_norm_row(in_place.data(), in_place.data(), n, eps);
                for (int64_t i = 0; i < n; ++i) {
                    EXPECT_EQ(std::bit_cast<uint32_t>(in_place[i]), std::bit_cast<uint32_t>(got[i])) << name << " in place, n=" << n;
                }
                ++tested;
            }
        }
        // A row of zeros: scale 1/sqrt(eps), every output exactly 0.
        std::vector<float> zeros(37, 0.0f), out(37, kGuard);
        k.rms_norm_row(zeros.data(), out.data(), 37, 1e-5f);
        for (float v : out) EXPECT_EQ(v, 0.0f) << name;
        // Squares that overflow float make the sum inf and the scale 0, as in the reference.
        std::vector<float> huge(21, 1e30f), ref(21), simd(21);
        scalar().rms_norm_row(huge.data(), ref.data(), 21, 1e-5f);
        k.rms_norm_row(huge.data(), simd.data(), 21, 1e-5f);
        for (size_t i = 0; i < 21; ++i) EXPECT_EQ(std::bit_cast<uint32_t>(simd[i]), std::bit_cast<uint32_t>(ref[i])) << name;
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0) << "no SIMD level ran on a SIMD machine";
    }
}

// cos/sin pairs of random angles (and a few exact ones), scaled like attn_factor would.
std::vector<float> rope_cache(std::mt19937& rng, int64_t n_dims) {
    std::uniform_real_distribution<float> angle(-5000.0f, 5000.0f);
    std::vector<float> cache(static_cast<size_t>(n_dims));
    for (int64_t i = 0; i < n_dims; i += 2) {
        const float theta = i == 0 ? 0.0f : angle(rng);
        const float mscale = i % 6 == 4 ? 1.3f : 1.0f;
        cache[i] = std::cos(theta) * mscale;
        cache[i + 1] = std::sin(theta) * mscale;
    }
    return cache;
}

TEST(NormRope, RopeMatchesScalarBitForBit) {
    std::mt19937 rng(9);
    int tested = 0;
    for (KernelLevel level : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        const char* name = cpu::kernel_level_name(level);
        for (bool neox : {false, true}) {
            // n_dims even; the row is longer than n_dims (n_dims < ne0) by `extra` guard values.
            for (int64_t n_dims : {2, 4, 6, 8, 14, 16, 18, 30, 32, 34, 62, 64, 96, 128, 2048, 4102}) {
                for (int64_t extra : {0, 5}) {
                    const int64_t ne0 = n_dims + extra;
                    const std::vector<float> x = row_values(rng, ne0);
                    const std::vector<float> cache = rope_cache(rng, n_dims);
                    std::vector<float> want(static_cast<size_t>(ne0) + 16, kGuard), got = want;
                    scalar().rope_row(x.data(), want.data(), cache.data(), n_dims, neox);
                    k.rope_row(x.data(), got.data(), cache.data(), n_dims, neox);
                    for (int64_t i = 0; i < n_dims; ++i) {
                        EXPECT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
                            << name << (neox ? " neox" : " normal") << " n_dims=" << n_dims << " [" << i << "]: got "
                            << got[i] << " want " << want[i];
                    }
                    for (size_t i = static_cast<size_t>(n_dims); i < got.size(); ++i) {
                        EXPECT_EQ(got[i], kGuard) << name << " wrote past n_dims=" << n_dims << " at " << i;
                    }
                    std::vector<float> in_place = x;
                    k.rope_row(in_place.data(), in_place.data(), cache.data(), n_dims, neox);
                    for (int64_t i = 0; i < n_dims; ++i) {
                        EXPECT_EQ(std::bit_cast<uint32_t>(in_place[i]), std::bit_cast<uint32_t>(want[i]))
                            << name << " in place, n_dims=" << n_dims << " [" << i << "]";
                    }
                    ++tested;
                }
            }
        }
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0) << "no SIMD level ran on a SIMD machine";
    }
}

}  // namespace
}  // namespace ember::test
