// ember::generate_parallel: many prompts through one Engine with continuous batching. Up to
// n_seq requests run at once, each in a sequence of its own; every step decodes one token of
// each generating sequence together with prompt chunks of starting ones (n_batch tokens at most),
// and a finished sequence's slot takes the next waiting request.
//
//   auto engine = std::make_shared<ember::Engine>(model, ember::EngineParams{.n_ctx = 4096, .n_seq = 4});
//   std::vector<ember::ParallelRequest> requests = {{"Once upon a time", {.n_predict = 64}}, ...};
//   auto results = ember::generate_parallel(*engine, requests);  // results[i] for requests[i]
#pragma once

#include "ember/engine.h"
#include "ember/session.h"

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

struct ParallelRequest {
    std::string prompt;
    GenerateParams params;
};

// Complete UTF-8 pieces of request `request`'s text as they are generated; return false to stop it.
using ParallelPieceFn = std::function<bool(size_t request, std::string_view piece)>;

// Runs every request; returns one result per request, in order. A request is checked when it
// starts (an empty or invalid prompt, one longer than the context: ember::Error before any work
// for the first, and for later ones too, since all prompts are checked up front). A sequence
// whose next token finds no free cell stops with StopReason::Length.
std::vector<GenerateResult> generate_parallel(Engine& engine, std::span<const ParallelRequest> requests,
                                              const ParallelPieceFn& on_piece = {});

}  // namespace ember
