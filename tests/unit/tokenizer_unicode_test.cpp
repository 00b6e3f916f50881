// Unicode helpers, the pre-tokenizer patterns and the UTF-8 streamer.
#include "core/error.h"
#include "model/tokenizer/pretokenizer.h"
#include "model/tokenizer/unicode.h"
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ember {
namespace {

using Words = std::vector<std::string>;

TEST(TokenizerUnicode, Categories) {
    using namespace unicode;
    EXPECT_TRUE(is_letter('a'));
    EXPECT_TRUE(is_letter(0x00E9));   // é
    EXPECT_TRUE(is_letter(0x4E2D));   // 中
    EXPECT_TRUE(is_number('7'));
    EXPECT_TRUE(is_number(0x00BD));   // ½ (No)
    EXPECT_TRUE(is_number(0x0663));   // Arabic-Indic three
    EXPECT_TRUE(is_punct('!'));
    EXPECT_TRUE(is_punct(0x3002));    // 。
    EXPECT_FALSE(is_punct('$'));      // a symbol
    EXPECT_TRUE(flags('$') & kSymbol);
    EXPECT_TRUE(flags(0x0301) & kMark);
    EXPECT_TRUE(is_whitespace(' '));
    EXPECT_TRUE(is_whitespace('\n'));
    EXPECT_TRUE(is_whitespace(0x3000));
    EXPECT_TRUE(is_whitespace(0x0085));
    EXPECT_FALSE(is_whitespace(0x200B));  // zero width space is not White_Space
    EXPECT_FALSE(is_whitespace(0x1C));
    EXPECT_EQ(flags(0x0378), 0);        // unassigned
    EXPECT_EQ(flags(0x110000), 0);
    EXPECT_EQ(flags(0xFFFFFFFF), 0);
    EXPECT_FALSE(std::string(table_version()).empty());
}

TEST(TokenizerUnicode, DecodeReplacesInvalidBytes) {
    using ember::decode_utf8;
    EXPECT_EQ(decode_utf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99"), (std::vector<uint32_t>{'a', 0xE9, 0x20AC, 0x1F999}));
    EXPECT_EQ(decode_utf8("\xFF"), (std::vector<uint32_t>{0xFFFD}));
    EXPECT_EQ(decode_utf8("\x80" "a"), (std::vector<uint32_t>{0xFFFD, 'a'}));
    EXPECT_EQ(decode_utf8("\xE2\x82"), (std::vector<uint32_t>{0xFFFD, 0xFFFD}));      // truncated
    EXPECT_EQ(decode_utf8("\xC3(" ), (std::vector<uint32_t>{0xFFFD, '('}));           // bad continuation
    EXPECT_EQ(decode_utf8("\xF4\x90\x80\x80"), (std::vector<uint32_t>(4, 0xFFFD)));  // past U+10FFFF
    EXPECT_EQ(decode_utf8(std::string("\0", 1)), (std::vector<uint32_t>{0}));
    for (const uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
        EXPECT_EQ(decode_utf8(encode_utf8(cp)), (std::vector<uint32_t>{cp}));
    }
    EXPECT_EQ(encode_utf8(0x110000), "\xEF\xBF\xBD");
}

TEST(TokenizerUnicode, Gpt2ByteMap) {
    EXPECT_EQ(unicode::byte_to_cp(' '), 0x120u);   // Ġ
    EXPECT_EQ(unicode::byte_to_cp('\n'), 0x10Au);  // Ċ
    EXPECT_EQ(unicode::byte_to_cp('A'), uint32_t('A'));
    EXPECT_EQ(unicode::byte_to_cp(0xAD), 0x143u);
    EXPECT_EQ(unicode::byte_to_utf8(' '), "\xC4\xA0");
    for (int b = 0; b < 256; ++b) EXPECT_EQ(unicode::cp_to_byte(unicode::byte_to_cp(static_cast<uint8_t>(b))), b);
    EXPECT_EQ(unicode::cp_to_byte(0x144), -1);
    EXPECT_EQ(unicode::cp_to_byte(0x20), -1);
}

TEST(TokenizerPre, Gpt2) {
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, "Hello world's  test 123!!"),
              (Words{"Hello", " world", "'s", " ", " test", " 123", "!!"}));
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, "   "), (Words{"   "}));
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, "a \n b"), (Words{"a", " \n", " b"}));
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, "\tx"), (Words{"\t", "x"}));
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, "I'M"), (Words{"I", "'", "M"}));  // case-sensitive contractions
    EXPECT_EQ(pre_tokenize(PreType::Gpt2, ""), (Words{}));
}

TEST(TokenizerPre, Llama3AndQwen2) {
    EXPECT_EQ(pre_tokenize(PreType::Llama3, "I'M 1234567 (hello)\n\n  x"),
              (Words{"I", "'M", " ", "123", "456", "7", " (", "hello", ")\n\n", " ", " x"}));
    EXPECT_EQ(pre_tokenize(PreType::Qwen2, "x 1234"), (Words{"x", " ", "1", "2", "3", "4"}));
    EXPECT_EQ(pre_tokenize(PreType::Llama3, "a  \n\n b"), (Words{"a", "  \n\n", " b"}));
    EXPECT_EQ(pre_tokenize(PreType::Llama3, "end  "), (Words{"end", "  "}));
}

TEST(TokenizerPre, DefaultFalconStarcoder) {
    EXPECT_EQ(pre_tokenize(PreType::Starcoder, "ab 123"), (Words{"ab", " ", "1", "2", "3"}));
    EXPECT_EQ(pre_tokenize(PreType::Default, "x=12345;"), (Words{"x", "=", "123", "45", ";"}));
    EXPECT_EQ(pre_tokenize(PreType::Falcon, "a`b 1234"), (Words{"a", "`", "b", " ", "123", "4"}));
    EXPECT_EQ(pre_tokenize(PreType::Falcon, "1234"), (Words{"123", "4"}));
}

TEST(TokenizerPre, DeepseekLlm) {
    EXPECT_EQ(pre_tokenize(PreType::DeepseekLlm, "Hello, world!\n我想 123"),
              (Words{"Hello", ",", " world", "!", "\n", "我想", " ", "123"}));
    EXPECT_EQ(pre_tokenize(PreType::DeepseekLlm, "ab  "), (Words{"ab", "  "}));
}

TEST(TokenizerPre, DeepseekV3) {
    EXPECT_EQ(pre_tokenize(PreType::DeepseekV3, "Hello, world! (test)\n\n  x 12345 我想说カタ"),
              (Words{"Hello", ",", " world", "!", " (", "test", ")\n\n", " ", " x", " ", "123", "45", " ",
                     "我想说カタ"}));
    // [ASCII punct][A-Za-z]+ comes first; a space before punctuation joins the punctuation.
    EXPECT_EQ(pre_tokenize(PreType::DeepseekV3, "it's (normal) a.b"),
              (Words{"it", "'s", " (", "normal", ")", " a", ".b"}));
    // Marks join letters; one other character may lead a word; what nothing matches stays a chunk.
    EXPECT_EQ(pre_tokenize(PreType::DeepseekV3, "e\u0301x\x01" "b \x01\x02"),
              (Words{"e\u0301x", "\x01" "b", " ", "\x01\x02"}));
}

TEST(TokenizerPre, Names) {
    EXPECT_EQ(pre_tokenizer_config("llama-bpe").type, PreType::Llama3);
    EXPECT_TRUE(pre_tokenizer_config("llama3").ignore_merges);
    EXPECT_TRUE(pre_tokenizer_config("llama3").add_bos);
    EXPECT_EQ(pre_tokenizer_config("qwen2").type, PreType::Qwen2);
    EXPECT_FALSE(pre_tokenizer_config("qwen2").clean_spaces);
    EXPECT_EQ(pre_tokenizer_config("phi-2").type, PreType::Gpt2);
    EXPECT_EQ(pre_tokenizer_config("jina-v2-es").type, PreType::Gpt2);
    EXPECT_EQ(pre_tokenizer_config("refact").type, PreType::Starcoder);
    EXPECT_EQ(pre_tokenizer_config("falcon").type, PreType::Falcon);
    EXPECT_EQ(pre_tokenizer_config("deepseek-llm").type, PreType::DeepseekLlm);
    EXPECT_EQ(pre_tokenizer_config("deepseek-v3").type, PreType::DeepseekV3);
    EXPECT_FALSE(pre_tokenizer_config("deepseek-v3").clean_spaces);
    try {
        pre_tokenizer_config("tekken-9000");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tekken-9000"), std::string::npos);
    }
}

TEST(TokenizerPre, LongWhitespaceRunsStayLinear) {
    // 200k newlines: every pattern sees 200k one-character chunks.
    const std::string text(200000, '\n');
    for (const PreType t : {PreType::DeepseekLlm, PreType::DeepseekV3, PreType::Llama3, PreType::Default}) {
        size_t total = 0;
        for (const std::string& w : pre_tokenize(t, text)) total += w.size();
        EXPECT_EQ(total, text.size());
    }
}

TEST(TokenizerUtf8Stream, SplitsMultiByteCharactersAcrossPieces) {
    Utf8Stream s;
    EXPECT_EQ(s.push("\xE2"), "");
    EXPECT_EQ(s.push("\x82"), "");
    EXPECT_EQ(s.pending(), 2u);
    EXPECT_EQ(s.push("\xAC"), "\xE2\x82\xAC");  // €
    EXPECT_EQ(s.push("ab\xF0\x9F"), "ab");
    EXPECT_EQ(s.push("\xA6\x99 c\xC3"), "\xF0\x9F\xA6\x99 c");  // 🦙
    EXPECT_EQ(s.push("\xA9"), "\xC3\xA9");                      // é
    EXPECT_EQ(s.flush(), "");
}

TEST(TokenizerUtf8Stream, InvalidBytesPassAndFlushReturnsTheRest) {
    Utf8Stream s;
    EXPECT_EQ(s.push("\x80x"), "\x80x");       // a stray continuation byte is not held
    EXPECT_EQ(s.push("\xFF"), "\xFF");         // nor an impossible lead byte
    EXPECT_EQ(s.push("\xE2(" ), "\xE2(");      // nor a lead byte followed by a non-continuation
    EXPECT_EQ(s.push("y\xF0\x9F\xA6"), "y");
    EXPECT_EQ(s.flush(), "\xF0\x9F\xA6");      // the incomplete tail comes out at the end
    EXPECT_EQ(s.pending(), 0u);
    EXPECT_EQ(s.push(""), "");
    EXPECT_EQ(utf8_complete_prefix("ab\xE4\xB8"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab\xE4\xB8\xAD"), 5u);
}

}  // namespace
}  // namespace ember
