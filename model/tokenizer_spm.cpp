// SPM tokenizer (FORMATS.md §5.4): SentencePiece-style merging of adjacent pieces by score.
//
// The fragment is split into UTF-8 characters; every adjacent pair whose concatenation is a
// token is queued with that token's score; the best pair (highest score, then leftmost) is
// merged and its new neighbours queued, until no pair is left. Each final piece is its token,
// or, when the text is not a token, one byte token per byte. O(n log n) in the fragment length.
#include "core/error.h"
#include "model/unicode.h"
#include "model/vocab.h"

#include <queue>

namespace ember {

namespace {

struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t offset;  // into the escaped text; a symbol's text is always contiguous
    uint32_t n;       // bytes; 0 once merged into its left neighbour
};

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;  // bytes of the pair when queued; a mismatch later means it is stale
};

// Highest score first; equal scores: leftmost first.
struct Lower {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

void Vocab::tokenize_spm(std::string_view fragment, bool prefix_space, std::vector<int32_t>& out) const {
    // Spaces become U+2581; the prefix space too.
    static constexpr std::string_view kSpace = "\xE2\x96\x81";
    std::string text;
    text.reserve(fragment.size() + 3);
    if (prefix_space) text += kSpace;
    for (const char c : fragment) {
        if (c == ' ') {
            text += kSpace;
        } else {
            text.push_back(c);
        }
    }
    if (text.empty()) return;
    if (text.size() > UINT32_MAX) fail("{}: text too long to tokenize ({} bytes)", path_, text.size());

    // UTF-8 characters, by lead byte only (a truncated last character is clipped).
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t offset = 0; offset < text.size();) {
        const size_t n = std::min(unicode::utf8_len(static_cast<uint8_t>(text[offset])), text.size() - offset);
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1, static_cast<uint32_t>(offset),
                           static_cast<uint32_t>(n)});
        offset += n;
    }

    std::vector<Bigram> storage;
    storage.reserve(symbols.size());
    std::priority_queue<Bigram, std::vector<Bigram>, Lower> queue(Lower{}, std::move(storage));
    const auto try_pair = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const uint32_t size = symbols[left].n + symbols[right].n;
        const int32_t id = find_token(std::string_view(text).substr(symbols[left].offset, size));
        if (id == kNoToken) return;
        queue.push({scores_[id], left, right, size});
    };
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& left = symbols[b.left];
        Symbol& right = symbols[b.right];
        if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;  // stale
        left.n += right.n;
        right.n = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = b.left;
        try_pair(left.prev, b.left);
        try_pair(b.left, left.next);
    }

    for (int32_t i = 0; i != -1; i = symbols[i].next) {
        const std::string_view piece = std::string_view(text).substr(symbols[i].offset, symbols[i].n);
        const int32_t id = find_token(piece);
        if (id != kNoToken) {
            out.push_back(id);
            continue;
        }
        for (const char c : piece) out.push_back(byte_token(static_cast<uint8_t>(c)));
    }
}

}  // namespace ember
