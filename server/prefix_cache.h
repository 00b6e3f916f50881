// Finished conversations kept in the KV cache for the next request that starts the same way
// (a chat resending its history). Each entry is one Engine sequence id above the slots' ids,
// holding the cells of a finished request's prompt and reply; the total is bounded in cells
// (--cache-mib) and in entries, and the least recently used entry goes first. Open WebUI's
// title and tag requests are entries of their own, so they do not evict the chat's history.
//
//   PrefixCache cache(engine, /*first_seq=*/n_slots, /*max_cells=*/8192);
//   uint32_t reused = cache.take(slot, prompt);   // slot's cells: the longest cached prefix
//   ... generate ...
//   cache.keep(slot, tokens_in_cells);            // moves the slot's cells into an entry
//
// Not thread-safe: the scheduler's loop is its only user.
#pragma once

#include "ember/engine.h"

#include <cstdint>
#include <span>
#include <vector>

namespace ember::server {

class PrefixCache {
public:
    PrefixCache(Engine& engine, SeqId first_seq, uint32_t max_cells);

    // Empties `slot`, then gives it the cells of the longest prefix of `prompt` that any other
    // sequence holds (a cached entry or a live slot; at most prompt.size() - 1 tokens). Returns
    // the tokens reused.
    uint32_t take(SeqId slot, std::span<const int32_t> prompt);
    // The slot's cells (whose tokens are `tokens`, in position order) become an entry; the
    // slot is emptied. Entries that are a prefix of it are dropped (it covers them); the least
    // recently used go until it fits. Too big for the whole budget: nothing is kept.
    void keep(SeqId slot, std::span<const int32_t> tokens);
    // Drops entries, least recently used first, until `cells` cells are free in the engine
    // (or nothing is left). Returns whether that many are free.
    bool make_room(uint32_t cells);

    uint32_t n_entries() const;
    uint32_t n_cells() const;  // cells held by entries (a cell shared by two counts twice)
    uint32_t max_cells() const { return max_cells_; }

private:
    struct Entry {
        SeqId seq;
        bool used = false;
        uint32_t n_cells = 0;
        uint64_t last_used = 0;
    };
    void drop(Entry& e);
    Entry* least_recently_used();

    Engine& engine_;
    std::vector<Entry> entries_;  // one per sequence id from first_seq up
    uint32_t max_cells_;
    uint64_t clock_ = 0;
};

}  // namespace ember::server
