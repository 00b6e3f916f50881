// KL divergence math on small known distributions, the statistics, and the base file format.
#include "model/eval/kl_divergence.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace ember {
namespace {

std::vector<float> logs_of(std::vector<double> p) {
    std::vector<float> out;
    for (double x : p) out.push_back(static_cast<float>(std::log(x)));
    return out;
}

TEST(KlDivergence, LogSoftmaxNormalizes) {
    const std::vector<float> logits = {1.0f, 2.0f, 3.0f, -50.0f};
    std::vector<float> lp(logits.size());
    log_softmax(logits, lp);
    double sum = 0;
    for (float x : lp) sum += std::exp(static_cast<double>(x));
    EXPECT_NEAR(sum, 1.0, 1e-6);
    EXPECT_NEAR(lp[2] - lp[1], 1.0, 1e-6);  // differences of logits are kept
}

TEST(KlDivergence, KnownTwoPointDistributions) {
    // KL(p || q) for p = (1/2, 1/2), q = (9/10, 1/10): ½ ln(5/9) + ½ ln 5.
    const std::vector<float> base = logs_of({0.5, 0.5});
    const std::vector<float> logits = logs_of({0.9, 0.1});
    const TokenComparison c = compare_token(base, logits, 1);
    EXPECT_NEAR(c.kld, 0.5 * std::log(5.0 / 9.0) + 0.5 * std::log(5.0), 1e-6);
    EXPECT_NEAR(c.nll, -std::log(0.1), 1e-6);
    EXPECT_NEAR(c.nll_base, -std::log(0.5), 1e-6);
    EXPECT_TRUE(c.same_top);  // equal base probabilities: the first is the top, as in the model

    // Logits are unnormalized: adding a constant changes nothing.
    std::vector<float> shifted = logits;
    for (float& x : shifted) x += 7.0f;
    EXPECT_NEAR(compare_token(base, shifted, 1).kld, c.kld, 1e-6);

    // A three-point case, other top token: p = (0.7, 0.2, 0.1), q = (0.2, 0.5, 0.3).
    const TokenComparison d = compare_token(logs_of({0.7, 0.2, 0.1}), logs_of({0.2, 0.5, 0.3}), 0);
    EXPECT_NEAR(d.kld, 0.7 * std::log(3.5) + 0.2 * std::log(0.4) + 0.1 * std::log(1.0 / 3.0), 1e-6);
    EXPECT_FALSE(d.same_top);
}

TEST(KlDivergence, IdenticalDistributionsGiveZero) {
    const std::vector<float> logits = {0.3f, -1.0f, 2.5f, 0.0f, 1.0f};
    std::vector<float> base(logits.size());
    log_softmax(logits, base);
    const TokenComparison c = compare_token(base, logits, 3);
    EXPECT_NEAR(c.kld, 0.0, 1e-7);
    EXPECT_NEAR(c.nll, c.nll_base, 1e-6);
    EXPECT_TRUE(c.same_top);
}

TEST(KlDivergence, MismatchedSizesAndTokensAreErrors) {
    const std::vector<float> two = {0.0f, 0.0f}, three = {0.0f, 0.0f, 0.0f};
    EXPECT_THROW(compare_token(two, three, 0), Error);
    EXPECT_THROW(compare_token(two, two, 2), Error);
}

TEST(KlDivergence, PercentileInterpolates) {
    const std::vector<double> v = {1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(sorted_percentile(v, 0.5), 2.5);
    EXPECT_DOUBLE_EQ(sorted_percentile(v, 0.99), 3.97);
    EXPECT_DOUBLE_EQ(sorted_percentile(v, 0.0), 1.0);
    EXPECT_DOUBLE_EQ(sorted_percentile(v, 1.0), 4.0);
}

TEST(KlDivergence, StatisticsOverPositions) {
    KlDivergenceStats stats;
    // kld, nll, nll_base, same_top
    stats.add({0.1, 1.0, 0.5, true});
    stats.add({0.2, 2.0, 1.5, true});
    stats.add({0.3, 1.5, 1.0, true});
    stats.add({0.4, 0.5, 1.0, false});
    const KlDivergenceResult r = stats.result();
    EXPECT_EQ(r.n, 4u);
    EXPECT_NEAR(r.kld_mean, 0.25, 1e-12);
    // Standard error of (0.1, 0.2, 0.3, 0.4): population variance 0.0125, / (n - 1), sqrt.
    EXPECT_NEAR(r.kld_unc, std::sqrt(0.0125 / 3), 1e-12);
    EXPECT_NEAR(r.kld_median, 0.25, 1e-12);
    EXPECT_NEAR(r.kld_max, 0.4, 1e-12);
    EXPECT_NEAR(r.kld_min, 0.1, 1e-12);
    EXPECT_NEAR(r.kld_p99, 0.3 + 0.97 * 0.1, 1e-12);
    EXPECT_NEAR(r.same_top, 0.75, 1e-12);
    EXPECT_NEAR(r.same_top_unc, std::sqrt(0.75 * 0.25 / 3), 1e-12);
    EXPECT_NEAR(r.ppl, std::exp(1.25), 1e-9);
    EXPECT_NEAR(r.ppl_base, std::exp(1.0), 1e-9);
    EXPECT_NEAR(r.ppl_ratio, std::exp(0.25), 1e-9);
    // Δp = exp(-nll) - exp(-nll_base) per position.
    const double dp[] = {std::exp(-1.0) - std::exp(-0.5), std::exp(-2.0) - std::exp(-1.5),
                         std::exp(-1.5) - std::exp(-1.0), std::exp(-0.5) - std::exp(-1.0)};
    EXPECT_NEAR(r.dp_mean, (dp[0] + dp[1] + dp[2] + dp[3]) / 4, 1e-12);
    EXPECT_NEAR(r.dp_max, dp[3], 1e-12);
    EXPECT_THROW(KlDivergenceStats().result(), Error);
}

TEST(KlDivergence, BaseFileRoundTripAndBadFiles) {
    KlDivergenceBase base;
    base.n_vocab = 3;
    base.n_ctx = 4;
    base.n_chunks = 2;
    base.tokens = {1, 2, 0, 1, 1, 0, 2, 2};
    base.log_probs.resize(3 * 2 * base.n_scored_per_chunk());  // one scored position per chunk
    for (size_t i = 0; i < base.log_probs.size(); ++i) base.log_probs[i] = -0.5f * static_cast<float>(i);
    const std::string path = (std::filesystem::temp_directory_path() / "ember-kld-test.kld").string();
    write_kl_divergence_base(path, base);
    EXPECT_EQ(std::filesystem::file_size(path), 24u + 4 * 8 + 4 * 6);
    const KlDivergenceBase back = read_kl_divergence_base(path);
    EXPECT_EQ(back.n_vocab, 3u);
    EXPECT_EQ(back.n_ctx, 4u);
    EXPECT_EQ(back.n_chunks, 2u);
    EXPECT_EQ(back.tokens, base.tokens);
    EXPECT_EQ(back.log_probs, base.log_probs);
    // The base's own perplexity: the log-probabilities of tokens[i + 1] at the scored position i = 2.
    const PerplexityResult ppl = base_perplexity(back);
    EXPECT_EQ(ppl.n_scored, 2u);
    EXPECT_NEAR(ppl.ppl, std::exp((-base.log_probs[1] - base.log_probs[3 + 2]) / 2), 1e-6);

    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
    try {
        read_kl_divergence_base(path);
        FAIL() << "a truncated file was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
    std::ofstream(path, std::ios::binary) << "GGUF and other things that are not a KL base";
    EXPECT_THROW(read_kl_divergence_base(path), Error);
    std::filesystem::remove(path);
    EXPECT_THROW(read_kl_divergence_base(path), Error);
}

}  // namespace
}  // namespace ember
