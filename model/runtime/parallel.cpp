// Continuous batching over an Engine's sequences (include/ember/parallel.h). Each slot is one
// sequence id; a step's batch holds, first, the last sampled token of every generating slot
// (logits wanted), then prompt tokens of prefilling slots up to n_batch (logits on a prompt's
// last token). Sampling follows Session::generate exactly, so a greedy request gives the same
// tokens as it would alone.
#include "ember/parallel.h"

#include "core/error.h"
#include "core/utf8.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"

#include <chrono>
#include <optional>

namespace ember {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Slot {
    size_t request = 0;
    bool busy = false;
    std::vector<int32_t> prompt;
    size_t n_prefilled = 0;  // prompt tokens decoded so far
    int32_t next_pos = 0;
    std::optional<Sampler> sampler;
    Utf8Stream stream;
    int32_t pending = -1;  // the sampled token to decode next (generating), or -1
    GenerateResult result;
    Clock::time_point started, prompt_done;

    bool prefilling() const { return busy && n_prefilled < prompt.size(); }
};

}  // namespace

std::vector<GenerateResult> generate_parallel(Engine& engine, std::span<const ParallelRequest> requests,
                                              const ParallelPieceFn& on_piece) {
    const Model& model = engine.model();
    const Vocab& vocab = model.vocab();
    // Everything is checked before any work.
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = 0; i < requests.size(); ++i) {
        const ParallelRequest& r = requests[i];
        if (r.prompt.empty()) fail("request {}: the prompt is empty", i);
        if (const size_t bad = first_invalid_utf8(r.prompt); bad != std::string::npos) {
            fail("request {}: the prompt is not valid UTF-8 (byte {} of {})", i, bad, r.prompt.size());
        }
        if (r.params.n_predict < -1) fail("request {}: n_predict must be -1 (unlimited) or >= 0, not {}", i, r.params.n_predict);
        (void)Sampler(r.params.sampling);  // bad sampling parameters throw here
        prompts.push_back(vocab.tokenize(r.prompt, /*add_special=*/true, /*parse_special=*/false));
        if (prompts.back().size() > engine.n_ctx()) {
            fail("request {}: the prompt is {} tokens, longer than the context of {} tokens", i, prompts.back().size(),
                 engine.n_ctx());
        }
    }

    std::vector<GenerateResult> results(requests.size());
    std::vector<Slot> slots(engine.n_seq());
    size_t next_request = 0;
    const uint32_t n_batch = engine.params().n_batch;

    auto finish = [&](SeqId s, StopReason why) {
        Slot& slot = slots[s];
        const std::string rest = slot.stream.flush();
        slot.result.text += rest;
        if (on_piece && !rest.empty()) on_piece(slot.request, rest);
        slot.result.stop = why;
        slot.result.generate_ms = ms_between(slot.prompt_done, Clock::now());
        results[slot.request] = std::move(slot.result);
        engine.seq_rm(s);
        slot = Slot{};
    };
    // A sampled token: the end, or a piece and the token to decode next.
    auto take = [&](SeqId s, std::span<const float> logits) {
        Slot& slot = slots[s];
        const GenerateParams& p = requests[slot.request].params;
        const int32_t n = static_cast<int32_t>(slot.result.tokens.size());
        if (p.n_predict >= 0 && n >= p.n_predict) return finish(s, StopReason::Length);
        const int32_t token = slot.sampler->sample(logits);
        slot.sampler->accept(token);
        if (vocab.is_eog(token)) return finish(s, StopReason::EndOfGeneration);
        slot.result.tokens.push_back(token);
        const std::string piece = slot.stream.push(vocab.token_to_piece(token, false));
        slot.result.text += piece;
        if (on_piece && !piece.empty() && !on_piece(slot.request, piece)) return finish(s, StopReason::Callback);
        if (p.n_predict >= 0 && n + 1 >= p.n_predict) return finish(s, StopReason::Length);
        slot.pending = token;
    };

    for (;;) {
        for (SeqId s = 0; s < static_cast<SeqId>(slots.size()) && next_request < requests.size(); ++s) {
            if (slots[s].busy) continue;
            Slot& slot = slots[s];
            slot.busy = true;
            slot.request = next_request++;
            slot.prompt = prompts[slot.request];
            slot.sampler.emplace(requests[slot.request].params.sampling);
            slot.result.n_prompt = slot.prompt.size();
            slot.result.seed = slot.sampler->seed();
            for (int32_t t : slot.prompt) slot.sampler->accept(t);
            slot.started = Clock::now();
            engine.seq_rm(s);
            if (requests[slot.request].params.n_predict == 0) {  // nothing to generate: done at once
                slot.prompt_done = slot.started;
                finish(s, StopReason::Length);
            }
        }

        // The batch: generating slots first (one token each), then prompt chunks.
        Batch batch;
        std::vector<SeqId> row_slot;  // the slot of each logits row, in order
        uint32_t room = engine.n_free();
        for (SeqId s = 0; s < static_cast<SeqId>(slots.size()); ++s) {
            Slot& slot = slots[s];
            if (!slot.busy || slot.pending < 0) continue;
            if (room == 0) {  // the context is full for this sequence
                finish(s, StopReason::Length);
                continue;
            }
            batch.add(slot.pending, slot.next_pos++, s, true);
            row_slot.push_back(s);
            slot.pending = -1;
            --room;
        }
        for (SeqId s = 0; s < static_cast<SeqId>(slots.size()); ++s) {
            Slot& slot = slots[s];
            if (!slot.prefilling()) continue;
            const size_t budget = std::min<size_t>(room, n_batch > batch.size() ? n_batch - batch.size() : 0);
            const size_t n = std::min(budget, slot.prompt.size() - slot.n_prefilled);
            for (size_t i = 0; i < n; ++i) {
                const bool last = slot.n_prefilled + i + 1 == slot.prompt.size();
                batch.add(slot.prompt[slot.n_prefilled + i], slot.next_pos++, s, last);
                if (last) row_slot.push_back(s);
            }
            slot.n_prefilled += n;
            room -= static_cast<uint32_t>(n);
        }
        if (batch.empty()) {
            bool any_busy = false;
            for (SeqId s = 0; s < static_cast<SeqId>(slots.size()); ++s) {
                if (slots[s].prefilling()) {  // no room for its prompt: the others are done, so it never fits
                    fail("request {}: its prompt of {} tokens does not fit in the free cells of the context",
                         slots[s].request, slots[s].prompt.size());
                }
                any_busy = any_busy || slots[s].busy;
            }
            if (!any_busy && next_request >= requests.size()) break;
            continue;
        }

        const BatchLogits out = engine.decode(batch);
        for (size_t r = 0; r < out.n_rows(); ++r) {
            const SeqId s = row_slot[r];
            Slot& slot = slots[s];
            if (slot.prompt_done == Clock::time_point{}) {  // the first row: the prompt's last token
                slot.prompt_done = Clock::now();
                slot.result.prompt_ms = ms_between(slot.started, slot.prompt_done);
            }
            take(s, out.row(r));
        }
    }
    return results;
}

}  // namespace ember
