// KL divergence against a base run: per-position math, statistics, the base file, the runs.
#include "model/eval/kl_divergence.h"

#include "core/error.h"
#include "model/runtime/model.h"
#include "core/output_file.h"
#include "model/gguf/mapped_file.h"
#include "model/eval/perplexity.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace ember {

// ---- per position --------------------------------------------------------------------------

namespace {

// log sum exp(logits), in double.
double log_sum_exp(std::span<const float> logits) {
    const double max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
    return max + std::log(sum);
}

size_t argmax(std::span<const float> v) {
    return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());  // first of equal maxima
}

}  // namespace

void log_softmax(std::span<const float> logits, std::span<float> out) {
    if (logits.empty() || out.size() != logits.size()) fail("log_softmax: {} logits into {} outputs", logits.size(), out.size());
    const double lse = log_sum_exp(logits);
    for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<float>(static_cast<double>(logits[i]) - lse);
}

TokenComparison compare_token(std::span<const float> base_log_probs, std::span<const float> logits, int32_t next) {
    if (logits.empty() || base_log_probs.size() != logits.size()) {
        fail("KL divergence: the base has {} log-probabilities, the model {} logits", base_log_probs.size(), logits.size());
    }
    if (next < 0 || static_cast<size_t>(next) >= logits.size()) fail("KL divergence: token {} is out of range", next);
    const double lse = log_sum_exp(logits);
    TokenComparison c;
    double kld = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        const double lb = base_log_probs[i];
        const double p_base = std::exp(lb);
        if (p_base == 0) continue;  // 0 · log 0 = 0
        kld += p_base * (lb - (static_cast<double>(logits[i]) - lse));
    }
    c.kld = kld;
    c.nll = lse - static_cast<double>(logits[static_cast<size_t>(next)]);
    c.nll_base = -static_cast<double>(base_log_probs[static_cast<size_t>(next)]);
    c.same_top = argmax(base_log_probs) == argmax(logits);
    return c;
}

double sorted_percentile(std::span<const double> sorted, double fraction) {
    if (sorted.empty()) fail("percentile of no values");
    if (fraction <= 0) return sorted.front();
    if (fraction >= 1) return sorted.back();
    const double at = fraction * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(at);
    const double w = at - static_cast<double>(lo);
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return (1 - w) * sorted[lo] + w * sorted[hi];
}

// ---- statistics ----------------------------------------------------------------------------

void KlDivergenceStats::add(const TokenComparison& c) {
    kld_.push_back(c.kld);
    dp_.push_back(std::exp(-c.nll) - std::exp(-c.nll_base));
    sum_nll_ += c.nll;
    sum_nll2_ += c.nll * c.nll;
    sum_nll_base_ += c.nll_base;
    sum_nll_base2_ += c.nll_base * c.nll_base;
    sum_nll_nll_base_ += c.nll * c.nll_base;
    n_same_top_ += c.same_top ? 1 : 0;
}

namespace {

struct MeanUnc {
    double mean;
    double unc;  // standard error of the mean
};

// Mean and standard error from the sums of x and x², as the reference computes them.
MeanUnc mean_and_uncertainty(double sum, double sum2, size_t count) {
    const auto n = static_cast<double>(count);
    const double mean = sum / n;
    const double var = std::max(0.0, sum2 / n - mean * mean);
    return {mean, count > 1 ? std::sqrt(var / (n - 1)) : 0.0};
}

}  // namespace

KlDivergenceResult KlDivergenceStats::result() const {
    if (kld_.empty()) fail("KL divergence: no positions were compared");
    KlDivergenceResult r;
    r.n = kld_.size();
    const auto n = static_cast<double>(r.n);

    const MeanUnc ln_ppl = mean_and_uncertainty(sum_nll_, sum_nll2_, r.n);
    const MeanUnc ln_ppl_base = mean_and_uncertainty(sum_nll_base_, sum_nll_base2_, r.n);
    r.ppl = std::exp(ln_ppl.mean);
    r.ppl_unc = r.ppl * ln_ppl.unc;
    r.ppl_base = std::exp(ln_ppl_base.mean);
    r.ppl_base_unc = r.ppl_base * ln_ppl_base.unc;
    // Covariance of the two mean NLLs (the same positions, so strongly correlated).
    const double cov = r.n > 1 ? (sum_nll_nll_base_ / n - (sum_nll_ / n) * (sum_nll_base_ / n)) / (n - 1) : 0.0;
    const double unc_product = ln_ppl.unc * ln_ppl_base.unc;
    r.ln_ppl_correlation = unc_product > 0 ? cov / unc_product : 1.0;
    r.ln_ppl_ratio = ln_ppl.mean - ln_ppl_base.mean;
    r.ln_ppl_ratio_unc = std::sqrt(std::max(0.0, ln_ppl.unc * ln_ppl.unc + ln_ppl_base.unc * ln_ppl_base.unc - 2 * cov));
    r.ppl_ratio = std::exp(r.ln_ppl_ratio);
    r.ppl_ratio_unc = r.ppl_ratio * r.ln_ppl_ratio_unc;
    r.ppl_diff = r.ppl - r.ppl_base;
    r.ppl_diff_unc = std::sqrt(std::max(
        0.0, r.ppl_unc * r.ppl_unc + r.ppl_base_unc * r.ppl_base_unc - 2 * cov * r.ppl * r.ppl_base));

    double sum = 0, sum2 = 0;
    for (double k : kld_) {
        sum += k;
        sum2 += k * k;
    }
    const MeanUnc kld = mean_and_uncertainty(sum, sum2, r.n);
    r.kld_mean = kld.mean;
    r.kld_unc = kld.unc;
    std::vector<double> sorted = kld_;
    std::sort(sorted.begin(), sorted.end());
    r.kld_max = sorted.back();
    r.kld_p999 = sorted_percentile(sorted, 0.999);
    r.kld_p99 = sorted_percentile(sorted, 0.99);
    r.kld_median = sorted_percentile(sorted, 0.5);
    r.kld_p10 = sorted_percentile(sorted, 0.10);
    r.kld_p5 = sorted_percentile(sorted, 0.05);
    r.kld_p1 = sorted_percentile(sorted, 0.01);
    r.kld_p01 = sorted_percentile(sorted, 0.001);
    r.kld_min = sorted.front();

    double dsum = 0, dsum2 = 0, dsum4 = 0;
    for (double d : dp_) {
        dsum += d;
        dsum2 += d * d;
        dsum4 += d * d * d * d;
    }
    const MeanUnc dp = mean_and_uncertainty(dsum, dsum2, r.n);
    r.dp_mean = dp.mean;
    r.dp_unc = dp.unc;
    const MeanUnc mse = mean_and_uncertainty(dsum2, dsum4, r.n);
    r.dp_rms = std::sqrt(mse.mean);
    r.dp_rms_unc = r.dp_rms > 0 ? 0.5 / r.dp_rms * mse.unc : 0.0;
    sorted = dp_;
    std::sort(sorted.begin(), sorted.end());
    r.dp_max = sorted.back();
    r.dp_p999 = sorted_percentile(sorted, 0.999);
    r.dp_p99 = sorted_percentile(sorted, 0.99);
    r.dp_p95 = sorted_percentile(sorted, 0.95);
    r.dp_p90 = sorted_percentile(sorted, 0.90);
    r.dp_p75 = sorted_percentile(sorted, 0.75);
    r.dp_median = sorted_percentile(sorted, 0.5);
    r.dp_p25 = sorted_percentile(sorted, 0.25);
    r.dp_p10 = sorted_percentile(sorted, 0.10);
    r.dp_p5 = sorted_percentile(sorted, 0.05);
    r.dp_p1 = sorted_percentile(sorted, 0.01);
    r.dp_p01 = sorted_percentile(sorted, 0.001);
    r.dp_min = sorted.front();

    r.same_top = static_cast<double>(n_same_top_) / n;
    r.same_top_unc = r.n > 1 ? std::sqrt(r.same_top * (1 - r.same_top) / (n - 1)) : 0.0;
    return r;
}

// ---- the base file ---------------------------------------------------------------------------

namespace {

constexpr std::array<char, 8> kMagic = {'E', 'M', 'B', 'E', 'R', 'K', 'L', 'D'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 24;

}  // namespace

void write_kl_divergence_base(OutputFile& out, const KlDivergenceBase& base) {
    const size_t n_tokens = static_cast<size_t>(base.n_ctx) * base.n_chunks;
    if (base.tokens.size() != n_tokens ||
        base.log_probs.size() != static_cast<size_t>(base.n_vocab) * base.n_chunks * base.n_scored_per_chunk()) {
        fail("{}: inconsistent KL divergence base data", out.path());
    }
    std::array<uint8_t, kHeaderBytes> header{};
    const uint32_t fields[4] = {kVersion, base.n_vocab, base.n_ctx, base.n_chunks};
    std::memcpy(header.data(), kMagic.data(), kMagic.size());
    std::memcpy(header.data() + 8, fields, sizeof fields);
    out.write(header.data(), header.size());
    out.write(base.tokens.data(), base.tokens.size() * sizeof(int32_t));
    out.write(base.log_probs.data(), base.log_probs.size() * sizeof(float));
    out.commit();
}

void write_kl_divergence_base(const std::string& path, const KlDivergenceBase& base) {
    OutputFile out(path);
    write_kl_divergence_base(out, base);
}

KlDivergenceBase read_kl_divergence_base(const std::string& path) {
    const MappedFile file = MappedFile::open(path);  // a regular file: never blocks on a FIFO
    const std::span<const uint8_t> bytes(file.data(), file.size());
    if (bytes.size() < kHeaderBytes) fail("{}: too short for a KL divergence base file", path);
    if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
        fail("{}: not a KL divergence base file (no EMBERKLD magic; write one with --kl-divergence-base)", path);
    }
    uint32_t fields[4];
    std::memcpy(fields, bytes.data() + 8, sizeof fields);
    if (fields[0] != kVersion) fail("{}: KL divergence base version {}, expected {}", path, fields[0], kVersion);
    KlDivergenceBase base;
    base.n_vocab = fields[1];
    base.n_ctx = fields[2];
    base.n_chunks = fields[3];
    if (base.n_vocab == 0 || base.n_ctx < 4 || base.n_chunks == 0 || base.n_ctx > (1u << 24) ||
        base.n_chunks > (1u << 24)) {
        fail("{}: implausible header: n_vocab {}, n_ctx {}, n_chunks {}", path, base.n_vocab, base.n_ctx, base.n_chunks);
    }
    const uint64_t n_tokens = uint64_t{base.n_ctx} * base.n_chunks;
    const uint64_t n_probs = uint64_t{base.n_vocab} * base.n_chunks * base.n_scored_per_chunk();
    const uint64_t expected = kHeaderBytes + 4 * n_tokens + 4 * n_probs;
    if (bytes.size() != expected) {
        fail("{}: {} bytes, but its header (n_vocab {}, n_ctx {}, n_chunks {}) needs {}: truncated or corrupt", path,
             bytes.size(), base.n_vocab, base.n_ctx, base.n_chunks, expected);
    }
    base.tokens.resize(n_tokens);
    base.log_probs.resize(n_probs);
    std::memcpy(base.tokens.data(), bytes.data() + kHeaderBytes, n_tokens * sizeof(int32_t));
    std::memcpy(base.log_probs.data(), bytes.data() + kHeaderBytes + n_tokens * sizeof(int32_t), n_probs * sizeof(float));
    for (int32_t t : base.tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= base.n_vocab) fail("{}: token {} is out of the vocabulary", path, t);
    }
    return base;
}

// ---- runs ----------------------------------------------------------------------------------

KlDivergenceBase collect_kl_divergence_base(Session& session, std::span<const int32_t> tokens, uint32_t n_ctx,
                                            const ChunkDoneFn& on_chunk) {
    KlDivergenceBase base;
    base.n_vocab = static_cast<uint32_t>(session.model().vocab().n_tokens());
    base.n_ctx = n_ctx;
    base.n_chunks = static_cast<uint32_t>(tokens.size() / n_ctx);
    base.tokens.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(size_t{base.n_chunks} * n_ctx));
    base.log_probs.resize(size_t{base.n_vocab} * base.n_chunks * base.n_scored_per_chunk());
    size_t row = 0;
    double nll = 0;
    evaluate_chunks(
        session, base.tokens, n_ctx,
        [&](size_t, size_t, std::span<const float> logits, int32_t next) {
            if (logits.size() != base.n_vocab) fail("the model gives {} logits for {} tokens", logits.size(), base.n_vocab);
            std::span<float> out(base.log_probs.data() + row * base.n_vocab, base.n_vocab);
            log_softmax(logits, out);
            nll -= out[static_cast<size_t>(next)];
            ++row;
        },
        [&](size_t c) {
            if (on_chunk) on_chunk(c, base.n_chunks, std::exp(nll / static_cast<double>(row)));
        });
    return base;
}

PerplexityResult base_perplexity(const KlDivergenceBase& base) {
    PerplexityResult r;
    r.n_chunks = base.n_chunks;
    const size_t per_chunk = base.n_scored_per_chunk();
    const size_t first = base.n_ctx / 2;
    double nll = 0, nll2 = 0;
    for (size_t c = 0; c < base.n_chunks; ++c) {
        for (size_t k = 0; k < per_chunk; ++k) {
            const int32_t next = base.tokens[c * base.n_ctx + first + k + 1];
            const double v = -base.log_probs[(c * per_chunk + k) * base.n_vocab + static_cast<size_t>(next)];
            nll += v;
            nll2 += v * v;
            ++r.n_scored;
        }
        r.running.push_back(std::exp(nll / static_cast<double>(r.n_scored)));
    }
    const MeanUnc m = mean_and_uncertainty(nll, nll2, r.n_scored);
    r.ppl = std::exp(m.mean);
    r.ppl_stderr = m.unc * r.ppl;
    return r;
}

KlDivergenceResult kl_divergence(Session& session, const KlDivergenceBase& base,
                                 const ChunkDoneFn& on_chunk) {
    const auto n_vocab = static_cast<uint32_t>(session.model().vocab().n_tokens());
    if (n_vocab != base.n_vocab) {
        fail("the model's vocabulary has {} tokens, the base run's {}: the models do not share a vocabulary", n_vocab,
             base.n_vocab);
    }
    KlDivergenceStats stats;
    size_t row = 0;
    double nll = 0;
    evaluate_chunks(
        session, base.tokens, base.n_ctx,
        [&](size_t, size_t, std::span<const float> logits, int32_t next) {
            const TokenComparison c = compare_token(
                std::span<const float>(base.log_probs.data() + row * base.n_vocab, base.n_vocab), logits, next);
            stats.add(c);
            nll += c.nll;
            ++row;
        },
        [&](size_t c) {
            if (on_chunk) on_chunk(c, base.n_chunks, std::exp(nll / static_cast<double>(row)));
        });
    return stats.result();
}

std::string format_kl_divergence(const KlDivergenceResult& r) {
    std::string s;
    auto line = [&s](std::string text) { s += text + "\n"; };
    line("====== Perplexity statistics ======");
    line(fmt::format("Mean PPL(Q)                   : {:10.6f} ± {:10.6f}", r.ppl, r.ppl_unc));
    line(fmt::format("Mean PPL(base)                : {:10.6f} ± {:10.6f}", r.ppl_base, r.ppl_base_unc));
    line(fmt::format("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%", 100.0 * r.ln_ppl_correlation));
    line(fmt::format("Mean ln(PPL(Q)/PPL(base))     : {:10.6f} ± {:10.6f}", r.ln_ppl_ratio, r.ln_ppl_ratio_unc));
    line(fmt::format("Mean PPL(Q)/PPL(base)         : {:10.6f} ± {:10.6f}", r.ppl_ratio, r.ppl_ratio_unc));
    line(fmt::format("Mean PPL(Q)-PPL(base)         : {:10.6f} ± {:10.6f}", r.ppl_diff, r.ppl_diff_unc));
    line("");
    line("====== KL divergence statistics ======");
    line(fmt::format("Mean    KLD: {:10.6f} ± {:10.6f}", r.kld_mean, r.kld_unc));
    line(fmt::format("Maximum KLD: {:10.6f}", r.kld_max));
    line(fmt::format("99.9%   KLD: {:10.6f}", r.kld_p999));
    line(fmt::format("99.0%   KLD: {:10.6f}", r.kld_p99));
    line(fmt::format("Median  KLD: {:10.6f}", r.kld_median));
    line(fmt::format("10.0%   KLD: {:10.6f}", r.kld_p10));
    line(fmt::format(" 5.0%   KLD: {:10.6f}", r.kld_p5));
    line(fmt::format(" 1.0%   KLD: {:10.6f}", r.kld_p1));
    line(fmt::format(" 0.1%   KLD: {:10.6f}", r.kld_p01));
    line(fmt::format("Minimum KLD: {:10.6f}", r.kld_min));
    line("");
    line("====== Token probability statistics ======");
    line(fmt::format("Mean    Δp: {:6.3f} ± {:5.3f} %", 100 * r.dp_mean, 100 * r.dp_unc));
    const std::pair<const char*, double> dps[] = {
        {"Maximum", r.dp_max}, {"99.9%  ", r.dp_p999}, {"99.0%  ", r.dp_p99},  {"95.0%  ", r.dp_p95},
        {"90.0%  ", r.dp_p90}, {"75.0%  ", r.dp_p75},  {"Median ", r.dp_median}, {"25.0%  ", r.dp_p25},
        {"10.0%  ", r.dp_p10}, {" 5.0%  ", r.dp_p5},   {" 1.0%  ", r.dp_p1},   {" 0.1%  ", r.dp_p01},
        {"Minimum", r.dp_min},
    };
    for (const auto& [label, v] : dps) line(fmt::format("{} Δp: {:6.3f}%", label, 100 * v));
    line(fmt::format("RMS Δp    : {:6.3f} ± {:5.3f} %", 100 * r.dp_rms, 100 * r.dp_rms_unc));
    line(fmt::format("Same top p: {:6.3f} ± {:5.3f} %", 100 * r.same_top, 100 * r.same_top_unc));
    return s;
}

}  // namespace ember
