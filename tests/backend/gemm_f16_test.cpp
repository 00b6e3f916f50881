// The F16 SIMD entries (backends/cpu/gemm_f16.h) against the scalar references: the tile
// matmul against one reference vec_dot per output (up to float summation order), its bits
// independent of tile position, and F32 -> F16 activation rows bit-exact with
// quant::fp32_to_fp16 (NaN, infinities, overflow, subnormals included).
#include "backends/cpu/gemm_f16.h"
#include "backends/cpu/kernel_levels.h"
#include "quant/f16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ember::test {
namespace {

using cpu::CpuKernels;
using cpu::KernelLevel;

constexpr auto kF16 = static_cast<uint32_t>(Type::F16);

const CpuKernels& scalar() { return cpu::cpu_kernels_for(KernelLevel::Scalar); }

struct Kernel {
    std::string name;
    cpu::GemmFn fn;
};

std::vector<Kernel> f16_gemms() {
    std::vector<Kernel> out;
#if defined(__x86_64__)
    if (cpu::kernel_level_supported(KernelLevel::Avx2)) {
        out.push_back({"avx2", cpu::gemm_f16_avx2});
        EXPECT_EQ(cpu::cpu_kernels_for(KernelLevel::Avx2).gemm[kF16], cpu::gemm_f16_avx2);
    } else {
        std::cout << "[ F16 GEMM ] avx2 not available on this CPU: NOT TESTED\n";
    }
    if (cpu::kernel_level_supported(KernelLevel::Avx512)) {
        out.push_back({"avx512", cpu::gemm_f16_avx512});
        EXPECT_EQ(cpu::cpu_kernels_for(KernelLevel::Avx512).gemm[kF16], cpu::gemm_f16_avx512);
    } else {
        std::cout << "[ F16 GEMM ] avx512 not available on this CPU: NOT TESTED\n";
    }
#else
    std::cout << "[ F16 GEMM ] no F16 gemm kernels off x86-64: NOT TESTED\n";
#endif
    return out;
}

std::vector<uint16_t> random_halves(std::mt19937& rng, int64_t n) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    for (uint16_t& v : h) v = quant::fp32_to_fp16(nd(rng));
    return h;
}

// Rows with a stride larger than the row (as K-cache views have) to catch stride mistakes.
struct Problem {
    int64_t k, nr, nc;
    size_t ldw, ldy;
    std::vector<uint16_t> w, y;
    Problem(std::mt19937& rng, int64_t k_, int64_t nr_, int64_t nc_) : k(k_), nr(nr_), nc(nc_) {
        ldw = static_cast<size_t>(k + 8) * 2;
        ldy = static_cast<size_t>(k + 3) * 2;
        w = random_halves(rng, (k + 8) * nr);
        y = random_halves(rng, (k + 3) * nc);
    }
    const char* wrow(int64_t r) const { return reinterpret_cast<const char*>(w.data()) + r * ldw; }
    const char* yrow(int64_t c) const { return reinterpret_cast<const char*>(y.data()) + c * ldy; }
    std::vector<float> run(cpu::GemmFn fn) const {
        std::vector<float> dst(static_cast<size_t>(nr * nc), std::nanf(""));
        fn(k, w.data(), ldw, y.data(), ldy, dst.data(), static_cast<size_t>(nr), nr, nc);
        return dst;
    }
};

TEST(GemmF16, MatchesScalarDotPerOutput) {
    std::mt19937 rng(5);
    int checked = 0;
    for (const Kernel& kn : f16_gemms()) {
        for (int64_t k : {1, 7, 8, 16, 17, 64, 100, 512}) {
            for (auto [nr, nc] : {std::pair<int64_t, int64_t>{1, 1}, {4, 4}, {5, 3}, {9, 7}, {16, 1}, {3, 10}}) {
                const Problem p(rng, k, nr, nc);
                const std::vector<float> got = p.run(kn.fn);
                for (int64_t c = 0; c < nc; ++c) {
                    for (int64_t r = 0; r < nr; ++r) {
                        const float want = scalar().vec_dot[kF16](k, p.wrow(r), p.yrow(c));
                        double mag = 0;  // Σ|w·y|: the scale of the rounding differences
                        for (int64_t i = 0; i < k; ++i) {
                            mag += std::fabs(quant::fp16_to_fp32(reinterpret_cast<const uint16_t*>(p.wrow(r))[i]) *
                                             quant::fp16_to_fp32(reinterpret_cast<const uint16_t*>(p.yrow(c))[i]));
                        }
                        EXPECT_NEAR(got[c * nr + r], want, 1e-6 * mag + 1e-30)
                            << kn.name << " k=" << k << " tile " << nr << "x" << nc << " at (" << r << ", " << c << ")";
                        ++checked;
                    }
                }
            }
        }
    }
#if defined(__x86_64__)
    if (cpu::kernel_level_supported(KernelLevel::Avx2)) {
        EXPECT_GT(checked, 0);
    }
#endif
}

TEST(GemmF16, BitsDoNotDependOnTilePosition) {
    std::mt19937 rng(9);
    for (const Kernel& kn : f16_gemms()) {
        for (int64_t k : {24, 64, 130}) {
            const Problem p(rng, k, 11, 9);
            const std::vector<float> whole = p.run(kn.fn);
            for (int64_t c = 0; c < p.nc; ++c) {
                for (int64_t r = 0; r < p.nr; ++r) {
                    float one = std::nanf("");
                    kn.fn(k, p.wrow(r), p.ldw, p.yrow(c), p.ldy, &one, 1, 1, 1);
                    EXPECT_EQ(std::memcmp(&one, &whole[c * p.nr + r], sizeof one), 0)
                        << kn.name << " k=" << k << " output (" << r << ", " << c << ") differs alone vs in a tile";
                }
            }
        }
    }
}

TEST(GemmF16, ActivationRowsBitExact) {
    std::vector<float> x;
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (int i = 0; i < 997; ++i) x.push_back(nd(rng) * std::pow(2.0f, static_cast<float>(i % 60 - 30)));
    const float specials[] = {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, -70000.0f, 1e-8f, -3e-6f, 5.96e-8f, 2.98e-8f,
                              std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN()};
    for (float s : specials) x.push_back(s);
    uint32_t nan_payload = 0x7FA00001u;  // a signalling-style NaN with a payload
    float odd_nan;
    std::memcpy(&odd_nan, &nan_payload, sizeof odd_nan);
    x.push_back(odd_nan);
    const auto n = static_cast<int64_t>(x.size());
    std::vector<uint16_t> want(x.size());
    quant::fp32_to_fp16_row(x.data(), want.data(), n);
    for (KernelLevel level : {KernelLevel::Avx2, KernelLevel::Avx512, KernelLevel::Neon}) {
        if (!cpu::kernel_level_supported(level)) {
            std::cout << "[ F16      ] " << cpu::kernel_level_name(level) << " not available on this CPU: NOT TESTED\n";
            continue;
        }
        for (int64_t len : {n, n - 3, int64_t{5}}) {
            std::vector<uint16_t> got(x.size() + 4, 0xABCD);
            cpu::cpu_kernels_for(level).quantize_row[kF16](x.data(), got.data(), len);
            for (int64_t i = 0; i < len; ++i) {
                EXPECT_EQ(got[i], want[i]) << cpu::kernel_level_name(level) << " at " << i << " (x = " << x[i] << ")";
            }
            EXPECT_EQ(got[len], 0xABCD) << "wrote past the row";
        }
    }
}

}  // namespace
}  // namespace ember::test
