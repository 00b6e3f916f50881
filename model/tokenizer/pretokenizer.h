// BPE pre-tokenizers (docs/FORMATS.md §5.3): the regex sets that cut text into chunks before the
// byte-level BPE merges run on each chunk.
//
// Each set is a sequence of patterns; every pattern re-splits each chunk from the previous
// ones, and the stretches between its matches stay chunks too. The patterns are matched by
// hand-written code that reproduces the reference's behaviour (its custom GPT-2 and LLaMA-3
// matchers, and std::regex over the category-collapsed text for the rest): \p{L}, \p{N} and
// \p{P} are Unicode general-category classes, \s is the White_Space property, and each match
// is the leftmost one, alternatives tried in order (ECMAScript semantics), within one chunk.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

enum class PreType : uint8_t {
    Default,      // [\p{P}$+<=>^~|]+ · GPT2 · \p{N}+ · [0-9][0-9][0-9]
    Gpt2,         // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
    Llama3,       // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Qwen2,        // LLAMA3 with \p{N} (one digit) for \p{N}{1,3}
    Starcoder,    // \p{N} · GPT2
    Falcon,       // [\p{P}$+<=>^~|`]+ · GPT2 · [0-9][0-9][0-9]
    DeepseekLlm,  // [\r\n] · \s?[cased letters]+ · \s?[ASCII/CJK punctuation]+ · \s+$ · [CJK/Hangul]+ · \p{N}+
    DeepseekV3,   // \p{N}{1,3} · [CJK/kana]+ · [ASCII punct][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
};

const char* pre_type_name(PreType type);

// What a `tokenizer.ggml.pre` name selects: the regex set and the vocab flags that go with it.
struct PreTokenizerConfig {
    PreType type = PreType::Default;
    bool ignore_merges = false;  // emit a chunk that is a whole token without merging (llama3)
    bool add_bos = false;        // default for tokenizer.ggml.add_bos_token
    bool clean_spaces = true;    // default clean-up of spaces in detokenize
};

// Resolves a pre-tokenizer name ("llama-bpe", "qwen2", "gpt-2", ...; see the table in
// pretokenizer.cpp). Throws ember::Error naming an unknown one.
PreTokenizerConfig pre_tokenizer_config(std::string_view name);

// Splits the code points `cpts` into chunks; appends each chunk's length (in code points,
// never 0) to `lengths`. The lengths sum to cpts.size().
void pre_split(PreType type, std::span<const uint32_t> cpts, std::vector<uint32_t>& lengths);

// Convenience: the chunks of UTF-8 `text` (invalid bytes read as U+FFFD) as UTF-8 strings.
std::vector<std::string> pre_tokenize(PreType type, std::string_view text);

}  // namespace ember
