// ember::Batcher: continuous batching over an Engine's sequences, the step that
// generate_parallel (parallel.h) and the server's slot loop share. Each started sequence
// prefills its prompt in chunks and then generates; every step() decodes one token of each
// generating sequence (logits wanted) followed by prompt tokens of prefilling ones, n_batch
// tokens at most, so a long prompt never holds the others up for more than a step. Sampling
// and stopping follow Session::generate, so a greedy sequence gets the tokens it gets alone.
//
//   Batcher b(engine, {.on_token = [](SeqId s, int32_t tok, std::string_view piece, auto logits) { return true; },
//                      .on_done = [&](SeqId s, GenerateResult&& r) { engine.seq_rm(s); }});
//   b.start(0, prompt_tokens, /*n_cached=*/0, params);
//   while (b.n_active() > 0) b.step();
#pragma once

#include "core/utf8.h"
#include "ember/engine.h"
#include "ember/sampler.h"
#include "ember/session.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ember {

class Batcher {
public:
    struct Events {
        // A sampled token, its piece of text (complete UTF-8, possibly empty) and the logits row
        // it was drawn from. Return false to end the sequence (StopReason::Callback). At the end,
        // text held back for an incomplete UTF-8 character comes with token -1 and no logits.
        std::function<bool(SeqId seq, int32_t token, std::string_view piece, std::span<const float> logits)> on_token;
        // The sequence ended. Its cells stay in the cache: the caller removes or keeps them.
        std::function<void(SeqId seq, GenerateResult&& result)> on_done;
    };

    // prompt_chunk: the most prompt tokens a step takes while some sequence is generating (0:
    // n_batch), which bounds how long a long prompt delays the others' next token.
    Batcher(Engine& engine, Events events, uint32_t prompt_chunk = 0);

    // Starts sequence `seq`, whose cells must hold exactly the first n_cached tokens of `prompt`
    // (n_cached < prompt.size(): at least the last prompt token is computed). The prompt must be
    // valid token ids and params valid (Sampler throws ember::Error otherwise). With
    // params.n_predict == 0 the sequence ends at once (on_done is called from here).
    void start(SeqId seq, std::vector<int32_t> prompt, uint32_t n_cached, const GenerateParams& params);
    // Ends an active sequence now (on_done with `why`).
    void stop(SeqId seq, StopReason why);

    bool active(SeqId seq) const;
    size_t n_active() const;
    size_t n_prefilling() const;

    // One decode step; returns the tokens it decoded (0: nothing was active). A sequence whose
    // next token finds no free cell ends with StopReason::Length. A prompt that cannot get a
    // single cell while nothing else runs throws ember::Error (it never fits). Errors of
    // Engine::decode propagate; the sequences stay as they were before the step.
    size_t step();

private:
    using Clock = std::chrono::steady_clock;
    struct Sequence {
        bool active = false;
        std::vector<int32_t> prompt;
        size_t n_prefilled = 0;  // prompt tokens in the cache
        int32_t next_pos = 0;
        GenerateParams params;
        std::optional<Sampler> sampler;
        Utf8Stream stream;
        int32_t pending = -1;  // the sampled token to decode next, or -1
        GenerateResult result;
        Clock::time_point started, prompt_done;
        bool prompt_finished = false;

        bool prefilling() const { return active && n_prefilled < prompt.size(); }
    };

    void finish(SeqId seq, StopReason why);
    void take(SeqId seq, std::span<const float> logits);

    Engine& engine_;
    Events events_;
    uint32_t prompt_chunk_;
    std::vector<Sequence> seqs_;
};

}  // namespace ember
