#include "model/tokenizer/pretokenizer.h"

#include "core/error.h"
#include "model/tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace ember {

namespace {

using unicode::kLetter;
using unicode::kMark;
using unicode::kNumber;
using unicode::kPunct;
using unicode::kSymbol;
using unicode::kWhitespace;

// ---- names ------------------------------------------------------------------------------

struct PreName {
    const char* name;
    PreTokenizerConfig config;
};

// tokenizer.ggml.pre -> regex set and flags (docs/FORMATS.md §5.3, llama-vocab.cpp).
constexpr PreTokenizerConfig kDefault{PreType::Default, false, false, true};
constexpr PreTokenizerConfig kGpt2{PreType::Gpt2, false, false, true};
constexpr PreTokenizerConfig kLlama3{PreType::Llama3, true, true, true};
constexpr PreTokenizerConfig kLlama3Plain{PreType::Llama3, false, false, true};
constexpr PreTokenizerConfig kQwen2{PreType::Qwen2, false, false, false};
constexpr PreTokenizerConfig kQwen2Clean{PreType::Qwen2, false, false, true};
constexpr PreTokenizerConfig kStarcoder{PreType::Starcoder, false, false, true};
constexpr PreTokenizerConfig kStarcoderNoClean{PreType::Starcoder, false, false, false};
constexpr PreTokenizerConfig kFalcon{PreType::Falcon, false, false, true};
constexpr PreTokenizerConfig kDeepseekLlm{PreType::DeepseekLlm, false, false, false};
constexpr PreTokenizerConfig kDeepseekV3{PreType::DeepseekV3, false, false, false};

constexpr PreName kPreNames[] = {
    {"default", kDefault},
    {"llama3", kLlama3},
    {"llama-v3", kLlama3},
    {"llama-bpe", kLlama3},
    {"falcon3", kLlama3},
    {"dbrx", kLlama3Plain},
    {"smaug-bpe", kLlama3Plain},
    {"qwen2", kQwen2},
    {"deepseek-r1-qwen", kQwen2},
    {"megrez", kQwen2Clean},
    {"stablelm2", kQwen2Clean},
    {"gpt-2", kGpt2},
    {"phi-2", kGpt2},
    {"roberta-bpe", kGpt2},
    {"gigachat", kGpt2},
    {"mpt", kGpt2},
    {"olmo", kGpt2},
    {"starcoder", kStarcoder},
    {"refact", kStarcoder},
    {"command-r", kStarcoderNoClean},
    {"smollm", kStarcoderNoClean},
    {"codeshell", kStarcoder},
    {"exaone", kStarcoder},
    {"minerva-7b", kStarcoder},
    {"falcon", kFalcon},
    {"deepseek-llm", kDeepseekLlm},
    {"deepseek-v3", kDeepseekV3},
};

// ---- the splitting machinery ------------------------------------------------------------

// The text being split: its code points, their flags, and the current chunk lengths.
struct Splitter {
    std::span<const uint32_t> cp;
    std::vector<uint8_t> fl;
    std::vector<uint32_t> chunks;
    std::vector<uint32_t> next;

    explicit Splitter(std::span<const uint32_t> cpts) : cp(cpts), fl(cpts.size()) {
        for (size_t i = 0; i < cp.size(); ++i) fl[i] = unicode::flags(cp[i]);
        if (!cp.empty()) chunks.push_back(static_cast<uint32_t>(cp.size()));
    }

    // Re-splits every chunk with one pattern. match(pos, end) returns the length of the match
    // that starts at pos within the chunk [.., end), or 0; like a regex iterator, the first
    // position with a match wins and the search resumes after it. Unmatched stretches stay
    // chunks of their own.
    template <typename Match>
    void apply(Match&& match) {
        next.clear();
        size_t start = 0;
        for (const uint32_t len : chunks) {
            const size_t end = start + len;
            size_t gap = start;
            size_t pos = start;
            while (pos < end) {
                const size_t m = match(pos, end);
                if (m == 0) {
                    ++pos;
                    continue;
                }
                if (pos > gap) next.push_back(static_cast<uint32_t>(pos - gap));
                next.push_back(static_cast<uint32_t>(m));
                pos += m;
                gap = pos;
            }
            if (end > gap) next.push_back(static_cast<uint32_t>(end - gap));
            start = end;
        }
        chunks.swap(next);
    }

    bool ws(size_t i) const { return fl[i] & kWhitespace; }
    // [^\s\p{L}\p{N}] at i (false past the chunk end). Unassigned code points count as "other".
    bool other(size_t i, size_t end) const { return i < end && !(fl[i] & (kWhitespace | kLetter | kNumber)); }
    bool has(size_t i, size_t end, uint8_t mask) const { return i < end && (fl[i] & mask); }

    // A run of code points with `mask` from pos.
    size_t run(size_t pos, size_t end, uint8_t mask) const {
        size_t p = pos;
        while (p < end && (fl[p] & mask)) ++p;
        return p - pos;
    }
};

uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive. Returns the match length or 0.
size_t contraction(const Splitter& s, size_t pos, size_t end, bool any_case) {
    if (s.cp[pos] != '\'' || pos + 1 >= end) return 0;
    const auto low = [&](size_t i) { return any_case ? ascii_lower(s.cp[i]) : s.cp[i]; };
    const uint32_t a = low(pos + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= end) return 0;
    const uint32_t b = low(pos + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

// \s+(?!\S) then \s+ at pos; 0 when pos is not whitespace.
size_t trailing_whitespace(const Splitter& s, size_t pos, size_t end) {
    size_t n = 0;
    while (pos + n < end && s.ws(pos + n)) ++n;
    if (n > 1 && pos + n < end) return n - 1;  // leave the last one to prefix the next word
    return n;
}

bool is_newline(uint32_t c) { return c == '\r' || c == '\n'; }

// \s*[\r\n]+|\s+(?!\S)|\s+ at pos; 0 when pos is not whitespace.
size_t newline_or_whitespace(const Splitter& s, size_t pos, size_t end) {
    // \s*[\r\n]+ : the whitespace run up to its last newline.
    size_t n = 0;
    size_t through_newline = 0;
    while (pos + n < end && s.ws(pos + n)) {
        if (is_newline(s.cp[pos + n])) through_newline = n + 1;
        ++n;
    }
    if (through_newline > 0) return through_newline;
    return trailing_whitespace(s, pos, end);
}

// GPT2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t match_gpt2(const Splitter& s, size_t pos, size_t end) {
    if (const size_t m = contraction(s, pos, end, false)) return m;
    const size_t p = pos + (s.cp[pos] == ' ' ? 1 : 0);
    if (s.has(p, end, kLetter)) return p - pos + s.run(p, end, kLetter);
    if (s.has(p, end, kNumber)) return p - pos + s.run(p, end, kNumber);
    if (s.other(p, end)) {
        size_t q = p;
        while (s.other(q, end)) ++q;
        return q - pos;
    }
    if (const size_t m = trailing_whitespace(s, pos, end)) return m;
    return 1;  // unreachable in practice: every code point is matched by some alternative
}

// LLAMA3 (max_digits 3) and QWEN2 (max_digits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t match_llama3(const Splitter& s, size_t pos, size_t end, size_t max_digits) {
    if (const size_t m = contraction(s, pos, end, true)) return m;
    const uint32_t c = s.cp[pos];
    const bool newline = c == '\r' || c == '\n';
    const bool letter = s.fl[pos] & kLetter;
    const bool number = s.fl[pos] & kNumber;
    if (!newline && !number && (letter || s.has(pos + 1, end, kLetter))) {
        return 1 + s.run(pos + 1, end, kLetter);
    }
    if (number) return std::min(max_digits, s.run(pos, end, kNumber));
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`; a lone space at the chunk end ends up as " " either way.
    if (c == ' ' ? (pos + 1 >= end || s.other(pos + 1, end)) : s.other(pos, end)) {
        size_t q = pos + (c == ' ' ? 1 : 0);
        while (s.other(q, end)) ++q;
        while (q < end && (s.cp[q] == '\r' || s.cp[q] == '\n')) ++q;
        return q - pos;
    }
    if (const size_t m = newline_or_whitespace(s, pos, end)) return m;
    return 1;
}

// [\p{P}\$\+<=>\^~\|]+ (and with ` for falcon)
size_t match_punct_run(const Splitter& s, size_t pos, size_t end, bool backtick) {
    const auto in = [&](size_t i) {
        if (s.fl[i] & kPunct) return true;
        const uint32_t c = s.cp[i];
        return c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' || c == '|' ||
               (backtick && c == '`');
    };
    size_t p = pos;
    while (p < end && in(p)) ++p;
    return p - pos;
}

bool ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }

// [0-9][0-9][0-9]
size_t match_three_digits(const Splitter& s, size_t pos, size_t end) {
    return pos + 3 <= end && ascii_digit(s.cp[pos]) && ascii_digit(s.cp[pos + 1]) && ascii_digit(s.cp[pos + 2]) ? 3 : 0;
}

// ---- deepseek-llm ----------------------------------------------------------------------------
// These patterns have no \p{..} class, so the reference matches them with std::wregex over the
// code points, non-ASCII whitespace replaced by U+000B; \s is ASCII whitespace there.

struct Range {
    uint32_t first, last;
};

// The cased-letter class of the deepseek-llm tokenizer (tokenizer.json), range by range.
constexpr Range kDeepseekLetters[] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
    {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
    {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

// [!-/:-~！-／：-～‘-‟　-。]
constexpr Range kDeepseekPunct[] = {
    {0x0021, 0x002F}, {0x003A, 0x007E}, {0x2018, 0x201F}, {0x3000, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
};

// [一-龥ࠀ-一가-퟿]
constexpr Range kDeepseekCjk[] = {{0x0800, 0x4E00}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7FF}};

template <size_t N>
bool in_ranges(const Range (&ranges)[N], uint32_t c) {
    // The last range starting at or before c (ranges are sorted by first).
    const Range* r = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                      [](uint32_t v, const Range& x) { return v < x.first; });
    return r != std::begin(ranges) && c <= (r - 1)->last;
}

// The code point as the wide regex sees it.
uint32_t wide(const Splitter& s, size_t i) { return (s.cp[i] > 0x7F && s.ws(i)) ? 0x0B : s.cp[i]; }
bool wide_space(const Splitter& s, size_t i) {
    const uint32_t c = wide(s, i);
    return c == ' ' || (c >= 0x09 && c <= 0x0D);
}

// \s?[SET]+
template <size_t N>
size_t match_space_then_run(const Splitter& s, size_t pos, size_t end, const Range (&set)[N]) {
    const auto in = [&](size_t i) { return i < end && in_ranges(set, wide(s, i)); };
    size_t p = pos;
    if (wide_space(s, pos) && in(pos + 1)) p = pos + 1;
    if (!in(p)) return 0;
    while (in(p)) ++p;
    return p - pos;
}

void split_deepseek_llm(Splitter& s) {
    // [\r\n]
    s.apply([&](size_t pos, size_t) -> size_t { return s.cp[pos] == '\r' || s.cp[pos] == '\n' ? 1 : 0; });
    s.apply([&](size_t pos, size_t end) { return match_space_then_run(s, pos, end, kDeepseekLetters); });
    s.apply([&](size_t pos, size_t end) { return match_space_then_run(s, pos, end, kDeepseekPunct); });
    // \s+$ : the whitespace run that reaches the chunk end.
    // The first call for a chunk comes with pos at the chunk start, which bounds the scan.
    size_t cached_end = SIZE_MAX;
    size_t tail = 0;
    s.apply([&](size_t pos, size_t end) -> size_t {
        if (end != cached_end) {
            cached_end = end;
            tail = end;
            while (tail > pos && wide_space(s, tail - 1)) --tail;
        }
        return pos >= tail ? end - pos : 0;
    });
    s.apply([&](size_t pos, size_t end) {
        size_t p = pos;
        while (p < end && in_ranges(kDeepseekCjk, wide(s, p))) ++p;
        return p - pos;
    });
    // \p{N}+ (collapsed: ASCII digits and non-ASCII numbers)
    s.apply([&](size_t pos, size_t end) { return s.run(pos, end, kNumber); });
}

// ---- deepseek-v3 ----------------------------------------------------------------------------
// The Split patterns of the model's tokenizer.json (each "Isolated"), as llama.cpp's
// LLAMA_VOCAB_PRE_TYPE_DEEPSEEK3_LLM lists them:
//   \p{N}{1,3}
//   [一-龥぀-ゟ゠-ヿ]+
//   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//       ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Text no alternative matches (a control character on its own, say) stays a chunk of its own.

// [一-龥぀-ゟ゠-ヿ]: CJK ideographs U+4E00-U+9FA5, hiragana, katakana.
constexpr Range kDeepseekV3Cjk[] = {{0x3040, 0x309F}, {0x30A0, 0x30FF}, {0x4E00, 0x9FA5}};

bool ascii_letter(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]: every printable ASCII character but letters and digits.
bool ascii_punct(uint32_t c) { return c >= 0x21 && c <= 0x7E && !ascii_letter(c) && !ascii_digit(c); }

size_t match_deepseek_v3_word(const Splitter& s, size_t pos, size_t end) {
    const uint32_t c = s.cp[pos];
    // [ASCII punct][A-Za-z]+
    if (ascii_punct(c) && pos + 1 < end && ascii_letter(s.cp[pos + 1])) {
        size_t q = pos + 1;
        while (q < end && ascii_letter(s.cp[q])) ++q;
        return q - pos;
    }
    // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
    constexpr uint8_t kLetterMark = kLetter | kMark;
    constexpr uint8_t kPunctSymbol = kPunct | kSymbol;
    const bool lead = !is_newline(c) && !(s.fl[pos] & (kLetter | kPunctSymbol));
    if (lead && s.has(pos + 1, end, kLetterMark)) return 1 + s.run(pos + 1, end, kLetterMark);
    if (s.fl[pos] & kLetterMark) return s.run(pos, end, kLetterMark);
    // ` ?[\p{P}\p{S}]+[\r\n]*`
    const size_t p = pos + (c == ' ' && s.has(pos + 1, end, kPunctSymbol) ? 1 : 0);
    if (s.has(p, end, kPunctSymbol)) {
        size_t q = p + s.run(p, end, kPunctSymbol);
        while (q < end && is_newline(s.cp[q])) ++q;
        return q - pos;
    }
    return newline_or_whitespace(s, pos, end);
}

void split_deepseek_v3(Splitter& s) {
    s.apply([&](size_t pos, size_t end) { return std::min<size_t>(3, s.run(pos, end, kNumber)); });
    s.apply([&](size_t pos, size_t end) {
        size_t p = pos;
        while (p < end && in_ranges(kDeepseekV3Cjk, s.cp[p])) ++p;
        return p - pos;
    });
    s.apply([&](size_t pos, size_t end) { return match_deepseek_v3_word(s, pos, end); });
}

}  // namespace

const char* pre_type_name(PreType type) {
    switch (type) {
        case PreType::Default: return "default";
        case PreType::Gpt2: return "gpt-2";
        case PreType::Llama3: return "llama3";
        case PreType::Qwen2: return "qwen2";
        case PreType::Starcoder: return "starcoder";
        case PreType::Falcon: return "falcon";
        case PreType::DeepseekLlm: return "deepseek-llm";
        case PreType::DeepseekV3: return "deepseek-v3";
    }
    return "?";
}

PreTokenizerConfig pre_tokenizer_config(std::string_view name) {
    for (const PreName& p : kPreNames) {
        if (name == p.name) return p.config;
    }
    if (name.starts_with("jina-")) return kGpt2;
    std::string known;
    for (const PreName& p : kPreNames) {
        if (!known.empty()) known += ", ";
        known += p.name;
    }
    fail("unknown pre-tokenizer '{}' (tokenizer.ggml.pre); known: {}, jina-*", name, known);
}

void pre_split(PreType type, std::span<const uint32_t> cpts, std::vector<uint32_t>& lengths) {
    Splitter s(cpts);
    const auto gpt2 = [&](size_t pos, size_t end) { return match_gpt2(s, pos, end); };
    switch (type) {
        case PreType::Gpt2:
            s.apply(gpt2);
            break;
        case PreType::Llama3:
            s.apply([&](size_t pos, size_t end) { return match_llama3(s, pos, end, 3); });
            break;
        case PreType::Qwen2:
            s.apply([&](size_t pos, size_t end) { return match_llama3(s, pos, end, 1); });
            break;
        case PreType::Starcoder:
            s.apply([&](size_t pos, size_t) -> size_t { return (s.fl[pos] & kNumber) ? 1 : 0; });
            s.apply(gpt2);
            break;
        case PreType::Falcon:
            s.apply([&](size_t pos, size_t end) { return match_punct_run(s, pos, end, true); });
            s.apply(gpt2);
            s.apply([&](size_t pos, size_t end) { return match_three_digits(s, pos, end); });
            break;
        case PreType::Default:
            s.apply([&](size_t pos, size_t end) { return match_punct_run(s, pos, end, false); });
            s.apply(gpt2);
            s.apply([&](size_t pos, size_t end) { return s.run(pos, end, kNumber); });
            s.apply([&](size_t pos, size_t end) { return match_three_digits(s, pos, end); });
            break;
        case PreType::DeepseekLlm:
            split_deepseek_llm(s);
            break;
        case PreType::DeepseekV3:
            split_deepseek_v3(s);
            break;
    }
    lengths.insert(lengths.end(), s.chunks.begin(), s.chunks.end());
}

std::vector<std::string> pre_tokenize(PreType type, std::string_view text) {
    const std::vector<uint32_t> cpts = decode_utf8(text);
    std::vector<uint32_t> lengths;
    pre_split(type, cpts, lengths);
    std::vector<std::string> out;
    out.reserve(lengths.size());
    size_t pos = 0;
    for (const uint32_t len : lengths) {
        std::string& word = out.emplace_back();
        for (size_t i = pos; i < pos + len; ++i) append_utf8(word, cpts[i]);
        pos += len;
    }
    return out;
}

}  // namespace ember
