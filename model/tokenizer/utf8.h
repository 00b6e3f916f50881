// Utf8Stream: joins detokenized pieces and hands back text only in whole UTF-8 characters.
//
// A token piece can end in the middle of a character (SPM byte tokens, BPE tokens that hold
// part of a multi-byte sequence). push() returns everything up to the last complete
// character and keeps back a trailing sequence that is still incomplete (at most 3 bytes);
// flush() returns what is kept back at the end of the stream. Bytes that can never become
// valid (a stray continuation byte, an impossible lead byte, a lead byte followed by a
// non-continuation) are passed through at once, unchanged: the concatenation of all the
// outputs is exactly the concatenation of all the inputs.
#pragma once

#include <string>
#include <string_view>

namespace ember {

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

// The length of the longest prefix of `text` that does not end inside an incomplete (but so
// far valid) UTF-8 sequence.
size_t utf8_complete_prefix(std::string_view text);

}  // namespace ember
