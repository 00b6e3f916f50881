// Property tests of the quant/ layer: quantize -> dequantize error bounds, edge-case
// inputs, fp16/bf16 conversion corner cases, the block layouts of docs/FORMATS.md §3 (checked
// against an independent element-by-element decoder written from the spec text), and
// vec_dot against the dot of the dequantized values.
#include "core/error.h"
#include "ember/type.h"
#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/q8_k.h"
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ember {
namespace {

using quant::quant_traits;

// ---- helpers --------------------------------------------------------------------------

std::vector<float> random_normal(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

std::vector<uint8_t> quantize(Type t, const std::vector<float>& x) {
    std::vector<uint8_t> out(row_size(t, static_cast<int64_t>(x.size())));
    quant_traits(t).from_float(x.data(), out.data(), static_cast<int64_t>(x.size()));
    return out;
}

std::vector<float> dequantize(Type t, const std::vector<uint8_t>& q, size_t n) {
    std::vector<float> out(n);
    quant_traits(t).to_float(q.data(), out.data(), static_cast<int64_t>(n));
    return out;
}

std::vector<float> roundtrip(Type t, const std::vector<float>& x) { return dequantize(t, quantize(t, x), x.size()); }

// rms(x - y) / rms(x)
double relative_rmse(const std::vector<float>& x, const std::vector<float>& y, size_t begin = 0, size_t end = SIZE_MAX) {
    end = std::min(end, x.size());
    double err = 0, ref = 0;
    for (size_t i = begin; i < end; ++i) {
        const double d = static_cast<double>(x[i]) - y[i];
        err += d * d;
        ref += static_cast<double>(x[i]) * x[i];
    }
    return ref > 0 ? std::sqrt(err / ref) : std::sqrt(err);
}

// Every type with kernels, and a bound on relative RMS error for Gaussian data (about
// 1.5-2x what the format actually achieves, so a broken search or packing shows up).
struct TypeCase {
    Type type;
    double rel_rmse;  // bound for N(0,1) data
};

const TypeCase kCases[] = {
    {Type::F32, 0.0},     {Type::F16, 5e-4},   {Type::BF16, 4e-3},  {Type::Q4_0, 0.13}, {Type::Q4_1, 0.11},
    {Type::Q5_0, 0.065},  {Type::Q5_1, 0.055}, {Type::Q8_0, 0.009}, {Type::Q8_1, 0.009}, {Type::Q4_K, 0.10},
    {Type::Q5_K, 0.05},   {Type::Q6_K, 0.025}, {Type::Q8_K, 0.008},
};

std::string case_name(const testing::TestParamInfo<TypeCase>& info) { return type_name(info.param.type); }

class QuantRoundtrip : public testing::TestWithParam<TypeCase> {};
// The same cases, cut to the formats a test applies to (so no case is skipped): block formats
// (block size > 1), and weight formats with a vec_dot (not the activation-only Q8_1, Q8_K).
class QuantBlockFormat : public QuantRoundtrip {};
class QuantWeightFormat : public QuantRoundtrip {};

std::vector<TypeCase> cases_where(bool (*keep)(Type)) {
    std::vector<TypeCase> out;
    for (const TypeCase& c : kCases) {
        if (keep(c.type)) out.push_back(c);
    }
    return out;
}
bool is_block_format(Type t) { return block_size(t) > 1; }
bool has_vec_dot(Type t) { return quant::quant_traits(t).vec_dot != nullptr; }

constexpr size_t kN = 16 * 256;  // a whole number of blocks for every format

// ---- quantize -> dequantize -------------------------------------------------------------

TEST_P(QuantRoundtrip, GaussianErrorBound) {
    const TypeCase c = GetParam();
    for (uint32_t seed : {1u, 2u, 3u}) {
        for (float sigma : {1.0f, 1e-3f, 30.0f}) {
            const auto x = random_normal(kN, seed, sigma);
            const auto y = roundtrip(c.type, x);
            const double e = relative_rmse(x, y);
            EXPECT_LE(e, c.rel_rmse) << "seed " << seed << " sigma " << sigma;
            if (c.type == Type::F32) {
                EXPECT_EQ(x, y);
            }
        }
    }
}

TEST_P(QuantRoundtrip, ZerosStayZero) {
    const TypeCase c = GetParam();
    const std::vector<float> x(kN, 0.0f);
    const auto q = quantize(c.type, x);
    const auto y = dequantize(c.type, q, kN);
    for (size_t i = 0; i < kN; ++i) ASSERT_EQ(y[i], 0.0f) << "element " << i;
}

TEST_P(QuantRoundtrip, SingleHugeOutlier) {
    const TypeCase c = GetParam();
    auto x = random_normal(kN, 7);
    const size_t at = 256 + 37;  // inside the second block of every format
    x[at] = 1.0e4f;
    const auto y = roundtrip(c.type, x);
    for (size_t i = 0; i < kN; ++i) ASSERT_TRUE(std::isfinite(y[i])) << "element " << i;
    EXPECT_NEAR(y[at], x[at], 0.05 * x[at]);
    // Blocks that do not contain the outlier are unaffected.
    EXPECT_LE(relative_rmse(x, y, 0, 256), c.rel_rmse);
    EXPECT_LE(relative_rmse(x, y, 512, kN), c.rel_rmse);
}

TEST_P(QuantRoundtrip, AllEqualBlocks) {
    const TypeCase c = GetParam();
    // (Not much smaller: a Q6_K block of all -1e-3 already needs an fp16-subnormal d.)
    for (float v : {0.7f, -0.7f, 3.0f, -0.05f}) {
        const std::vector<float> x(kN, v);
        const auto y = roundtrip(c.type, x);
        for (size_t i = 0; i < kN; ++i) ASSERT_NEAR(y[i], v, 0.01 * std::fabs(v)) << "value " << v << " element " << i;
    }
}

TEST_P(QuantRoundtrip, NegativeOnly) {
    const TypeCase c = GetParam();
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> dist(-2.0f, -0.1f);
    std::vector<float> x(kN);
    for (float& v : x) v = dist(rng);
    const auto y = roundtrip(c.type, x);
    // Uniform data on an offset interval is easier than Gaussian for every format.
    EXPECT_LE(relative_rmse(x, y), c.rel_rmse);
}

TEST_P(QuantBlockFormat, RejectsPartialBlocks) {
    const TypeCase c = GetParam();
    const int64_t bs = block_size(c.type);
    std::vector<float> x(static_cast<size_t>(bs) + 1, 1.0f);
    std::vector<uint8_t> q(type_size(c.type) * 2);
    EXPECT_THROW(quant_traits(c.type).from_float(x.data(), q.data(), bs + 1), Error);
    EXPECT_THROW(quant_traits(c.type).to_float(q.data(), x.data(), bs + 1), Error);
}

// vec_dot(x, y) equals the dot of the dequantized weights and dequantized activations,
// up to float rounding of the accumulation.
TEST_P(QuantWeightFormat, VecDotMatchesDequantizedDot) {
    const TypeCase c = GetParam();
    const quant::QuantTraits& tr = quant_traits(c.type);
    for (uint32_t seed : {5u, 6u}) {
        const auto xf = random_normal(kN, seed);
        const auto yf = random_normal(kN, seed + 100, 2.0f);
        const auto xq = quantize(c.type, xf);
        const auto yq = quantize(tr.vec_dot_type, yf);
        const auto xd = dequantize(c.type, xq, kN);
        const auto yd = dequantize(tr.vec_dot_type, yq, kN);
        double expect = 0, magnitude = 0;
        for (size_t i = 0; i < kN; ++i) {
            expect += static_cast<double>(xd[i]) * yd[i];
            magnitude += std::fabs(static_cast<double>(xd[i]) * yd[i]);
        }
        double tolerance = 2e-6 * magnitude + 1e-6;
        if (tr.vec_dot_type == Type::Q8_1) {
            // The offset term uses s = fp16(d * sum(qy)) formed from the unrounded d, not
            // the dequantized activations' sum: allow fp16 rounding of both (2 x 2^-11).
            const size_t bsz = type_size(c.type);
            for (size_t b = 0; b < kN / 32; ++b) {
                const double m = quant::fp16_to_fp32(static_cast<uint16_t>(xq[b * bsz + 2] | (xq[b * bsz + 3] << 8)));
                double ysum = 0;
                for (size_t j = 0; j < 32; ++j) ysum += yd[32 * b + j];
                tolerance += std::fabs(m * ysum) * 0x1p-10;
            }
        }
        const float got = tr.vec_dot(static_cast<int64_t>(kN), xq.data(), yq.data());
        EXPECT_NEAR(got, expect, tolerance) << "seed " << seed;
    }
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantRoundtrip, testing::ValuesIn(kCases), case_name);
INSTANTIATE_TEST_SUITE_P(Quant, QuantBlockFormat, testing::ValuesIn(cases_where(is_block_format)), case_name);
INSTANTIATE_TEST_SUITE_P(Quant, QuantWeightFormat, testing::ValuesIn(cases_where(has_vec_dot)), case_name);

// ---- the table -------------------------------------------------------------------------

TEST(QuantTraits, VecDotTypes) {
    EXPECT_EQ(quant_traits(Type::F32).vec_dot_type, Type::F32);
    EXPECT_EQ(quant_traits(Type::F16).vec_dot_type, Type::F16);
    EXPECT_EQ(quant_traits(Type::BF16).vec_dot_type, Type::BF16);
    for (Type t : {Type::Q4_0, Type::Q5_0, Type::Q8_0}) EXPECT_EQ(quant_traits(t).vec_dot_type, Type::Q8_0);
    for (Type t : {Type::Q4_1, Type::Q5_1}) EXPECT_EQ(quant_traits(t).vec_dot_type, Type::Q8_1);
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K}) EXPECT_EQ(quant_traits(t).vec_dot_type, Type::Q8_K);
    EXPECT_EQ(quant_traits(Type::Q8_K).vec_dot, nullptr);
    EXPECT_EQ(quant_traits(Type::Q8_1).vec_dot, nullptr);
}

TEST(QuantTraits, UnsupportedTypeThrowsNamingIt) {
    for (Type t : {Type::Q2_K, Type::IQ4_NL, Type::I32, Type::TQ1_0}) {
        try {
            quant_traits(t);
            ADD_FAILURE() << "no exception for " << type_name(t);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(type_name(t)), std::string::npos) << e.what();
        }
    }
}

// ---- fp16 ------------------------------------------------------------------------------

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

// Independent oracle for fp32 -> fp16 (finite inputs): round |f| to a multiple of the
// fp16 spacing at its binade (2^-24 below 2^-14) with rint in double (exact, ties to even),
// and map |result| >= 65536 to infinity.
float fp16_oracle(float f) {
    const double a = std::fabs(static_cast<double>(f));
    if (a == 0) return f;
    int e = 0;
    std::frexp(a, &e);                       // a = m * 2^e, m in [0.5, 1)
    const int exp = std::max(e - 1, -14);    // fp16 binade exponent
    const double ulp = std::ldexp(1.0, exp - 10);
    double r = std::nearbyint(a / ulp) * ulp;
    if (r >= 65536.0) r = std::numeric_limits<double>::infinity();
    return static_cast<float>(std::copysign(r, static_cast<double>(f)));
}

TEST(QuantF16, AllHalvesConvertExactlyAndBack) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = quant::fp16_to_fp32(static_cast<uint16_t>(h));
        const bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
        if (nan) {
            ASSERT_TRUE(std::isnan(f)) << std::hex << h;
            ASSERT_EQ(quant::fp32_to_fp16(f), (h & 0x8000) | 0x7E00) << std::hex << h;
            continue;
        }
        // Value check from first principles: sign * mantissa * 2^exponent.
        const int exp = (h >> 10) & 0x1F;
        const int mant = h & 0x3FF;
        double v = exp == 0 ? std::ldexp(mant, -24)
                   : exp == 31 ? std::numeric_limits<double>::infinity()
                               : std::ldexp(1024 + mant, exp - 25);
        if (h & 0x8000) v = -v;
        ASSERT_EQ(bits(f), bits(static_cast<float>(v))) << std::hex << h;
        ASSERT_EQ(quant::fp32_to_fp16(f), h) << std::hex << h;
    }
}

TEST(QuantF16, EdgeCases) {
    using quant::fp32_to_fp16;
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(fp32_to_fp16(inf), 0x7C00);
    EXPECT_EQ(fp32_to_fp16(-inf), 0xFC00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
    EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::quiet_NaN()), 0xFE00);
    EXPECT_EQ(fp32_to_fp16(from_bits(0x7F800001)), 0x7E00);  // signalling NaN
    EXPECT_EQ(fp32_to_fp16(from_bits(0xFFBFFFFF)), 0xFE00);
    EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
    EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
    // Overflow: 65504 is the largest half; 65520 is the tie with 65536 and rounds to Inf.
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
    EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);
    EXPECT_EQ(fp32_to_fp16(-1e10f), 0xFC00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::max()), 0x7C00);
    // Ties to even among normals: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
    EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3C00);
    EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3C02);
    EXPECT_EQ(fp32_to_fp16(std::nextafter(1.0f + 0x1p-11f, 2.0f)), 0x3C01);
    // Mantissa carry into the exponent: 2 - 2^-12 rounds up to 2.
    EXPECT_EQ(fp32_to_fp16(2.0f - 0x1p-12f), 0x4000);
    // Subnormals: units of 2^-24.
    EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);
    EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);             // tie -> even (0)
    EXPECT_EQ(fp32_to_fp16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
    EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);         // tie 1.5 -> 2
    EXPECT_EQ(fp32_to_fp16(5 * 0x1p-25f), 0x0002);         // tie 2.5 -> 2
    EXPECT_EQ(fp32_to_fp16(-0x1p-24f), 0x8001);
    EXPECT_EQ(fp32_to_fp16(0x1p-14f - 0x1p-25f), 0x0400);  // tie between largest subnormal and smallest normal
    EXPECT_EQ(fp32_to_fp16(0x1p-14f - 0x1p-24f), 0x03FF);
    EXPECT_EQ(fp32_to_fp16(from_bits(0x00000001)), 0x0000);  // fp32 subnormal
    EXPECT_EQ(fp32_to_fp16(-from_bits(0x007FFFFF)), 0x8000);
}

TEST(QuantF16, RandomFloatsMatchOracle) {
    std::mt19937 rng(1234);
    for (int i = 0; i < 2000000; ++i) {
        uint32_t u = rng();
        // Concentrate half of the samples on the exponents fp16 can represent.
        if (i & 1) u = (u & 0x807FFFFFu) | ((100u + (u >> 23) % 45u) << 23);
        const float f = from_bits(u);
        if (std::isnan(f)) continue;
        const uint16_t h = quant::fp32_to_fp16(f);
        ASSERT_EQ(bits(quant::fp16_to_fp32(h)), bits(fp16_oracle(f))) << std::hex << u;
    }
}

TEST(QuantF16, RowConversionAndDot) {
    const auto x = random_normal(1000, 3);
    const auto y = random_normal(1000, 4);
    std::vector<uint16_t> hx(x.size()), hy(y.size());
    quant::fp32_to_fp16_row(x.data(), hx.data(), static_cast<int64_t>(x.size()));
    quant::fp32_to_fp16_row(y.data(), hy.data(), static_cast<int64_t>(y.size()));
    double expect = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(hx[i], quant::fp32_to_fp16(x[i]));
        expect += static_cast<double>(quant::fp16_to_fp32(hx[i])) * quant::fp16_to_fp32(hy[i]);
    }
    std::vector<float> back(x.size());
    quant::fp16_to_fp32_row(hx.data(), back.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(back[i], quant::fp16_to_fp32(hx[i]));
    EXPECT_NEAR(quant::vec_dot_f16(static_cast<int64_t>(x.size()), hx.data(), hy.data()), expect, 1e-4);
}

// ---- bf16 ------------------------------------------------------------------------------

TEST(QuantBF16, AllPatternsConvertExactlyAndBack) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = quant::bf16_to_fp32(static_cast<uint16_t>(h));
        ASSERT_EQ(bits(f), h << 16);
        const uint16_t back = quant::fp32_to_bf16(f);
        if (std::isnan(f)) {
            ASSERT_EQ(back, h | 0x40) << std::hex << h;  // quieted, sign and payload top kept
        } else {
            ASSERT_EQ(back, h) << std::hex << h;
        }
    }
}

TEST(QuantBF16, RoundingAndSpecials) {
    using quant::fp32_to_bf16;
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // tie, even stays
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // tie, odd rounds up
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001)), 0x3F81);  // above the tie
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F807FFF)), 0x3F80);
    EXPECT_EQ(fp32_to_bf16(from_bits(0xBF818000)), 0xBF82);  // sign symmetric
    EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to Inf
    EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
    EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7F800001)), 0x7FC0);  // signalling NaN quieted
    EXPECT_EQ(fp32_to_bf16(from_bits(0xFF812345)), 0xFFC1);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00018000)), 0x0002);  // subnormals round like normals
    EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
}

// ---- layouts: an independent decoder written from the spec text -----------------------

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
float h2f(const uint8_t* p) { return quant::fp16_to_fp32(rd16(p)); }

// K-quant 6-bit scale/min of sub-block j, per the packing table of §3.6.
void spec_scale_min(const uint8_t* s, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Value of element e of one block at p, from the §3 descriptions only.
float spec_element(Type t, const uint8_t* p, int e) {
    auto nib32 = [](const uint8_t* qs, int e) { return e < 16 ? (qs[e] & 0x0F) : (qs[e - 16] >> 4); };
    auto u32 = [](const uint8_t* b) { return static_cast<uint32_t>(b[0] | (b[1] << 8) | (b[2] << 16)) | (static_cast<uint32_t>(b[3]) << 24); };
    switch (t) {
        case Type::Q8_0: return h2f(p) * static_cast<float>(static_cast<int8_t>(p[2 + e]));
        case Type::Q8_1: return h2f(p) * static_cast<float>(static_cast<int8_t>(p[4 + e]));
        case Type::Q4_0: return static_cast<float>(nib32(p + 2, e) - 8) * h2f(p);
        case Type::Q4_1: return static_cast<float>(nib32(p + 4, e)) * h2f(p) + h2f(p + 2);
        case Type::Q5_0: {
            const int q = nib32(p + 6, e) | static_cast<int>(((u32(p + 2) >> e) & 1) << 4);
            return static_cast<float>(q - 16) * h2f(p);
        }
        case Type::Q5_1: {
            const int q = nib32(p + 8, e) | static_cast<int>(((u32(p + 4) >> e) & 1) << 4);
            return static_cast<float>(q) * h2f(p) + h2f(p + 2);
        }
        case Type::Q4_K:
        case Type::Q5_K: {
            const int s = e / 32, c = e / 64, l = e % 32;
            int sc = 0, m = 0;
            spec_scale_min(p + 4, s, &sc, &m);
            const uint8_t* qs = p + (t == Type::Q4_K ? 16 : 48);
            int q = (s % 2 == 0) ? (qs[32 * c + l] & 0x0F) : (qs[32 * c + l] >> 4);
            if (t == Type::Q5_K) q += 16 * ((p[16 + l] >> s) & 1);
            return (h2f(p) * static_cast<float>(sc)) * static_cast<float>(q) - (h2f(p + 2) * static_cast<float>(m));
        }
        case Type::Q6_K: {
            const int h = e / 128, pos = e % 128, tq = pos / 32, l = pos % 32;
            const uint8_t lowbyte = p[64 * h + l + 32 * (tq % 2)];
            const int low = tq < 2 ? (lowbyte & 0x0F) : (lowbyte >> 4);
            const int high = (p[128 + 32 * h + l] >> (2 * tq)) & 3;
            const int q6 = low | (high << 4);
            const float sc = static_cast<float>(static_cast<int8_t>(p[192 + e / 16]));
            return (h2f(p + 208) * sc) * static_cast<float>(q6 - 32);
        }
        case Type::Q8_K: {
            float d = 0;
            std::memcpy(&d, p, 4);
            return d * static_cast<float>(static_cast<int8_t>(p[4 + e]));
        }
        default: return std::numeric_limits<float>::quiet_NaN();
    }
}

// Byte offsets of the fp16 (or, for Q8_K, float32) fields, so random blocks get finite scales.
std::vector<int> scale_offsets(Type t) {
    switch (t) {
        case Type::Q8_0: case Type::Q4_0: case Type::Q5_0: return {0};
        case Type::Q8_1: case Type::Q4_1: case Type::Q5_1: case Type::Q4_K: case Type::Q5_K: return {0, 2};
        case Type::Q6_K: return {208};
        default: return {};
    }
}

TEST(QuantLayout, DequantizeMatchesSpecDecoderOnRandomBlocks) {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
    for (Type t : {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q8_1, Type::Q4_K, Type::Q5_K,
                   Type::Q6_K, Type::Q8_K}) {
        const int64_t bs = block_size(t);
        const size_t ts = type_size(t);
        const int nblocks = 64;
        std::vector<uint8_t> raw(ts * nblocks);
        for (uint8_t& b : raw) b = static_cast<uint8_t>(rng());
        for (int b = 0; b < nblocks; ++b) {
            uint8_t* blk = raw.data() + ts * b;
            for (int off : scale_offsets(t)) {
                const uint16_t h = quant::fp32_to_fp16(scale(rng));
                blk[off] = static_cast<uint8_t>(h);
                blk[off + 1] = static_cast<uint8_t>(h >> 8);
            }
            if (t == Type::Q8_K) {
                const float d = scale(rng);
                std::memcpy(blk, &d, 4);
            }
        }
        const auto got = dequantize(t, raw, static_cast<size_t>(bs * nblocks));
        for (int b = 0; b < nblocks; ++b) {
            for (int e = 0; e < bs; ++e) {
                const float want = spec_element(t, raw.data() + ts * b, e);
                ASSERT_EQ(bits(got[static_cast<size_t>(b * bs + e)]), bits(want))
                    << type_name(t) << " block " << b << " element " << e;
            }
        }
    }
}

// Rules of §3.11 that are visible in single blocks.
TEST(QuantLayout, ReferenceQuantizerRules) {
    // Q8_0 rounds half away from zero: with amax 127 the scale is exactly 1.
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.5f;
    auto q = quantize(Type::Q8_0, x);
    EXPECT_EQ(static_cast<int8_t>(q[2 + 1]), 3);
    EXPECT_EQ(static_cast<int8_t>(q[2 + 2]), -3);
    EXPECT_EQ(static_cast<int8_t>(q[2 + 3]), 1);

    // Q4_0: the largest-magnitude element (sign kept) maps to q = 0, d = max / -8.
    std::vector<float> y = random_normal(32, 8);
    y[5] = -9.0f;
    q = quantize(Type::Q4_0, y);
    EXPECT_EQ(rd16(q.data()), quant::fp32_to_fp16(9.0f / 8.0f));
    EXPECT_EQ(q[2 + 5] & 0x0F, 0);
    y[5] = 9.0f;  // positive extreme: d negative
    q = quantize(Type::Q4_0, y);
    EXPECT_EQ(rd16(q.data()), quant::fp32_to_fp16(-9.0f / 8.0f));
    EXPECT_EQ(q[2 + 5] & 0x0F, 0);

    // Q8_K: the max element maps to -127 and d = 1/iscale = max / -127.
    std::vector<float> z = random_normal(256, 9);
    z[17] = 10.0f;
    q = quantize(Type::Q8_K, z);
    EXPECT_EQ(static_cast<int8_t>(q[4 + 17]), -127);
    float d = 0;
    std::memcpy(&d, q.data(), 4);
    EXPECT_EQ(d, 1.0f / (-127.0f / 10.0f));
}

TEST(QuantLayout, Q8KBsums) {
    for (uint32_t seed : {1u, 2u, 3u}) {
        const auto x = random_normal(4 * 256, seed);
        std::vector<quant::BlockQ8_K> blocks(4);
        quant::quantize_row_q8_k(x.data(), blocks.data(), 4 * 256);
        for (const auto& b : blocks) {
            for (int k = 0; k < 16; ++k) {
                int sum = 0;
                for (int i = 0; i < 16; ++i) sum += b.qs[16 * k + i];
                EXPECT_EQ(b.bsums[k], sum);
            }
        }
    }
    std::vector<float> zeros(256, 0.0f);
    quant::BlockQ8_K b{};
    std::memset(&b, 0x5A, sizeof(b));
    quant::quantize_row_q8_k(zeros.data(), &b, 256);
    EXPECT_EQ(b.d, 0.0f);
    for (int k = 0; k < 16; ++k) EXPECT_EQ(b.bsums[k], 0);
    for (int j = 0; j < 256; ++j) EXPECT_EQ(b.qs[j], 0);
}

}  // namespace
}  // namespace ember
