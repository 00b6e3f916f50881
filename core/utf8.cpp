#include "core/utf8.h"

namespace ember {
namespace {

// Bytes a valid sequence with this lead byte has; 0 for bytes that cannot start one.
size_t sequence_length(uint8_t lead) {
    if (lead < 0x80) return 1;
    if (lead < 0xC2) return 0;  // continuation bytes, and the always-overlong 0xC0/0xC1
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    if (lead < 0xF5) return 4;
    return 0;
}

}  // namespace

uint32_t decode_utf8(std::string_view text, size_t& offset) {
    const size_t n = text.size();
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    const auto cont = [&](size_t i) { return i < n && (byte(i) & 0xC0) == 0x80; };
    const uint8_t lead = byte(offset);
    if (lead < 0x80) {
        offset += 1;
        return lead;
    }
    if ((lead & 0xE0) == 0xC0 && cont(offset + 1)) {
        const uint32_t cp = (uint32_t(lead & 0x1F) << 6) | (byte(offset + 1) & 0x3F);
        offset += 2;
        return cp;
    }
    if ((lead & 0xF0) == 0xE0 && cont(offset + 1) && cont(offset + 2)) {
        const uint32_t cp = (uint32_t(lead & 0x0F) << 12) | (uint32_t(byte(offset + 1) & 0x3F) << 6) |
                            (byte(offset + 2) & 0x3F);
        offset += 3;
        return cp;
    }
    if ((lead & 0xF8) == 0xF0 && cont(offset + 1) && cont(offset + 2) && cont(offset + 3)) {
        const uint32_t cp = (uint32_t(lead & 0x07) << 18) | (uint32_t(byte(offset + 1) & 0x3F) << 12) |
                            (uint32_t(byte(offset + 2) & 0x3F) << 6) | (byte(offset + 3) & 0x3F);
        // Past U+10FFFF there is no code point (and no way to encode it back): invalid.
        if (cp < kUtf8CodepointEnd) {
            offset += 4;
            return cp;
        }
    }
    offset += 1;
    return kUtf8Replacement;
}

void decode_utf8(std::string_view text, std::vector<uint32_t>& out) {
    out.reserve(out.size() + text.size());
    size_t offset = 0;
    while (offset < text.size()) {
        const uint8_t c = static_cast<uint8_t>(text[offset]);
        if (c < 0x80) {
            out.push_back(c);
            ++offset;
        } else {
            out.push_back(decode_utf8(text, offset));
        }
    }
}

std::vector<uint32_t> decode_utf8(std::string_view text) {
    std::vector<uint32_t> out;
    decode_utf8(text, out);
    return out;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < kUtf8CodepointEnd) {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        append_utf8(out, kUtf8Replacement);
    }
}

std::string encode_utf8(uint32_t cp) {
    std::string s;
    append_utf8(s, cp);
    return s;
}

size_t utf8_valid_length(std::string_view text, size_t at) {
    if (at >= text.size()) return 0;
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[at + i]); };
    const uint8_t lead = byte(0);
    const size_t len = sequence_length(lead);
    if (len <= 1) return len;               // ASCII, or a byte that starts nothing
    if (text.size() - at < len) return 0;  // truncated
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and values
    // past U+10FFFF (F4).
    uint8_t lo = 0x80, hi = 0xBF;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    if (byte(1) < lo || byte(1) > hi) return 0;
    for (size_t i = 2; i < len; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return 0;
    }
    return len;
}

size_t first_invalid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const size_t len = utf8_valid_length(text, i);
        if (len == 0) return i;
        i += len;
    }
    return std::string_view::npos;
}

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
