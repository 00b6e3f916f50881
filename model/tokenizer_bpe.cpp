// Byte-level BPE tokenizer (FORMATS.md §5.5).
//
// The fragment is pre-tokenized into chunks (pretokenizer.h); each chunk's UTF-8 bytes are
// rewritten through the GPT-2 byte map, split into characters, and the adjacent pair with the
// lowest merge rank (then the leftmost) is merged until no listed pair is left. Each final
// symbol is emitted as its token; a symbol that is not a token falls back to its single bytes
// that are tokens (the others are dropped, as in the reference). O(n log n) per chunk.
#include "core/error.h"
#include "model/unicode.h"
#include "model/vocab.h"

#include <algorithm>

namespace ember {

namespace {

struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t offset;  // into the mapped word; a symbol's text is always contiguous
    uint32_t n;       // bytes; 0 once merged into its left neighbour
};

struct Bigram {
    int32_t rank;
    int32_t left;
    int32_t right;
    uint32_t size;  // bytes of the pair when queued; a mismatch later means it is stale
};

// Heap order: lowest rank on top; equal ranks: leftmost first.
struct Lower {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

void Vocab::tokenize_bpe(std::string_view fragment, std::vector<int32_t>& out) const {
    const std::vector<uint32_t> cpts = unicode::decode_utf8(fragment);
    std::vector<uint32_t> lengths;
    pre_split(pre_.type, cpts, lengths);

    std::string word;
    std::string utf8;
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;
    size_t pos = 0;
    for (const uint32_t len : lengths) {
        // The chunk's UTF-8 bytes (invalid input already reads as U+FFFD), each through the map.
        word.clear();
        for (size_t i = pos; i < pos + len; ++i) {
            if (cpts[i] < 0x80) {
                word += unicode::byte_to_utf8(static_cast<uint8_t>(cpts[i]));
                continue;
            }
            utf8.clear();
            unicode::append_utf8(utf8, cpts[i]);
            for (const char c : utf8) word += unicode::byte_to_utf8(static_cast<uint8_t>(c));
        }
        pos += len;
        if (word.size() > UINT32_MAX) fail("{}: text too long to tokenize ({} bytes in one chunk)", path_, word.size());

        if (pre_.ignore_merges) {
            const int32_t id = find_token(word);
            if (id != kNoToken) {
                out.push_back(id);
                continue;
            }
        }

        symbols.clear();
        for (size_t offset = 0; offset < word.size();) {
            const size_t n = std::min(unicode::utf8_len(static_cast<uint8_t>(word[offset])), word.size() - offset);
            const auto index = static_cast<int32_t>(symbols.size());
            symbols.push_back({index - 1, offset + n == word.size() ? -1 : index + 1, static_cast<uint32_t>(offset),
                               static_cast<uint32_t>(n)});
            offset += n;
        }

        heap.clear();
        const auto try_pair = [&](int32_t left, int32_t right) {
            if (left < 0 || right < 0) return;
            const uint32_t size = symbols[left].n + symbols[right].n;
            const int32_t rank = merge_rank(std::string_view(word).substr(symbols[left].offset, size), symbols[left].n);
            if (rank < 0) return;
            heap.push_back({rank, left, right, size});
            std::push_heap(heap.begin(), heap.end(), Lower{});
        };
        for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), Lower{});
            const Bigram b = heap.back();
            heap.pop_back();
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

        for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
            const std::string_view piece = std::string_view(word).substr(symbols[i].offset, symbols[i].n);
            const int32_t id = find_token(piece);
            if (id != kNoToken) {
                out.push_back(id);
                continue;
            }
            for (const char c : piece) {
                const int32_t byte_id = find_token(std::string_view(&c, 1));
                if (byte_id != kNoToken) out.push_back(byte_id);
            }
        }
    }
}

}  // namespace ember
