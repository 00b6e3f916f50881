// The CPU backend's SIMD kernel sets against the scalar references of quant/, level by
// level (cpu_kernels_for). Dot products must agree within a tight relative tolerance (only
// the float summation order differs); activation quantization and to_float must agree
// byte for byte. A level this CPU lacks is reported on stdout and not counted as tested.
#include "backend/simd_levels.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/kernel_levels.h"
#include "ember/type.h"
#include "quant/f16.h"
#include "quant/q4_1.h"
#include "quant/q4_k.h"
#include "quant/q5_1.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_1.h"
#include "quant/q8_k.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace ember::test {
namespace {

using cpu::CpuKernels;
using cpu::KernelLevel;

uint32_t tid(Type t) { return static_cast<uint32_t>(t); }

const CpuKernels& scalar() { return cpu::cpu_kernels_for(KernelLevel::Scalar); }

bool cpu_has_avx2() {
    const auto& f = cpu::cpu_features();
    return f.avx2 && f.fma && f.f16c;
}

// ---- inputs --------------------------------------------------------------------------------

std::vector<float> normal_floats(std::mt19937& rng, int64_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// Offsets of the fp16 fields of a block (set to finite values in raw-byte rows).
std::vector<size_t> fp16_fields(Type t) {
    switch (t) {
        case Type::Q4_0: return {0};
        case Type::Q5_0: return {0};
        case Type::Q8_0: return {0};
        case Type::Q4_1: return {offsetof(quant::BlockQ4_1, d), offsetof(quant::BlockQ4_1, m)};
        case Type::Q5_1: return {offsetof(quant::BlockQ5_1, d), offsetof(quant::BlockQ5_1, m)};
        case Type::Q8_1: return {offsetof(quant::BlockQ8_1, d), offsetof(quant::BlockQ8_1, s)};
        case Type::Q4_K: return {offsetof(quant::BlockQ4_K, d), offsetof(quant::BlockQ4_K, dmin)};
        case Type::Q5_K: return {offsetof(quant::BlockQ5_K, d), offsetof(quant::BlockQ5_K, dmin)};
        case Type::Q6_K: return {offsetof(quant::BlockQ6_K, d)};
        default: return {};
    }
}

enum class Fill { Random, AllOnes, Zero };

// A row of raw blocks: every byte per `fill`, fp16 scales finite (random sign), and for
// Q8_K a finite d and bsums consistent with qs (the format's invariant).
std::vector<uint8_t> raw_row(std::mt19937& rng, Type t, int64_t n, Fill fill, bool negative_scales) {
    std::vector<uint8_t> row(row_size(t, n));
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : row) b = fill == Fill::Random ? static_cast<uint8_t>(byte(rng)) : fill == Fill::AllOnes ? 0xFF : 0;
    if (fill == Fill::Zero) return row;
    std::uniform_real_distribution<float> mag(0.01f, 2.0f);
    const TypeTraits& tt = type_traits(t);
    const size_t nb = row.size() / tt.type_size;
    for (size_t b = 0; b < nb; ++b) {
        uint8_t* blk = row.data() + b * tt.type_size;
        for (size_t off : fp16_fields(t)) {
            const float v = mag(rng) * (negative_scales && (byte(rng) & 1) ? -1.0f : 1.0f);
            const uint16_t h = quant::fp32_to_fp16(v);
            std::memcpy(blk + off, &h, 2);
        }
        if (t == Type::Q8_K) {
            auto* q = reinterpret_cast<quant::BlockQ8_K*>(blk);
            q->d = mag(rng) * (negative_scales ? -1.0f : 1.0f);
            for (int k = 0; k < quant::QK_K / 16; ++k) {
                int s = 0;
                for (int i = 0; i < 16; ++i) s += q->qs[16 * k + i];
                q->bsums[k] = static_cast<int16_t>(s);
            }
        }
    }
    return row;
}

// sum |w_i * a_i| from the scalar dequantizations: the scale of the rounding error.
double abs_dot(Type wt, Type at, const void* w, const void* a, int64_t n) {
    std::vector<float> fw(static_cast<size_t>(n)), fa(static_cast<size_t>(n));
    scalar().to_float[tid(wt)](w, fw.data(), n);
    scalar().to_float[tid(at)](a, fa.data(), n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(fw[i]) * fa[i]);
    return s;
}

struct DotType {
    Type type;
    std::vector<int64_t> lengths;
};

std::vector<DotType> dot_types() {
    const std::vector<int64_t> b32 = {32, 64, 7 * 32, 4096, 11008};
    const std::vector<int64_t> bk = {256, 7 * 256, 4096, 11008};
    const std::vector<int64_t> flt = {1, 7, 8, 31, 32, 33, 100, 4096, 4099, 11008};
    return {{Type::F32, flt},  {Type::F16, flt},  {Type::BF16, flt}, {Type::Q8_0, b32}, {Type::Q4_0, b32},
            {Type::Q5_0, b32}, {Type::Q4_1, b32}, {Type::Q5_1, b32}, {Type::Q4_K, bk},   {Type::Q5_K, bk},
            {Type::Q6_K, bk}};
}

// One comparison: the level's dot against the scalar one on the same bytes.
void expect_dot_close(const CpuKernels& k, Type wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a,
                      int64_t n, const std::string& what) {
    const Type at = scalar().vec_dot_type[tid(wt)];
    ASSERT_EQ(k.vec_dot_type[tid(wt)], at) << what;
    const float ref = scalar().vec_dot[tid(wt)](n, w.data(), a.data());
    const float got = k.vec_dot[tid(wt)](n, w.data(), a.data());
    const double scale = abs_dot(wt, at, w.data(), a.data(), n);
    const double tol = 1e-5 * scale + 1e-30;
    ASSERT_TRUE(std::isfinite(ref)) << what;
    EXPECT_NEAR(got, ref, tol) << what << " (sum |w*a| = " << scale << ")";
}

TEST(SimdKernels, LevelsPresentAreTested) {
    const auto levels = simd_levels();
    std::cout << "[ SIMD     ] CPU features:";
    for (const auto& name : cpu::cpu_features().names()) std::cout << ' ' << name;
    std::cout << "\n[ SIMD     ] default kernel table: " << cpu::cpu_kernels().variant << "\n";
    if (cpu_has_avx2()) {
        ASSERT_TRUE(cpu::kernel_level_supported(KernelLevel::Avx2)) << "the CPU has AVX2+FMA+F16C: the avx2 level must run";
        ASSERT_FALSE(levels.empty());
        EXPECT_EQ(levels.front(), KernelLevel::Avx2);
        EXPECT_STREQ(cpu::cpu_kernels_for(KernelLevel::Avx2).variant, "avx2");
    } else if (!cpu_has_simd()) {
        std::cout << "[ SIMD     ] no SIMD level for this CPU: only the scalar table runs\n";
    }
    const auto& f = cpu::cpu_features();
    EXPECT_EQ(cpu::kernel_level_supported(KernelLevel::Avx512), cpu_has_avx2() && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
    if (cpu::kernel_level_supported(KernelLevel::Avx512)) {
        EXPECT_STREQ(cpu::cpu_kernels_for(KernelLevel::Avx512).variant, "avx512");
    }
    EXPECT_STREQ(cpu::cpu_kernels_for(KernelLevel::Scalar).variant, "scalar");
#if defined(__aarch64__)
    ASSERT_TRUE(cpu::kernel_level_supported(KernelLevel::Neon)) << "NEON is mandatory on AArch64";
    EXPECT_STREQ(cpu::cpu_kernels_for(KernelLevel::Neon).variant, "neon");
    std::cout << "[ SIMD     ] neon integer dots: " << (f.neon_dotprod ? "SDOT (dotprod)" : "ARMv8.0 widening multiplies")
              << "\n";
#else
    EXPECT_FALSE(cpu::kernel_level_supported(KernelLevel::Neon));
#endif
    // Without EMBER_CPU_KERNELS the default table is the best level.
    if (std::getenv("EMBER_CPU_KERNELS") == nullptr) {
        const char* best = levels.empty() ? "scalar" : cpu::kernel_level_name(levels.back());
        EXPECT_STREQ(cpu::cpu_kernels().variant, best);
    }
}

TEST(SimdKernels, UnsupportedLevelThrows) {
    for (KernelLevel level : {KernelLevel::Avx2, KernelLevel::Avx512, KernelLevel::Neon}) {
        if (!cpu::kernel_level_supported(level)) {
            EXPECT_ANY_THROW(cpu::cpu_kernels_for(level));
        }
    }
}

TEST(SimdKernels, VecDotQuantizedRowsMatchScalar) {
    const auto levels = simd_levels();
    int tested = 0;
    std::mt19937 rng(42);
    for (KernelLevel level : levels) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (const DotType& dt : dot_types()) {
            const Type at = scalar().vec_dot_type[tid(dt.type)];
            for (int64_t n : dt.lengths) {
                for (float scale : {1.0f, 1e-3f, 300.0f}) {
                    const auto xw = normal_floats(rng, n, scale);
                    const auto xa = normal_floats(rng, n, 1.0f);
                    std::vector<uint8_t> w(row_size(dt.type, n)), a(row_size(at, n));
                    scalar().quantize_row[tid(dt.type)](xw.data(), w.data(), n);
                    scalar().quantize_row[tid(at)](xa.data(), a.data(), n);
                    expect_dot_close(k, dt.type, w, a, n,
                                     std::string(kernel_level_name(level)) + " " + std::string(type_name(dt.type)) +
                                         " n=" + std::to_string(n) + " scale=" + std::to_string(scale));
                    ++tested;
                }
            }
        }
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0) << "a SIMD level is present but no SIMD dot product was tested";
    }
}

// Raw blocks: every bit pattern of the quants, extreme values (all bits set: the largest
// quants, scales and mins, q8 = -1 everywhere; q8 = -128 in the random rows), zero rows,
// negative scales.
TEST(SimdKernels, VecDotRawBlocksMatchScalar) {
    const auto levels = simd_levels();
    int tested = 0;
    std::mt19937 rng(7);
    for (KernelLevel level : levels) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (const DotType& dt : dot_types()) {
            if (type_traits(dt.type).block_size == 1) continue;  // floats: raw bytes would be NaN/Inf
            const Type at = scalar().vec_dot_type[tid(dt.type)];
            for (int64_t n : dt.lengths) {
                for (Fill fw : {Fill::Random, Fill::AllOnes, Fill::Zero}) {
                    for (Fill fa : {Fill::Random, Fill::AllOnes}) {
                        for (bool neg : {false, true}) {
                            const auto w = raw_row(rng, dt.type, n, fw, neg);
                            const auto a = raw_row(rng, at, n, fa, neg);
                            expect_dot_close(k, dt.type, w, a, n,
                                             std::string(kernel_level_name(level)) + " raw " +
                                                 std::string(type_name(dt.type)) + " n=" + std::to_string(n) +
                                                 " fill=" + std::to_string(static_cast<int>(fw)) +
                                                 std::to_string(static_cast<int>(fa)) + " neg=" + std::to_string(neg));
                            ++tested;
                        }
                    }
                }
            }
        }
        // Activations at the int8 extremes against the largest weights: q8 = -128 and 127.
        for (Type wt : {Type::Q8_0, Type::Q4_0, Type::Q5_0, Type::Q4_1, Type::Q5_1, Type::Q4_K, Type::Q5_K, Type::Q6_K}) {
            const Type at = scalar().vec_dot_type[tid(wt)];
            const int64_t n = 4096;
            for (int8_t q : {int8_t{-128}, int8_t{127}}) {
                const auto w = raw_row(rng, wt, n, Fill::AllOnes, false);
                auto a = raw_row(rng, at, n, Fill::Random, false);
                const TypeTraits& tt = type_traits(at);
                for (size_t b = 0; b < a.size() / tt.type_size; ++b) {
                    uint8_t* blk = a.data() + b * tt.type_size;
                    if (at == Type::Q8_K) {
                        auto* y = reinterpret_cast<quant::BlockQ8_K*>(blk);
                        std::memset(y->qs, static_cast<uint8_t>(q), sizeof(y->qs));
                        for (auto& s : y->bsums) s = static_cast<int16_t>(16 * q);
                    } else {
                        const size_t off = at == Type::Q8_0 ? offsetof(quant::BlockQ8_0, qs) : offsetof(quant::BlockQ8_1, qs);
                        std::memset(blk + off, static_cast<uint8_t>(q), 32);
                    }
                }
                auto w2 = w;
                if (wt == Type::Q8_0) {  // weights -128 too
                    for (size_t b = 0; b < w2.size() / 34; ++b) std::memset(w2.data() + b * 34 + 2, 0x80, 32);
                }
                expect_dot_close(k, wt, w2, a, n,
                                 std::string(kernel_level_name(level)) + " extreme " + std::string(type_name(wt)) +
                                     " q8=" + std::to_string(q));
                ++tested;
            }
        }
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0);
    }
}

TEST(SimdKernels, VecDotFloatExtremes) {
    const auto levels = simd_levels();
    std::mt19937 rng(3);
    for (KernelLevel level : levels) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (Type t : {Type::F32, Type::F16, Type::BF16}) {
            for (int64_t n : {int64_t{5}, int64_t{64}, int64_t{4096}, int64_t{4103}}) {
                for (float v : {0.0f, 60000.0f / 64, -1.0f, 1e-6f}) {
                    std::vector<float> xw(static_cast<size_t>(n), v), xa(static_cast<size_t>(n), -v);
                    std::vector<uint8_t> w(row_size(t, n)), a(row_size(t, n));
                    scalar().quantize_row[tid(t)](xw.data(), w.data(), n);
                    scalar().quantize_row[tid(t)](xa.data(), a.data(), n);
                    expect_dot_close(k, t, w, a, n,
                                     std::string(kernel_level_name(level)) + " " + std::string(type_name(t)) +
                                         " const n=" + std::to_string(n) + " v=" + std::to_string(v));
                }
            }
        }
    }
}

// ---- activation quantization: byte for byte -----------------------------------------------

std::vector<std::vector<float>> quantize_inputs(std::mt19937& rng, int64_t n) {
    std::vector<std::vector<float>> rows;
    rows.push_back(normal_floats(rng, n, 1.0f));
    rows.push_back(normal_floats(rng, n, 1e-30f));  // tiny (subnormal quotients)
    rows.push_back(normal_floats(rng, n, 1e30f));
    rows.push_back(std::vector<float>(static_cast<size_t>(n), 0.0f));
    std::vector<float> ties(static_cast<size_t>(n));
    std::uniform_int_distribution<int> k(-127, 126);
    for (int64_t i = 0; i < n; ++i) ties[static_cast<size_t>(i)] = static_cast<float>(k(rng)) + 0.5f;  // exact halves
    for (int64_t i = 0; i < n; i += 32) ties[static_cast<size_t>(i) + 5] = (i / 32) % 2 ? 127.0f : -127.0f;  // amax 127
    rows.push_back(ties);
    std::vector<float> mixed = normal_floats(rng, n, 1.0f);
    for (int64_t i = 0; i < n; i += 3) mixed[static_cast<size_t>(i)] = 0.0f;
    for (int64_t i = 0; i < n; i += 64) mixed[static_cast<size_t>(i)] = -mixed[static_cast<size_t>(i) + 1] * 40;  // repeated |max|
    for (int64_t i = 0; i < n; i += 64) mixed[static_cast<size_t>(i) + 1] *= -40;
    rows.push_back(mixed);
    std::vector<float> block_zero = normal_floats(rng, n, 2.0f);
    for (int64_t i = 0; i < std::min<int64_t>(n, 256); ++i) block_zero[static_cast<size_t>(i)] = i % 2 ? 0.0f : -0.0f;
    rows.push_back(block_zero);
    return rows;
}

TEST(SimdKernels, QuantizeActivationsBitIdentical) {
    const auto levels = simd_levels();
    std::mt19937 rng(11);
    int tested = 0;
    for (KernelLevel level : levels) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (Type t : {Type::Q8_0, Type::Q8_1, Type::Q8_K}) {
            for (int64_t n : {int64_t{256}, int64_t{4096}, int64_t{11008}}) {
                int row_index = 0;
                for (const auto& x : quantize_inputs(rng, n)) {
                    std::vector<uint8_t> ref(row_size(t, n)), got(row_size(t, n), 0xCD);
                    scalar().quantize_row[tid(t)](x.data(), ref.data(), n);
                    k.quantize_row[tid(t)](x.data(), got.data(), n);
                    size_t first = 0;
                    while (first < ref.size() && ref[first] == got[first]) ++first;
                    EXPECT_EQ(first, ref.size()) << kernel_level_name(level) << " " << type_name(t) << " n=" << n
                                                 << " input " << row_index << ": first differing byte " << first;
                    ++row_index;
                    ++tested;
                }
            }
        }
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0);
    }
}

// ---- to_float: byte for byte ---------------------------------------------------------------

TEST(SimdKernels, ToFloatBitIdentical) {
    const auto levels = simd_levels();
    std::mt19937 rng(5);
    int tested = 0;
    for (KernelLevel level : levels) {
        const CpuKernels& k = cpu::cpu_kernels_for(level);
        for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0, Type::F16, Type::BF16, Type::Q4_0, Type::Q4_1,
                       Type::Q5_0, Type::Q5_1, Type::Q8_1, Type::Q8_K}) {
            const int64_t bs = type_traits(t).block_size;
            for (int64_t n : {bs, 256 * bs / (bs == 1 ? 1 : bs), int64_t{4096}, int64_t{11008}, bs == 1 ? int64_t{13} : bs}) {
                if (n % bs != 0) continue;
                for (Fill f : {Fill::Random, Fill::AllOnes}) {
                    std::vector<uint8_t> row;
                    if (bs == 1) {  // every fp16 / bf16 bit pattern class, NaN and Inf included
                        row.resize(row_size(t, n));
                        std::uniform_int_distribution<int> byte(0, 255);
                        for (uint8_t& b : row) b = f == Fill::Random ? static_cast<uint8_t>(byte(rng)) : 0xFF;
                    } else {
                        row = raw_row(rng, t, n, f, true);
                    }
                    std::vector<float> ref(static_cast<size_t>(n)), got(static_cast<size_t>(n), -7.0f);
                    scalar().to_float[tid(t)](row.data(), ref.data(), n);
                    k.to_float[tid(t)](row.data(), got.data(), n);
                    EXPECT_EQ(std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)), 0)
                        << kernel_level_name(level) << " " << type_name(t) << " n=" << n;
                    ++tested;
                }
            }
        }
        // fp16 special values one by one: every bit pattern.
        std::vector<uint16_t> all(65536);
        for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
        std::vector<float> ref(65536), got(65536);
        scalar().to_float[tid(Type::F16)](all.data(), ref.data(), 65536);
        k.to_float[tid(Type::F16)](all.data(), got.data(), 65536);
        int mismatches = 0;
        for (uint32_t h = 0; h < 65536; ++h) {
            if (std::memcmp(&ref[h], &got[h], 4) != 0 && mismatches++ < 5)
                ADD_FAILURE() << kernel_level_name(level) << " F16 bit pattern 0x" << std::hex << h;
        }
        scalar().to_float[tid(Type::BF16)](all.data(), ref.data(), 65536);
        k.to_float[tid(Type::BF16)](all.data(), got.data(), 65536);
        EXPECT_EQ(std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)), 0) << kernel_level_name(level) << " BF16";
    }
    if (cpu_has_simd()) {
        EXPECT_GT(tested, 0);
    }
}

}  // namespace
}  // namespace ember::test
