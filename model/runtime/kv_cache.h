// The KV cache shared by the sequences of an Engine: per layer, K as [n_embd_kv, n_ctx] (one
// row per cell) and V transposed as [n_ctx, n_embd_kv] (one row per channel), so that attention's
// two products read both as matrices whose rows are contiguous.
//
// Each cell carries a position and the set of sequences that see it (a bit per sequence id):
// a cell in several sets is a shared prefix, stored once. Any sequence may use any free cell.
// A step writes its tokens into one contiguous run of free cells (find_slot) and attends over
// cells [0, n_kv()); the mask lets a token see a cell when the cell belongs to one of the
// token's sequences and its position is not after the token's (causal per sequence).
#pragma once

#include "core/backend.h"
#include "core/context.h"
#include "model/arch/hparams.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace ember {

// The sequences of a token or a cell, one bit per sequence id (at most kMaxSequences).
using SeqSet = uint64_t;
inline constexpr uint32_t kMaxSequences = 64;
constexpr SeqSet seq_bit(int32_t seq) { return SeqSet{1} << seq; }

struct KvCell {
    int32_t pos = -1;
    SeqSet seqs = 0;     // 0: free
    int32_t token = -1;  // the token whose K and V the cell holds
    bool moved = false;  // shifted (seq_add): its K/V saw a context that is gone, so no prefix reuse
    bool free() const { return seqs == 0; }
};

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
    uint32_t capacity() const { return static_cast<uint32_t>(cells_.size()); }
    uint32_t n_used() const;  // cells that belong to some sequence
    uint32_t n_free() const { return capacity() - n_used(); }
    size_t bytes() const;
    const std::vector<KvCell>& cells() const { return cells_; }

    // One past the last used cell: a step attends over cells [0, n_kv()).
    uint32_t n_kv() const;
    // The first cell of a run of n free cells (first fit), or nothing when there is none.
    std::optional<uint32_t> find_slot(uint32_t n) const;
    // Records that a step wrote tokens[i] (at pos[i], of sequences seqs[i]) into cell head + i.
    void occupy(uint32_t head, std::span<const int32_t> tokens, std::span<const int32_t> pos,
                std::span<const SeqSet> seqs);
    // The mask F32 [n_kv, T] of a step: row i is 0 for the cells token i sees, -inf elsewhere.
    // window > 0: token i also does not see cells at positions pos[i] - window and before.
    std::vector<float> mask(uint32_t n_kv, std::span<const int32_t> pos, std::span<const SeqSet> seqs,
                            uint32_t window = 0) const;

    // Sequence operations; a position range [p0, p1) with p1 < 0 meaning "to the end".
    int32_t seq_pos_max(int32_t seq) const;  // -1 when the sequence has no cells
    uint32_t seq_n_cells(int32_t seq) const;
    void seq_rm(int32_t seq, int32_t p0, int32_t p1);   // seq < 0: every sequence
    void seq_cp(int32_t src, int32_t dst, int32_t p0, int32_t p1);  // dst shares src's cells
    void seq_keep(int32_t seq);                          // drops every other sequence
    // Moves the positions of seq's cells in [p0, p1) by delta (cells that would go below 0
    // are dropped). Returns each cell's change of position, for re-roping K in place; cells
    // also seen by another sequence cannot move (their position is shared) and throw.
    std::vector<int32_t> seq_add(int32_t seq, int32_t p0, int32_t p1, int32_t delta);
    void clear();
    // How many leading tokens of `tokens` sequence `seq` holds, unmoved, at positions 0, 1, ...
    uint32_t seq_common_prefix(int32_t seq, std::span<const int32_t> tokens) const;

    // The cell bookkeeping, to undo a step whose compute failed.
    std::vector<KvCell> snapshot() const { return cells_; }
    void restore(std::vector<KvCell> cells) { cells_ = std::move(cells); }

private:
    Context ctx_;  // metadata only
    std::unique_ptr<Buffer> buffer_;         // layers below first_device_layer
    std::unique_ptr<Buffer> device_buffer_;  // the others (nullptr without offload)
    std::vector<Tensor*> k_;
    std::vector<Tensor*> v_;
    Type type_;
    std::vector<KvCell> cells_;
};

}  // namespace ember
