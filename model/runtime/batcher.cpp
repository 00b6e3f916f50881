// Continuous batching over an Engine's sequences (batcher.h). A step's batch holds, first, the
// last sampled token of every generating sequence (logits wanted), then prompt tokens of
// prefilling sequences up to n_batch (logits on a prompt's last token).
#include "model/runtime/batcher.h"

#include "core/error.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"

namespace ember {
namespace {

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Batcher::Batcher(Engine& engine, Events events, uint32_t prompt_chunk)
    : engine_(engine), events_(std::move(events)), prompt_chunk_(prompt_chunk), seqs_(engine.n_seq()) {}

bool Batcher::active(SeqId seq) const {
    return seq >= 0 && static_cast<size_t>(seq) < seqs_.size() && seqs_[static_cast<size_t>(seq)].active;
}

size_t Batcher::n_active() const {
    size_t n = 0;
    for (const Sequence& s : seqs_) n += s.active ? 1 : 0;
    return n;
}

size_t Batcher::n_prefilling() const {
    size_t n = 0;
    for (const Sequence& s : seqs_) n += s.prefilling() ? 1 : 0;
    return n;
}

void Batcher::start(SeqId seq, std::vector<int32_t> prompt, uint32_t n_cached, const GenerateParams& params) {
    if (seq < 0 || static_cast<size_t>(seq) >= seqs_.size()) fail("batcher: sequence {} out of range", seq);
    if (seqs_[static_cast<size_t>(seq)].active) fail("batcher: sequence {} is already active", seq);
    if (prompt.empty()) fail("batcher: the prompt is empty");
    if (n_cached >= prompt.size()) fail("batcher: {} cached tokens leave nothing of a {}-token prompt to compute", n_cached, prompt.size());
    if (params.n_predict < -1) fail("batcher: n_predict must be -1 (unlimited) or >= 0, not {}", params.n_predict);
    Sequence s;
    s.sampler.emplace(params.sampling);  // throws on bad parameters, before anything changes
    s.active = true;
    s.prompt = std::move(prompt);
    s.n_prefilled = n_cached;
    s.next_pos = static_cast<int32_t>(n_cached);
    s.params = params;
    s.result.n_prompt = s.prompt.size();
    s.result.n_reused = n_cached;
    s.result.seed = s.sampler->seed();
    for (int32_t t : s.prompt) s.sampler->accept(t);
    s.started = Clock::now();
    seqs_[static_cast<size_t>(seq)] = std::move(s);
    if (params.n_predict == 0) {  // nothing to generate
        seqs_[static_cast<size_t>(seq)].prompt_done = seqs_[static_cast<size_t>(seq)].started;
        finish(seq, StopReason::Length);
    }
}

void Batcher::stop(SeqId seq, StopReason why) {
    if (!active(seq)) return;
    Sequence& s = seqs_[static_cast<size_t>(seq)];
    if (!s.prompt_finished) {
        s.prompt_done = Clock::now();
        s.result.prompt_ms = ms_between(s.started, s.prompt_done);
    }
    finish(seq, why);
}

void Batcher::finish(SeqId seq, StopReason why) {
    Sequence& s = seqs_[static_cast<size_t>(seq)];
    const std::string rest = s.stream.flush();
    s.result.text += rest;
    if (events_.on_token && !rest.empty()) (void)events_.on_token(seq, -1, rest, {});
    s.result.stop = why;
    s.result.generate_ms = ms_between(s.prompt_done, Clock::now());
    GenerateResult result = std::move(s.result);
    s = Sequence{};
    if (events_.on_done) events_.on_done(seq, std::move(result));
}

// A sampled token: the end, or a piece and the token to decode next.
void Batcher::take(SeqId seq, std::span<const float> logits) {
    Sequence& s = seqs_[static_cast<size_t>(seq)];
    const Vocab& vocab = engine_.model().vocab();
    const int32_t n = static_cast<int32_t>(s.result.tokens.size());
    if (s.params.n_predict >= 0 && n >= s.params.n_predict) return finish(seq, StopReason::Length);
    const int32_t token = s.sampler->sample(logits);
    s.sampler->accept(token);
    if (vocab.is_eog(token)) return finish(seq, StopReason::EndOfGeneration);
    s.result.tokens.push_back(token);
    const std::string piece = s.stream.push(vocab.token_to_piece(token, false));
    s.result.text += piece;
    if (events_.on_token && !events_.on_token(seq, token, piece, logits)) return finish(seq, StopReason::Callback);
    if (!active(seq)) return;  // on_token stopped it
    if (s.params.n_predict >= 0 && n + 1 >= s.params.n_predict) return finish(seq, StopReason::Length);
    s.pending = token;
}

size_t Batcher::step() {
    Batch batch;
    std::vector<SeqId> row_seq;  // the sequence of each logits row, in order
    std::vector<std::pair<SeqId, size_t>> chunks;  // prompt tokens each prefilling sequence adds
    uint32_t room = engine_.n_free();
    uint32_t n_batch = engine_.params().n_batch;
    for (SeqId q = 0; q < static_cast<SeqId>(seqs_.size()); ++q) {
        Sequence& s = seqs_[static_cast<size_t>(q)];
        if (!s.active || s.pending < 0) continue;
        if (room == 0) {  // the context is full for this sequence
            finish(q, StopReason::Length);
            continue;
        }
        batch.add(s.pending, s.next_pos, q, true);
        row_seq.push_back(q);
        --room;
    }
    if (!batch.empty() && prompt_chunk_ > 0) n_batch = std::min<uint32_t>(n_batch, static_cast<uint32_t>(batch.size()) + prompt_chunk_);
    for (SeqId q = 0; q < static_cast<SeqId>(seqs_.size()); ++q) {
        Sequence& s = seqs_[static_cast<size_t>(q)];
        if (!s.prefilling()) continue;
        const size_t budget = std::min<size_t>(room, n_batch > batch.size() ? n_batch - batch.size() : 0);
        const size_t n = std::min(budget, s.prompt.size() - s.n_prefilled);
        for (size_t i = 0; i < n; ++i) {
            const bool last = s.n_prefilled + i + 1 == s.prompt.size();
            batch.add(s.prompt[s.n_prefilled + i], s.next_pos + static_cast<int32_t>(i), q, last);
            if (last) row_seq.push_back(q);
        }
        if (n > 0) chunks.emplace_back(q, n);
        room -= static_cast<uint32_t>(n);
    }
    if (batch.empty()) {
        for (SeqId q = 0; q < static_cast<SeqId>(seqs_.size()); ++q) {
            const Sequence& s = seqs_[static_cast<size_t>(q)];
            if (s.prefilling() && n_active() == n_prefilling()) {  // nothing else runs, so it never fits
                fail("its prompt of {} tokens does not fit in the free cells of the context", s.prompt.size());
            }
        }
        return 0;
    }

    const BatchLogits out = engine_.decode(batch);  // throws before any state below changes
    for (SeqId q = 0; q < static_cast<SeqId>(seqs_.size()); ++q) {
        Sequence& s = seqs_[static_cast<size_t>(q)];
        if (s.active && s.pending >= 0) {
            s.pending = -1;
            ++s.next_pos;
        }
    }
    for (const auto& [q, n] : chunks) {
        Sequence& s = seqs_[static_cast<size_t>(q)];
        s.n_prefilled += n;
        s.next_pos += static_cast<int32_t>(n);
    }
    for (size_t r = 0; r < out.n_rows(); ++r) {
        const SeqId q = row_seq[r];
        Sequence& s = seqs_[static_cast<size_t>(q)];
        if (!s.active) continue;
        if (!s.prompt_finished) {  // the first row: the prompt's last token
            s.prompt_finished = true;
            s.prompt_done = Clock::now();
            s.result.prompt_ms = ms_between(s.started, s.prompt_done);
        }
        take(q, out.row(r));
    }
    return batch.size();
}

}  // namespace ember
