// The linked list of pieces that both merge tokenizers (SPM by score, BPE by rank) work on.
#pragma once

#include <cstdint>

namespace ember::detail {

// One piece of the text being merged; merged pieces stay in place with n = 0.
struct MergeSymbol {
    int32_t prev;
    int32_t next;
    uint32_t offset;  // into the text being merged; a symbol's text is always contiguous
    uint32_t n;       // bytes; 0 once merged into its left neighbour
    int32_t id;       // the token with this text, or kNoToken
};

}  // namespace ember::detail
