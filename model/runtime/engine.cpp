// Engine: one Executor (backends, thread pool, scheduler, weight placement) and one KV cache
// shared by n_seq sequences. decode() checks a whole batch before computing any of it, plans its
// steps (each a run of free cells), then builds and runs one graph per step.
#include "ember/engine.h"

#include "core/error.h"
#include "core/graph.h"
#include "model/arch/architecture.h"
#include "model/runtime/executor.h"
#include "model/runtime/kv_cache.h"
#include "model/runtime/model.h"

#include <algorithm>
#include <bit>
#include <mutex>

namespace ember {
namespace {

constexpr uint32_t kDefaultMaxContext = 4096;

// Graph metadata for one step: a few dozen tensors per layer.
size_t graph_context_bytes(const HParams& hp) { return Context::tensor_overhead() * (96 * hp.n_layer + 64); }

// One forward step: batch tokens [begin, begin + n) written into cells [head, head + n).
struct Step {
    size_t begin;
    uint32_t n;
    uint32_t head;
};

uint32_t largest_free_run(const std::vector<KvCell>& cells) {
    uint32_t best = 0, run = 0;
    for (const KvCell& c : cells) {
        run = c.free() ? run + 1 : 0;
        best = std::max(best, run);
    }
    return best;
}

}  // namespace

// ---- Batch and BatchLogits -----------------------------------------------------------------

void Batch::add(int32_t token, int32_t pos, SeqId seq, bool logits) { add(token, pos, std::span<const SeqId>(&seq, 1), logits); }

void Batch::add(int32_t token, int32_t pos, std::initializer_list<SeqId> seqs, bool logits) {
    add(token, pos, std::span<const SeqId>(seqs.begin(), seqs.size()), logits);
}

void Batch::add(int32_t token, int32_t pos, std::span<const SeqId> seqs, bool logits) {
    uint64_t set = 0;
    for (SeqId s : seqs) {
        if (s < 0 || static_cast<uint32_t>(s) >= kMaxSequences) {
            fail("sequence id {} is out of range [0, {})", s, kMaxSequences);
        }
        set |= seq_bit(s);
    }
    if (set == 0) fail("batch token {} belongs to no sequence", tokens_.size());
    tokens_.push_back({token, pos, set, logits});
}

std::span<const float> BatchLogits::row(size_t r) const {
    if (r >= n_rows()) fail("logits row {} requested, the decode returned {}", r, n_rows());
    return {values.data() + r * n_vocab, n_vocab};
}

std::span<const float> BatchLogits::of_token(size_t i) const {
    const auto it = std::find(token_index.begin(), token_index.end(), i);
    if (it == token_index.end()) fail("batch token {} did not ask for logits", i);
    return row(static_cast<size_t>(it - token_index.begin()));
}

// ---- Engine --------------------------------------------------------------------------------

struct Engine::Impl {
    std::shared_ptr<const Model> model;
    EngineParams params;
    std::unique_ptr<Executor> executor;
    std::unique_ptr<KvCache> cache;
    mutable std::mutex mutex;

    void check_seq(SeqId seq, const char* what) const {
        if (seq < 0 || static_cast<uint32_t>(seq) >= params.n_seq) {
            fail("{}: sequence id {} is out of range [0, {}) (the engine's n_seq)", what, seq, params.n_seq);
        }
    }
    void check(const Batch& batch) const;
    std::vector<Step> plan(const Batch& batch) const;
    void compute_step(const Batch& batch, const Step& step, BatchLogits& out);
    void shift_k(const std::vector<int32_t>& deltas);
};

void Engine::Impl::check(const Batch& batch) const {
    if (batch.empty()) fail("decode: the batch is empty");
    const uint32_t n_vocab = model->hparams().n_vocab;
    std::vector<int32_t> last(params.n_seq);
    for (uint32_t s = 0; s < params.n_seq; ++s) last[s] = cache->seq_pos_max(static_cast<SeqId>(s));
    const std::vector<Batch::Token>& tokens = batch.tokens();
    for (size_t i = 0; i < tokens.size(); ++i) {
        const Batch::Token& t = tokens[i];
        if (t.id < 0 || static_cast<uint32_t>(t.id) >= n_vocab) {
            fail("batch token {}: token id {} is out of range [0, {})", i, t.id, n_vocab);
        }
        if (t.pos < 0) fail("batch token {}: position {} is negative", i, t.pos);
        if ((t.seqs >> params.n_seq) != 0) {
            fail("batch token {}: sequence id {} is out of range [0, {}) (the engine's n_seq)", i,
                 63 - std::countl_zero(t.seqs), params.n_seq);
        }
        for (uint32_t s = 0; s < params.n_seq; ++s) {
            if ((t.seqs & seq_bit(static_cast<SeqId>(s))) == 0) continue;
            if (t.pos <= last[s]) {
                fail("batch token {}: position {} of sequence {} does not come after its position {} (positions "
                     "must increase)",
                     i, t.pos, s, last[s]);
            }
            last[s] = t.pos;
        }
    }
}

// Steps of at most n_batch tokens, each in the first run of free cells that holds it (a
// fragmented cache gets shorter steps). Throws, changing nothing, when the batch does not fit.
std::vector<Step> Engine::Impl::plan(const Batch& batch) const {
    std::vector<KvCell> cells = cache->cells();
    std::vector<Step> steps;
    for (size_t begin = 0; begin < batch.size();) {
        const uint32_t n = std::min({params.n_batch, static_cast<uint32_t>(batch.size() - begin), largest_free_run(cells)});
        if (n == 0) {
            uint32_t used = 0;
            for (const KvCell& c : cache->cells()) used += c.free() ? 0 : 1;
            fail("the KV cache is full: {} more tokens do not fit; {} of its {} cells are in use", batch.size(), used,
                 cells.size());
        }
        uint32_t run = 0, head = 0;
        for (uint32_t i = 0; i < cells.size(); ++i) {
            run = cells[i].free() ? run + 1 : 0;
            if (run == n) {
                head = i + 1 - n;
                break;
            }
        }
        for (uint32_t i = 0; i < n; ++i) cells[head + i].seqs = batch.tokens()[begin + i].seqs;
        steps.push_back({begin, n, head});
        begin += n;
    }
    return steps;
}

void Engine::Impl::compute_step(const Batch& batch, const Step& step, BatchLogits& out) {
    const HParams& hp = model->hparams();
    const std::span<const Batch::Token> tokens(batch.tokens().data() + step.begin, step.n);
    std::vector<int32_t> ids, pos, out_rows;
    std::vector<SeqSet> seqs;
    for (uint32_t i = 0; i < step.n; ++i) {
        ids.push_back(tokens[i].id);
        pos.push_back(tokens[i].pos);
        seqs.push_back(tokens[i].seqs);
        if (tokens[i].logits) out_rows.push_back(static_cast<int32_t>(i));
    }
    cache->occupy(step.head, ids, pos, seqs);

    GraphInputs in;
    in.n_tokens = step.n;
    in.kv_head = step.head;
    in.n_kv = cache->n_kv();
    Context ctx(graph_context_bytes(hp), /*no_alloc=*/true);
    in.tokens = ctx.new_tensor_1d(Type::I32, step.n);
    in.positions = ctx.new_tensor_1d(Type::I32, step.n);
    // A mask the graph does not read gets no storage: make only those the layers use.
    uint32_t n_swa_layers = 0;
    for (uint32_t il = 0; il < hp.n_layer; ++il) n_swa_layers += hp.is_swa(il) ? 1 : 0;
    if (n_swa_layers < hp.n_layer) in.mask = ctx.new_tensor_2d(Type::F32, in.n_kv, step.n);
    if (n_swa_layers > 0) in.mask_swa = ctx.new_tensor_2d(Type::F32, in.n_kv, step.n);
    // Every row: no selection. No row: the graph still ends in logits, of the last token, unused.
    const bool all_rows = out_rows.size() == step.n;
    const std::vector<int32_t> selected = out_rows.empty() ? std::vector<int32_t>{static_cast<int32_t>(step.n - 1)} : out_rows;
    if (!all_rows) in.out_ids = ctx.new_tensor_1d(Type::I32, static_cast<int64_t>(selected.size()));

    std::vector<Tensor*> ordered;
    GraphBuild build{ctx, hp, executor->weights(), *cache, in, ordered};
    Tensor* logits = model->arch().build(build);
    Graph graph;
    for (Tensor* t : ordered) graph.expand(*t);  // cache writes before the reads that follow them
    graph.expand(*logits);
    executor->allocate(graph);

    tensor_set(*in.tokens, ids.data(), 0, ids.size() * sizeof(int32_t));
    tensor_set(*in.positions, pos.data(), 0, pos.size() * sizeof(int32_t));
    if (in.mask != nullptr) {
        const std::vector<float> mask = cache->mask(in.n_kv, pos, seqs);
        tensor_set(*in.mask, mask.data(), 0, mask.size() * sizeof(float));
    }
    if (in.mask_swa != nullptr) {
        const std::vector<float> mask_swa = cache->mask(in.n_kv, pos, seqs, hp.n_swa);
        tensor_set(*in.mask_swa, mask_swa.data(), 0, mask_swa.size() * sizeof(float));
    }
    if (in.out_ids != nullptr) tensor_set(*in.out_ids, selected.data(), 0, selected.size() * sizeof(int32_t));
    executor->compute(graph);

    if (out_rows.empty()) return;
    const size_t n_vocab = hp.n_vocab;
    const size_t first = out.token_index.size();
    out.values.resize((first + out_rows.size()) * n_vocab);
    tensor_get(*logits, out.values.data() + first * n_vocab, 0, out_rows.size() * n_vocab * sizeof(float));
    for (int32_t r : out_rows) out.token_index.push_back(step.begin + static_cast<size_t>(r));
}

void Engine::Impl::shift_k(const std::vector<int32_t>& deltas) {
    const uint32_t n_kv = cache->n_kv();
    if (n_kv == 0 || std::all_of(deltas.begin(), deltas.begin() + n_kv, [](int32_t d) { return d == 0; })) return;
    const HParams& hp = model->hparams();
    Context ctx(graph_context_bytes(hp), /*no_alloc=*/true);
    Tensor* d = ctx.new_tensor_1d(Type::I32, n_kv);
    std::vector<int32_t> rows(static_cast<size_t>(hp.n_head_kv) * n_kv);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int32_t>(i);
    Tensor* iota = ctx.new_tensor_1d(Type::I32, static_cast<int64_t>(rows.size()));
    std::vector<Tensor*> outputs;
    KShiftBuild build{ctx, hp, executor->weights(), *cache, d, iota, n_kv, outputs};
    model->arch().shift_k(build);
    Graph graph;
    for (Tensor* t : outputs) graph.expand(*t);
    executor->allocate(graph);
    tensor_set(*d, deltas.data(), 0, n_kv * sizeof(int32_t));
    tensor_set(*iota, rows.data(), 0, rows.size() * sizeof(int32_t));
    executor->compute(graph);
}

Engine::Engine(std::shared_ptr<const Model> model, const EngineParams& params) : impl_(std::make_unique<Impl>()) {
    if (!model) fail("Engine: no model");
    if (params.n_batch == 0) fail("the batch size must be at least 1");
    if (params.n_seq == 0 || params.n_seq > kMaxSequences) {
        fail("the number of sequences must be 1 .. {}, not {}", kMaxSequences, params.n_seq);
    }
    impl_->model = std::move(model);
    impl_->params = params;
    const HParams& hp = impl_->model->hparams();
    if (impl_->params.n_ctx == 0) impl_->params.n_ctx = std::min(hp.n_ctx_train, kDefaultMaxContext);
    const size_t kv_bytes_per_layer = 2 * row_size(params.kv_type, hp.n_embd_kv()) * impl_->params.n_ctx;
    impl_->executor = std::make_unique<Executor>(
        *impl_->model, ExecutorParams{params.backend, params.device, params.n_threads, params.n_gpu_layers},
        kv_bytes_per_layer);
    impl_->cache = impl_->executor->create_kv_cache(impl_->params.n_ctx, params.kv_type);
}

Engine::~Engine() = default;

const Model& Engine::model() const { return *impl_->model; }
std::shared_ptr<const Model> Engine::model_ptr() const { return impl_->model; }
const EngineParams& Engine::params() const { return impl_->params; }
uint32_t Engine::n_ctx() const { return impl_->params.n_ctx; }
uint32_t Engine::n_seq() const { return impl_->params.n_seq; }

uint32_t Engine::n_used() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->cache->n_used();
}

uint32_t Engine::n_free() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->cache->n_free();
}

size_t Engine::kv_bytes() const { return impl_->cache->bytes(); }

BatchLogits Engine::decode(const Batch& batch) {
    std::lock_guard lock(impl_->mutex);
    impl_->check(batch);
    const std::vector<Step> steps = impl_->plan(batch);
    BatchLogits out;
    out.n_vocab = impl_->model->hparams().n_vocab;
    std::vector<KvCell> before = impl_->cache->snapshot();
    try {
        for (const Step& step : steps) impl_->compute_step(batch, step, out);
    } catch (...) {
        impl_->cache->restore(std::move(before));  // the cells this batch took are free again
        throw;
    }
    return out;
}

int32_t Engine::seq_pos_max(SeqId seq) const {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(seq, "seq_pos_max");
    return impl_->cache->seq_pos_max(seq);
}

uint32_t Engine::seq_n_cells(SeqId seq) const {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(seq, "seq_n_cells");
    return impl_->cache->seq_n_cells(seq);
}

void Engine::seq_rm(SeqId seq, int32_t p0, int32_t p1) {
    std::lock_guard lock(impl_->mutex);
    if (seq >= 0) impl_->check_seq(seq, "seq_rm");
    impl_->cache->seq_rm(seq, p0, p1);
}

void Engine::seq_cp(SeqId src, SeqId dst, int32_t p0, int32_t p1) {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(src, "seq_cp");
    impl_->check_seq(dst, "seq_cp");
    impl_->cache->seq_cp(src, dst, p0, p1);
}

void Engine::seq_keep(SeqId seq) {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(seq, "seq_keep");
    impl_->cache->seq_keep(seq);
}

void Engine::seq_shift(SeqId seq, int32_t p0, int32_t p1, int32_t delta) {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(seq, "seq_shift");
    if (delta == 0) return;
    std::vector<KvCell> before = impl_->cache->snapshot();
    const std::vector<int32_t> deltas = impl_->cache->seq_add(seq, p0, p1, delta);
    try {
        impl_->shift_k(deltas);
    } catch (...) {
        impl_->cache->restore(std::move(before));
        throw;
    }
}

uint32_t Engine::reuse_prefix(SeqId dst, std::span<const int32_t> tokens) {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(dst, "reuse_prefix");
    impl_->cache->seq_rm(dst, 0, -1);
    if (tokens.size() < 2) return 0;
    // At most all but the last token: the step that computes it gives the logits.
    const auto most = static_cast<uint32_t>(tokens.size() - 1);
    SeqId best = -1;
    uint32_t best_n = 0;
    for (SeqId s = 0; s < static_cast<SeqId>(impl_->params.n_seq); ++s) {
        if (s == dst) continue;
        const uint32_t n = std::min(most, impl_->cache->seq_common_prefix(s, tokens));
        if (n > best_n) {
            best = s;
            best_n = n;
        }
    }
    if (best >= 0) impl_->cache->seq_cp(best, dst, 0, static_cast<int32_t>(best_n));
    return best_n;
}

uint32_t Engine::seq_common_prefix(SeqId seq, std::span<const int32_t> tokens) const {
    std::lock_guard lock(impl_->mutex);
    impl_->check_seq(seq, "seq_common_prefix");
    return impl_->cache->seq_common_prefix(seq, tokens);
}

void Engine::clear() {
    std::lock_guard lock(impl_->mutex);
    impl_->cache->clear();
}

}  // namespace ember
