// UTF-8, the one module everyone uses: the tokenizers' decoding and encoding, strict validation
// (prompts, `ember info`'s escaping), and Utf8Stream for text streamed piece by piece.
//
// Two rules, for two jobs:
// - Tokenizer decoding (decode_utf8, utf8_len) follows the reference tokenizer exactly
//   (docs/FORMATS.md §5.3): a sequence is accepted when its lead byte announces n bytes and n-1
//   continuation bytes follow; overlong forms and surrogates are not rejected. Anything else
//   (a stray continuation byte, a truncated sequence, a byte 0xF8..0xFF, a value past U+10FFFF)
//   decodes to U+FFFD and consumes exactly one byte.
// - Validation (utf8_valid_length, first_invalid_utf8) is strict: overlong forms, surrogates
//   and code points past U+10FFFF are invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

inline constexpr uint32_t kUtf8Replacement = 0xFFFD;   // U+FFFD REPLACEMENT CHARACTER
inline constexpr uint32_t kUtf8CodepointEnd = 0x110000;  // code points are below this

// Length of the UTF-8 sequence announced by `lead`, from its high nibble alone: 1 for ASCII
// and for continuation bytes, 2 for 0xC_/0xD_, 3 for 0xE_, 4 for 0xF_ (no validation).
inline size_t utf8_len(uint8_t lead) {
    static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[lead >> 4];
}

// Decodes one code point at `offset` and advances it (by 1 and returns U+FFFD when invalid).
// Requires offset < text.size().
uint32_t decode_utf8(std::string_view text, size_t& offset);
// Decodes the whole text.
std::vector<uint32_t> decode_utf8(std::string_view text);
void decode_utf8(std::string_view text, std::vector<uint32_t>& out);  // appends

// Appends the UTF-8 encoding of `cp` (1 to 4 bytes; U+FFFD for values past U+10FFFF).
void append_utf8(std::string& out, uint32_t cp);
std::string encode_utf8(uint32_t cp);

// Length of the valid UTF-8 sequence at text[at] (1 to 4), or 0 when none starts there.
size_t utf8_valid_length(std::string_view text, size_t at);
// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
size_t first_invalid_utf8(std::string_view text);

// The length of the longest prefix of `text` that does not end inside an incomplete (but so
// far valid) UTF-8 sequence.
size_t utf8_complete_prefix(std::string_view text);

// Utf8Stream: joins detokenized pieces and hands back text only in whole UTF-8 characters.
//
// A token piece can end in the middle of a character (SPM byte tokens, BPE tokens that hold
// part of a multi-byte sequence). push() returns everything up to the last complete
// character and keeps back a trailing sequence that is still incomplete (at most 3 bytes);
// flush() returns what is kept back at the end of the stream. Bytes that can never become
// valid (a stray continuation byte, an impossible lead byte, a lead byte followed by a
// non-continuation) are passed through at once, unchanged: the concatenation of all the
// outputs is exactly the concatenation of all the inputs.
class Utf8Stream {
public:
    // Appends `piece`; returns the text that is now complete (possibly empty).
    std::string push(std::string_view piece);
    // Returns the bytes still kept back (an incomplete sequence) and resets the stream.
    std::string flush();
    // Bytes kept back so far.
    size_t pending() const { return pending_.size(); }

private:
    std::string pending_;
};

}  // namespace ember
