// Vocabulary and tokenizers (docs/FORMATS.md §5): SentencePiece-style SPM (`tokenizer.ggml.model =
// llama`) and byte-level BPE (`gpt2`, with the pre-tokenizer named by `tokenizer.ggml.pre`).
//
// A Vocab is built once from a GGUF file's metadata and is immutable afterwards: every method
// is const and safe to call from several threads at once. Malformed metadata (a token list of
// the wrong type, scores or types of the wrong length, duplicate texts, an unknown model or
// pre-tokenizer name) throws ember::Error naming the file and the key.
//
// Token ids are int32_t, as everywhere in ember; kNoToken (-1) means "this vocab has none".
#pragma once

#include "model/tokenizer/pretokenizer.h"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

namespace gguf {
class File;
}

inline constexpr int32_t kNoToken = -1;

enum class VocabType : uint8_t { Spm, Bpe };

// Token types as stored in `tokenizer.ggml.token_type`.
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// Per-token attribute bits: the token type as one bit, plus the strip flags set for some
// models (phi-3: RSTRIP on its special tokens), which drop whitespace next to the token when
// it is matched in text.
namespace token_attr {
inline constexpr uint16_t kUndefined = 0;
inline constexpr uint16_t kUnknown = 1 << 0;
inline constexpr uint16_t kUnused = 1 << 1;
inline constexpr uint16_t kNormal = 1 << 2;
inline constexpr uint16_t kControl = 1 << 3;
inline constexpr uint16_t kUserDefined = 1 << 4;
inline constexpr uint16_t kByte = 1 << 5;
inline constexpr uint16_t kLstrip = 1 << 6;
inline constexpr uint16_t kRstrip = 1 << 7;
}  // namespace token_attr

class Vocab {
public:
    // Reads the `tokenizer.ggml.*` keys of `file`.
    static Vocab from_gguf(const gguf::File& file);
    explicit Vocab(const gguf::File& file);

    Vocab(Vocab&&) noexcept = default;
    Vocab& operator=(Vocab&&) noexcept = default;
    Vocab(const Vocab&) = delete;
    Vocab& operator=(const Vocab&) = delete;
    ~Vocab();

    VocabType type() const { return type_; }
    PreType pre_type() const { return pre_.type; }  // BPE only; Default for SPM
    const std::string& pre_name() const { return pre_name_; }
    int32_t n_tokens() const { return static_cast<int32_t>(tokens_.size()); }
    bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }

    // Per-token data; `id` must be valid (ember::Error otherwise).
    std::string_view token_text(int32_t id) const;
    float token_score(int32_t id) const;
    TokenType token_type(int32_t id) const;  // after the EOG overrides (§5.1)
    uint16_t token_attr(int32_t id) const;
    bool is_control(int32_t id) const { return token_attr(id) & token_attr::kControl; }
    bool is_byte(int32_t id) const { return token_attr(id) & token_attr::kByte; }
    bool is_user_defined(int32_t id) const { return token_attr(id) & token_attr::kUserDefined; }

    // The id of the token with exactly this text, or kNoToken.
    int32_t find_token(std::string_view text) const;

    // Special tokens (kNoToken when absent).
    int32_t bos() const { return bos_; }
    int32_t eos() const { return eos_; }
    int32_t eot() const { return eot_; }
    int32_t eom() const { return eom_; }
    int32_t unk() const { return unk_; }
    int32_t pad() const { return pad_; }
    int32_t sep() const { return sep_; }
    int32_t mask() const { return mask_; }
    int32_t fim_pre() const { return fim_pre_; }
    int32_t fim_suf() const { return fim_suf_; }
    int32_t fim_mid() const { return fim_mid_; }
    int32_t fim_pad() const { return fim_pad_; }
    int32_t fim_rep() const { return fim_rep_; }
    int32_t fim_sep() const { return fim_sep_; }

    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    bool add_space_prefix() const { return add_space_prefix_; }
    bool clean_spaces() const { return clean_spaces_; }
    bool ignore_merges() const { return pre_.ignore_merges; }

    // End of generation: eos, eot, eom, the FIM pad/rep/sep tokens and the tokens whose text
    // is one of the known end-of-turn markers.
    bool is_eog(int32_t id) const;
    const std::vector<int32_t>& eog_ids() const { return eog_ids_; }  // sorted

    // Text -> ids. add_special: BOS first / EOS last as the vocab asks (add_bos/add_eos).
    // parse_special: CONTROL and UNKNOWN token texts in `text` become those tokens
    // (USER_DEFINED texts always do). Invalid UTF-8 never fails: SPM falls back to byte
    // tokens, BPE reads each invalid byte as U+FFFD.
    std::vector<int32_t> tokenize(std::string_view text, bool add_special, bool parse_special = false) const;

    // The text of one token. CONTROL and UNKNOWN tokens give "" unless `special`; SPM byte
    // tokens give their single (possibly partial UTF-8) byte; BPE tokens are mapped back
    // through the byte-level map. The reference stays valid as long as the Vocab.
    const std::string& token_to_piece(int32_t id, bool special = true) const;

    // Ids -> text: the pieces joined, without the SPM prefix space, then clean_spaces.
    // remove_special drops a leading BOS (when add_bos) and a trailing EOS (when add_eos);
    // unparse_special renders CONTROL/UNKNOWN tokens as their text. The result may end in an
    // incomplete UTF-8 sequence when the ids do; stream pieces through Utf8Stream instead.
    std::string detokenize(std::span<const int32_t> ids, bool remove_special = false,
                           bool unparse_special = false) const;

private:
    struct Fragment {  // a stretch of raw text, or one special token
        int32_t token;  // kNoToken for raw text
        size_t offset;
        size_t length;
    };

    void load(const gguf::File& file);
    void load_tokens(const gguf::File& file);
    void load_merges(const gguf::File& file);
    void load_special_ids(const gguf::File& file);
    void detect_eog_and_fim();
    void build_special_cache(const gguf::File& file);
    void build_pieces();
    void build_pair_maps();

    void check_id(int32_t id) const;
    int32_t byte_token(uint8_t byte) const;  // SPM byte fallback
    void partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;
    void tokenize_spm(std::string_view fragment, bool prefix_space, std::vector<int32_t>& out) const;
    void tokenize_bpe(std::string_view fragment, std::vector<int32_t>& out) const;
    int32_t merge_rank(std::string_view joined, uint32_t split) const;  // -1 when not a merge
    std::string make_piece(int32_t id) const;  // the piece with special = true

    // Open-addressing hash index from a text to an int32 value. The texts are views into
    // storage the Vocab owns (and never empty).
    class TextIndex {
    public:
        void reserve(size_t n);
        // Adds text -> value unless the text is there already; returns the value stored for it.
        int32_t insert(std::string_view text, int32_t value);
        int32_t find(std::string_view text) const;  // -1 when absent
        size_t size() const { return size_; }

    private:
        struct Slot {
            const char* data = nullptr;  // nullptr: empty
            uint32_t size = 0;
            uint32_t tag = 0;  // low bits of the hash
            int32_t value = 0;
        };
        std::vector<Slot> slots_;
        size_t size_ = 0;
        int shift_ = 64;
    };

    // Open-addressing hash map from a pair of token ids to two int32 values: the hot lookup
    // of the merge loops (SPM: pair -> joined token; BPE: pair -> rank, joined token).
    class PairMap {
    public:
        struct Entry {
            uint64_t key;
            int32_t a;
            int32_t b;
        };
        void reserve(size_t n);
        void insert(int32_t left, int32_t right, int32_t a, int32_t b);  // keeps an existing entry
        const Entry* find(int32_t left, int32_t right) const;

    private:
        static constexpr uint64_t kEmpty = ~uint64_t(0);
        std::vector<Entry> slots_;
        size_t size_ = 0;
        int shift_ = 64;
    };

    struct MergeEntry {
        uint32_t split;   // byte length of the left half
        int32_t rank;
        int32_t next;     // next entry for the same joined text, or -1
    };
    struct SpecialTrieNode {
        std::vector<std::pair<uint8_t, int32_t>> children;  // byte -> node, sorted by byte
        int32_t rank = -1;  // a candidate ends here: its index in special_tokens_
    };

    std::string path_;
    VocabType type_ = VocabType::Spm;
    std::string pre_name_;
    PreTokenizerConfig pre_;

    // Token texts live in one arena; the maps hold views into it (stable across moves).
    std::unique_ptr<char[]> text_arena_;
    std::vector<std::string_view> tokens_;
    std::vector<float> scores_;
    std::vector<TokenType> types_;
    std::vector<uint16_t> attrs_;
    TextIndex token_index_;

    // BPE merges: joined text -> first MergeEntry (views into merge_arena_).
    std::unique_ptr<char[]> merge_arena_;
    TextIndex merge_index_;
    std::vector<MergeEntry> merges_;
    PairMap bpe_pairs_;                     // (left id, right id) -> (rank, joined id or -1)
    std::array<int32_t, 256> bpe_byte_ids_;  // id of each byte's mapped character

    // SPM: (left id, right id) -> id of the joined text, for every split of every token.
    PairMap spm_pairs_;
    std::array<int32_t, 256> single_byte_ids_;  // id of each one-byte text
    // No token has "▁" right after another character: an SPM fragment can be merged word by word.
    bool spm_split_at_spaces_ = false;

    int32_t bos_ = kNoToken, eos_ = kNoToken, eot_ = kNoToken, eom_ = kNoToken, unk_ = kNoToken;
    int32_t pad_ = kNoToken, sep_ = kNoToken, mask_ = kNoToken;
    int32_t fim_pre_ = kNoToken, fim_suf_ = kNoToken, fim_mid_ = kNoToken;
    int32_t fim_pad_ = kNoToken, fim_rep_ = kNoToken, fim_sep_ = kNoToken;
    bool add_bos_ = false;
    bool add_eos_ = false;
    bool add_space_prefix_ = false;
    bool clean_spaces_ = false;

    std::vector<int32_t> eog_ids_;
    std::array<int32_t, 256> byte_tokens_;  // SPM: "<0xXX>" (or the one-byte text), kNoToken if neither

    // Special-token partitioning (§5.2): candidates longest first, and a byte trie over them.
    std::vector<int32_t> special_tokens_;
    std::array<int32_t, 256> special_root_;  // first byte -> trie node (or -1)
    std::vector<SpecialTrieNode> special_trie_;
    bool has_user_defined_ = false;

    std::vector<std::string> pieces_;  // token_to_piece(id, special = true)
};

}  // namespace ember
