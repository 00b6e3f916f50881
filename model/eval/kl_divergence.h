// How much a model (typically a quantized one) loses against a base model on the same text,
// measured as the reference's perplexity tool does with --kl-divergence-base / --kl-divergence:
// over the positions perplexity scores (model/eval/perplexity.h), the KL divergence of the model's
// next-token distribution from the base's, how often both pick the same top token, and the
// ratio of their perplexities.
//
//   ember perplexity -m f32.gguf -f text.txt -c 128 --kl-divergence-base base.kld
//   ember perplexity -m q8_0.gguf --kl-divergence base.kld      # the tokens come from the file
//
// The base file ("logits file"), little-endian, version 1:
//
//   offset  size               field
//   0       8                  magic "EMBERKLD"
//   8       4   u32            version (1)
//   12      4   u32            n_vocab
//   16      4   u32            n_ctx: the chunk length
//   20      4   u32            n_chunks
//   24      4*n_ctx*n_chunks   i32 tokens: the tokenized text (with BOS), whole chunks
//   ...     4*n_vocab*n_scored f32 log-probabilities (log softmax of the base's logits) of each
//                              scored position, chunk by chunk, positions n_ctx/2 .. n_ctx-2
//                              (n_scored = n_chunks * (n_ctx - 1 - n_ctx/2))
//
// The file must end there; a reader checks the magic, the version and the exact size.
#pragma once

#include "core/output_file.h"
#include "model/eval/perplexity.h"
#include "ember/session.h"
#include "model/runtime/model.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

// ---- the math, per position ------------------------------------------------------------------

// log softmax(logits), computed in double, into out (same size).
void log_softmax(std::span<const float> logits, std::span<float> out);

// One scored position compared with the base.
struct TokenComparison {
    double kld = 0;        // KL(base || model) = sum_i p_base(i) * (log p_base(i) - log p(i)), nats
    double nll = 0;        // -log p(next)
    double nll_base = 0;   // -log p_base(next)
    bool same_top = false; // argmax p == argmax p_base
};

// base_log_probs: the base's log-probabilities; logits: the model's raw logits; next: the target token.
TokenComparison compare_token(std::span<const float> base_log_probs, std::span<const float> logits, int32_t next);

// The interpolated percentile of sorted values (fraction in [0, 1]): index fraction*(n-1),
// linear between neighbours, as the reference computes its KLD and Δp percentiles.
double sorted_percentile(std::span<const double> sorted, double fraction);

// ---- statistics over all positions ------------------------------------------------------------

struct KlDivergenceResult {
    size_t n = 0;  // positions compared
    // Perplexities from the same positions, with standard errors; their ratio PPL(Q)/PPL(base)
    // = exp(mean(nll - nll_base)), its error from the variances and the covariance of the two NLLs.
    double ppl = 0, ppl_unc = 0;
    double ppl_base = 0, ppl_base_unc = 0;
    double ln_ppl_correlation = 0;         // Cor(ln PPL(Q), ln PPL(base))
    double ln_ppl_ratio = 0, ln_ppl_ratio_unc = 0;
    double ppl_ratio = 0, ppl_ratio_unc = 0;
    double ppl_diff = 0, ppl_diff_unc = 0;  // PPL(Q) - PPL(base)
    // KL divergence in nats: mean with its standard error, and the distribution.
    double kld_mean = 0, kld_unc = 0;
    double kld_max = 0, kld_p999 = 0, kld_p99 = 0, kld_median = 0, kld_p10 = 0, kld_p5 = 0, kld_p1 = 0,
           kld_p01 = 0, kld_min = 0;
    // Δp = p(next) - p_base(next): mean and RMS with their errors, and the distribution.
    double dp_mean = 0, dp_unc = 0, dp_rms = 0, dp_rms_unc = 0;
    double dp_max = 0, dp_p999 = 0, dp_p99 = 0, dp_p95 = 0, dp_p90 = 0, dp_p75 = 0, dp_median = 0, dp_p25 = 0,
           dp_p10 = 0, dp_p5 = 0, dp_p1 = 0, dp_p01 = 0, dp_min = 0;
    // Fraction of positions where both models' most likely token is the same, with its error.
    double same_top = 0, same_top_unc = 0;
};

class KlDivergenceStats {
public:
    void add(const TokenComparison& c);
    size_t size() const { return kld_.size(); }
    KlDivergenceResult result() const;  // throws when nothing was added

private:
    std::vector<double> kld_;
    std::vector<double> dp_;
    double sum_nll_ = 0, sum_nll2_ = 0, sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
    size_t n_same_top_ = 0;
};

// ---- the base file ---------------------------------------------------------------------------

struct KlDivergenceBase {
    uint32_t n_vocab = 0;
    uint32_t n_ctx = 0;
    uint32_t n_chunks = 0;
    std::vector<int32_t> tokens;      // n_ctx * n_chunks
    std::vector<float> log_probs;     // n_vocab per scored position
    size_t n_scored_per_chunk() const { return n_ctx - 1 - n_ctx / 2; }
};

// Writes the base through `out` (created before the run, so an unwritable name fails first) and
// commits it.
void write_kl_divergence_base(OutputFile& out, const KlDivergenceBase& base);
void write_kl_divergence_base(const std::string& path, const KlDivergenceBase& base);
// Throws ember::Error naming the file for a wrong magic or version, a truncated or oversized file.
KlDivergenceBase read_kl_divergence_base(const std::string& path);

// ---- runs ------------------------------------------------------------------------------------

// Evaluates `tokens` (whole chunks of n_ctx, from perplexity_tokens) as perplexity does and
// returns the base data to write; on_chunk (optional) sees the running perplexity.
KlDivergenceBase collect_kl_divergence_base(Session& session, std::span<const int32_t> tokens, uint32_t n_ctx,
                                            const ChunkDoneFn& on_chunk = {});

// The perplexity of the base run itself (its scored log-probabilities), as perplexity() reports it.
PerplexityResult base_perplexity(const KlDivergenceBase& base);

// Evaluates the base's tokens with `session` and compares each scored position with the base.
// Throws when the model's vocabulary size differs from the base's.
KlDivergenceResult kl_divergence(Session& session, const KlDivergenceBase& base,
                                 const ChunkDoneFn& on_chunk = {});

// The reference's report ("====== KL divergence statistics ======" ...), for the CLI.
std::string format_kl_divergence(const KlDivergenceResult& r);

}  // namespace ember
