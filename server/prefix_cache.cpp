#include "server/prefix_cache.h"

namespace ember::server {

PrefixCache::PrefixCache(Engine& engine, SeqId first_seq, uint32_t max_cells) : engine_(engine), max_cells_(max_cells) {
    for (SeqId s = first_seq; s < static_cast<SeqId>(engine.n_seq()); ++s) entries_.push_back({s});
}

uint32_t PrefixCache::take(SeqId slot, std::span<const int32_t> prompt) {
    const uint32_t reused = engine_.reuse_prefix(slot, prompt);
    if (reused == 0) return 0;
    // Touch the entries that hold that prefix, so the LRU order follows use.
    for (Entry& e : entries_) {
        if (e.used && engine_.seq_common_prefix(e.seq, prompt) >= reused) e.last_used = ++clock_;
    }
    return reused;
}

void PrefixCache::keep(SeqId slot, std::span<const int32_t> tokens) {
    const uint32_t n = engine_.seq_n_cells(slot);
    if (n == 0 || n > max_cells_ || entries_.empty() || tokens.size() < n) {
        engine_.seq_rm(slot);
        return;
    }
    const std::span<const int32_t> held = tokens.first(n);
    for (Entry& e : entries_) {  // entries the new one extends hold nothing it lacks
        if (e.used && engine_.seq_common_prefix(e.seq, held) == e.n_cells) drop(e);
    }
    Entry* free = nullptr;
    for (;;) {
        free = nullptr;
        for (Entry& e : entries_) {
            if (!e.used) {
                free = &e;
                break;
            }
        }
        if (free != nullptr && n_cells() + n <= max_cells_) break;
        Entry* old = least_recently_used();
        if (old == nullptr) break;
        drop(*old);
    }
    if (free == nullptr) {
        engine_.seq_rm(slot);
        return;
    }
    engine_.seq_cp(slot, free->seq);
    engine_.seq_rm(slot);
    free->used = true;
    free->n_cells = n;
    free->last_used = ++clock_;
}

bool PrefixCache::make_room(uint32_t cells) {
    while (engine_.n_free() < cells) {
        Entry* old = least_recently_used();
        if (old == nullptr) return false;
        drop(*old);
    }
    return true;
}

uint32_t PrefixCache::n_entries() const {
    uint32_t n = 0;
    for (const Entry& e : entries_) n += e.used ? 1 : 0;
    return n;
}

uint32_t PrefixCache::n_cells() const {
    uint32_t n = 0;
    for (const Entry& e : entries_) n += e.used ? e.n_cells : 0;
    return n;
}

void PrefixCache::drop(Entry& e) {
    engine_.seq_rm(e.seq);
    e.used = false;
    e.n_cells = 0;
}

PrefixCache::Entry* PrefixCache::least_recently_used() {
    Entry* best = nullptr;
    for (Entry& e : entries_) {
        if (e.used && (best == nullptr || e.last_used < best->last_used)) best = &e;
    }
    return best;
}

}  // namespace ember::server
