// SPM tokenizer (docs/FORMATS.md §5.4): SentencePiece-style merging of adjacent pieces by score.
//
// The fragment is split into UTF-8 characters; every adjacent pair whose concatenation is a
// token is queued with that token's score; the best pair (highest score, then leftmost) is
// merged and its new neighbours queued, until no pair is left. Each final piece is its token,
// or, when the text is not a token, one byte token per byte. O(n log n) in the fragment length.
//
// When no token has "▁" right after another character (true of the Llama vocabs), no merge
// can cross the start of a word, so each word is merged on its own with a small queue: the
// same result, much faster on long text.
#include "core/error.h"
#include "model/tokenizer/merge_symbol.h"
#include "model/tokenizer/unicode.h"
#include "model/tokenizer/vocab.h"

#include <algorithm>

namespace ember {

namespace {

using Symbol = detail::MergeSymbol;

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;  // bytes of the pair when queued; a mismatch later means it is stale
    int32_t id;     // the joined token
};

// Heap order: highest score on top; equal scores: leftmost first.
struct Lower {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

}  // namespace

void Vocab::tokenize_spm(std::string_view fragment, bool prefix_space, std::vector<int32_t>& out) const {
    // Spaces become U+2581; the prefix space too.
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
    const std::string_view view(text);

    // UTF-8 characters, by lead byte only (a truncated last character is clipped).
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t offset = 0; offset < text.size();) {
        const auto lead = static_cast<uint8_t>(text[offset]);
        const size_t n = std::min(utf8_len(lead), text.size() - offset);
        const auto index = static_cast<int32_t>(symbols.size());
        const int32_t id = n == 1 ? single_byte_ids_[lead] : find_token(view.substr(offset, n));
        symbols.push_back({index - 1, index + 1, static_cast<uint32_t>(offset), static_cast<uint32_t>(n), id});
        offset += n;
    }

    std::vector<Bigram> heap;
    const auto try_pair = [&](int32_t left, int32_t right, bool keep_heap = true) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        int32_t id = kNoToken;
        if (l.id != kNoToken && r.id != kNoToken) {
            const PairMap::Entry* e = spm_pairs_.find(l.id, r.id);
            if (e == nullptr) return;
            id = e->a;
        } else {
            id = find_token(view.substr(l.offset, l.n + r.n));
            if (id == kNoToken) return;
        }
        heap.push_back({scores_[id], left, right, l.n + r.n, id});
        if (keep_heap) std::push_heap(heap.begin(), heap.end(), Lower{});
    };

    // Merges the symbols [first, last) among themselves and emits them.
    const auto merge_range = [&](int32_t first, int32_t last) {
        symbols[first].prev = -1;
        symbols[last - 1].next = -1;
        heap.clear();
        for (int32_t i = first + 1; i < last; ++i) try_pair(i - 1, i, false);
        std::make_heap(heap.begin(), heap.end(), Lower{});  // O(n) for the initial pairs
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), Lower{});
            const Bigram b = heap.back();
            heap.pop_back();
            Symbol& left = symbols[b.left];
            Symbol& right = symbols[b.right];
            if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;  // stale
            left.n += right.n;
            left.id = b.id;
            right.n = 0;
            left.next = right.next;
            if (right.next >= 0) symbols[right.next].prev = b.left;
            try_pair(left.prev, b.left);
            try_pair(b.left, left.next);
        }
        for (int32_t i = first; i != -1; i = symbols[i].next) {
            const Symbol& s = symbols[i];
            if (s.id != kNoToken) {
                out.push_back(s.id);
                continue;
            }
            for (const char c : view.substr(s.offset, s.n)) out.push_back(byte_token(static_cast<uint8_t>(c)));
        }
    };

    const auto is_space = [&](int32_t i) { return symbols[i].n == 3 && view.substr(symbols[i].offset, 3) == kSpace; };
    const auto count = static_cast<int32_t>(symbols.size());
    int32_t first = 0;
    for (int32_t i = 1; i < count; ++i) {
        if (spm_split_at_spaces_ && is_space(i) && !is_space(i - 1)) {
            merge_range(first, i);
            first = i;
        }
    }
    merge_range(first, count);
}

}  // namespace ember
