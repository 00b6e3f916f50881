#include "model/runtime/kv_cache.h"

#include "core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ember {

KvCache::KvCache(const HParams& hp, uint32_t n_ctx, Type type, const BufferType& buffer_type,
                 const BufferType* device_type, uint32_t first_device_layer)
    : ctx_(Context::tensor_overhead() * 2 * (hp.n_layer + 1), /*no_alloc=*/true), type_(type), n_ctx_(n_ctx) {
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

std::vector<int32_t> KvCache::next_positions(uint32_t n) const {
    std::vector<int32_t> positions(n);
    for (uint32_t i = 0; i < n; ++i) positions[i] = static_cast<int32_t>(used() + i);
    return positions;
}

std::vector<float> KvCache::causal_mask(uint32_t n) const {
    const uint32_t head = used();
    const uint32_t n_kv = head + n;
    std::vector<float> mask(static_cast<size_t>(n_kv) * n);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t j = 0; j < n_kv; ++j) mask[static_cast<size_t>(i) * n_kv + j] = j <= head + i ? 0.0f : -INFINITY;
    }
    return mask;
}

void KvCache::append(std::span<const int32_t> tokens) {
    if (tokens.size() > n_free()) fail("KV cache: {} tokens do not fit in the {} free cells", tokens.size(), n_free());
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

size_t KvCache::bytes() const {
    return (buffer_ ? buffer_->size() : 0) + (device_buffer_ ? device_buffer_->size() : 0);
}

}  // namespace ember
