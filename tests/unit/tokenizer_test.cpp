// Vocab behaviour beyond the reference vectors: round trips, BOS/EOS, special tokens, pieces,
// detokenization rules, invalid UTF-8, long inputs, and malformed metadata.
#include "core/error.h"
#include "ember/gguf.h"
#include "core/utf8.h"
#include "model/tokenizer/vocab.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ember {
namespace {

using gguf::Value;
using gguf::ValueType;
using Ids = std::vector<int32_t>;

const Vocab& vocab(const std::string& name) {
    static std::map<std::string, Vocab> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        const gguf::File file = gguf::File::open(test::data_path("vocab/ggml-vocab-" + name + ".gguf"));
        it = cache.emplace(name, Vocab::from_gguf(file)).first;
    }
    return it->second;
}

// A copy of a vocab file's metadata with some keys replaced (a value) or removed (nullopt).
Vocab modified(const std::string& name, const std::map<std::string, std::optional<Value>>& changes) {
    const gguf::File file = gguf::File::open(test::data_path("vocab/ggml-vocab-" + name + ".gguf"));
    gguf::Writer w;
    for (const gguf::KeyValue& kv : file.metadata()) {
        if (kv.key == "general.alignment") continue;
        const auto change = changes.find(kv.key);
        if (change == changes.end()) {
            w.add(kv.key, kv.value);
        } else if (change->second) {
            w.add(kv.key, *change->second);
        }
    }
    for (const auto& [key, value] : changes) {
        if (value && file.find(key) == nullptr) w.add(key, *value);
    }
    const std::vector<uint8_t> bytes = w.to_bytes();
    const gguf::File copy = gguf::File::parse(bytes, "modified-" + name);
    return Vocab::from_gguf(copy);
}

// A small synthetic SPM vocab.
std::vector<uint8_t> tiny_spm_bytes(const std::map<std::string, Value>& extra = {}) {
    gguf::Writer w;
    w.add("tokenizer.ggml.model", Value::string("llama"));
    w.add("tokenizer.ggml.tokens", Value::string_array({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "ab",
                                                         "\xE2\x96\x81"
                                                         "ab"}));
    const float scores[] = {0, 0, 0, -1, -2, -2, -1, -0.5f};
    w.add("tokenizer.ggml.scores", Value::f32_array(scores));
    const int32_t types[] = {2, 3, 3, 1, 1, 1, 1, 1};
    w.add("tokenizer.ggml.token_type", Value::i32_array(types));
    for (const auto& [key, value] : extra) w.add(key, value);
    return w.to_bytes();
}

using test::error_of;

// ---- SPM ------------------------------------------------------------------------------------

TEST(Tokenizer, SpmRoundTripAscii) {
    const Vocab& v = vocab("llama-spm");
    for (const std::string text : {"Hello world", " Hello world", "  two leading spaces", "tabs\tand\nnewlines\n",
                                   "trailing space ", "a", " ", "The quick brown fox jumps over the lazy dog. 12345"}) {
        const Ids ids = v.tokenize(text, false);
        // The prefix space added by tokenize is stripped again by detokenize.
        EXPECT_EQ(v.detokenize(ids), text) << text;
    }
}

TEST(Tokenizer, SpmRoundTripUnicode) {
    const Vocab& v = vocab("llama-spm");
    for (const std::string text : {"Führer", "нещо на Български", "我想在apple工作1314151天～", "🦙🚀 emoji 😶‍🌫️",
                                   "កាន់តែពិសេសអាចខលចេញ", "Cửa Việt"}) {
        EXPECT_EQ(v.detokenize(v.tokenize(text, false)), text) << text;
    }
}

TEST(Tokenizer, SpmBosAndPrefixSpace) {
    const Vocab& v = vocab("llama-spm");
    EXPECT_TRUE(v.add_bos());
    EXPECT_FALSE(v.add_eos());
    EXPECT_EQ(v.bos(), 1);
    EXPECT_EQ(v.eos(), 2);
    EXPECT_EQ(v.tokenize("Hello world", true), (Ids{1, 15043, 3186}));
    EXPECT_EQ(v.tokenize("Hello world", false), (Ids{15043, 3186}));
    EXPECT_EQ(v.tokenize(" Hello world", false), (Ids{29871, 15043, 3186}));
    EXPECT_EQ(v.tokenize("", true), (Ids{1}));
    EXPECT_EQ(v.tokenize("", false), (Ids{}));
    // Dropping the BOS keeps the leading space (the reference's rule); keeping it strips it.
    EXPECT_EQ(v.detokenize(Ids{1, 15043, 3186}, /*remove_special=*/true), " Hello world");
    EXPECT_EQ(v.detokenize(Ids{1, 15043, 3186}, /*remove_special=*/false), " Hello world");
    EXPECT_EQ(v.detokenize(Ids{1, 15043, 3186}, false, /*unparse_special=*/true), "<s> Hello world");
    EXPECT_EQ(v.detokenize(Ids{15043, 3186, 2}, true), "Hello world");  // add_eos is off: nothing to drop
    EXPECT_EQ(v.detokenize(Ids{15043, 3186, 2}, true, true), "Hello world</s>");
}

TEST(Tokenizer, SpmAddEosFromMetadata) {
    const Vocab v = modified("llama-spm", {{"tokenizer.ggml.add_eos_token", Value::boolean(true)},
                                           {"tokenizer.ggml.add_bos_token", Value::boolean(false)}});
    EXPECT_EQ(v.tokenize("Hello world", true), (Ids{15043, 3186, 2}));
    EXPECT_EQ(v.detokenize(Ids{15043, 3186, 2}, /*remove_special=*/true), "Hello world");
}

TEST(Tokenizer, SpmSpecialTokens) {
    const Vocab& v = vocab("llama-spm");
    // Control tokens are matched in text only with parse_special.
    EXPECT_EQ(v.tokenize("<s>Hello", false, true), (Ids{1, 15043}));
    const Ids literal = v.tokenize("<s>Hello", false, false);
    EXPECT_NE(literal.front(), 1);
    EXPECT_EQ(v.detokenize(literal), "<s>Hello");
    // After a special token the next fragment gets the prefix space again.
    EXPECT_EQ(v.tokenize("Hello</s>world", false, true), (Ids{15043, 2, 3186}));
}

TEST(Tokenizer, Phi3RstripAndEog) {
    const Vocab& v = vocab("phi-3");
    // phi-3's special tokens strip the whitespace after them; "</s>" is USER_DEFINED, so it is
    // matched even without parse_special.
    EXPECT_EQ(v.tokenize("<|user|>\n  Hello", false, true), (Ids{32010, 15043}));
    EXPECT_EQ(v.tokenize("x</s>  y", false, false), v.tokenize("x</s>y", false, false));
    EXPECT_EQ(v.tokenize("</s>", false, false), (Ids{2}));
    EXPECT_TRUE(v.is_eog(32000));  // <|endoftext|>, also eos
    EXPECT_TRUE(v.is_eog(32007));  // <|end|>
    EXPECT_FALSE(v.is_eog(32010));
}

// The special ids, add_bos/add_eos and the end-of-generation set of the model vocabs, as their files
// say (and, for EOG, the CONTROL tokens with end-of-turn texts that generation must stop at).
TEST(Tokenizer, ModelVocabSpecialsAndEog) {
    struct Expect {
        const char* name;
        int32_t bos, eos;
        bool add_bos;
        Ids eog;
    };
    const Expect expects[] = {
        {"llama3", 128000, 128001, true, {128001, 128009}},  // <|end_of_text|>, <|eot_id|>
        // <|endoftext|>, <|im_end|>, <|fim_pad|>, <|repo_name|>, <|file_sep|>; qwen3 has no BOS of its own
        {"qwen3", 11, 151645, false, {151643, 151645, 151662, 151663, 151664}},
        {"deepseek-v3", 0, 1, true, {1}},  // <｜end▁of▁sentence｜>
        {"gemma3", 2, 106, true, {1, 106}},  // <eos>, <end_of_turn>
    };
    for (const Expect& e : expects) {
        SCOPED_TRACE(e.name);
        const Vocab& v = vocab(e.name);
        EXPECT_EQ(v.bos(), e.bos);
        EXPECT_EQ(v.eos(), e.eos);
        EXPECT_EQ(v.add_bos(), e.add_bos);
        EXPECT_FALSE(v.add_eos());
        EXPECT_EQ(v.eog_ids(), e.eog);
        for (const int32_t id : e.eog) EXPECT_TRUE(v.is_control(id)) << id;
        const Ids hello = v.tokenize("Hello", /*add_special=*/true);
        ASSERT_FALSE(hello.empty());
        EXPECT_EQ(hello.front() == e.bos, e.add_bos);
    }
    // Special texts become their tokens only with parse_special.
    EXPECT_EQ(vocab("qwen3").tokenize("<|im_end|>", false, true), (Ids{151645}));
    EXPECT_EQ(vocab("gemma3").tokenize("<end_of_turn>", false, true), (Ids{106}));
    EXPECT_NE(vocab("gemma3").tokenize("<end_of_turn>", false, false), (Ids{106}));
    EXPECT_EQ(vocab("llama3").tokenize("<|eot_id|>", false, true), (Ids{128009}));
    EXPECT_FALSE(vocab("gemma3").add_space_prefix());
}

TEST(Tokenizer, SpmPieces) {
    const Vocab& v = vocab("llama-spm");
    EXPECT_EQ(v.token_to_piece(15043), " Hello");
    EXPECT_EQ(v.token_to_piece(v.find_token("<0x41>")), "A");
    EXPECT_EQ(v.token_to_piece(v.find_token("<0xE2>")), "\xE2");
    EXPECT_EQ(v.token_to_piece(1, false), "");
    EXPECT_EQ(v.token_to_piece(1, true), "<s>");
    EXPECT_EQ(v.token_to_piece(0, false), "");
    EXPECT_EQ(v.token_type(1), TokenType::Control);
    EXPECT_EQ(v.token_type(0), TokenType::Unknown);
    EXPECT_TRUE(v.is_byte(v.find_token("<0x0A>")));
    EXPECT_TRUE(v.is_eog(2));
    EXPECT_FALSE(v.is_eog(1));
}

TEST(Tokenizer, SpmInvalidUtf8FallsBackToBytes) {
    const Vocab& v = vocab("llama-spm");
    for (const char* text : {"\xff", "a\xfe\xff", "\xe2\x96", "\x80\x80x", "caf\xc3", "\xf0\x9f\x98"}) {
        const Ids ids = v.tokenize(text, false);
        EXPECT_FALSE(ids.empty());
        for (const int32_t id : ids) EXPECT_TRUE(v.valid(id));
        // SPM byte fallback is lossless.
        EXPECT_EQ(v.detokenize(ids), text);
    }
    EXPECT_EQ(v.tokenize("\xff", false), (Ids{29871, v.find_token("<0xFF>")}));
    // Characters are cut by lead byte alone, so 0xFE swallows the next 3 bytes: here part of
    // the escaped space, which then comes back as raw bytes (as in the reference).
    EXPECT_EQ(v.detokenize(v.tokenize("a\xfe b", false)), "a\xfe\xe2\x96\x81" "b");
}

TEST(Tokenizer, SpmTinyVocabMerges) {
    const std::vector<uint8_t> bytes = tiny_spm_bytes();
    const Vocab v = Vocab::from_gguf(gguf::File::parse(bytes, "tiny"));
    EXPECT_EQ(v.n_tokens(), 8);
    // "ab" merges first ("▁a" is not a token), then "▁" + "ab" -> "▁ab".
    EXPECT_EQ(v.tokenize("ab", false), (Ids{7}));
    EXPECT_EQ(v.tokenize("abab", false), (Ids{7, 6}));
    // No byte tokens and no one-byte text for 'c': the unknown token.
    EXPECT_EQ(v.tokenize("c", false), (Ids{3, 0}));
}

// ---- BPE ------------------------------------------------------------------------------------

TEST(Tokenizer, Gpt2RoundTripAndCleanSpaces) {
    const Vocab& v = vocab("gpt-2");
    EXPECT_FALSE(v.add_bos());
    EXPECT_TRUE(v.clean_spaces());
    EXPECT_EQ(v.tokenize("Hello world", true), v.tokenize("Hello world", false));
    for (const std::string text : {"Hello world", " Hello world", "Führer 🦙 нещо", "tabs\tand\nnewlines\n  x"}) {
        EXPECT_EQ(v.detokenize(v.tokenize(text, false)), text) << text;
    }
    // clean_spaces removes the space before punctuation and some contractions.
    const Ids ids = v.tokenize("Hello , world ! I 'm here . It 's", false);
    EXPECT_EQ(v.detokenize(ids), "Hello, world! I'm here. It's");
    EXPECT_EQ(v.token_to_piece(v.find_token("\xC4\xA0Hello")), " Hello");  // "ĠHello"
    EXPECT_EQ(v.token_to_piece(50256, false), "");
    EXPECT_EQ(v.token_to_piece(50256, true), "<|endoftext|>");
    EXPECT_TRUE(v.is_eog(50256));
}

TEST(Tokenizer, Gpt2SpecialTokens) {
    const Vocab& v = vocab("gpt-2");
    EXPECT_EQ(v.tokenize("a<|endoftext|>b", false, true), (Ids{64, 50256, 65}));
    const Ids literal = v.tokenize("a<|endoftext|>b", false, false);
    EXPECT_EQ(std::count(literal.begin(), literal.end(), 50256), 0);
    EXPECT_EQ(v.detokenize(literal), "a<|endoftext|>b");
}

TEST(Tokenizer, BpeInvalidUtf8ReadsAsReplacementCharacter) {
    for (const char* name : {"gpt-2", "deepseek-llm", "falcon", "starcoder"}) {
        const Vocab& v = vocab(name);
        EXPECT_EQ(v.tokenize("a\xff" "b", false), v.tokenize("a\xEF\xBF\xBD" "b", false)) << name;
        EXPECT_EQ(v.tokenize("\xe2\x96", false), v.tokenize("\xEF\xBF\xBD\xEF\xBF\xBD", false)) << name;
        const Ids ids = v.tokenize("x\x80\xc3(\xf5", false);
        for (const int32_t id : ids) EXPECT_TRUE(v.valid(id)) << name;
    }
}

TEST(Tokenizer, DeepseekUserDefinedAndBos) {
    const Vocab& v = vocab("deepseek-llm");
    EXPECT_TRUE(v.add_bos());
    EXPECT_FALSE(v.clean_spaces());
    EXPECT_EQ(v.bos(), 100000);
    EXPECT_EQ(v.tokenize("Hello", true).front(), 100000);
    // 'ü' is a USER_DEFINED token: split out even without parse_special, and printed raw.
    const Ids ids = v.tokenize("ü", false);
    EXPECT_EQ(ids, (Ids{100014}));
    EXPECT_EQ(v.detokenize(ids), "ü");
    EXPECT_EQ(v.detokenize(v.tokenize("Führer über alles", false)), "Führer über alles");
}

TEST(Tokenizer, StarcoderEogIncludesFimTokens) {
    const Vocab& v = vocab("starcoder");
    EXPECT_TRUE(v.is_eog(0));                          // <|endoftext|>
    EXPECT_EQ(v.fim_pre(), 1);                         // <fim_prefix>
    EXPECT_TRUE(v.is_eog(v.find_token("<fim_pad>")));  // FIM pad/rep/sep end generation
    EXPECT_TRUE(v.is_eog(v.find_token("<file_sep>")));
    EXPECT_FALSE(v.is_eog(1));
}

// ---- long inputs ------------------------------------------------------------------------------

TEST(Tokenizer, LongInputsWithoutSpaces) {
    // One huge fragment: the merge queues must stay O(n log n).
    const std::string letters(300000, 'a');
    std::string mixed;
    while (mixed.size() < 300000) mixed += "ab\xC3\xA9\xE4\xBD\xA0\xF0\x9F\xA6\x99x9.";
    for (const char* name : {"llama-spm", "gpt-2"}) {
        const Vocab& v = vocab(name);
        for (const std::string* text : {&letters, static_cast<const std::string*>(&mixed)}) {
            const Ids ids = v.tokenize(*text, false);
            EXPECT_LT(ids.size(), text->size()) << name;
            EXPECT_EQ(v.detokenize(ids), *text) << name;
        }
    }
}

// A hostile vocab whose last token is 1,000,000 bytes: loading it used to try every cut of every
// token (its length squared: minutes), now only cuts where both parts have a token's length.
TEST(Tokenizer, HugeTokenDoesNotMakeLoadingQuadratic) {
    std::string huge;
    while (huge.size() < 1000000) huge += "ab";
    gguf::Writer w;
    w.add("tokenizer.ggml.model", Value::string("llama"));
    w.add("tokenizer.ggml.tokens", Value::string_array({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "ab",
                                                         "\xE2\x96\x81" "ab", huge.substr(0, 500000), huge}));
    const float scores[] = {0, 0, 0, -1, -2, -2, -1, -0.5f, -3, -3};
    w.add("tokenizer.ggml.scores", Value::f32_array(scores));
    const int32_t types[] = {2, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    w.add("tokenizer.ggml.token_type", Value::i32_array(types));
    const std::vector<uint8_t> bytes = w.to_bytes();

    // A hang guard, not a speed test: the fixed load takes milliseconds, the old one minutes.
    auto loading = std::async(std::launch::async, [&] { return Vocab::from_gguf(gguf::File::parse(bytes, "huge")); });
    if (loading.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        std::fprintf(stderr, "FAILED: loading a vocab with a 1 MB token did not finish in 60 s (quadratic?)\n");
        std::_Exit(1);  // the loading thread cannot be stopped
    }
    const Vocab v = loading.get();
    EXPECT_EQ(v.n_tokens(), 10);
    EXPECT_EQ(v.tokenize("ab", false), (Ids{7}));
    EXPECT_EQ(v.tokenize("abab", false), (Ids{7, 6}));
    EXPECT_EQ(v.token_text(9).size(), 1000000u);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(Tokenizer, UnknownPreTokenizerIsAnError) {
    const std::string msg =
        error_of([] { modified("gpt-2", {{"tokenizer.ggml.pre", Value::string("no-such-pre")}}); });
    EXPECT_NE(msg.find("no-such-pre"), std::string::npos) << msg;
    EXPECT_NE(msg.find("modified-gpt-2"), std::string::npos) << msg;
}

TEST(Tokenizer, UnknownModelIsAnError) {
    const std::string msg = error_of([] { modified("gpt-2", {{"tokenizer.ggml.model", Value::string("bert")}}); });
    EXPECT_NE(msg.find("'bert'"), std::string::npos) << msg;
    EXPECT_NE(error_of([] { modified("gpt-2", {{"tokenizer.ggml.model", std::nullopt}}); }).find("tokenizer.ggml.model"),
              std::string::npos);
}

TEST(Tokenizer, MissingPreTokenizerFallsBackToDefault) {
    const Vocab v = modified("gpt-2", {{"tokenizer.ggml.pre", std::nullopt}});
    EXPECT_EQ(v.pre_type(), PreType::Default);
    EXPECT_EQ(v.detokenize(v.tokenize("Hello world", false)), "Hello world");
}

TEST(Tokenizer, MalformedMetadataIsAnError) {
    const auto expect_error = [](const std::map<std::string, std::optional<Value>>& changes, const char* what) {
        const std::string msg = error_of([&] { modified("llama-spm", changes); });
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
    };
    const int32_t ints[] = {1, 2, 3};
    const float floats[] = {0.5f, 1.5f};
    expect_error({{"tokenizer.ggml.tokens", Value::i32_array(ints)}}, "tokenizer.ggml.tokens");
    expect_error({{"tokenizer.ggml.tokens", Value::string("hello")}}, "tokenizer.ggml.tokens");
    expect_error({{"tokenizer.ggml.tokens", std::nullopt}}, "tokenizer.ggml.tokens");
    expect_error({{"tokenizer.ggml.tokens", Value::string_array({})}}, "tokenizer.ggml.tokens");
    expect_error({{"tokenizer.ggml.scores", Value::f32_array(floats)}}, "tokenizer.ggml.scores");
    expect_error({{"tokenizer.ggml.scores", Value::i32_array(ints)}}, "tokenizer.ggml.scores");
    expect_error({{"tokenizer.ggml.token_type", Value::i32_array(ints)}}, "tokenizer.ggml.token_type");
    expect_error({{"tokenizer.ggml.token_type", Value::f32_array(floats)}}, "tokenizer.ggml.token_type");
    expect_error({{"tokenizer.ggml.bos_token_id", Value::string("1")}}, "tokenizer.ggml.bos_token_id");
    expect_error({{"tokenizer.ggml.tokens", Value::string_array({"a", "b", "a"})},
                  {"tokenizer.ggml.scores", std::nullopt},
                  {"tokenizer.ggml.token_type", std::nullopt}},
                 "same text");
    const std::string no_merges = error_of([] { modified("gpt-2", {{"tokenizer.ggml.merges", std::nullopt}}); });
    EXPECT_NE(no_merges.find("tokenizer.ggml.merges"), std::string::npos) << no_merges;
}

TEST(Tokenizer, OutOfRangeIdsAreRejected) {
    // A special id past the vocab is ignored (as the reference does); a BOS that is then
    // missing but asked for is an error when tokenizing with add_special.
    const std::vector<uint8_t> bytes = tiny_spm_bytes({{"tokenizer.ggml.bos_token_id", Value::u32(1000)},
                                                       {"tokenizer.ggml.eos_token_id", Value::u32(2)}});
    const Vocab tiny = Vocab::from_gguf(gguf::File::parse(bytes, "tiny"));
    EXPECT_EQ(tiny.bos(), 1);  // the SPM default stays

    const Vocab& v = vocab("llama-spm");
    EXPECT_NE(error_of([&] { v.detokenize(Ids{15043, 32000}); }).find("32000"), std::string::npos);
    EXPECT_NE(error_of([&] { v.detokenize(Ids{-1}); }).find("-1"), std::string::npos);
    EXPECT_THROW(v.token_to_piece(32000), Error);
    EXPECT_THROW(v.token_text(-5), Error);
    EXPECT_EQ(v.find_token("no such token text"), kNoToken);
}

TEST(Tokenizer, MissingBosIsAnErrorOnlyWhenAskedFor) {
    gguf::Writer w;
    w.add("tokenizer.ggml.model", Value::string("llama"));
    w.add("tokenizer.ggml.tokens", Value::string_array({"<unk>", "a"}));  // the default bos 1 is "a"; eos 2 is absent
    w.add("tokenizer.ggml.add_eos_token", Value::boolean(true));
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Vocab v = Vocab::from_gguf(gguf::File::parse(bytes, "two-tokens"));
    EXPECT_EQ(v.eos(), kNoToken);
    EXPECT_EQ(v.tokenize("a", false), (Ids{0, 0, 0, 1}));  // "▁" is not a token: <unk> for each of its bytes
    const std::string msg = error_of([&] { v.tokenize("a", true); });
    EXPECT_NE(msg.find("EOS"), std::string::npos) << msg;
}

TEST(Tokenizer, RandomInputsNeverFail) {
    // Random byte soup, biased towards what trips tokenizers: spaces and newlines, pieces of
    // special-token texts, "▁" bytes, UTF-8 lead and continuation bytes, digits, apostrophes.
    const char* const atoms[] = {" ",   "  ",  "\n", "\t", "\r\n", "'s", "'", "<",  ">",  "|", "<s>", "</s>",
                                 "<|",  "|>",  "<|endoftext|>", "<|end|>", "\xE2\x96\x81", "\xE2", "\x96",
                                 "\x81", "\xF0\x9F", "\xC3", "\xA9", "\xFF", "\xC0\x80", "a", "Z", "7",
                                 "123", "\xE4\xBD\xA0", "\xC3\xBC", "[PAD100015]", "\xE3\x80\x80"};
    std::mt19937 rng(2024);
    for (const char* name : {"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "falcon", "starcoder"}) {
        const Vocab& v = vocab(name);
        for (int iter = 0; iter < 60; ++iter) {
            std::string text;
            const int n = static_cast<int>(rng() % 40);
            for (int i = 0; i < n; ++i) {
                if (rng() % 4 == 0) {
                    text.push_back(static_cast<char>(rng() % 256));
                } else {
                    text += atoms[rng() % std::size(atoms)];
                }
            }
            for (const bool parse_special : {false, true}) {
                const Ids ids = v.tokenize(text, true, parse_special);
                std::string pieces;
                std::string streamed;
                Utf8Stream stream;
                for (const int32_t id : ids) {
                    ASSERT_TRUE(v.valid(id)) << name;
                    const std::string& piece = v.token_to_piece(id, true);
                    pieces += piece;
                    streamed += stream.push(piece);
                }
                streamed += stream.flush();
                EXPECT_EQ(streamed, pieces) << name;
                (void)v.detokenize(ids, true, parse_special);
                if (v.type() == VocabType::Spm && !parse_special) {
                    // Without special parsing an SPM vocab loses nothing but the cases where
                    // an invalid lead byte swallows part of an escaped space.
                    const std::string back = v.detokenize(ids, true);
                    if (text.find_first_of("\xF0\xF1\xF2\xF3\xF4\xF5\xF6\xF7\xF8\xF9\xFA\xFB\xFC\xFD\xFE\xFF"
                                           "\xE0\xE1\xE2\xE3\xE4\xE5\xE6\xE7\xE8\xE9\xEA\xEB\xEC\xED\xEE\xEF"
                                           "\xC0\xC1\xC2\xC3\xC4\xC5\xC6\xC7\xC8\xC9\xCA\xCB\xCC\xCD\xCE\xCF"
                                           "\xD0\xD1\xD2\xD3\xD4\xD5\xD6\xD7\xD8\xD9\xDA\xDB\xDC\xDD\xDE\xDF") ==
                            std::string::npos &&
                        !text.empty() && text.find("</s>") == std::string::npos) {
                        EXPECT_EQ(back, " " + text) << name;  // BOS dropped: the prefix space stays
                    }
                }
            }
        }
    }
}

// ---- streaming detokenization ----------------------------------------------------------------

TEST(Tokenizer, StreamingPiecesGiveWholeCharacters) {
    const Vocab& v = vocab("llama-spm");
    const std::string text = "Llamas 🦙 and café ☕ 中文";
    const Ids ids = v.tokenize(text, false);
    Utf8Stream stream;
    std::string joined;
    bool first = true;
    for (const int32_t id : ids) {
        std::string piece = v.token_to_piece(id);
        if (first && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);  // the prefix space
        first = false;
        const std::string out = stream.push(piece);
        // Every emitted chunk is valid UTF-8 on its own.
        EXPECT_EQ(utf8_complete_prefix(out), out.size());
        joined += out;
    }
    joined += stream.flush();
    EXPECT_EQ(joined, text);
}

}  // namespace
}  // namespace ember
