// The sampler chain of spec docs/FORMATS.md §6: penalties -> top-k -> top-p -> min-p -> temperature -> dist.
#include "ember/sampler.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ember {

namespace {

// The candidate order of every sort: higher logit first, lower id first on equal logits. It is a strict total order
// (no NaN reaches it), so partial and full sorts give the same, reproducible prefix.
struct Better {
    template <typename C>
    bool operator()(const C& a, const C& b) const {
        if (a.logit != b.logit) return a.logit > b.logit;
        return a.id < b.id;
    }
};

}  // namespace

Sampler::Sampler(const SamplerParams& params) : params_(params) {
    if (!std::isfinite(params.temperature)) {
        fail("sampler: temperature must be finite, got {}", params.temperature);
    }
    if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) {
        fail("sampler: top_p must be in (0, 1], got {}", params.top_p);
    }
    if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) {
        fail("sampler: min_p must be in [0, 1], got {}", params.min_p);
    }
    if (!(std::isfinite(params.repeat_penalty) && params.repeat_penalty > 0.0f)) {
        fail("sampler: repeat_penalty must be finite and > 0, got {}", params.repeat_penalty);
    }
    if (!std::isfinite(params.presence_penalty) || !std::isfinite(params.frequency_penalty)) {
        fail("sampler: presence_penalty and frequency_penalty must be finite, got {} and {}", params.presence_penalty,
             params.frequency_penalty);
    }
    if (params.repeat_last_n < -1) {
        fail("sampler: repeat_last_n must be >= -1, got {}", params.repeat_last_n);
    }
    if (params.min_keep < 0) {
        fail("sampler: min_keep must be >= 0, got {}", params.min_keep);
    }

    seed_ = params.seed;
    if (seed_ == kSamplerRandomSeed) {
        std::random_device device;
        do {
            seed_ = device();
        } while (seed_ == kSamplerRandomSeed);
    }
    rng_.seed(seed_);
}

void Sampler::reset() {
    window_.clear();
    counts_.clear();
    rng_.seed(seed_);
}

bool Sampler::penalty_active() const {
    return params_.repeat_last_n != 0 &&
           (params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f);
}

void Sampler::accept(int32_t token) {
    if (token < 0) fail("sampler: cannot accept negative token id {}", token);
    if (!penalty_active()) return;
    window_.push_back(token);
    ++counts_[token];
    if (params_.repeat_last_n > 0 && window_.size() > static_cast<size_t>(params_.repeat_last_n)) {
        const int32_t oldest = window_.front();
        window_.pop_front();
        auto it = counts_.find(oldest);
        if (--it->second == 0) counts_.erase(it);
    }
}

// Runs while candidates_ is still in id order (candidates_[id].id == id).
void Sampler::apply_penalties() {
    if (!penalty_active()) return;
    const float penalty = params_.repeat_penalty;
    const size_t n = candidates_.size();
    for (const auto& [id, count] : counts_) {
        if (count <= 0 || static_cast<size_t>(id) >= n) continue;
        float& logit = candidates_[static_cast<size_t>(id)].logit;
        if (logit <= 0.0f) {
            logit *= penalty;
        } else {
            logit /= penalty;
        }
        logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
}

void Sampler::sort_prefix(size_t n) {
    n = std::min(n, candidates_.size());
    if (n <= sorted_) return;
    // Everything past sorted_ ranks below the sorted prefix, so only the rest needs ordering.
    auto first = candidates_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    auto middle = candidates_.begin() + static_cast<std::ptrdiff_t>(n);
    if (n == candidates_.size()) {
        std::sort(first, candidates_.end(), Better{});
    } else if (n - sorted_ <= 128) {
        std::partial_sort(first, middle, candidates_.end(), Better{});
    } else {
        // Large prefixes: select in linear time, then sort only the selection.
        std::nth_element(first, middle, candidates_.end(), Better{});
        std::sort(first, middle, Better{});
    }
    sorted_ = n;
}

void Sampler::top_k() {
    const int32_t k = params_.top_k;
    if (k <= 0 || static_cast<size_t>(k) >= candidates_.size()) return;
    sort_prefix(static_cast<size_t>(k));
    candidates_.resize(static_cast<size_t>(k));
    sorted_ = candidates_.size();
}

void Sampler::top_p() {
    const float p = params_.top_p;
    if (p >= 1.0f) return;
    const size_t n = candidates_.size();
    const size_t keep_min = static_cast<size_t>(std::max(params_.min_keep, 1));

    // Softmax over the current candidates (float, max subtracted); p travels with each candidate when sorted.
    float max_logit = -std::numeric_limits<float>::infinity();
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    float sum = 0.0f;
    for (Candidate& c : candidates_) {
        c.p = std::isfinite(max_logit) ? std::exp(c.logit - max_logit) : (c.logit == max_logit ? 1.0f : 0.0f);
        sum += c.p;
    }
    for (Candidate& c : candidates_) c.p /= sum;

    // Walk the sorted order, sorting only as far as the walk gets (the nucleus is usually small).
    float cumulative = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        if (i >= sorted_) sort_prefix(std::max<size_t>(2 * sorted_, 64));
        cumulative += candidates_[i].p;
        if (cumulative >= p && i + 1 >= keep_min) {
            candidates_.resize(i + 1);
            sorted_ = candidates_.size();
            return;
        }
    }
}

void Sampler::min_p() {
    const float p = params_.min_p;
    if (p <= 0.0f) return;
    const size_t n = candidates_.size();
    const size_t keep_min = static_cast<size_t>(std::max(params_.min_keep, 1));

    float max_logit = -std::numeric_limits<float>::infinity();
    if (sorted_ > 0) {
        max_logit = candidates_[0].logit;
    } else {
        for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    }
    const float threshold = max_logit + std::log(p);

    if (sorted_ == n) {
        size_t i = 0;
        while (i < n && (candidates_[i].logit >= threshold || i < keep_min)) ++i;
        candidates_.resize(i);
        sorted_ = i;
        return;
    }

    size_t passing = 0;
    for (const Candidate& c : candidates_) passing += c.logit >= threshold ? 1 : 0;
    if (passing < keep_min) {
        sort_prefix(keep_min);
        candidates_.resize(std::min(keep_min, n));
        sorted_ = candidates_.size();
        return;
    }
    // Stable in-place filter. The sorted prefix holds the best candidates, so its passing members stay in front
    // and in order.
    size_t out = 0;
    size_t sorted_kept = 0;
    for (size_t i = 0; i < n; ++i) {
        if (candidates_[i].logit >= threshold) {
            if (i < sorted_) ++sorted_kept;
            candidates_[out++] = candidates_[i];
        }
    }
    candidates_.resize(out);
    sorted_ = sorted_kept;
}

int32_t Sampler::sample(std::span<const float> logits) {
    const size_t n = logits.size();
    if (n == 0) fail("sampler: empty logits");
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        fail("sampler: {} logits is more than token ids can address", n);
    }

    candidates_.resize(n);
    for (size_t i = 0; i < n; ++i) {
        if (std::isnan(logits[i])) fail("sampler: logit of token {} is NaN", i);
        candidates_[i] = Candidate{static_cast<int32_t>(i), logits[i], 0.0f};
    }
    sorted_ = 0;

    apply_penalties();

    if (params_.temperature <= 0.0f) {
        // Greedy: the truncations below always keep the first arg-max, so they cannot change the answer.
        size_t best = 0;
        for (size_t i = 1; i < n; ++i) {
            if (candidates_[i].logit > candidates_[best].logit) best = i;
        }
        return candidates_[best].id;
    }

    top_k();
    top_p();
    min_p();

    const float temperature = params_.temperature;
    for (Candidate& c : candidates_) c.logit /= temperature;

    // dist: softmax (float, max subtracted), then std::discrete_distribution over the mt19937.
    float max_logit = -std::numeric_limits<float>::infinity();
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
    weights_.resize(candidates_.size());
    float sum = 0.0f;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        const float logit = candidates_[i].logit;
        // A non-finite max (all -inf, or +inf after an overflowing temperature) shares the mass among the maxima.
        weights_[i] = std::isfinite(max_logit) ? std::exp(logit - max_logit) : (logit == max_logit ? 1.0f : 0.0f);
        sum += weights_[i];
    }
    for (float& w : weights_) w /= sum;

    std::discrete_distribution<int> dist(weights_.begin(), weights_.end());
    const int picked = dist(rng_);
    return candidates_[static_cast<size_t>(picked)].id;
}

}  // namespace ember
