#include "model/runtime/kv_cache.h"

#include "core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ember {

KvCache::KvCache(const HParams& hp, uint32_t n_ctx, Type type, const BufferType& buffer_type,
                 const BufferType* device_type, uint32_t first_device_layer)
    : ctx_(Context::tensor_overhead() * 2 * (hp.n_layer + 1), /*no_alloc=*/true), type_(type), cells_(n_ctx) {
    if (type != Type::F16 && type != Type::F32) fail("KV cache type must be F16 or F32, not {}", type_name(type));
    if (n_ctx == 0) fail("KV cache needs at least one cell");
    if (device_type == nullptr) first_device_layer = hp.n_layer;
    first_device_layer = std::min(first_device_layer, hp.n_layer);
    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        Tensor* k = ctx_.new_tensor_2d(type, hp.n_embd_kv(), n_ctx);
        Tensor* v = ctx_.new_tensor_2d(type, n_ctx, hp.n_embd_kv());
        k->set_name(fmt::format("cache_k.{}", il));
        v->set_name(fmt::format("cache_v.{}", il));
        k_.push_back(k);
        v_.push_back(v);
    }
    // Layers [begin, end) in one zeroed buffer of `bt`.
    auto place = [&](const BufferType& bt, uint32_t begin, uint32_t end) -> std::unique_ptr<Buffer> {
        if (begin >= end) return nullptr;
        const size_t align = bt.alignment();
        auto aligned = [align](size_t n) { return (n + align - 1) / align * align; };
        size_t total = 0;
        for (uint32_t il = begin; il < end; ++il) total += aligned(k_[il]->nbytes()) + aligned(v_[il]->nbytes());
        std::unique_ptr<Buffer> buffer = bt.allocate(total);
        buffer->clear(0);
        auto* base = static_cast<char*>(buffer->base());
        size_t offset = 0;
        for (uint32_t il = begin; il < end; ++il) {
            for (Tensor* t : {k_[il], v_[il]}) {
                t->data = base + offset;
                t->buffer = buffer.get();
                offset += aligned(t->nbytes());
            }
        }
        return buffer;
    };
    buffer_ = place(buffer_type, 0, first_device_layer);
    if (device_type != nullptr) device_buffer_ = place(*device_type, first_device_layer, hp.n_layer);
}

namespace {
bool in_range(int32_t pos, int32_t p0, int32_t p1) { return pos >= p0 && (p1 < 0 || pos < p1); }
}  // namespace

uint32_t KvCache::n_used() const {
    uint32_t n = 0;
    for (const KvCell& c : cells_) n += c.free() ? 0 : 1;
    return n;
}

uint32_t KvCache::n_kv() const {
    for (size_t i = cells_.size(); i > 0; --i) {
        if (!cells_[i - 1].free()) return static_cast<uint32_t>(i);
    }
    return 0;
}

std::optional<uint32_t> KvCache::find_slot(uint32_t n) const {
    uint32_t run = 0;
    for (uint32_t i = 0; i < capacity(); ++i) {
        run = cells_[i].free() ? run + 1 : 0;
        if (run == n) return i + 1 - n;
    }
    return std::nullopt;
}

void KvCache::occupy(uint32_t head, std::span<const int32_t> tokens, std::span<const int32_t> pos,
                     std::span<const SeqSet> seqs) {
    if (pos.size() != seqs.size() || tokens.size() != pos.size() || head + pos.size() > cells_.size()) {
        fail("KV cache: step out of the cells");
    }
    for (size_t i = 0; i < pos.size(); ++i) cells_[head + i] = {pos[i], seqs[i], tokens[i], false};
}

uint32_t KvCache::seq_common_prefix(int32_t seq, std::span<const int32_t> tokens) const {
    std::vector<int32_t> at(tokens.size(), -1);  // the unmoved token the sequence holds at each position
    for (const KvCell& c : cells_) {
        if ((c.seqs & seq_bit(seq)) != 0 && !c.moved && c.pos >= 0 && static_cast<size_t>(c.pos) < at.size()) {
            at[static_cast<size_t>(c.pos)] = c.token;
        }
    }
    uint32_t n = 0;
    while (n < tokens.size() && at[n] == tokens[n]) ++n;
    return n;
}

std::vector<float> KvCache::mask(uint32_t n_kv, std::span<const int32_t> pos, std::span<const SeqSet> seqs,
                                 uint32_t window) const {
    const size_t T = pos.size();
    std::vector<float> m(static_cast<size_t>(n_kv) * T, -INFINITY);
    for (size_t i = 0; i < T; ++i) {
        float* row = m.data() + i * n_kv;
        const int64_t oldest = window > 0 ? int64_t{pos[i]} - window + 1 : INT64_MIN;
        for (uint32_t j = 0; j < n_kv; ++j) {
            const KvCell& c = cells_[j];
            if ((c.seqs & seqs[i]) != 0 && c.pos <= pos[i] && c.pos >= oldest) row[j] = 0.0f;
        }
    }
    return m;
}

int32_t KvCache::seq_pos_max(int32_t seq) const {
    int32_t p = -1;
    for (const KvCell& c : cells_) {
        if ((c.seqs & seq_bit(seq)) != 0) p = std::max(p, c.pos);
    }
    return p;
}

uint32_t KvCache::seq_n_cells(int32_t seq) const {
    uint32_t n = 0;
    for (const KvCell& c : cells_) n += (c.seqs & seq_bit(seq)) != 0 ? 1 : 0;
    return n;
}

void KvCache::seq_rm(int32_t seq, int32_t p0, int32_t p1) {
    const SeqSet drop = seq < 0 ? ~SeqSet{0} : seq_bit(seq);
    for (KvCell& c : cells_) {
        if ((c.seqs & drop) != 0 && in_range(c.pos, p0, p1)) c.seqs &= ~drop;
    }
}

void KvCache::seq_cp(int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    for (KvCell& c : cells_) {
        if ((c.seqs & seq_bit(src)) != 0 && in_range(c.pos, p0, p1)) c.seqs |= seq_bit(dst);
    }
}

void KvCache::seq_keep(int32_t seq) {
    for (KvCell& c : cells_) c.seqs &= seq_bit(seq);
}

std::vector<int32_t> KvCache::seq_add(int32_t seq, int32_t p0, int32_t p1, int32_t delta) {
    for (const KvCell& c : cells_) {
        if ((c.seqs & seq_bit(seq)) != 0 && in_range(c.pos, p0, p1) && c.seqs != seq_bit(seq)) {
            fail("KV cache: sequence {} shares the cell at position {} with another sequence; it cannot be shifted "
                 "(remove the other sequence's copy first)",
                 seq, c.pos);
        }
    }
    std::vector<int32_t> moved(cells_.size(), 0);
    for (size_t i = 0; i < cells_.size(); ++i) {
        KvCell& c = cells_[i];
        if (c.seqs != seq_bit(seq) || !in_range(c.pos, p0, p1)) continue;
        if (c.pos + delta < 0) {
            c = KvCell{};
            continue;
        }
        c.pos += delta;
        c.moved = true;
        moved[i] = delta;
    }
    return moved;
}

void KvCache::clear() { std::fill(cells_.begin(), cells_.end(), KvCell{}); }

size_t KvCache::bytes() const {
    return (buffer_ ? buffer_->size() : 0) + (device_buffer_ ? device_buffer_->size() : 0);
}

}  // namespace ember
