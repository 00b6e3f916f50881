// Many prompts through one Engine (include/ember/parallel.h): each sequence takes the next
// waiting request when its last one ends; the steps are the Batcher's (batcher.h).
#include "ember/parallel.h"

#include "core/error.h"
#include "core/utf8.h"
#include "model/runtime/batcher.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"

namespace ember {

std::vector<GenerateResult> generate_parallel(Engine& engine, std::span<const ParallelRequest> requests,
                                              const ParallelPieceFn& on_piece) {
    const Vocab& vocab = engine.model().vocab();
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
    std::vector<size_t> request_of(engine.n_seq());  // the request each sequence runs
    Batcher batcher(engine, {
        .on_token = [&](SeqId s, int32_t, std::string_view piece, std::span<const float>) {
            return !on_piece || piece.empty() || on_piece(request_of[static_cast<size_t>(s)], piece);
        },
        .on_done = [&](SeqId s, GenerateResult&& r) {
            results[request_of[static_cast<size_t>(s)]] = std::move(r);
            engine.seq_rm(s);
        },
    });
    size_t next_request = 0;
    for (;;) {
        for (SeqId s = 0; s < static_cast<SeqId>(engine.n_seq()) && next_request < requests.size(); ++s) {
            if (batcher.active(s)) continue;
            request_of[static_cast<size_t>(s)] = next_request;
            engine.seq_rm(s);
            batcher.start(s, prompts[next_request], 0, requests[next_request].params);
            ++next_request;
        }
        if (batcher.n_active() == 0 && next_request >= requests.size()) break;
        batcher.step();
    }
    return results;
}

}  // namespace ember
