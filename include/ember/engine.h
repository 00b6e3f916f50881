// ember::Engine: one model running many sequences at once. It owns the backends, one thread
// pool, the scheduler, the weights' placement (mmap views, device copies) and one KV cache of
// n_ctx cells shared by up to n_seq sequences: any sequence may use any free cell, and
// sequences can share the cells of a common prefix. Create one per process and model; every
// method may be called from several threads (calls run one at a time).
//
//   auto engine = std::make_shared<ember::Engine>(model, ember::EngineParams{.n_ctx = 2048, .n_seq = 4});
//   ember::Batch batch;
//   for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], int32_t(i), /*seq=*/0, i + 1 == prompt.size());
//   batch.add(next_token_of_seq1, pos_of_seq1, /*seq=*/1, /*logits=*/true);  // mixed in one step
//   ember::BatchLogits out = engine->decode(batch);  // out.row(0): seq 0's last prompt token
//
// ember::Session (session.h) runs one sequence on an Engine of its own or on a shared one.
#pragma once

#include "ember/model.h"
#include "ember/type.h"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ember {

using SeqId = int32_t;  // 0 .. n_seq - 1

struct EngineParams {
    uint32_t n_ctx = 0;        // KV cells shared by all sequences; 0: the model's context, capped at 4096
    uint32_t n_seq = 1;        // sequences that may be live at once, 1 .. 64
    uint32_t n_batch = 512;    // tokens per forward step
    int n_threads = 0;         // 0: all hardware threads
    Type kv_type = Type::F16;  // F16 (as the reference) or F32
    std::string backend = "cpu";
    int device = 0;         // which device of `backend` (see `ember devices`)
    int n_gpu_layers = -1;  // device backends: the last n layers (and the output when n covers all); -1: all
};

// Tokens to decode together: each at a position of one or more sequences (a token given to
// several sequences is computed and stored once, as their shared prefix), and whether its
// logits are wanted. Tokens of one sequence must come in increasing positions, after the
// positions the sequence already holds.
class Batch {
public:
    struct Token {
        int32_t id;
        int32_t pos;
        uint64_t seqs;  // bit s set: the token belongs to sequence s
        bool logits;
    };

    void add(int32_t token, int32_t pos, SeqId seq, bool logits = false);
    void add(int32_t token, int32_t pos, std::initializer_list<SeqId> seqs, bool logits = false);
    void add(int32_t token, int32_t pos, std::span<const SeqId> seqs, bool logits = false);
    void clear() { tokens_.clear(); }
    size_t size() const { return tokens_.size(); }
    bool empty() const { return tokens_.empty(); }
    const std::vector<Token>& tokens() const { return tokens_; }

private:
    std::vector<Token> tokens_;
};

// The logits rows a decode returned: one per batch token that asked, in batch order.
struct BatchLogits {
    size_t n_vocab = 0;
    std::vector<size_t> token_index;  // row r is batch token token_index[r]
    std::vector<float> values;        // n_rows() x n_vocab

    size_t n_rows() const { return token_index.size(); }
    std::span<const float> row(size_t r) const;
    // The row of batch token i; throws when token i did not ask for logits.
    std::span<const float> of_token(size_t i) const;
};

class Engine {
public:
    // Throws ember::Error for bad parameters, an unknown backend or device, or offloaded
    // layers that do not fit in the device's memory.
    explicit Engine(std::shared_ptr<const Model> model, const EngineParams& params = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const Model& model() const;
    std::shared_ptr<const Model> model_ptr() const;
    const EngineParams& params() const;  // with n_ctx resolved
    uint32_t n_ctx() const;              // KV cells in all
    uint32_t n_seq() const;
    uint32_t n_used() const;  // cells holding some sequence's tokens
    uint32_t n_free() const;
    size_t kv_bytes() const;  // the KV cache's memory

    // Computes the batch in steps of at most n_batch tokens (each step's tokens take a run of
    // free cells) and returns the logits asked for. Checks everything first: token ids, sequence
    // ids, positions (increasing per sequence, after what the sequence holds) and room in the
    // cache; a batch that fails any check throws ember::Error and changes nothing.
    BatchLogits decode(const Batch& batch);

    // Sequence operations. Position ranges are [p0, p1); p1 < 0 means "to the end".
    int32_t seq_pos_max(SeqId seq) const;  // the sequence's last position; -1 when empty
    uint32_t seq_n_cells(SeqId seq) const;
    void seq_rm(SeqId seq, int32_t p0 = 0, int32_t p1 = -1);  // seq < 0: all sequences
    // dst sees src's cells in the range too: a shared prefix, not a copy.
    void seq_cp(SeqId src, SeqId dst, int32_t p0 = 0, int32_t p1 = -1);
    void seq_keep(SeqId seq);  // drops every other sequence
    // Moves the positions of seq's cells in [p0, p1) by delta and re-ropes their K in place
    // (cells that would fall below position 0 are dropped). Cells shared with another sequence
    // cannot move: that throws.
    void seq_shift(SeqId seq, int32_t p0, int32_t p1, int32_t delta);
    void clear();  // every sequence

    // Prefix reuse: empties dst, then gives it the cells of the longest prefix of `tokens` that
    // another sequence holds unshifted at positions 0, 1, ... (at most tokens.size() - 1, so the
    // rest computes at least the last token). Returns the tokens reused (0: none).
    uint32_t reuse_prefix(SeqId dst, std::span<const int32_t> tokens);
    // How many leading tokens of `tokens` seq holds, unshifted, at positions 0, 1, ...
    uint32_t seq_common_prefix(SeqId seq, std::span<const int32_t> tokens) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ember
