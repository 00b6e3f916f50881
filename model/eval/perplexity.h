// Perplexity of a model on a text, by the method of the reference implementation:
// tokenize the whole text once with BOS; cut it into floor(n_tokens / n_ctx) chunks of
// n_ctx tokens; in each chunk replace the first token with BOS; evaluate each chunk from
// an empty cache; score only the second half, positions n_ctx/2 .. n_ctx-2 predicting the
// next token. PPL = exp(mean negative log-likelihood).
#pragma once

#include "ember/session.h"
#include "model/runtime/model.h"

#include <functional>
#include <string_view>
#include <vector>

namespace ember {

struct PerplexityResult {
    double ppl = 0;
    double ppl_stderr = 0;          // standard error of the mean NLL, times ppl
    size_t n_chunks = 0;
    size_t n_scored = 0;            // tokens scored
    std::vector<double> running;    // PPL after each chunk
};

// The tokens perplexity scores: `text` tokenized with BOS, cut to whole chunks of n_ctx tokens.
// Throws when the text is shorter than one chunk.
std::vector<int32_t> perplexity_tokens(const Session& session, std::string_view text, uint32_t n_ctx);

// Called for each scored position of a chunk: the logits at position i (n_vocab floats) and the
// token that follows it.
using ScoredTokenFn = std::function<void(size_t chunk, size_t i, std::span<const float> logits, int32_t next)>;

// The evaluation behind perplexity (and the KL divergence of model/eval/kl_divergence.h): each chunk
// of n_ctx tokens, its first token replaced by BOS, from an empty cache; visit sees positions
// n_ctx/2 .. n_ctx-2; chunk_done (optional) is called after each chunk.
void evaluate_chunks(Session& session, std::span<const int32_t> tokens, uint32_t n_ctx, const ScoredTokenFn& visit,
                     const std::function<void(size_t chunk)>& chunk_done = {});

// Called after each chunk of a perplexity run: chunks done so far are chunk + 1 of n_chunks.
using ChunkDoneFn = std::function<void(size_t chunk, size_t n_chunks, double running_ppl)>;

// `session` must have a context of at least n_ctx tokens. on_chunk (optional) sees the
// running perplexity after each chunk.
PerplexityResult perplexity(Session& session, std::string_view text, uint32_t n_ctx, const ChunkDoneFn& on_chunk = {});

// -log softmax(logits)[target], in double.
double negative_log_likelihood(std::span<const float> logits, int32_t target);

}  // namespace ember
