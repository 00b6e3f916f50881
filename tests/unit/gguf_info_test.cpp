// The `ember info` report: header, metadata formatting (escaping, truncation), tensor table, totals.
#include "ember/gguf.h"
#include "model/gguf/info.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ember::gguf {
namespace {

using ember::test::data_path;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(GgufInfo, TinyModelReport) {
    const File f = File::open(data_path("models/tiny-Q4_K_M.gguf"));
    const std::string r = format_info(f);
    EXPECT_TRUE(contains(r, "GGUF version:  3\n")) << r;
    EXPECT_TRUE(contains(r, "alignment:     32\n"));
    EXPECT_TRUE(contains(r, "data offset:   725120 (0xb1080)\n"));
    EXPECT_TRUE(contains(r, "file size:     8394112 bytes (8.01 MiB)\n"));
    EXPECT_TRUE(contains(r, "general.architecture"));
    EXPECT_TRUE(contains(r, "\"llama\""));
    EXPECT_TRUE(contains(r, "ARRAY[STRING]  32000 elements: [\"<unk>\", \"<s>\", \"</s>\""));
    EXPECT_TRUE(contains(r, "... 31992 more]"));
    EXPECT_TRUE(contains(r, "blk.1.ffn_down.weight"));
    EXPECT_TRUE(contains(r, "Q6_K  [768, 256]"));
    EXPECT_TRUE(contains(r, "  tensors:     20\n"));
    EXPECT_TRUE(contains(r, "  parameters:  9766144 (9.77 M)\n"));
    // Per-type totals add up to the whole.
    uint64_t q4k = 0;
    for (const TensorInfo& t : f.tensors()) {
        if (t.type == Type::Q4_K) q4k += t.nbytes;
    }
    EXPECT_TRUE(contains(r, std::to_string(q4k))) << r;

    InfoOptions quiet;
    quiet.show_metadata = false;
    quiet.show_tensors = false;
    const std::string q = format_info(f, quiet);
    EXPECT_FALSE(contains(q, "general.architecture"));
    EXPECT_FALSE(contains(q, "blk.0.attn_q.weight"));
    EXPECT_TRUE(contains(q, "totals:"));
}

TEST(GgufInfo, VocabOnlyReport) {
    const File f = File::open(data_path("vocab/ggml-vocab-gpt-2.gguf"));
    const std::string r = format_info(f);
    EXPECT_TRUE(contains(r, "data section:  none (no tensors)"));
    EXPECT_TRUE(contains(r, "\"Ġ t\""));
}

TEST(GgufInfo, ValueFormatting) {
    EXPECT_EQ(format_value(Value::u32(7)), "7");
    EXPECT_EQ(format_value(Value::i8(-3)), "-3");
    EXPECT_EQ(format_value(Value::f32(1e-5f)), "1e-05");
    EXPECT_EQ(format_value(Value::f64(0.5)), "0.5");
    EXPECT_EQ(format_value(Value::boolean(true)), "true");
    EXPECT_EQ(format_value(Value::string("a\"b\\c\n\t\x01")), "\"a\\\"b\\\\c\\n\\t\\x01\"");
    // Valid UTF-8 is kept; invalid bytes, overlong forms and surrogates are escaped.
    EXPECT_EQ(format_value(Value::string("\xc3\xa9\xe2\x96\x81")), "\"\xc3\xa9\xe2\x96\x81\"");
    EXPECT_EQ(format_value(Value::string("\xff\xc0\xaf\xed\xa0\x80")), "\"\\xff\\xc0\\xaf\\xed\\xa0\\x80\"");
    EXPECT_EQ(format_value(Value::string("\xe2\x96")), "\"\\xe2\\x96\"");  // cut sequence
    // Long strings are cut and report their length.
    EXPECT_EQ(format_value(Value::string(std::string(100, 'x')), 8, 10), "\"xxxxxxxxxx\"...(100 bytes)");
    // Arrays show the first elements and how many more there are.
    EXPECT_EQ(format_value(Value::u32_array(std::vector<uint32_t>{1, 2, 3, 4, 5}), 3), "[1, 2, 3, ... 2 more]");
    EXPECT_EQ(format_value(Value::u32_array(std::vector<uint32_t>{1, 2}), 0), "[... 2 more]");
    EXPECT_EQ(format_value(Value::string_array({})), "[]");
    EXPECT_EQ(format_value(Value::string_array({"a", "b"})), "[\"a\", \"b\"]");
}

TEST(GgufInfo, OddNamesAreEscaped) {
    Writer w;
    w.add("key with space", Value::u8(1));
    w.add("ctl\x01key", Value::u8(2));
    const float x[1] = {0};
    const int64_t ne[] = {1};
    w.add_tensor("tab\tname", Type::F32, ne, x, 4);
    const std::vector<uint8_t> bytes = w.to_bytes();
    const File f = File::parse(bytes);
    const std::string r = format_info(f);
    EXPECT_TRUE(contains(r, "\"key with space\"")) << r;
    EXPECT_TRUE(contains(r, "\"ctl\\x01key\""));
    EXPECT_TRUE(contains(r, "\"tab\\tname\""));
}

TEST(GgufInfo, FormatBytes) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1024), "1.00 KiB");
    EXPECT_EQ(format_bytes(8394112), "8.01 MiB");
    EXPECT_EQ(format_bytes(uint64_t{3} << 30), "3.00 GiB");
}

}  // namespace
}  // namespace ember::gguf
