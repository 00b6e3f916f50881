// The gemm (tile matmul) kernels of the CPU backend (backends/cpu/gemm.h): every SIMD level's
// kernel against the scalar reference (one reference vec_dot per output), over tiles whose
// sizes are not multiples of the micro-tile; then the promises mul_mat relies on: an output's
// bits do not depend on where it sits in the tile, nor (through the op) on the thread count
// or on how many activation rows there are.
#include "backend/op_harness.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/kernel_levels.h"
#include "core/context.h"
#include "core/graph.h"
#include "core/ops.h"
#include "ember/type.h"
#include "quant/f16.h"
#include "quant/q8_k.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ember::test {
namespace {

using cpu::CpuKernels;
using cpu::KernelLevel;

uint32_t tid(Type t) { return static_cast<uint32_t>(t); }

const CpuKernels& scalar() { return cpu::cpu_kernels_for(KernelLevel::Scalar); }

// The weight types with SIMD gemm kernels, and K values for them (whole blocks; Q8_0 also
// with an odd block count, which the AVX-512 kernel handles as a half pair).
struct GemmType {
    Type type;
    std::vector<int64_t> ks;
};
std::vector<GemmType> gemm_types() {
    return {{Type::Q4_K, {256, 768}}, {Type::Q5_K, {256, 768}}, {Type::Q6_K, {256, 768}}, {Type::Q8_0, {32, 96, 640}}};
}

// The SIMD levels this CPU runs, with the types each must have a gemm kernel for.
struct Level {
    KernelLevel level;
    std::vector<Type> required;
};
std::vector<Level> simd_levels() {
    std::vector<Level> out;
    const std::vector<Type> all = {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0};
    for (KernelLevel level : {KernelLevel::Avx2, KernelLevel::Avx512}) {
        if (!cpu::kernel_level_supported(level)) {
            std::cout << "[ GEMM     ] " << cpu::kernel_level_name(level) << " not available on this CPU: NOT TESTED\n";
            continue;
        }
        std::vector<Type> required;
        if (level == KernelLevel::Avx2 || (level == KernelLevel::Avx512 && cpu::cpu_features().avx512vnni)) required = all;
        out.push_back({level, required});
    }
    return out;
}

// Every SIMD gemm kernel this CPU can run: the table entries of each level, plus the kernels
// a table entry may hide (AVX-512 VNNI Q8_0 where AMX replaces it; the AMX one itself).
struct Kernel {
    std::string name;
    Type type;
    cpu::GemmFn fn;
};
std::vector<Kernel> kernels_under_test() {
    std::vector<Kernel> out;
    for (const Level& lv : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(lv.level);
        for (Type t : lv.required) EXPECT_NE(k.gemm[tid(t)], nullptr) << kernel_level_name(lv.level) << " " << type_name(t);
        for (const GemmType& gt : gemm_types()) {
            if (k.gemm[tid(gt.type)] != nullptr) out.push_back({kernel_level_name(lv.level), gt.type, k.gemm[tid(gt.type)]});
        }
        if (lv.level == KernelLevel::Avx512 && cpu::cpu_features().avx512vnni) {
            out.push_back({"avx512 vnni", Type::Q8_0, cpu::gemm_q8_0_vnni});
            out.push_back({"avx512 vnni", Type::Q4_K, cpu::gemm_q4_k_vnni});
            out.push_back({"avx512 vnni", Type::Q5_K, cpu::gemm_q5_k_vnni});
            out.push_back({"avx512 vnni", Type::Q6_K, cpu::gemm_q6_k_vnni});
        }
    }
    if (cpu::amx_int8_usable()) {
        for (const GemmType& gt : gemm_types()) {
            EXPECT_NE(cpu::amx_gemm(gt.type), nullptr) << type_name(gt.type);
            out.push_back({"amx", gt.type, cpu::amx_gemm(gt.type)});
        }
    } else {
        std::cout << "[ GEMM     ] AMX-INT8 not usable here: the AMX kernel is NOT TESTED\n";
    }
    return out;
}

std::vector<int64_t> ks_for(Type t) {
    for (const GemmType& gt : gemm_types()) {
        if (gt.type == t) return gt.ks;
    }
    return {};
}

// n_rows rows of `t` quantized from normal floats with the reference quantizer.
std::vector<uint8_t> quantized_rows(std::mt19937& rng, Type t, int64_t k, int64_t n_rows) {
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(k));
    const size_t row = row_size(t, k);
    std::vector<uint8_t> out(row * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        for (float& v : x) v = dist(rng);
        scalar().quantize_row[tid(t)](x.data(), out.data() + static_cast<size_t>(r) * row, k);
    }
    return out;
}

// Weight rows of raw random bytes (every bit pattern, int8 -128 included) with finite fp16
// scales: the kernels must be exact on any input, not only on what the quantizer writes.
std::vector<uint8_t> raw_weight_rows(std::mt19937& rng, Type t, int64_t k, int64_t n_rows) {
    std::vector<uint8_t> out(row_size(t, k) * static_cast<size_t>(n_rows));
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t& b : out) b = static_cast<uint8_t>(byte(rng));
    std::vector<size_t> fp16;  // offsets of the fp16 fields in a block
    switch (t) {
        case Type::Q8_0: fp16 = {0}; break;
        case Type::Q4_K:
        case Type::Q5_K: fp16 = {0, 2}; break;
        case Type::Q6_K: fp16 = {208}; break;
        default: break;
    }
    std::uniform_real_distribution<float> mag(-1.0f, 1.0f);
    const size_t bytes = type_traits(t).type_size;
    for (size_t b = 0; b < out.size() / bytes; ++b) {
        for (size_t off : fp16) {
            const uint16_t h = quant::fp32_to_fp16(mag(rng));
            std::memcpy(out.data() + b * bytes + off, &h, 2);
        }
    }
    return out;
}

// sum |w * y| over the dequantized rows: the scale of the float rounding error.
double abs_dot(Type wt, const uint8_t* w, const uint8_t* y, int64_t k) {
    const Type yt = scalar().vec_dot_type[tid(wt)];
    std::vector<float> fw(static_cast<size_t>(k)), fy(static_cast<size_t>(k));
    scalar().to_float[tid(wt)](w, fw.data(), k);
    scalar().to_float[tid(yt)](y, fy.data(), k);
    double s = 0;
    for (int64_t i = 0; i < k; ++i) s += std::fabs(static_cast<double>(fw[i]) * fy[i]);
    return s;
}

struct Problem {
    Type type;
    int64_t k, nr, nc;
    std::vector<uint8_t> w, y;
    size_t ldw() const { return row_size(type, k); }
    size_t ldy() const { return row_size(scalar().vec_dot_type[tid(type)], k); }
    std::vector<float> run(cpu::GemmFn gemm, int64_t r0 = 0, int64_t c0 = 0, int64_t nr_ = -1, int64_t nc_ = -1) const {
        if (nr_ < 0) nr_ = nr;
        if (nc_ < 0) nc_ = nc;
        std::vector<float> dst(static_cast<size_t>(nr_ * nc_), std::nanf(""));
        gemm(k, w.data() + static_cast<size_t>(r0) * ldw(), ldw(), y.data() + static_cast<size_t>(c0) * ldy(), ldy(),
             dst.data(), static_cast<size_t>(nr_), nr_, nc_);
        return dst;
    }
};

Problem make_problem(std::mt19937& rng, Type t, int64_t k, int64_t nr, int64_t nc, bool raw_weights) {
    Problem p{t, k, nr, nc, {}, {}};
    p.w = raw_weights ? raw_weight_rows(rng, t, k, nr) : quantized_rows(rng, t, k, nr);
    p.y = quantized_rows(rng, scalar().vec_dot_type[tid(t)], k, nc);
    return p;
}

TEST(GemmKernels, ScalarReferenceIsVecDot) {
    std::mt19937 rng(7);
    for (const GemmType& gt : gemm_types()) {
        ASSERT_NE(scalar().gemm[tid(gt.type)], nullptr) << type_name(gt.type);
        const Problem p = make_problem(rng, gt.type, gt.ks.back(), 5, 3, false);
        const std::vector<float> got = p.run(scalar().gemm[tid(gt.type)]);
        for (int64_t c = 0; c < p.nc; ++c) {
            for (int64_t r = 0; r < p.nr; ++r) {
                const float want = scalar().vec_dot[tid(gt.type)](
                    p.k, p.w.data() + static_cast<size_t>(r) * p.ldw(), p.y.data() + static_cast<size_t>(c) * p.ldy());
                EXPECT_EQ(got[static_cast<size_t>(c * p.nr + r)], want) << type_name(gt.type);
            }
        }
    }
}

TEST(GemmKernels, EveryLevelMatchesScalar) {
    std::mt19937 rng(1234);
    int tested = 0;
    for (const Kernel& kn : kernels_under_test()) {
        for (int64_t kk : ks_for(kn.type)) {
            for (bool raw : {false, true}) {
                // 11 x 7, 1 x 1, 9 x 13 and 37 x 21: no dimension a multiple of any micro-tile.
                for (auto [nr, nc] : {std::pair<int64_t, int64_t>{11, 7}, {1, 1}, {9, 13}, {37, 21}}) {
                    const Problem p = make_problem(rng, kn.type, kk, nr, nc, raw);
                    const std::vector<float> ref = p.run(scalar().gemm[tid(kn.type)]);
                    const std::vector<float> got = p.run(kn.fn);
                    const std::string what =
                        fmt::format("{} {} k={} {}x{}{}", kn.name, type_name(kn.type), kk, nr, nc, raw ? " raw" : "");
                    for (int64_t c = 0; c < nc; ++c) {
                        for (int64_t r = 0; r < nr; ++r) {
                            const size_t i = static_cast<size_t>(c * nr + r);
                            const double scale = abs_dot(kn.type, p.w.data() + static_cast<size_t>(r) * p.ldw(),
                                                         p.y.data() + static_cast<size_t>(c) * p.ldy(), kk);
                            ASSERT_TRUE(std::isfinite(ref[i])) << what;
                            ASSERT_NEAR(got[i], ref[i], 1e-5 * scale + 1e-30) << what << " at (" << r << ", " << c << ")";
                        }
                    }
                    ++tested;
                }
            }
        }
    }
    std::cout << "[ GEMM     ] " << tested << " kernel/shape combinations checked against the scalar reference\n";
    if (cpu::kernel_level_supported(KernelLevel::Avx2)) {
        EXPECT_GT(tested, 0);
    }
}

// Windows of a block must give the same bits as the whole block: the same output lands in a
// different micro-tile position, or in an edge tile, and must not change.
TEST(GemmKernels, TilePositionDoesNotChangeBits) {
    std::mt19937 rng(99);
    for (const Kernel& kn : kernels_under_test()) {
        const Problem p = make_problem(rng, kn.type, ks_for(kn.type).back(), 37, 35, false);
        const std::vector<float> full = p.run(kn.fn);
        for (auto [r0, c0, nr, nc] : {std::array<int64_t, 4>{1, 2, 12, 9}, {3, 1, 5, 3}, {5, 7, 1, 4}, {2, 0, 35, 35},
                                      {16, 17, 21, 18}}) {
            const std::vector<float> part = p.run(kn.fn, r0, c0, nr, nc);
            for (int64_t c = 0; c < nc; ++c) {
                for (int64_t r = 0; r < nr; ++r) {
                    const float a = part[static_cast<size_t>(c * nr + r)];
                    const float b = full[static_cast<size_t>((c0 + c) * p.nr + r0 + r)];
                    ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << kn.name << " " << type_name(kn.type) << " output ("
                                                                << r0 + r << ", " << c0 + c << ") in window at (" << r0
                                                                << ", " << c0 << ")";
                }
            }
        }
    }
}

// ---- through the op ----

// mul_mat of a [K, N] weight by a [K, M] activation on `threads` threads, as floats [M][N].
std::vector<float> mul_mat_on(int threads, Type t, int64_t K, int64_t N, int64_t M, uint64_t seed) {
    Context ctx(64u << 20);
    Rng rng(seed);
    Tensor* a = random_tensor(ctx, rng, t, {K, N, 1, 1});
    Tensor* b = random_tensor(ctx, rng, Type::F32, {K, 64, 1, 1});  // rows 0..M-1 used: the same data for every M
    Tensor* bm = ctx.new_tensor_2d(Type::F32, K, M);
    std::memcpy(bm->data, b->data, static_cast<size_t>(K * M) * sizeof(float));
    Tensor* out = ops::mul_mat(ctx, *a, *bm);
    Graph g({out});
    cpu::make_backend(threads)->compute(g.nodes());
    std::vector<float> v(static_cast<size_t>(N * M));
    std::memcpy(v.data(), out->data, v.size() * sizeof(float));
    return v;
}

TEST(GemmKernels, MulMatBitsIndependentOfThreadsAndRowCount) {
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0}) {
        const int64_t K = 2 * block_size(t) + (t == Type::Q8_0 ? 32 : 0);
        const int64_t N = 70;  // not a multiple of the row chunk: threads split mid-way
        const std::vector<float> one = mul_mat_on(1, t, K, N, 37, 5);
        for (int threads : {2, 3}) {
            const std::vector<float> many = mul_mat_on(threads, t, K, N, 37, 5);
            EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0)
                << type_name(t) << " " << threads << " threads";
        }
        // The first 5 activation rows give the same outputs alone as among 37.
        const std::vector<float> few = mul_mat_on(2, t, K, N, 5, 5);
        EXPECT_EQ(std::memcmp(few.data(), one.data(), few.size() * sizeof(float)), 0) << type_name(t) << " M=5 vs M=37";
    }
}

// Token generation (1 to 3 activation rows) goes through CpuKernels::gemv where the type has
// one: rows from four stretches per call. Its outputs must not depend on the thread count
// (which moves the stretch boundaries), and must match the scalar reference.
TEST(GemmKernels, GemvPathBitsIndependentOfThreads) {
    int tested = 0;
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0}) {
        const int64_t K = 2 * block_size(t) + (t == Type::Q8_0 ? 32 : 0);
        for (int64_t M : {1, 2, 3}) {
            for (int64_t N : {int64_t{7}, int64_t{70}, int64_t{261}}) {  // stretches of unequal length
                const std::vector<float> one = mul_mat_on(1, t, K, N, M, 11);
                for (int threads : {2, 3}) {
                    const std::vector<float> many = mul_mat_on(threads, t, K, N, M, 11);
                    EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)), 0)
                        << type_name(t) << " N=" << N << " M=" << M << " " << threads << " threads";
                }
                ++tested;
            }
        }
    }
    EXPECT_EQ(tested, 36);
}

// Q8_K activation rows at the int8 extremes: every quant -128 or 127 (row 0's first block
// all -128), bsums recomputed. The Q8_K quantizer writes -128 for a row's most negative
// value, so a kernel must be exact there too (not only on normal activations).
void make_extreme_q8_k(std::mt19937& rng, uint8_t* row, int64_t k) {
    static_assert(sizeof(quant::BlockQ8_K) == 292);
    for (int64_t b = 0; b < k / quant::QK_K; ++b) {
        quant::BlockQ8_K blk;
        std::memcpy(&blk, row + b * sizeof blk, sizeof blk);
        for (int8_t& q : blk.qs) q = (b == 0 || rng() % 2 == 0) ? int8_t{-128} : int8_t{127};
        for (int j = 0; j < quant::QK_K / 16; ++j) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
            blk.bsums[j] = static_cast<int16_t>(sum);
        }
        std::memcpy(row + b * sizeof blk, &blk, sizeof blk);
    }
}

// Each gemv kernel against one scalar vec_dot per output, called the way mul_mat calls it:
// nr = 1..8 rows that are `stride` rows apart (raw-byte weights), nc = 1..3 activation rows
// (for the K-quants the third at the int8 extremes). Each output must also equal, bit for
// bit, the same row computed alone (nr = nc = 1): its bits may not depend on nr, nc or its
// position among the rows.
TEST(GemmKernels, GemvKernelsMatchScalar) {
    std::mt19937 rng(99);
    int tested = 0;
    constexpr int64_t kMaxRows = 8;
    for (const Level& lv : simd_levels()) {
        const CpuKernels& k = cpu::cpu_kernels_for(lv.level);
        if (lv.level == KernelLevel::Avx512 && cpu::cpu_features().avx512vnni) {
            for (Type t : lv.required) EXPECT_NE(k.gemv[tid(t)], nullptr) << type_name(t);
        }
        for (const GemmType& gt : gemm_types()) {
            const cpu::GemmFn gemv = k.gemv[tid(gt.type)];
            if (gemv == nullptr) continue;
            for (int64_t kk : gt.ks) {
                const int64_t stride = 3;
                Problem p = make_problem(rng, gt.type, kk, kMaxRows * stride, 3, true);
                if (scalar().vec_dot_type[tid(gt.type)] == Type::Q8_K) make_extreme_q8_k(rng, p.y.data() + 2 * p.ldy(), kk);
                for (int64_t nr = 1; nr <= kMaxRows; ++nr) {
                    for (int64_t nc = 1; nc <= 3; ++nc) {
                        std::vector<float> got(static_cast<size_t>(kMaxRows * nc), std::nanf(""));
                        gemv(p.k, p.w.data() + p.ldw(), stride * p.ldw(), p.y.data(), p.ldy(), got.data(), kMaxRows, nr, nc);
                        for (int64_t c = 0; c < nc; ++c) {
                            for (int64_t r = 0; r < nr; ++r) {
                                const uint8_t* w = p.w.data() + static_cast<size_t>(1 + r * stride) * p.ldw();
                                const uint8_t* y = p.y.data() + static_cast<size_t>(c) * p.ldy();
                                const std::string where = fmt::format("{} {} k={} nr={} nc={} ({}, {})", kernel_level_name(lv.level),
                                                                      type_name(gt.type), kk, nr, nc, r, c);
                                const float g = got[static_cast<size_t>(c * kMaxRows + r)];
                                const double want = scalar().vec_dot[tid(gt.type)](p.k, w, y);
                                const double tol = 1e-5 * abs_dot(gt.type, w, y, p.k) + 1e-30;
                                EXPECT_NEAR(g, want, tol) << where;
                                float alone = std::nanf("");
                                gemv(p.k, w, p.ldw(), y, p.ldy(), &alone, 1, 1, 1);
                                EXPECT_EQ(std::memcmp(&g, &alone, sizeof g), 0) << where << ": " << g << " vs alone " << alone;
                            }
                        }
                        ++tested;
                    }
                }
            }
        }
    }
    if (cpu::kernel_level_supported(KernelLevel::Avx512) && cpu::cpu_features().avx512vnni) {
        EXPECT_GT(tested, 0);
    }
}

}  // namespace
}  // namespace ember::test
