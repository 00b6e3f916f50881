// GGUF reader + writer: every test file survives read -> write byte for byte, and every value
// type survives write -> read, for versions 2 and 3 and custom alignments.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/gguf/mapped_file.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace ember::gguf {
namespace {

using ember::test::data_path;

// ---- read -> write reproduces the test files ------------------------------------------

class GgufRoundTripFile : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufRoundTripFile, ReproducesBytes) {
    const std::string path = data_path(GetParam());
    const MappedFile mapped = MappedFile::open(path);
    const std::span<const uint8_t> original = mapped.bytes();
    const File file = File::open(path);
    EXPECT_EQ(file.file_size(), original.size());
    const std::vector<uint8_t> written = Writer::copy_of(file).to_bytes();
    ASSERT_EQ(written.size(), original.size());
    // Locate the first difference for a useful message rather than dumping megabytes.
    const auto diff = std::mismatch(original.begin(), original.end(), written.begin());
    EXPECT_TRUE(diff.first == original.end()) << "first differing byte at offset " << (diff.first - original.begin());

    // Parsing the written image gives the same structure.
    const File again = File::parse(written, "written");
    EXPECT_EQ(again.metadata().size(), file.metadata().size());
    EXPECT_EQ(again.tensors().size(), file.tensors().size());
    EXPECT_EQ(again.data_offset(), file.data_offset());
}

INSTANTIATE_TEST_SUITE_P(
    GgufFiles, GgufRoundTripFile,
    ::testing::Values("models/tiny-f16.gguf", "models/tiny-Q8_0.gguf", "models/tiny-Q4_K_M.gguf",
                      "models/tiny-Q5_K_M.gguf", "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-phi-3.gguf",
                      "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-deepseek-llm.gguf",
                      "vocab/ggml-vocab-falcon.gguf", "vocab/ggml-vocab-starcoder.gguf"),
    [](const ::testing::TestParamInfo<std::string>& info) {
        std::string name = std::filesystem::path(info.param).stem().string();
        for (char& c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        }
        return name;
    });

TEST(GgufRoundTrip, TinyModelStructure) {
    const File file = File::open(data_path("models/tiny-Q4_K_M.gguf"));
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(file.alignment(), 32u);
    EXPECT_EQ(file.data_offset() % 32, 0u);
    EXPECT_EQ(file.get_string("general.architecture"), "llama");
    EXPECT_EQ(file.get_u32("llama.embedding_length"), 256u);
    EXPECT_EQ(file.get_u32("llama.block_count"), 2u);
    EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
    EXPECT_EQ(file.get_f32_array("tokenizer.ggml.scores").size(), 32000u);
    EXPECT_EQ(file.get_i32_array("tokenizer.ggml.token_type").size(), 32000u);

    const TensorInfo* q = file.find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, Type::Q4_K);
    EXPECT_EQ(q->n_dims, 2u);
    EXPECT_EQ(q->ne[0], 256);
    EXPECT_EQ(q->ne[1], 256);
    EXPECT_EQ(q->nbytes, 256u / 256 * 144 * 256);
    ASSERT_NE(q->data, nullptr);
    EXPECT_EQ(static_cast<size_t>(q->data - file.tensors()[0].data) + file.data_offset(), file.data_offset() + q->offset);

    const TensorInfo* embd = file.find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->type, Type::Q6_K);
    EXPECT_EQ(file.find_tensor("output.weight"), nullptr);  // tied
    EXPECT_EQ(file.find_tensor("nope"), nullptr);

    size_t total = 0;
    for (const TensorInfo& t : file.tensors()) total += (t.nbytes + 31) / 32 * 32;
    EXPECT_EQ(total, file.data_size());
    EXPECT_EQ(file.data_offset() + file.data_size(), file.file_size());
}

TEST(GgufRoundTrip, VocabOnlyFileHasNoDataSection) {
    const File file = File::open(data_path("vocab/ggml-vocab-llama-spm.gguf"));
    EXPECT_TRUE(file.tensors().empty());
    EXPECT_EQ(file.data_size(), 0u);
    EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "llama");
}

// ---- write -> read for every value type ----------------------------------------------------

struct Blobs {
    std::vector<float> f32 = std::vector<float>(2 * 3 * 4, 0.0f);
    std::vector<uint8_t> q8 = std::vector<uint8_t>(34 * 2 * 5, 0);
    std::vector<uint16_t> f16 = std::vector<uint16_t>(7, 0);
    Blobs() {
        for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) * 0.5f;
        for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
        for (size_t i = 0; i < f16.size(); ++i) f16[i] = static_cast<uint16_t>(0x3c00 + i);
    }
};

Writer every_type_writer(uint32_t version, const Blobs& b) {
    Writer w(version);
    w.add("u8", Value::u8(250));
    w.add("i8", Value::i8(-120));
    w.add("u16", Value::u16(65000));
    w.add("i16", Value::i16(-32000));
    w.add("u32", Value::u32(4000000000u));
    w.add("i32", Value::i32(-2000000000));
    w.add("u64", Value::u64(std::numeric_limits<uint64_t>::max()));
    w.add("i64", Value::i64(std::numeric_limits<int64_t>::min()));
    w.add("f32", Value::f32(3.25f));
    w.add("f64", Value::f64(-1.0e300));
    w.add("bool.t", Value::boolean(true));
    w.add("bool.f", Value::boolean(false));
    w.add("string", Value::string("héllo\nworld"));
    w.add("string.empty", Value::string(""));
    w.add("arr.u8", Value::array_of(ValueType::U8, {uint64_t{1}, uint64_t{255}}));
    w.add("arr.i8", Value::array_of(ValueType::I8, {int64_t{-128}, int64_t{127}}));
    w.add("arr.u16", Value::array_of(ValueType::U16, {uint64_t{65535}}));
    w.add("arr.i16", Value::array_of(ValueType::I16, {int64_t{-32768}}));
    w.add("arr.u32", Value::u32_array(std::vector<uint32_t>{1, 2, 3}));
    w.add("arr.i32", Value::i32_array(std::vector<int32_t>{-1, 0, 1}));
    w.add("arr.u64", Value::array_of(ValueType::U64, {uint64_t{1} << 63}));
    w.add("arr.i64", Value::array_of(ValueType::I64, {int64_t{-5}}));
    w.add("arr.f32", Value::f32_array(std::vector<float>{0.5f, -0.0f, std::numeric_limits<float>::infinity()}));
    w.add("arr.f64", Value::array_of(ValueType::F64, {1.5, -2.5}));
    w.add("arr.bool", Value::array_of(ValueType::BOOL, {true, false, true}));
    w.add("arr.string", Value::string_array({"a", "", "ccc"}));
    w.add("arr.empty", Value::array_of(ValueType::STRING, {}));
    const int64_t ne_f32[] = {4, 3, 2};
    const int64_t ne_q8[] = {64, 5};
    const int64_t ne_f16[] = {7};
    w.add_tensor("t.f32", Type::F32, ne_f32, b.f32.data(), b.f32.size() * 4);
    w.add_tensor("t.q8", Type::Q8_0, ne_q8, b.q8.data(), b.q8.size());
    w.add_tensor("t.f16", Type::F16, ne_f16, b.f16.data(), b.f16.size() * 2);
    return w;
}

void expect_every_type(const File& f, const Blobs& b) {
    EXPECT_EQ(std::get<uint64_t>(f.find("u8")->scalar), 250u);
    EXPECT_EQ(std::get<int64_t>(f.find("i8")->scalar), -120);
    EXPECT_EQ(std::get<uint64_t>(f.find("u16")->scalar), 65000u);
    EXPECT_EQ(std::get<int64_t>(f.find("i16")->scalar), -32000);
    EXPECT_EQ(f.get_u32("u32"), 4000000000u);
    EXPECT_EQ(f.get_i32("i32"), -2000000000);
    EXPECT_EQ(f.get_u64("u64"), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(std::get<int64_t>(f.find("i64")->scalar), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(f.get_f32("f32"), 3.25f);
    EXPECT_EQ(std::get<double>(f.find("f64")->scalar), -1.0e300);
    EXPECT_TRUE(f.get_bool("bool.t"));
    EXPECT_FALSE(f.get_bool("bool.f"));
    EXPECT_EQ(f.get_string("string"), "héllo\nworld");
    EXPECT_EQ(f.get_string("string.empty"), "");

    EXPECT_EQ(f.find("arr.u8")->type_name(), "ARRAY[U8]");
    EXPECT_EQ(std::get<uint64_t>(f.find("arr.u8")->array[1]), 255u);
    EXPECT_EQ(std::get<int64_t>(f.find("arr.i8")->array[0]), -128);
    EXPECT_EQ(std::get<uint64_t>(f.find("arr.u16")->array[0]), 65535u);
    EXPECT_EQ(std::get<int64_t>(f.find("arr.i16")->array[0]), -32768);
    EXPECT_EQ(f.get_array("arr.u32", ValueType::U32).array_size(), 3u);
    EXPECT_EQ(f.get_i32_array("arr.i32"), (std::vector<int32_t>{-1, 0, 1}));
    EXPECT_EQ(std::get<uint64_t>(f.find("arr.u64")->array[0]), uint64_t{1} << 63);
    EXPECT_EQ(std::get<int64_t>(f.find("arr.i64")->array[0]), -5);
    const std::vector<float> fa = f.get_f32_array("arr.f32");
    ASSERT_EQ(fa.size(), 3u);
    EXPECT_EQ(fa[0], 0.5f);
    EXPECT_TRUE(std::signbit(fa[1]));
    EXPECT_TRUE(std::isinf(fa[2]));
    EXPECT_EQ(std::get<double>(f.find("arr.f64")->array[1]), -2.5);
    EXPECT_EQ(std::get<bool>(f.find("arr.bool")->array[2]), true);
    EXPECT_EQ(f.get_string_array("arr.string"), (std::vector<std::string>{"a", "", "ccc"}));
    EXPECT_EQ(f.get_array("arr.empty", ValueType::STRING).array_size(), 0u);

    ASSERT_EQ(f.tensors().size(), 3u);
    const TensorInfo* t = f.find_tensor("t.f32");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->n_dims, 3u);
    EXPECT_EQ(t->ne, (std::array<int64_t, 4>{4, 3, 2, 1}));
    EXPECT_EQ(t->n_elements(), 24);
    ASSERT_EQ(t->nbytes, b.f32.size() * 4);
    EXPECT_EQ(std::memcmp(t->data, b.f32.data(), t->nbytes), 0);
    const TensorInfo* q = f.find_tensor("t.q8");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, Type::Q8_0);
    ASSERT_EQ(q->nbytes, b.q8.size());
    EXPECT_EQ(std::memcmp(q->data, b.q8.data(), q->nbytes), 0);
    const TensorInfo* h = f.find_tensor("t.f16");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->nbytes, 14u);
    EXPECT_EQ(std::memcmp(h->data, b.f16.data(), 14), 0);
    for (const TensorInfo& ti : f.tensors()) {
        EXPECT_EQ(ti.offset % f.alignment(), 0u) << ti.name;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(ti.data) - reinterpret_cast<uintptr_t>(t->data) + t->offset, ti.offset);
    }
}

class GgufWriteRead : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufWriteRead, EveryValueType) {
    const Blobs blobs;
    const std::vector<uint8_t> bytes = every_type_writer(GetParam(), blobs).to_bytes();
    const File f = File::parse(bytes, "every-type");
    EXPECT_EQ(f.version(), GetParam());
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.find("general.alignment"), nullptr);
    expect_every_type(f, blobs);
    EXPECT_EQ(Writer::copy_of(f).to_bytes(), bytes);
}

TEST_P(GgufWriteRead, CustomAlignment) {
    for (size_t alignment : {1u, 8u, 64u, 4096u}) {
        const Blobs blobs;
        Writer w = every_type_writer(GetParam(), blobs);
        w.set_alignment(alignment);
        const std::vector<uint8_t> bytes = w.to_bytes();
        const File f = File::parse(bytes, "aligned");
        EXPECT_EQ(f.alignment(), alignment);
        EXPECT_EQ(f.get_u32("general.alignment"), alignment);
        EXPECT_EQ(f.data_offset() % alignment, 0u);
        EXPECT_EQ(bytes.size() % alignment, 0u);
        expect_every_type(f, blobs);
        EXPECT_EQ(Writer::copy_of(f).to_bytes(), bytes);
    }
}

INSTANTIATE_TEST_SUITE_P(GgufVersions, GgufWriteRead, ::testing::Values(2u, 3u));

TEST(GgufWriteRead, AlignmentKeyAddedDirectly) {
    Writer w;
    w.add("general.alignment", Value::u32(16));
    EXPECT_EQ(w.alignment(), 16u);
    const float x[3] = {1, 2, 3};
    const int64_t ne[] = {3};
    w.add_tensor("x", Type::F32, ne, x, sizeof x);
    const std::vector<uint8_t> bytes = w.to_bytes();
    EXPECT_EQ(bytes.size() % 16, 0u);
    const File f = File::parse(bytes);
    EXPECT_EQ(f.alignment(), 16u);
    // set_alignment replaces the record in place instead of adding a second one.
    w.set_alignment(64);
    const File g = File::parse(w.to_bytes());
    EXPECT_EQ(g.alignment(), 64u);
    EXPECT_EQ(g.metadata().size(), 1u);
}

TEST(GgufWriteRead, NoTensorsMeansNoPadding) {
    Writer w;
    w.add("a", Value::string("xyz"));
    const std::vector<uint8_t> bytes = w.to_bytes();
    EXPECT_EQ(bytes.size(), 4u + 4 + 8 + 8 + (8 + 1) + 4 + (8 + 3));
    const File f = File::parse(bytes);
    EXPECT_EQ(f.get_string("a"), "xyz");
    EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriteRead, ZeroSizedTensors) {
    Writer w;
    const int64_t ne0[] = {0, 5};
    const int64_t ne1[] = {32, 0, 2};
    w.add_tensor("empty.a", Type::F32, ne0, nullptr, 0);
    w.add_tensor("empty.b", Type::Q4_0, ne1, nullptr, 0);
    const std::vector<uint8_t> bytes = w.to_bytes();
    const File f = File::parse(bytes);
    ASSERT_EQ(f.tensors().size(), 2u);
    EXPECT_EQ(f.tensors()[1].n_elements(), 0);
    EXPECT_EQ(f.tensors()[1].nbytes, 0u);
    EXPECT_EQ(f.data_size(), 0u);
    EXPECT_EQ(Writer::copy_of(f).to_bytes(), bytes);
}

TEST(GgufWriteRead, FloatBitsAreExact) {
    // Signalling and payload-carrying NaNs survive both directions unchanged.
    for (uint32_t bits : {0x7F800001u, 0xFFA00000u, 0x7FC00000u, 0x7FFFFFFFu, 0x00000001u, 0x80000000u, 0x7F7FFFFFu}) {
        EXPECT_EQ(double_to_f32_bits(f32_bits_to_double(bits)), bits) << std::hex << bits;
        Writer w;
        w.add("x", Value::f32(std::bit_cast<float>(bits)));
        const std::vector<uint8_t> bytes = w.to_bytes();
        uint32_t stored = 0;
        std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
        EXPECT_EQ(stored, bits);
        EXPECT_EQ(Writer::copy_of(File::parse(bytes)).to_bytes(), bytes);
    }
    EXPECT_EQ(double_to_f32_bits(1e300), 0x7F800000u);
    EXPECT_EQ(double_to_f32_bits(-1e300), 0xFF800000u);
}

// ---- typed getters -----------------------------------------------------------------------

using test::error_of;

TEST(GgufGetters, WrongTypeNamesBothTypes) {
    Writer w;
    w.add("n", Value::i32(7));
    w.add("s", Value::string("x"));
    w.add("tok", Value::i32_array(std::vector<int32_t>{1}));
    const std::vector<uint8_t> bytes = w.to_bytes();
    const File f = File::parse(bytes, "getters.gguf");

    EXPECT_EQ(error_of([&] { f.get_u32("n"); }), "getters.gguf: key 'n' has type I32, expected U32");
    EXPECT_EQ(error_of([&] { f.get_u32_opt("n"); }), "getters.gguf: key 'n' has type I32, expected U32");
    EXPECT_EQ(error_of([&] { f.get_f32("s"); }), "getters.gguf: key 's' has type STRING, expected F32");
    EXPECT_EQ(error_of([&] { f.get_string("n"); }), "getters.gguf: key 'n' has type I32, expected STRING");
    EXPECT_EQ(error_of([&] { f.get_bool("n", true); }), "getters.gguf: key 'n' has type I32, expected BOOL");
    EXPECT_EQ(error_of([&] { f.get_string_array("tok"); }),
              "getters.gguf: key 'tok' has type ARRAY[I32], expected ARRAY[STRING]");
    EXPECT_EQ(error_of([&] { f.get_f32_array("n"); }), "getters.gguf: key 'n' has type I32, expected ARRAY");
    EXPECT_EQ(error_of([&] { f.get_u32("missing"); }), "getters.gguf: key 'missing' not found");
    EXPECT_EQ(error_of([&] { f.get_string_array("missing"); }), "getters.gguf: key 'missing' not found");

    EXPECT_EQ(f.get_i32("n"), 7);
    EXPECT_FALSE(f.get_u32_opt("missing").has_value());
    EXPECT_FALSE(f.get_f32_opt("missing").has_value());
    EXPECT_FALSE(f.get_string_opt("missing").has_value());
    EXPECT_TRUE(f.get_bool("missing", true));
    EXPECT_EQ(f.get_array_opt("missing", ValueType::I32), nullptr);
    EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(GgufWriterErrors, RejectsInvalidInput) {
    Writer w;
    w.add("k", Value::u8(1));
    EXPECT_THROW(w.add("k", Value::u8(2)), ember::Error);
    EXPECT_THROW(w.add("", Value::u8(2)), ember::Error);
    EXPECT_THROW(w.add("general.alignment", Value::u32(3)), ember::Error);
    EXPECT_THROW(w.add("general.alignment", Value::i32(32)), ember::Error);
    EXPECT_THROW(w.set_alignment(0), ember::Error);
    Value bad = Value::u8(1);
    bad.scalar = uint64_t{256};
    EXPECT_THROW(w.add("bad", bad), ember::Error);
    bad.scalar = std::string("wrong kind");
    EXPECT_THROW(w.add("bad", bad), ember::Error);
    EXPECT_THROW(Value::array_of(ValueType::ARRAY, {}), ember::Error);
    EXPECT_THROW(Writer(1), ember::Error);

    const float x[4] = {};
    const int64_t ne[] = {4};
    const int64_t ne_q[] = {31};
    w.add_tensor("x", Type::F32, ne, x, sizeof x);
    EXPECT_THROW(w.add_tensor("x", Type::F32, ne, x, sizeof x), ember::Error);        // duplicate
    EXPECT_THROW(w.add_tensor("y", Type::F32, ne, x, 8), ember::Error);               // wrong size
    EXPECT_THROW(w.add_tensor("z", Type::Q8_0, ne_q, x, 0), ember::Error);            // not a block multiple
    EXPECT_THROW(w.add_tensor(std::string(64, 'n'), Type::F32, ne, x, 16), ember::Error);  // name too long
    EXPECT_THROW(w.add_tensor("", Type::F32, ne, x, 16), ember::Error);
}

}  // namespace
}  // namespace ember::gguf
