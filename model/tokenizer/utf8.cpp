#include "model/tokenizer/utf8.h"

#include <cstdint>

namespace ember {

namespace {

// Bytes a sequence with this lead byte needs; 0 for bytes that cannot start one.
size_t sequence_length(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead < 0xC2) return 0;  // continuation bytes, and the always-overlong 0xC0/0xC1
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    if (lead < 0xF5) return 4;
    return 0;
}

}  // namespace

size_t utf8_complete_prefix(std::string_view text) {
    const size_t n = text.size();
    // Only the last 3 bytes can belong to an incomplete sequence: find the last lead byte
    // among them and check whether its sequence runs past the end.
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const uint8_t c = static_cast<uint8_t>(text[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking for its lead
        const size_t need = sequence_length(c);
        return need > back ? n - back : n;
    }
    return n;  // only continuation bytes at the end (stray, or a complete 4-byte sequence)
}

std::string Utf8Stream::push(std::string_view piece) {
    pending_.append(piece);
    const size_t complete = utf8_complete_prefix(pending_);
    std::string out = pending_.substr(0, complete);
    pending_.erase(0, complete);
    return out;
}

std::string Utf8Stream::flush() {
    std::string out;
    out.swap(pending_);
    return out;
}

}  // namespace ember
