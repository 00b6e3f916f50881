// The token sampler: llama.cpp's common sampler chain (spec docs/FORMATS.md §6), reduced to the stages ember uses:
//   penalties (repeat, then presence/frequency) -> top-k -> top-p -> min-p -> temperature -> dist
// Temperature comes after the truncations. temperature <= 0 is greedy: the arg-max of the penalised logits
// (first id wins ties), with no random draw.
//
// Determinism: a Sampler owns its std::mt19937; the same seed, params, logits and accepted tokens give the same
// tokens, whatever else happens in the process. Ties in the sort are broken by lower token id.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace ember {

struct SamplerParams {
    float temperature = 0.8f;      // <= 0: greedy (arg-max, first wins ties)
    int32_t top_k = 40;            // <= 0: off
    float top_p = 0.95f;           // in (0, 1]; 1: off
    float min_p = 0.05f;           // in [0, 1]; 0: off
    float repeat_penalty = 1.0f;   // > 0; 1: off
    int32_t repeat_last_n = 64;    // window of accepted tokens the penalties look at (0: off, -1: all since reset)
    float presence_penalty = 0.0f;   // subtracted once from a token seen in the window (OpenAI's); 0: off
    float frequency_penalty = 0.0f;  // subtracted per occurrence in the window (OpenAI's); 0: off
    uint32_t seed = 0xFFFFFFFF;    // 0xFFFFFFFF: random seed (std::random_device)
    int32_t min_keep = 1;          // top-p and min-p keep at least this many candidates (0 acts as 1)
};

inline constexpr uint32_t kSamplerRandomSeed = 0xFFFFFFFF;

class Sampler {
public:
    // Validates params and throws ember::Error on: non-finite temperature, top_p outside (0, 1],
    // min_p outside [0, 1], repeat_penalty not finite and > 0, non-finite presence/frequency
    // penalties, repeat_last_n < -1, min_keep < 0.
    explicit Sampler(const SamplerParams& params);

    // Picks a token from one row of logits (n_vocab floats). Does not record it (see accept()).
    // Throws ember::Error on an empty row or a NaN logit. -inf logits are allowed (masked tokens).
    int32_t sample(std::span<const float> logits);

    // Records an accepted token for the repetition penalty window. Throws ember::Error on a negative id.
    void accept(int32_t token);

    // Forgets accepted tokens and re-seeds the generator with seed(): the draws start over.
    void reset();

    // The seed in use (the one drawn from std::random_device when params.seed was 0xFFFFFFFF;
    // such a drawn seed is never 0xFFFFFFFF itself, so it can be passed back in to replay).
    uint32_t seed() const { return seed_; }
    const SamplerParams& params() const { return params_; }

private:
    struct Candidate {
        int32_t id;
        float logit;
        float p;
    };

    bool penalty_active() const;
    void apply_penalties();
    void top_k();
    void top_p();
    void min_p();
    void sort_prefix(size_t n);   // makes candidates_[0, n) the n best, in order

    SamplerParams params_;
    uint32_t seed_ = 0;
    std::mt19937 rng_;

    std::vector<Candidate> candidates_;   // reused between calls
    std::vector<float> weights_;          // reused between calls (dist)
    size_t sorted_ = 0;                   // candidates_[0, sorted_) are the best ones, in order

    std::deque<int32_t> window_;                   // accepted tokens in the penalty window, oldest first
    std::unordered_map<int32_t, int32_t> counts_;  // id -> occurrences in window_
};

}  // namespace ember
