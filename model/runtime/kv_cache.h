// The KV cache of one sequence: per layer, K as [n_embd_kv, n_ctx] (one row per cell)
// and V transposed as [n_ctx, n_embd_kv] (one row per channel), so that attention's
// two products read both as matrices whose rows are contiguous. Cell i holds
// position i. The cache also keeps which token each used cell holds, and builds what a step
// that appends tokens needs from that bookkeeping: their positions and the causal mask.
#pragma once

#include "core/backend.h"
#include "core/context.h"
#include "model/arch/hparams.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ember {

class KvCache {
public:
    // `type` is F16 (default, as the reference) or F32. Memory comes from `buffer_type`, except
    // for layers >= first_device_layer, whose cells live in `device_type` (partial offload: the
    // cache of a layer sits where the layer computes).
    KvCache(const HParams& hp, uint32_t n_ctx, Type type, const BufferType& buffer_type,
            const BufferType* device_type = nullptr, uint32_t first_device_layer = UINT32_MAX);

    Tensor& k(uint32_t layer) { return *k_[layer]; }
    Tensor& v(uint32_t layer) { return *v_[layer]; }
    Type type() const { return type_; }
    uint32_t capacity() const { return n_ctx_; }
    uint32_t used() const { return static_cast<uint32_t>(tokens_.size()); }
    uint32_t n_free() const { return n_ctx_ - used(); }
    const std::vector<int32_t>& tokens() const { return tokens_; }  // the token of each used cell
    size_t bytes() const;

    // For a step that appends n tokens (n <= n_free()): their positions, used() .. used() + n - 1,
    // and the causal mask F32 [used() + n, n] (row i: 0 for cells 0 .. used() + i, -inf after).
    std::vector<int32_t> next_positions(uint32_t n) const;
    std::vector<float> causal_mask(uint32_t n) const;
    // Records that a computed step wrote `tokens` into the next cells.
    void append(std::span<const int32_t> tokens);
    void clear() { tokens_.clear(); }

private:
    Context ctx_;  // metadata only
    std::unique_ptr<Buffer> buffer_;         // layers below first_device_layer
    std::unique_ptr<Buffer> device_buffer_;  // the others (nullptr without offload)
    std::vector<Tensor*> k_;
    std::vector<Tensor*> v_;
    Type type_;
    uint32_t n_ctx_;
    std::vector<int32_t> tokens_;  // cell i holds tokens_[i] at position i
};

}  // namespace ember
