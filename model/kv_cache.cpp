#include "model/kv_cache.h"

#include "core/error.h"

#include <fmt/format.h>

namespace ember {

KvCache::KvCache(const HParams& hp, uint32_t n_ctx, Type type, const BufferType& buffer_type)
    : ctx_(Context::tensor_overhead() * 2 * (hp.n_layer + 1), /*no_alloc=*/true), type_(type), n_ctx_(n_ctx) {
    if (type != Type::F16 && type != Type::F32) fail("KV cache type must be F16 or F32, not {}", type_name(type));
    if (n_ctx == 0) fail("KV cache needs at least one cell");
    const size_t align = buffer_type.alignment();
    auto aligned = [align](size_t n) { return (n + align - 1) / align * align; };
    size_t total = 0;
    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        Tensor* k = ctx_.new_tensor_2d(type, hp.n_embd_kv(), n_ctx);
        Tensor* v = ctx_.new_tensor_2d(type, n_ctx, hp.n_embd_kv());
        k->set_name(fmt::format("cache_k.{}", il));
        v->set_name(fmt::format("cache_v.{}", il));
        k_.push_back(k);
        v_.push_back(v);
        total += aligned(k->nbytes()) + aligned(v->nbytes());
    }
    buffer_ = buffer_type.allocate(total);
    buffer_->clear(0);
    auto* base = static_cast<char*>(buffer_->base());
    size_t offset = 0;
    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        for (Tensor* t : {k_[il], v_[il]}) {
            t->data = base + offset;
            t->buffer = buffer_.get();
            offset += aligned(t->nbytes());
        }
    }
}

}  // namespace ember
