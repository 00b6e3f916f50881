// Byte-level BPE tokenizer (docs/FORMATS.md §5.5).
//
// The fragment is pre-tokenized into chunks (pretokenizer.h); each chunk's UTF-8 bytes are
// rewritten through the GPT-2 byte map (one character per byte), and the adjacent pair with
// the lowest merge rank (then the leftmost) is merged until no listed pair is left. Each final
// symbol is emitted as its token; a symbol that is not a token falls back to its single bytes
// that are tokens (the others are dropped, as in the reference). O(n log n) per chunk.
#include "core/error.h"
#include "model/tokenizer/merge_symbol.h"
#include "model/tokenizer/unicode.h"
#include "model/tokenizer/vocab.h"

#include <algorithm>

namespace ember {

namespace {

using Symbol = detail::MergeSymbol;

struct Bigram {
    int32_t rank;
    int32_t left;
    int32_t right;
    uint32_t size;  // bytes of the pair when queued; a mismatch later means it is stale
    int32_t id;     // the joined token, or kNoToken
};

// Heap order: lowest rank on top; equal ranks: leftmost first.
struct Lower {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

void Vocab::tokenize_bpe(std::string_view fragment, std::vector<int32_t>& out) const {
    const std::vector<uint32_t> cpts = decode_utf8(fragment);
    std::vector<uint32_t> lengths;
    pre_split(pre_.type, cpts, lengths);

    std::string word;
    std::string utf8;
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;

    const auto try_pair = [&](int32_t left, int32_t right, bool keep_heap = true) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[right];
        int32_t rank = -1;
        int32_t id = kNoToken;
        if (l.id != kNoToken && r.id != kNoToken) {
            const PairMap::Entry* e = bpe_pairs_.find(l.id, r.id);
            if (e == nullptr) return;
            rank = e->a;
            id = e->b;
        } else {  // a half that is not a token: only the text can name the merge
            const std::string_view joined = std::string_view(word).substr(l.offset, l.n + r.n);
            rank = merge_rank(joined, l.n);
            if (rank < 0) return;
            id = find_token(joined);
        }
        heap.push_back({rank, left, right, l.n + r.n, id});
        if (keep_heap) std::push_heap(heap.begin(), heap.end(), Lower{});
    };

    size_t pos = 0;
    for (const uint32_t len : lengths) {
        // The chunk's UTF-8 bytes (invalid input already reads as U+FFFD), one symbol each.
        word.clear();
        symbols.clear();
        const auto add_byte = [&](uint8_t b) {
            const std::string_view mapped = unicode::byte_to_utf8(b);
            const auto index = static_cast<int32_t>(symbols.size());
            symbols.push_back({index - 1, index + 1, static_cast<uint32_t>(word.size()),
                               static_cast<uint32_t>(mapped.size()), bpe_byte_ids_[b]});
            word += mapped;
        };
        for (size_t i = pos; i < pos + len; ++i) {
            if (cpts[i] < 0x80) {
                add_byte(static_cast<uint8_t>(cpts[i]));
                continue;
            }
            utf8.clear();
            append_utf8(utf8, cpts[i]);
            for (const char c : utf8) add_byte(static_cast<uint8_t>(c));
        }
        pos += len;
        if (symbols.empty()) continue;
        if (word.size() > UINT32_MAX) fail("{}: text too long to tokenize ({} bytes in one chunk)", path_, word.size());
        symbols.back().next = -1;

        if (pre_.ignore_merges) {
            const int32_t id = symbols.size() == 1 ? symbols[0].id : find_token(word);
            if (id != kNoToken) {
                out.push_back(id);
                continue;
            }
        }

        heap.clear();
        for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i, false);
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

        for (int32_t i = 0; i != -1; i = symbols[i].next) {
            const Symbol& s = symbols[i];
            if (s.id != kNoToken) {
                out.push_back(s.id);
                continue;
            }
            for (const char c : std::string_view(word).substr(s.offset, s.n)) {
                const int32_t byte_id = single_byte_ids_[static_cast<uint8_t>(c)];
                if (byte_id != kNoToken) out.push_back(byte_id);
            }
        }
    }
}

}  // namespace ember
