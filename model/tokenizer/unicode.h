// Unicode helpers for the tokenizers: code point classes and the GPT-2 byte <-> code point map
// used by byte-level BPE. UTF-8 itself is core/utf8.h.
#pragma once

#include "core/utf8.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::unicode {

inline constexpr uint32_t kReplacement = kUtf8Replacement;

// Code point flags: one bit for the general-category class, plus White_Space.
// Unassigned code points (Cn), and values past U+10FFFF, have no flags.
inline constexpr uint8_t kLetter = 0x01;      // L*
inline constexpr uint8_t kNumber = 0x02;      // N*
inline constexpr uint8_t kPunct = 0x04;       // P*
inline constexpr uint8_t kSymbol = 0x08;      // S*
inline constexpr uint8_t kMark = 0x10;        // M*
inline constexpr uint8_t kSeparator = 0x20;   // Z*
inline constexpr uint8_t kControl = 0x40;     // Cc, Cf, Cs, Co
inline constexpr uint8_t kWhitespace = 0x80;  // the White_Space property

uint8_t flags(uint32_t cp);
inline bool is_letter(uint32_t cp) { return flags(cp) & kLetter; }
inline bool is_number(uint32_t cp) { return flags(cp) & kNumber; }
inline bool is_punct(uint32_t cp) { return flags(cp) & kPunct; }
inline bool is_whitespace(uint32_t cp) { return flags(cp) & kWhitespace; }

// The Unicode version the category table was generated from ("14.0.0").
const char* table_version();

// The GPT-2 byte-level map: bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to the same code
// point; the other 68 bytes, in increasing order, to U+0100, U+0101, ... (space -> U+0120).
uint32_t byte_to_cp(uint8_t byte);
// The UTF-8 text of byte_to_cp(byte), precomputed.
std::string_view byte_to_utf8(uint8_t byte);
// The inverse map: the byte, or -1 when `cp` is not in the map's image.
int cp_to_byte(uint32_t cp);

namespace detail {
struct FlagRange {
    uint32_t first;
    uint32_t last;
    uint8_t flags;
};
extern const FlagRange kFlagRanges[];
extern const size_t kFlagRangeCount;
extern const char kUnicodeVersion[];
}  // namespace detail

}  // namespace ember::unicode
