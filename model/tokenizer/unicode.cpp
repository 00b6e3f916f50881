#include "model/tokenizer/unicode.h"

#include <array>
#include <string>
#include <unordered_map>

namespace ember::unicode {

namespace {

constexpr uint32_t kCodepointCount = 0x110000;
constexpr uint32_t kBlockBits = 8;
constexpr uint32_t kBlockSize = 1u << kBlockBits;

// Two-stage lookup built once from the generated ranges: stage1[cp >> 8] names a 256-entry
// block of flags; identical blocks (most of the unassigned planes) are shared.
struct FlagTable {
    std::array<uint16_t, kCodepointCount / kBlockSize> stage1{};
    std::vector<uint8_t> blocks;
    std::array<uint8_t, 128> ascii{};

    FlagTable() {
        std::vector<uint8_t> flat(kCodepointCount, 0);
        for (size_t i = 0; i < detail::kFlagRangeCount; ++i) {
            const detail::FlagRange& r = detail::kFlagRanges[i];
            for (uint32_t cp = r.first; cp <= r.last && cp < kCodepointCount; ++cp) flat[cp] = r.flags;
        }
        std::unordered_map<std::string, uint16_t> seen;
        for (uint32_t b = 0; b < stage1.size(); ++b) {
            std::string key(reinterpret_cast<const char*>(flat.data() + b * kBlockSize), kBlockSize);
            auto [it, inserted] = seen.try_emplace(std::move(key), static_cast<uint16_t>(seen.size()));
            if (inserted) blocks.insert(blocks.end(), flat.begin() + b * kBlockSize, flat.begin() + (b + 1) * kBlockSize);
            stage1[b] = it->second;
        }
        for (uint32_t cp = 0; cp < 128; ++cp) ascii[cp] = flat[cp];
    }
};

const FlagTable& flag_table() {
    static const FlagTable table;
    return table;
}

// The GPT-2 byte map and its UTF-8 texts.
struct ByteMap {
    std::array<uint32_t, 256> cp{};
    std::array<std::array<char, 2>, 256> utf8{};
    std::array<uint8_t, 256> utf8_len{};

    ByteMap() {
        uint32_t next = 0x100;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool same = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            cp[b] = same ? b : next++;
            std::string s = encode_utf8(cp[b]);  // 1 or 2 bytes: every image is below U+0800
            utf8_len[b] = static_cast<uint8_t>(s.size());
            for (size_t i = 0; i < s.size(); ++i) utf8[b][i] = s[i];
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap map;
    return map;
}

}  // namespace

uint8_t flags(uint32_t cp) {
    const FlagTable& t = flag_table();
    if (cp < 128) return t.ascii[cp];
    if (cp >= kCodepointCount) return 0;
    return t.blocks[static_cast<size_t>(t.stage1[cp >> kBlockBits]) * kBlockSize + (cp & (kBlockSize - 1))];
}

const char* table_version() { return detail::kUnicodeVersion; }




uint32_t byte_to_cp(uint8_t byte) { return byte_map().cp[byte]; }

std::string_view byte_to_utf8(uint8_t byte) {
    const ByteMap& m = byte_map();
    return {m.utf8[byte].data(), m.utf8_len[byte]};
}

int cp_to_byte(uint32_t cp) {
    if (cp < 0x100) {
        const bool same = (cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || cp >= 0xAE;
        return same ? static_cast<int>(cp) : -1;
    }
    if (cp >= 0x100 + 68) return -1;
    // U+0100 + k is the k-th byte (in increasing order) that does not map to itself:
    // 0x00-0x20 (33 bytes), 0x7F-0xA0 (34), 0xAD (1).
    const uint32_t k = cp - 0x100;
    if (k < 33) return static_cast<int>(k);
    if (k < 67) return static_cast<int>(0x7F + (k - 33));
    return 0xAD;
}

}  // namespace ember::unicode
