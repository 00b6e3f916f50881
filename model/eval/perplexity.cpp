#include "model/eval/perplexity.h"

#include "core/error.h"
#include "model/runtime/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ember {

double negative_log_likelihood(std::span<const float> logits, int32_t target) {
    const float max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
    return std::log(sum) - (static_cast<double>(logits[static_cast<size_t>(target)]) - max);
}

namespace {

// A NaN or +inf logit makes every score NaN: an error (as for the sampler in generation), not a
// "PPL = nan" result. -inf is a masked token and fine.
void require_finite_logits(std::span<const float> logits, size_t chunk, size_t position) {
    for (size_t t = 0; t < logits.size(); ++t) {
        if (std::isnan(logits[t]) || logits[t] == std::numeric_limits<float>::infinity()) {
            fail("the logit of token {} is {} at position {} of chunk {}: the model's weights or activations are not "
                 "finite",
                 t, logits[t], position, chunk + 1);
        }
    }
}

}  // namespace

std::vector<int32_t> perplexity_tokens(const Session& session, std::string_view text, uint32_t n_ctx) {
    if (n_ctx < 4) fail("perplexity needs a context of at least 4 tokens, not {}", n_ctx);
    std::vector<int32_t> tokens = session.tokenize(text, /*add_special=*/true);
    const size_t n_chunks = tokens.size() / n_ctx;
    if (n_chunks == 0) {
        fail("the text is {} tokens, fewer than one chunk of {}: use a longer text or a smaller -c", tokens.size(), n_ctx);
    }
    tokens.resize(n_chunks * n_ctx);
    return tokens;
}

void evaluate_chunks(Session& session, std::span<const int32_t> tokens, uint32_t n_ctx, const ScoredTokenFn& visit,
                     const std::function<void(size_t chunk)>& chunk_done) {
    if (n_ctx < 4) fail("perplexity needs a context of at least 4 tokens, not {}", n_ctx);
    if (n_ctx > session.n_ctx()) fail("perplexity context {} exceeds the session's {}", n_ctx, session.n_ctx());
    const size_t n_chunks = tokens.size() / n_ctx;
    const int32_t bos = session.model().vocab().bos();
    const size_t first = n_ctx / 2;
    std::vector<int32_t> chunk(n_ctx);
    for (size_t c = 0; c < n_chunks; ++c) {
        std::copy_n(tokens.begin() + static_cast<std::ptrdiff_t>(c * n_ctx), n_ctx, chunk.begin());
        chunk[0] = bos;
        session.clear();
        session.decode(chunk, /*all_logits=*/true);
        for (size_t i = first; i + 1 < n_ctx; ++i) {
            const std::span<const float> logits = session.logits(i);
            require_finite_logits(logits, c, i);
            visit(c, i, logits, chunk[i + 1]);
        }
        if (chunk_done) chunk_done(c);
    }
}

PerplexityResult perplexity(Session& session, std::string_view text, uint32_t n_ctx,
                            const ChunkDoneFn& on_chunk) {
    if (n_ctx > session.n_ctx()) fail("perplexity context {} exceeds the session's {}", n_ctx, session.n_ctx());
    const std::vector<int32_t> tokens = perplexity_tokens(session, text, n_ctx);
    PerplexityResult r;
    r.n_chunks = tokens.size() / n_ctx;
    double nll = 0, nll2 = 0;
    evaluate_chunks(
        session, tokens, n_ctx,
        [&](size_t, size_t, std::span<const float> logits, int32_t next) {
            const double v = negative_log_likelihood(logits, next);
            nll += v;
            nll2 += v * v;
            ++r.n_scored;
        },
        [&](size_t c) {
            r.running.push_back(std::exp(nll / static_cast<double>(r.n_scored)));
            if (on_chunk) on_chunk(c, r.n_chunks, r.running.back());
        });
    const auto n = static_cast<double>(r.n_scored);
    const double mean = nll / n;
    r.ppl = std::exp(mean);
    const double variance = nll2 / n - mean * mean;
    r.ppl_stderr = (variance > 0 && n > 1) ? std::sqrt(variance / (n - 1)) * r.ppl : 0.0;
    return r;
}

}  // namespace ember
