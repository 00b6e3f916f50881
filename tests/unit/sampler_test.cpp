// The sampler chain (spec docs/FORMATS.md §6): greedy, determinism, the distribution it draws from, each truncation,
// the order of temperature, the repetition penalty window, and parameter validation.
#include "ember/sampler.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace ember {
namespace {

// Every truncation off, temperature 1: draws follow softmax(logits).
SamplerParams plain(uint32_t seed = 1234) {
    SamplerParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.0f;
    p.seed = seed;
    return p;
}

std::vector<int> histogram(Sampler& sampler, const std::vector<float>& logits, int draws) {
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < draws; ++i) {
        const int32_t t = sampler.sample(logits);
        EXPECT_GE(t, 0);
        EXPECT_LT(t, static_cast<int32_t>(logits.size()));
        ++counts[static_cast<size_t>(t)];
    }
    return counts;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
    const double max = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p(logits.size());
    double sum = 0.0;
    for (size_t i = 0; i < logits.size(); ++i) {
        p[i] = std::exp((logits[i] - max) / temperature);
        sum += p[i];
    }
    for (double& x : p) x /= sum;
    return p;
}

// Pearson chi-square of observed counts against expected probabilities (cells with p == 0 must be empty).
double chi_square(const std::vector<int>& counts, const std::vector<double>& p) {
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    double chi2 = 0.0;
    for (size_t i = 0; i < counts.size(); ++i) {
        if (p[i] == 0.0) {
            EXPECT_EQ(counts[i], 0) << "token " << i;
            continue;
        }
        const double expected = total * p[i];
        chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    return chi2;
}

TEST(Sampler, GreedyPicksArgMaxFirstOnTies) {
    SamplerParams p;
    p.temperature = 0.0f;
    Sampler s(p);
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 2.0f, -1.0f, 1.9f}), 1);
    EXPECT_EQ(s.sample(std::vector<float>{3.0f, 5.0f, 5.0f, 5.0f, 4.0f}), 1);
    EXPECT_EQ(s.sample(std::vector<float>{7.0f}), 0);
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(s.sample(std::vector<float>{-inf, -inf, -2.0f, -inf}), 2);

    p.temperature = -1.0f;  // negative is greedy too
    Sampler neg(p);
    EXPECT_EQ(neg.sample(std::vector<float>{-5.0f, -3.0f, -3.0f}), 1);
}

TEST(Sampler, TopKOneEqualsGreedyAtAnyTemperature) {
    std::mt19937 gen(7);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (float temperature : {0.1f, 0.8f, 1.0f, 5.0f, 100.0f}) {
        SamplerParams p = plain(99);
        p.temperature = temperature;
        p.top_k = 1;
        Sampler s(p);
        SamplerParams g = plain();
        g.temperature = 0.0f;
        Sampler greedy(g);
        for (int round = 0; round < 50; ++round) {
            std::vector<float> logits(200);
            for (float& x : logits) x = normal(gen);
            if (round % 5 == 0) logits[17] = logits[3] = 50.0f;  // a tie at the top: the lower id wins
            EXPECT_EQ(s.sample(logits), greedy.sample(logits)) << "temperature " << temperature;
        }
    }
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedsDiffer) {
    const std::vector<float> logits{1.0f, 0.5f, 0.2f, 0.0f, -0.3f, 0.9f, 0.7f, 0.1f};
    SamplerParams p;  // defaults (top-k 40, top-p 0.95, min-p 0.05, temp 0.8) with a fixed seed
    p.seed = 42;
    Sampler a(p), b(p);
    p.seed = 43;
    Sampler c(p);
    std::vector<int32_t> sa, sb, sc;
    for (int i = 0; i < 100; ++i) {
        sa.push_back(a.sample(logits));
        sb.push_back(b.sample(logits));
        sc.push_back(c.sample(logits));
    }
    EXPECT_EQ(sa, sb);
    EXPECT_NE(sa, sc);
    EXPECT_EQ(a.seed(), 42u);

    // reset() replays the same draws.
    a.reset();
    std::vector<int32_t> again;
    for (int i = 0; i < 100; ++i) again.push_back(a.sample(logits));
    EXPECT_EQ(again, sa);
}

TEST(Sampler, RandomSeedIsReportedAndReplayable) {
    SamplerParams p = plain(kSamplerRandomSeed);
    Sampler a(p);
    EXPECT_NE(a.seed(), kSamplerRandomSeed);
    EXPECT_EQ(a.params().seed, kSamplerRandomSeed);
    p.seed = a.seed();
    Sampler b(p);
    const std::vector<float> logits{0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    for (int i = 0; i < 100; ++i) EXPECT_EQ(a.sample(logits), b.sample(logits));
}

TEST(Sampler, FrequenciesMatchSoftmaxOfScaledLogits) {
    const std::vector<float> logits{1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -3.0f};
    constexpr int kDraws = 200000;
    for (float temperature : {1.0f, 0.7f, 1.6f}) {
        SamplerParams p = plain(2024);
        p.temperature = temperature;
        Sampler s(p);
        const std::vector<int> counts = histogram(s, logits, kDraws);
        // 5 degrees of freedom: P(chi2 > 20.5) = 0.001. The seed is fixed, so this is deterministic, not flaky.
        EXPECT_LT(chi_square(counts, softmax(logits, temperature)), 20.5) << "temperature " << temperature;
    }
}

TEST(Sampler, TopKKeepsTheKBestAndBreaksTiesByLowerId) {
    SamplerParams p = plain(5);
    p.top_k = 2;
    p.temperature = 3.0f;
    Sampler s(p);
    const std::vector<float> logits{1.0f, 3.0f, 2.0f, 2.0f, 0.0f};  // keeps ids 1 and 2 (2 beats 3 on the tie)
    const std::vector<int> counts = histogram(s, logits, 20000);
    EXPECT_GT(counts[1], 0);
    EXPECT_GT(counts[2], 0);
    EXPECT_EQ(counts[0] + counts[3] + counts[4], 0);
    // Within the kept two, draws follow softmax(logits / T) renormalised.
    const std::vector<double> expected = softmax({-1e9f, 3.0f, 2.0f, -1e9f, -1e9f}, 3.0);
    EXPECT_LT(chi_square(counts, {0.0, expected[1], expected[2], 0.0, 0.0}), 10.8);  // 1 dof, p = 0.001
}

TEST(Sampler, TopPExcludesTheTail) {
    // probabilities 0.5, 0.3, 0.15, 0.05 (in a shuffled id order); p = 0.75 keeps the two largest.
    const std::vector<float> logits{std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
    SamplerParams p = plain(11);
    p.top_p = 0.75f;
    Sampler s(p);
    const std::vector<int> counts = histogram(s, logits, 50000);
    EXPECT_EQ(counts[0], 0);
    EXPECT_EQ(counts[2], 0);
    EXPECT_LT(chi_square(counts, {0.0, 0.5 / 0.8, 0.0, 0.3 / 0.8}), 10.8);

    // A large vocabulary (the partially sorted path): never a token outside the nucleus computed here.
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> big(32000);
    for (float& x : big) x = normal(gen);
    const std::vector<double> probs = softmax(big, 1.0);
    std::vector<int32_t> order(big.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return big[a] > big[b]; });
    double cumulative = 0.0;
    size_t nucleus = 0;
    while (cumulative < 0.5) cumulative += probs[static_cast<size_t>(order[nucleus++])];
    // Float rounding may move the boundary by a token; allow one either side.
    std::set<int32_t> allowed(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(nucleus + 1));
    SamplerParams q = plain(12);
    q.top_p = 0.5f;
    Sampler t(q);
    std::set<int32_t> seen;
    for (int i = 0; i < 500; ++i) {
        const int32_t tok = t.sample(big);
        EXPECT_TRUE(allowed.count(tok)) << "token " << tok;
        seen.insert(tok);
    }
    EXPECT_GE(seen.size(), nucleus / 2);  // and it is not cut short (about 100 tokens here)
}

TEST(Sampler, TopPKeepsAtLeastMinKeep) {
    const std::vector<float> logits{5.0f, 4.9f, 4.8f, 0.0f, -1.0f};
    SamplerParams p = plain(13);
    p.top_p = 0.01f;
    p.min_keep = 3;
    Sampler s(p);
    const std::vector<int> counts = histogram(s, logits, 20000);
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
    EXPECT_GT(counts[2], 0);
    EXPECT_EQ(counts[3] + counts[4], 0);

    p.min_keep = 1;  // only the top token
    Sampler one(p);
    const std::vector<int> only = histogram(one, logits, 2000);
    EXPECT_EQ(only[0], 2000);
}

TEST(Sampler, MinPExcludesTokensBelowTheFraction) {
    // min_p 0.2: keep p >= 0.2 * p_max, i.e. logit >= max + ln 0.2 = max - 1.609.
    const std::vector<float> logits{-1.0f, 0.0f, -1.7f, -1.5f, -3.0f, -0.5f, -1.2f};
    SamplerParams p = plain(17);
    p.min_p = 0.2f;
    Sampler s(p);  // unsorted candidates (no top-k / top-p before it)
    const std::vector<int> counts = histogram(s, logits, 50000);
    EXPECT_EQ(counts[2], 0);  // -1.7 < 0 - 1.609
    EXPECT_EQ(counts[4], 0);
    for (int id : {0, 1, 3, 5, 6}) EXPECT_GT(counts[static_cast<size_t>(id)], 0) << id;
    const std::vector<double> full = softmax({-1.0f, 0.0f, -1e9f, -1.5f, -1e9f, -0.5f, -1.2f}, 1.0);
    EXPECT_LT(chi_square(counts, {full[0], full[1], 0.0, full[3], 0.0, full[5], full[6]}), 20.5);

    // The same after top-k (sorted candidates).
    p.top_k = 6;
    Sampler sorted(p);
    const std::vector<int> counts2 = histogram(sorted, logits, 20000);
    EXPECT_EQ(counts2[2] + counts2[4], 0);
    for (int id : {0, 1, 3, 5, 6}) EXPECT_GT(counts2[static_cast<size_t>(id)], 0) << id;
}

TEST(Sampler, MinPKeepsAtLeastMinKeep) {
    const std::vector<float> logits{0.0f, 3.0f, 2.0f, 2.5f, 1.0f};
    for (int32_t top_k : {0, 5}) {  // unsorted and sorted paths
        SamplerParams p = plain(19);
        p.top_k = top_k;
        p.min_p = 1.0f;  // only the max passes
        p.min_keep = 2;
        Sampler s(p);
        const std::vector<int> counts = histogram(s, logits, 20000);
        EXPECT_GT(counts[1], 0);
        EXPECT_GT(counts[3], 0);
        EXPECT_EQ(counts[0] + counts[2] + counts[4], 0) << "top_k " << top_k;

        p.min_keep = 1;
        Sampler one(p);
        EXPECT_EQ(histogram(one, logits, 1000)[1], 1000);
    }
}

TEST(Sampler, TemperatureIsAppliedAfterTruncation) {
    // min_p 0.1 cuts at max - 2.303. Raw logits: token 2 (-8) is cut. Had temperature 4 come first, the scaled
    // logits 0, -0.5, -2 would all pass and token 2 would get ~8% of the draws.
    const std::vector<float> logits{0.0f, -2.0f, -8.0f};
    SamplerParams p = plain(23);
    p.min_p = 0.1f;
    p.temperature = 4.0f;
    Sampler s(p);
    const std::vector<int> counts = histogram(s, logits, 50000);
    EXPECT_EQ(counts[2], 0);
    // ... and the kept two are drawn with the temperature applied: odds exp(-0.5), not exp(-2).
    const double w1 = std::exp(-0.5);
    EXPECT_LT(chi_square(counts, {1.0 / (1.0 + w1), w1 / (1.0 + w1), 0.0}), 10.8);

    // The same for top-p: probabilities of the raw logits decide the nucleus. Raw p = (0.88, 0.12, 0.0003):
    // top_p 0.85 keeps only token 0; after temperature 4 it would need two tokens.
    SamplerParams q = plain(29);
    q.top_p = 0.85f;
    q.temperature = 4.0f;
    Sampler t(q);
    EXPECT_EQ(histogram(t, logits, 5000)[0], 5000);
}

TEST(Sampler, RepetitionPenaltyScalesTowardsLessLikely) {
    SamplerParams p = plain();
    p.temperature = 0.0f;  // greedy shows the penalised order directly
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 64;

    // Positive logit divided: 2.0 -> 1.0 < 1.5.
    Sampler pos(p);
    const std::vector<float> positive{2.0f, 1.5f, -1.0f};
    EXPECT_EQ(pos.sample(positive), 0);
    pos.accept(0);
    EXPECT_EQ(pos.sample(positive), 1);

    // Negative logit multiplied: -1.0 -> -2.0 < -1.5.
    Sampler neg(p);
    const std::vector<float> negative{-1.0f, -1.5f, -4.0f};
    EXPECT_EQ(neg.sample(negative), 0);
    neg.accept(0);
    EXPECT_EQ(neg.sample(negative), 1);

    // Applied once per token, however often it occurs: 2.0 / 2 = 1.0 still beats 0.9.
    Sampler twice(p);
    const std::vector<float> close{2.0f, 0.9f};
    twice.accept(0);
    twice.accept(0);
    twice.accept(0);
    EXPECT_EQ(twice.sample(close), 0);

    // Ids beyond the row are ignored; reset() forgets everything.
    pos.accept(1000);
    EXPECT_EQ(pos.sample(positive), 1);
    pos.reset();
    EXPECT_EQ(pos.sample(positive), 0);

    // A penalty below 1 boosts instead.
    p.repeat_penalty = 0.5f;
    Sampler boost(p);
    boost.accept(1);
    EXPECT_EQ(boost.sample(positive), 1);  // 1.5 / 0.5 = 3.0
}

// OpenAI's penalties: logit - count * frequency - presence, for tokens in the window.
TEST(Sampler, PresenceAndFrequencyPenaltiesSubtract) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    const std::vector<float> logits{2.0f, 1.5f, 1.0f};

    p.presence_penalty = 0.6f;  // 2.0 - 0.6 = 1.4 < 1.5, however often token 0 occurred
    Sampler presence(p);
    presence.accept(0);
    EXPECT_EQ(presence.sample(logits), 1);
    presence.accept(0);
    presence.accept(1);  // 1.4, 1.5 - 0.6 = 0.9, 1.0: token 0 again
    EXPECT_EQ(presence.sample(logits), 0);
    p.presence_penalty = 1.2f;  // 0 and 1 seen: 0.8, 0.3, 1.0: token 2
    Sampler strong(p);
    strong.accept(0);
    strong.accept(1);
    EXPECT_EQ(strong.sample(logits), 2);

    p.presence_penalty = 0.0f;
    p.frequency_penalty = 0.3f;  // once: 2.0 - 0.3 = 1.7 still first; twice: 1.4 < 1.5
    Sampler frequency(p);
    frequency.accept(0);
    EXPECT_EQ(frequency.sample(logits), 0);
    frequency.accept(0);
    EXPECT_EQ(frequency.sample(logits), 1);

    p.frequency_penalty = -1.5f;  // negative: encourages repeats (1.0 + 1.5 = 2.5 > 2.0)
    Sampler encourage(p);
    encourage.accept(2);
    EXPECT_EQ(encourage.sample(logits), 2);

    // Only within the window.
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.6f;
    p.repeat_last_n = 1;
    Sampler window(p);
    window.accept(0);
    window.accept(2);  // pushes token 0 out
    EXPECT_EQ(window.sample(logits), 0);
}

TEST(Sampler, RepetitionPenaltyOnlyWithinTheWindow) {
    SamplerParams p = plain();
    p.temperature = 0.0f;
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 2;
    const std::vector<float> logits{2.0f, 1.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};

    Sampler s(p);
    s.accept(0);
    EXPECT_EQ(s.sample(logits), 1);
    s.accept(5);
    EXPECT_EQ(s.sample(logits), 1);  // 0 is still one of the last two
    s.accept(6);
    EXPECT_EQ(s.sample(logits), 0);  // 0 slid out of the window
    s.accept(0);
    EXPECT_EQ(s.sample(logits), 1);

    // A repeated id stays penalised while any occurrence is in the window.
    Sampler r(p);
    r.accept(0);
    r.accept(0);
    r.accept(4);
    EXPECT_EQ(r.sample(logits), 1);
    r.accept(4);
    EXPECT_EQ(r.sample(logits), 0);

    // 0: off.
    p.repeat_last_n = 0;
    Sampler off(p);
    off.accept(0);
    EXPECT_EQ(off.sample(logits), 0);

    // -1: every accepted token since the last reset.
    p.repeat_last_n = -1;
    Sampler all(p);
    all.accept(0);
    for (int i = 0; i < 1000; ++i) all.accept(3);
    EXPECT_EQ(all.sample(logits), 1);

    // repeat_penalty 1: off.
    p.repeat_penalty = 1.0f;
    Sampler none(p);
    none.accept(0);
    EXPECT_EQ(none.sample(logits), 0);
}

TEST(Sampler, PenaltyComesBeforeTruncation) {
    // top_k 1 after the penalty: the penalised token loses its place, at any temperature.
    SamplerParams p = plain(31);
    p.top_k = 1;
    p.temperature = 2.0f;
    p.repeat_penalty = 2.0f;
    Sampler s(p);
    s.accept(0);
    const std::vector<float> logits{2.0f, 1.5f, 1.0f};
    EXPECT_EQ(histogram(s, logits, 500)[1], 500);
}

TEST(Sampler, InvalidParametersThrow) {
    const auto with = [](auto edit) {
        SamplerParams p;
        edit(p);
        return p;
    };
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.temperature = nan; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.temperature = inf; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.top_p = 0.0f; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.top_p = -0.5f; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.top_p = 1.5f; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.top_p = nan; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.min_p = -0.1f; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.min_p = 1.1f; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.min_p = nan; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.repeat_penalty = 0.0f; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.repeat_penalty = -1.0f; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.repeat_penalty = inf; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.presence_penalty = nan; })), Error);
    EXPECT_THROW(Sampler s(with([&](SamplerParams& p) { p.frequency_penalty = inf; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.repeat_last_n = -2; })), Error);
    EXPECT_THROW(Sampler s(with([](SamplerParams& p) { p.min_keep = -1; })), Error);

    // Boundaries that are allowed.
    EXPECT_NO_THROW(Sampler s(with([](SamplerParams& p) {
        p.temperature = -1.0f;
        p.top_p = 1.0f;
        p.min_p = 1.0f;
        p.top_k = -5;
        p.repeat_last_n = -1;
        p.min_keep = 0;
    })));
    EXPECT_NO_THROW(Sampler s(with([](SamplerParams& p) { p.min_p = 0.0f; })));
}

TEST(Sampler, BadInputsThrow) {
    Sampler s(plain());
    EXPECT_THROW(s.sample(std::span<const float>{}), Error);
    EXPECT_THROW(s.sample(std::vector<float>{0.0f, std::numeric_limits<float>::quiet_NaN()}), Error);
    EXPECT_THROW(s.accept(-1), Error);
}

TEST(Sampler, MaskedLogitsAreNeverDrawn) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> logits{-inf, 0.0f, -inf, 0.0f, -inf};
    Sampler s(plain(37));
    const std::vector<int> counts = histogram(s, logits, 4000);
    EXPECT_EQ(counts[0] + counts[2] + counts[4], 0);
    EXPECT_GT(counts[1], 0);
    EXPECT_GT(counts[3], 0);

    // With the default chain too.
    SamplerParams d;
    d.seed = 37;
    Sampler def(d);
    const std::vector<int> counts2 = histogram(def, logits, 4000);
    EXPECT_EQ(counts2[0] + counts2[2] + counts2[4], 0);
}

}  // namespace
}  // namespace ember
