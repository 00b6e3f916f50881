// Vocab: loading from GGUF metadata, special-token partitioning, pieces and detokenization.
// The SPM and BPE tokenizers themselves are in tokenizer_spm.cpp and tokenizer_bpe.cpp.
#include "model/tokenizer/vocab.h"

#include "core/error.h"
#include "ember/gguf.h"
#include "model/tokenizer/unicode.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

namespace ember {

namespace {

using gguf::ValueType;

// The text of a token, quoted for an error message: control bytes escaped, cut at 60 bytes.
std::string quoted(std::string_view s) {
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < 60; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    if (s.size() > 60) out += "...";
    return out + "'";
}

void warn(const std::string& message) { std::fprintf(stderr, "ember: warning: %s\n", message.c_str()); }

uint16_t attr_of(TokenType type) {
    switch (type) {
        case TokenType::Normal: return token_attr::kNormal;
        case TokenType::Unknown: return token_attr::kUnknown;
        case TokenType::Control: return token_attr::kControl;
        case TokenType::UserDefined: return token_attr::kUserDefined;
        case TokenType::Unused: return token_attr::kUnused;
        case TokenType::Byte: return token_attr::kByte;
        case TokenType::Undefined: break;
    }
    return token_attr::kUndefined;
}

constexpr uint16_t kTypeBits = token_attr::kUnknown | token_attr::kUnused | token_attr::kNormal |
                               token_attr::kControl | token_attr::kUserDefined | token_attr::kByte;

// isspace() in the C locale.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

template <size_t N>
bool one_of(std::string_view text, const std::string_view (&list)[N]) {
    return std::find(std::begin(list), std::end(list), text) != std::end(list);
}

// Texts that mark the end of a turn (docs/FORMATS.md §5.1, llama-vocab.cpp).
constexpr std::string_view kEotTexts[] = {"<|eot_id|>",    "<|im_end|>", "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>", "<EOT>",
                                          "_<EOT>",        "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "▁<PRE>",
                                             "<｜fim▁begin｜>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "▁<SUF>",
                                             "<｜fim▁hole｜>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "▁<MID>",
                                             "<｜fim▁end｜>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>", "<file_sep>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",   "<|im_end|>", "<|end|>",        "<|return|>",
                                          "<|call|>",     "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                                          "<EOT>",        "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>"};
// End-of-generation texts that count only when the vocab marks them CONTROL (nothing is forced):
// Gemma's "<eos>", which its models emit though the files name <end_of_turn> as eos.
constexpr std::string_view kEogControlTexts[] = {"<eos>"};

// clean_up_tokenization_spaces, exactly as the reference does it (three in-place passes).
void clean_up_spaces(std::string& t) {
    size_t n = t.size();
    if (n == 0) return;
    // " ?", " !", " .", " ," -> drop the space
    size_t w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = t[i];
        if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --w;
        t[w++] = x;
    }
    n = w;
    // " ' " -> "'"
    w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = t[i];
        if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
            --w;            // the space before
            t[++i] = '\0';  // the space after (the next position is skipped and reads as non-space)
        }
        t[w++] = x;
    }
    n = w;
    // " 's", " 'm", " 're", " 've" -> drop the space (" 't" and " 'd" keep it)
    w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = t[i];
        if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            const char x1 = t[i + 1];
            if (x1 == 's' || x1 == 'm') {
                --w;
            } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
                const char x2 = t[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --w;
            }
        }
        t[w++] = x;
    }
    t.resize(w);
}

const std::string kEmpty;

}  // namespace

// ---- loading ----------------------------------------------------------------------------------

Vocab Vocab::from_gguf(const gguf::File& file) { return Vocab(file); }

Vocab::Vocab(const gguf::File& file) { load(file); }

Vocab::~Vocab() = default;

void Vocab::load(const gguf::File& file) {
    path_ = file.path();
    const std::optional<std::string> model = file.get_string_opt("tokenizer.ggml.model");
    if (!model) fail("{}: the file has no tokenizer (tokenizer.ggml.model is missing)", path_);

    if (*model == "llama") {
        type_ = VocabType::Spm;
        bos_ = 1;
        eos_ = 2;
        unk_ = 0;
        add_space_prefix_ = true;
        clean_spaces_ = false;
        add_bos_ = true;
        add_eos_ = false;
    } else if (*model == "gpt2") {
        type_ = VocabType::Bpe;
        bos_ = 11;
        eos_ = 11;
        const std::optional<std::string> pre = file.get_string_opt("tokenizer.ggml.pre");
        if (!pre || pre->empty()) {
            warn(fmt::format("{}: tokenizer.ggml.pre is missing; using the 'default' pre-tokenizer, which is "
                             "probably wrong for this model",
                             path_));
            pre_name_ = "default";
        } else {
            pre_name_ = *pre;
        }
        try {
            pre_ = pre_tokenizer_config(pre_name_);
        } catch (const Error& e) {
            fail("{}: {}", path_, e.what());
        }
        add_space_prefix_ = false;
        clean_spaces_ = pre_.clean_spaces;
        add_bos_ = pre_.add_bos;
        add_eos_ = false;
    } else {
        fail("{}: unsupported tokenizer model '{}' (tokenizer.ggml.model); ember reads 'llama' (SPM) and "
             "'gpt2' (BPE)",
             path_, *model);
    }
    add_space_prefix_ = file.get_bool("tokenizer.ggml.add_space_prefix", add_space_prefix_);

    load_tokens(file);
    if (type_ == VocabType::Bpe) load_merges(file);
    load_special_ids(file);
    detect_eog_and_fim();
    build_special_cache(file);

    for (int b = 0; b < 256; ++b) {
        int32_t id = find_token(fmt::format("<0x{:02X}>", b));
        if (id == kNoToken) {
            const char c = static_cast<char>(b);
            id = find_token(std::string_view(&c, 1));
        }
        byte_tokens_[b] = id;
    }
    build_pieces();
    build_pair_maps();
}

void Vocab::load_tokens(const gguf::File& file) {
    const gguf::Value* list = file.get_array_opt("tokenizer.ggml.tokens", ValueType::STRING);
    if (list == nullptr) fail("{}: the file has no token list (tokenizer.ggml.tokens is missing)", path_);
    const size_t n = list->array.size();
    if (n == 0) fail("{}: tokenizer.ggml.tokens is empty", path_);
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail("{}: tokenizer.ggml.tokens has {} entries, more than ember's int32 token ids can name", path_, n);
    }

    // Empty texts become "[EMPTY_<id>]", as in the reference.
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
        const auto& s = std::get<std::string>(list->array[i]);
        total += s.empty() ? fmt::formatted_size("[EMPTY_{}]", i) : s.size();
    }
    text_arena_ = std::make_unique<char[]>(total + 1);
    tokens_.resize(n);
    size_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
        const auto& s = std::get<std::string>(list->array[i]);
        const std::string text = s.empty() ? fmt::format("[EMPTY_{}]", i) : std::string();
        const std::string& src = s.empty() ? text : s;
        std::copy(src.begin(), src.end(), text_arena_.get() + offset);
        tokens_[i] = std::string_view(text_arena_.get() + offset, src.size());
        offset += src.size();
    }

    token_index_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const int32_t first = token_index_.insert(tokens_[i], static_cast<int32_t>(i));
        if (first != static_cast<int32_t>(i)) {
            fail("{}: tokenizer.ggml.tokens: tokens {} and {} have the same text {}", path_, first, i, quoted(tokens_[i]));
        }
    }

    scores_.assign(n, 0.0f);
    if (const gguf::Value* scores = file.get_array_opt("tokenizer.ggml.scores", ValueType::F32)) {
        if (scores->array.size() != n) {
            fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", path_, scores->array.size(), n);
        }
        for (size_t i = 0; i < n; ++i) {
            const float v = static_cast<float>(std::get<double>(scores->array[i]));
            // A NaN would break the ordering of the merge queue; it ranks below everything.
            scores_[i] = std::isnan(v) ? -std::numeric_limits<float>::infinity() : v;
        }
    }

    types_.assign(n, TokenType::Normal);
    if (const gguf::Value* types = file.get_array_opt("tokenizer.ggml.token_type", ValueType::I32)) {
        if (types->array.size() != n) {
            fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", path_, types->array.size(), n);
        }
        for (size_t i = 0; i < n; ++i) {
            const int64_t v = std::get<int64_t>(types->array[i]);
            types_[i] = (v >= 1 && v <= 6) ? static_cast<TokenType>(v) : TokenType::Undefined;
        }
    }
    attrs_.resize(n);
    for (size_t i = 0; i < n; ++i) attrs_[i] = attr_of(types_[i]);
}

void Vocab::load_merges(const gguf::File& file) {
    const gguf::Value* list = file.get_array_opt("tokenizer.ggml.merges", ValueType::STRING);
    if (list == nullptr) fail("{}: a BPE vocab needs tokenizer.ggml.merges, which is missing", path_);
    const size_t n = list->array.size();
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail("{}: tokenizer.ggml.merges has {} entries, too many", path_, n);
    }
    size_t total = 0;
    for (const gguf::Scalar& s : list->array) total += std::get<std::string>(s).size();
    merge_arena_ = std::make_unique<char[]>(total + 1);
    merges_.reserve(n);
    merge_index_.reserve(n);
    bpe_pairs_.reserve(n);

    // "left right", split at the first space after the first byte; rank = index. A pair listed
    // twice keeps its first rank. Entries without a space can never match and are skipped.
    size_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
        const std::string& merge = std::get<std::string>(list->array[i]);
        const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string::npos;
        if (space == std::string::npos) continue;
        char* dst = merge_arena_.get() + offset;
        std::copy(merge.begin(), merge.begin() + space, dst);
        std::copy(merge.begin() + space + 1, merge.end(), dst + space);
        const std::string_view joined(dst, merge.size() - 1);
        offset += joined.size();

        // The fast path of the merge loop: both halves are tokens (the first rank of a pair wins).
        const int32_t left = find_token(joined.substr(0, space));
        const int32_t right = find_token(joined.substr(space));
        if (left != kNoToken && right != kNoToken) {
            bpe_pairs_.insert(left, right, static_cast<int32_t>(i), find_token(joined));
        }

        const MergeEntry entry{static_cast<uint32_t>(space), static_cast<int32_t>(i), -1};
        const auto index = static_cast<int32_t>(merges_.size());
        int32_t e = merge_index_.insert(joined, index);
        if (e == index) {
            merges_.push_back(entry);
            continue;
        }
        while (merges_[e].split != entry.split && merges_[e].next >= 0) e = merges_[e].next;
        if (merges_[e].split == entry.split) continue;  // a duplicate: the first rank stays
        merges_[e].next = static_cast<int32_t>(merges_.size());
        merges_.push_back(entry);
    }
}

void Vocab::load_special_ids(const gguf::File& file) {
    struct Key {
        const char* key;
        int32_t* id;
    };
    const Key keys[] = {
        {"tokenizer.ggml.bos_token_id", &bos_},
        {"tokenizer.ggml.eos_token_id", &eos_},
        {"tokenizer.ggml.eot_token_id", &eot_},
        {"tokenizer.ggml.eom_token_id", &eom_},
        {"tokenizer.ggml.unknown_token_id", &unk_},
        {"tokenizer.ggml.seperator_token_id", &sep_},
        {"tokenizer.ggml.padding_token_id", &pad_},
        {"tokenizer.ggml.mask_token_id", &mask_},
        {"tokenizer.ggml.prefix_token_id", &fim_pre_},  // older names of the FIM keys
        {"tokenizer.ggml.suffix_token_id", &fim_suf_},
        {"tokenizer.ggml.middle_token_id", &fim_mid_},
        {"tokenizer.ggml.fim_pre_token_id", &fim_pre_},
        {"tokenizer.ggml.fim_suf_token_id", &fim_suf_},
        {"tokenizer.ggml.fim_mid_token_id", &fim_mid_},
        {"tokenizer.ggml.fim_pad_token_id", &fim_pad_},
        {"tokenizer.ggml.fim_rep_token_id", &fim_rep_},
        {"tokenizer.ggml.fim_sep_token_id", &fim_sep_},
    };
    for (const Key& k : keys) {
        const std::optional<uint32_t> v = file.get_u32_opt(k.key);
        // 0xFFFFFFFF (-1 as a u32) is how converters write "no such token": not worth a warning.
        if (!v || *v == 0xFFFFFFFFu) continue;
        if (*v >= tokens_.size()) {
            // The reference ignores such ids (keeping its default); so do we, loudly.
            warn(fmt::format("{}: {} = {} is not a token id (the vocab has {} tokens); ignored", path_, k.key, *v,
                             tokens_.size()));
            continue;
        }
        *k.id = static_cast<int32_t>(*v);
    }
    // The built-in defaults (bos 1, eos 2, ...) may not exist in a tiny vocab.
    for (const Key& k : keys) {
        if (*k.id >= n_tokens()) *k.id = kNoToken;
    }
    add_bos_ = file.get_bool("tokenizer.ggml.add_bos_token", add_bos_);
    add_eos_ = file.get_bool("tokenizer.ggml.add_eos_token", add_eos_);
}

void Vocab::detect_eog_and_fim() {
    const auto force_control = [&](int32_t id) {
        types_[id] = TokenType::Control;
        attrs_[id] = static_cast<uint16_t>((attrs_[id] & ~kTypeBits) | token_attr::kControl);
    };
    struct Detect {
        int32_t* id;
        std::span<const std::string_view> texts;
    };
    const Detect detects[] = {
        {&eot_, kEotTexts},         {&eom_, kEomTexts},         {&fim_pre_, kFimPreTexts}, {&fim_suf_, kFimSufTexts},
        {&fim_mid_, kFimMidTexts}, {&fim_pad_, kFimPadTexts}, {&fim_rep_, kFimRepTexts}, {&fim_sep_, kFimSepTexts},
    };
    // The reference looks these up by text when the metadata does not name them (first match
    // in id order here), and makes sure they are CONTROL tokens.
    for (int32_t id = 0; id < n_tokens(); ++id) {
        for (const Detect& d : detects) {
            if (*d.id != kNoToken) continue;
            if (std::find(d.texts.begin(), d.texts.end(), tokens_[id]) == d.texts.end()) continue;
            *d.id = id;
            force_control(id);
        }
    }

    eog_ids_.clear();
    for (const int32_t id : {fim_pad_, fim_rep_, fim_sep_}) {
        if (id != kNoToken) eog_ids_.push_back(id);
    }
    for (int32_t id = 0; id < n_tokens(); ++id) {
        if (types_[id] == TokenType::Control && one_of(tokens_[id], kEogControlTexts)) eog_ids_.push_back(id);
        if (!one_of(tokens_[id], kEogTexts)) continue;
        eog_ids_.push_back(id);
        force_control(id);
    }
    for (const int32_t id : {eos_, eot_, eom_}) {
        if (id != kNoToken) eog_ids_.push_back(id);
    }
    std::sort(eog_ids_.begin(), eog_ids_.end());
    eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
}

void Vocab::build_special_cache(const gguf::File& file) {
    constexpr uint16_t kSpecial = token_attr::kControl | token_attr::kUserDefined | token_attr::kUnknown;
    special_tokens_.clear();
    for (int32_t id = 0; id < n_tokens(); ++id) {
        if (attrs_[id] & kSpecial) special_tokens_.push_back(id);
        if (attrs_[id] & token_attr::kUserDefined) has_user_defined_ = true;
    }
    // Longest text first (ties: lower id first, where the reference leaves the order open).
    std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                     [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });

    // Strip attributes, set by model name as the reference does.
    std::string name;
    if (const gguf::Value* v = file.find("general.name"); v != nullptr && v->type == ValueType::STRING) {
        name = std::get<std::string>(v->scalar);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const auto set_attr = [&](std::string_view text, uint16_t bit, bool on) {
        const int32_t id = find_token(text);
        if (id == kNoToken) return;
        attrs_[id] = static_cast<uint16_t>(on ? (attrs_[id] | bit) : (attrs_[id] & ~bit));
    };
    if (pre_name_.find("jina-v2-de") != std::string::npos || pre_name_.find("jina-v2-es") != std::string::npos ||
        pre_name_.find("jina-v2-code") != std::string::npos) {
        set_attr("<mask>", token_attr::kLstrip, true);
    } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
        for (const int32_t id : special_tokens_) attrs_[id] |= token_attr::kRstrip;
        set_attr("</s>", token_attr::kRstrip, true);
        for (const char* text : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(text, token_attr::kRstrip, false);
    }

    // A byte trie over the candidates, to find all their occurrences in one pass over a text.
    special_root_.fill(-1);
    special_trie_.clear();
    for (size_t rank = 0; rank < special_tokens_.size(); ++rank) {
        const std::string_view text = tokens_[special_tokens_[rank]];
        int32_t& root = special_root_[static_cast<uint8_t>(text[0])];
        if (root < 0) {
            root = static_cast<int32_t>(special_trie_.size());
            special_trie_.emplace_back();
        }
        int32_t node = root;
        for (size_t i = 1; i < text.size(); ++i) {
            const auto byte = static_cast<uint8_t>(text[i]);
            auto& children = special_trie_[node].children;
            auto it = std::lower_bound(children.begin(), children.end(), std::pair<uint8_t, int32_t>(byte, -1));
            if (it == children.end() || it->first != byte) {
                const auto child = static_cast<int32_t>(special_trie_.size());
                it = children.insert(it, {byte, child});
                special_trie_.emplace_back();  // may reallocate: `children` is not used after this
                node = child;
            } else {
                node = it->second;
            }
        }
        special_trie_[node].rank = static_cast<int32_t>(rank);
    }
}

void Vocab::build_pieces() {
    pieces_.resize(tokens_.size());
    for (int32_t id = 0; id < n_tokens(); ++id) pieces_[id] = make_piece(id);
}

std::string Vocab::make_piece(int32_t id) const {
    const uint16_t attr = attrs_[id];
    const std::string_view text = tokens_[id];
    if (attr & (token_attr::kUnknown | token_attr::kControl | token_attr::kUserDefined)) return std::string(text);

    if (type_ == VocabType::Spm) {
        if (attr & token_attr::kNormal) {
            std::string out;
            out.reserve(text.size());
            for (size_t i = 0; i < text.size(); ++i) {
                if (text.substr(i, 3) == "\xE2\x96\x81") {  // U+2581 -> space
                    out.push_back(' ');
                    i += 2;
                } else {
                    out.push_back(text[i]);
                }
            }
            return out;
        }
        if (attr & token_attr::kByte) {
            // "<0xXX>": the hex digits after "<0x" (a malformed text reads as far as it can).
            unsigned value = 0;
            for (size_t i = 3; i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])); ++i) {
                const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
                value = (value << 4) | static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
                value &= 0xFFFF;
            }
            return std::string(1, static_cast<char>(value & 0xFF));
        }
        return {};  // UNDEFINED and UNUSED tokens print nothing
    }

    if (attr & token_attr::kNormal) {
        // Back through the byte-level map, code point by code point.
        std::string out;
        size_t offset = 0;
        while (offset < text.size()) {
            const uint32_t cp = decode_utf8(text, offset);
            const int byte = unicode::cp_to_byte(cp);
            if (byte >= 0) {
                out.push_back(static_cast<char>(byte));
                continue;
            }
            out += "[UNK_BYTE_0x";
            for (const char c : encode_utf8(cp)) out += fmt::format("{:02x}", static_cast<uint8_t>(c));
            out += text;
            out += "]";
        }
        return out;
    }
    return {};
}

void Vocab::build_pair_maps() {
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        single_byte_ids_[b] = find_token(std::string_view(&c, 1));
        bpe_byte_ids_[b] = find_token(unicode::byte_to_utf8(static_cast<uint8_t>(b)));
    }
    if (type_ == VocabType::Bpe) return;  // bpe_pairs_ is built with the merges

    // SPM: every way to cut a token in two tokens (at any byte: symbols of invalid UTF-8 need not
    // end where a valid decoder would).
    // A cut can only give two tokens where both lengths are token lengths: looking up only those
    // keeps the work per token at (its length) x (the few lengths that fit), where trying every
    // cut costs its length squared (a 1 MB token in a hostile vocab: minutes).
    spm_pairs_.reserve(tokens_.size() * 2);
    spm_split_at_spaces_ = true;
    constexpr std::string_view kSpace = "\xE2\x96\x81";
    std::vector<size_t> lengths;  // every token length, ascending, once
    for (const std::string_view t : tokens_) lengths.push_back(t.size());
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    const auto is_length = [&](size_t n) { return std::binary_search(lengths.begin(), lengths.end(), n); };
    for (int32_t id = 0; id < n_tokens(); ++id) {
        const std::string_view text = tokens_[id];
        for (const size_t k : lengths) {
            if (k == 0) continue;
            if (k >= text.size()) break;
            if (!is_length(text.size() - k)) continue;
            const int32_t left = find_token(text.substr(0, k));
            if (left == kNoToken) continue;
            const int32_t right = find_token(text.substr(k));
            if (right != kNoToken) spm_pairs_.insert(left, right, id, 0);
        }
        // Characters as the tokenizer cuts them (by lead byte): is "▁" ever after another one?
        bool prev_space = true;
        for (size_t i = 0; i < text.size();) {
            const size_t n = std::min(utf8_len(static_cast<uint8_t>(text[i])), text.size() - i);
            const bool space = text.substr(i, n) == kSpace;
            if (space && !prev_space) spm_split_at_spaces_ = false;
            prev_space = space;
            i += n;
        }
    }
}

namespace {

uint64_t hash_text(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        h = (h ^ v) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

}  // namespace

void Vocab::TextIndex::reserve(size_t n) {
    size_t capacity = 16;
    int bits = 4;
    while (capacity < 2 * n) {
        capacity *= 2;
        ++bits;
    }
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    shift_ = 64 - bits;
    size_ = 0;
    for (const Slot& s : old) {
        if (s.data != nullptr) insert(std::string_view(s.data, s.size), s.value);
    }
}

int32_t Vocab::TextIndex::insert(std::string_view text, int32_t value) {
    if (2 * (size_ + 1) > slots_.size()) reserve(std::max<size_t>(16, slots_.size()));
    const uint64_t h = hash_text(text);
    const auto tag = static_cast<uint32_t>(h);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h >> shift_;; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (s.data == nullptr) {
            s = Slot{text.data(), static_cast<uint32_t>(text.size()), tag, value};
            ++size_;
            return value;
        }
        if (s.tag == tag && std::string_view(s.data, s.size) == text) return s.value;
    }
}

int32_t Vocab::TextIndex::find(std::string_view text) const {
    if (size_ == 0) return -1;
    const uint64_t h = hash_text(text);
    const auto tag = static_cast<uint32_t>(h);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h >> shift_;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.data == nullptr) return -1;
        if (s.tag == tag && std::string_view(s.data, s.size) == text) return s.value;
    }
}

void Vocab::PairMap::reserve(size_t n) {
    size_t capacity = 16;
    int bits = 4;
    while (capacity < 2 * n) {
        capacity *= 2;
        ++bits;
    }
    slots_.assign(capacity, Entry{kEmpty, 0, 0});
    shift_ = 64 - bits;
    size_ = 0;
}

void Vocab::PairMap::insert(int32_t left, int32_t right, int32_t a, int32_t b) {
    if (2 * (size_ + 1) > slots_.size()) {
        std::vector<Entry> old;
        old.swap(slots_);
        reserve(std::max<size_t>(16, old.size()));
        for (const Entry& e : old) {
            if (e.key != kEmpty) insert(static_cast<int32_t>(e.key >> 32), static_cast<int32_t>(e.key & 0xFFFFFFFF), e.a, e.b);
        }
    }
    const uint64_t key = (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    const size_t mask = slots_.size() - 1;
    for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift_;; i = (i + 1) & mask) {
        if (slots_[i].key == key) return;
        if (slots_[i].key == kEmpty) {
            slots_[i] = Entry{key, a, b};
            ++size_;
            return;
        }
    }
}

const Vocab::PairMap::Entry* Vocab::PairMap::find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    const size_t mask = slots_.size() - 1;
    for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift_;; i = (i + 1) & mask) {
        if (slots_[i].key == key) return &slots_[i];
        if (slots_[i].key == kEmpty) return nullptr;
    }
}

// ---- lookups -----------------------------------------------------------------------------------

void Vocab::check_id(int32_t id) const {
    if (!valid(id)) fail("{}: token id {} is out of range (the vocab has {} tokens)", path_, id, n_tokens());
}

std::string_view Vocab::token_text(int32_t id) const {
    check_id(id);
    return tokens_[id];
}

float Vocab::token_score(int32_t id) const {
    check_id(id);
    return scores_[id];
}

TokenType Vocab::token_type(int32_t id) const {
    check_id(id);
    return types_[id];
}

uint16_t Vocab::token_attr(int32_t id) const {
    check_id(id);
    return attrs_[id];
}

int32_t Vocab::find_token(std::string_view text) const {
    if (text.empty()) return kNoToken;
    return token_index_.find(text);
}

int32_t Vocab::merge_rank(std::string_view joined, uint32_t split) const {
    const int32_t first = joined.empty() ? -1 : merge_index_.find(joined);
    for (int32_t e = first; e >= 0; e = merges_[e].next) {
        if (merges_[e].split == split) return merges_[e].rank;
    }
    return -1;
}

bool Vocab::is_eog(int32_t id) const { return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id); }

int32_t Vocab::byte_token(uint8_t byte) const {
    if (byte_tokens_[byte] != kNoToken) return byte_tokens_[byte];
    if (unk_ != kNoToken) return unk_;
    fail("{}: no token for byte 0x{:02X} (neither <0x{:02X}> nor the byte itself) and no unknown token", path_, byte,
         byte);
}

const std::string& Vocab::token_to_piece(int32_t id, bool special) const {
    check_id(id);
    if (!special && (attrs_[id] & (token_attr::kUnknown | token_attr::kControl))) return kEmpty;
    return pieces_[id];
}

// ---- tokenize / detokenize ---------------------------------------------------------------------

void Vocab::partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const {
    out.clear();
    if (text.empty()) return;
    const bool any = parse_special ? !special_tokens_.empty() : has_user_defined_;
    const auto whole = [&] { out.push_back({kNoToken, 0, text.size()}); };
    if (!any) return whole();
    // With parse_special false only USER_DEFINED candidates take part.
    const auto enabled = [&](int32_t id) { return parse_special || (attrs_[id] & token_attr::kUserDefined); };

    // Every occurrence of every candidate, as (rank, position).
    std::vector<std::pair<int32_t, size_t>> hits;
    for (size_t pos = 0; pos < text.size(); ++pos) {
        int32_t node = special_root_[static_cast<uint8_t>(text[pos])];
        size_t next = pos + 1;
        while (node >= 0) {
            const SpecialTrieNode& n = special_trie_[node];
            if (n.rank >= 0 && enabled(special_tokens_[n.rank])) hits.emplace_back(n.rank, pos);
            if (next >= text.size() || n.children.empty()) break;
            const auto byte = static_cast<uint8_t>(text[next++]);
            const auto it = std::lower_bound(n.children.begin(), n.children.end(), std::pair<uint8_t, int32_t>(byte, -1));
            node = (it != n.children.end() && it->first == byte) ? it->second : -1;
        }
    }
    if (hits.empty()) return whole();
    std::sort(hits.begin(), hits.end());

    // The reference takes the candidates one by one (longest first) and, in every raw fragment
    // left, turns each occurrence, left to right, into the token. Here: an occurrence is taken
    // when it does not overlap what earlier ones took (tokens, or whitespace they stripped).
    struct Block {
        size_t end;
        int32_t token;  // kNoToken: stripped whitespace
    };
    std::map<size_t, Block> blocks;
    for (size_t i = 0; i < hits.size();) {
        const int32_t rank = hits[i].first;
        const int32_t id = special_tokens_[rank];
        const size_t len = tokens_[id].size();
        const uint16_t attr = attrs_[id];
        size_t min_pos = 0;  // after the previous match of this token (and what it stripped)
        for (; i < hits.size() && hits[i].first == rank; ++i) {
            const size_t pos = hits[i].second;
            if (pos < min_pos) continue;
            const auto after = blocks.lower_bound(pos);
            if (after != blocks.end() && after->first < pos + len) continue;
            size_t left_limit = 0;
            if (after != blocks.begin()) {
                const auto before = std::prev(after);
                if (before->second.end > pos) continue;
                left_limit = before->second.end;
            }
            const size_t right_limit = after != blocks.end() ? after->first : text.size();
            blocks.emplace(pos, Block{pos + len, id});
            if (attr & token_attr::kLstrip) {
                size_t s = pos;
                while (s > left_limit && is_c_space(text[s - 1])) --s;
                if (s < pos) blocks.emplace(s, Block{pos, kNoToken});
            }
            size_t end = pos + len;
            if (attr & token_attr::kRstrip) {
                size_t e = end;
                while (e < right_limit && is_c_space(text[e])) ++e;
                if (e > end) blocks.emplace(end, Block{e, kNoToken});
                end = e;
            }
            min_pos = end;
        }
    }

    size_t cur = 0;
    for (const auto& [start, block] : blocks) {
        if (start > cur) out.push_back({kNoToken, cur, start - cur});
        if (block.token != kNoToken) out.push_back({block.token, start, block.end - start});
        cur = block.end;
    }
    if (cur < text.size()) out.push_back({kNoToken, cur, text.size() - cur});
}

std::vector<int32_t> Vocab::tokenize(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<int32_t> out;
    if (add_special && add_bos_) {
        if (bos_ == kNoToken) fail("{}: the vocab asks for a BOS token (add_bos_token) but has none", path_);
        out.push_back(bos_);
    }
    std::vector<Fragment> fragments;
    partition(text, parse_special, fragments);
    bool prev_special = true;  // SPM: the first fragment gets the prefix space too
    for (const Fragment& f : fragments) {
        if (f.token != kNoToken) {
            out.push_back(f.token);
            prev_special = true;
            continue;
        }
        const std::string_view raw = text.substr(f.offset, f.length);
        if (type_ == VocabType::Spm) {
            tokenize_spm(raw, add_space_prefix_ && prev_special, out);
        } else {
            tokenize_bpe(raw, out);
        }
        prev_special = false;
    }
    if (add_special && add_eos_) {
        if (eos_ == kNoToken) fail("{}: the vocab asks for an EOS token (add_eos_token) but has none", path_);
        out.push_back(eos_);
    }
    return out;
}

std::string Vocab::detokenize(std::span<const int32_t> ids, bool remove_special, bool unparse_special) const {
    for (const int32_t id : ids) check_id(id);
    size_t begin = 0;
    size_t end = ids.size();
    bool strip_space = add_space_prefix_;
    if (remove_special && add_bos_ && end > 0 && ids[0] == bos_) {
        strip_space = false;  // the reference's quirk: dropping the BOS keeps the leading space
        begin = 1;
    }
    if (remove_special && add_eos_ && end > begin && ids[end - 1] == eos_) --end;

    std::string out;
    for (size_t i = begin; i < end; ++i) {
        std::string_view piece = token_to_piece(ids[i], unparse_special);
        if (strip_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
        strip_space = false;
        out += piece;
    }
    if (clean_spaces_) clean_up_spaces(out);
    return out;
}

}  // namespace ember
