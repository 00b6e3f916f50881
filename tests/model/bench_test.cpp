// `ember bench` library: statistics, the workload on a tiny synthetic model, output formats.
// No timing thresholds: only that the numbers are there, positive and consistent.
#include "bench/bench.h"

#include "core/error.h"
#include "model/quantize/synth.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <string>

namespace ember::bench {
namespace {

TEST(BenchStats, MeanAndSampleStddev) {
    const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};  // mean 5, sum of squares 32, n - 1 = 7
    const Stats s = mean_stddev(v);
    EXPECT_DOUBLE_EQ(s.mean, 5.0);
    EXPECT_NEAR(s.stddev, std::sqrt(32.0 / 7.0), 1e-12);
    const double one[] = {3.5};
    EXPECT_DOUBLE_EQ(mean_stddev(one).mean, 3.5);
    EXPECT_DOUBLE_EQ(mean_stddev(one).stddev, 0.0);
    const double two[] = {10, 20};
    EXPECT_NEAR(mean_stddev(two).stddev, std::sqrt(50.0), 1e-12);
    EXPECT_DOUBLE_EQ(mean_stddev(std::span<const double>{}).mean, 0.0);
}

TEST(BenchStats, TestNames) {
    EXPECT_EQ((TestSpec{512, 0}.name()), "pp512");
    EXPECT_EQ((TestSpec{0, 128}.name()), "tg128");
    EXPECT_EQ((TestSpec{512, 128}.name()), "pp512+tg128");
}

TEST(BenchStats, RooflineArithmetic) {
    BenchResult r;
    Probes p{.threads = 1,
             .bandwidth_gbs = 32,
             .peak_gflops = 100,
             .flops_kernel = "test",
             .bandwidth_pattern = "test",
             .peak_int8_gops = 0,
             .int8_kernel = ""};
    r.n_gen = 128;
    r.bytes_per_token = 0.64e9;
    r.ts.mean = 25;  // 25 t/s · 0.64 GB = 16 GB/s of 32
    EXPECT_NEAR(roofline(r, p), 0.5, 1e-12);
    r.n_gen = 0;
    r.n_prompt = 512;
    r.flops_per_token = 2e9;
    r.ts.mean = 10;  // 20 GFLOP/s of 100
    EXPECT_NEAR(roofline(r, p), 0.2, 1e-12);
    r.n_threads = 1;  // half the probe's threads: half its peak
    p.threads = 2;
    EXPECT_NEAR(roofline(r, p), 0.4, 1e-12);
    // Half the FLOPs are int8 matmuls: against a 1000 GOP/s int8 peak once it is measured.
    r.int8_flops_per_token = 1e9;
    EXPECT_NEAR(roofline(r, p), 0.4, 1e-12);  // no int8 peak: all against the FP32 one
    p.peak_int8_gops = 1000;
    // ideal per token: 1e9 / (50e9) + 1e9 / (500e9) = 0.022 s; measured 0.1 s
    EXPECT_NEAR(roofline(r, p), 0.22, 1e-12);
    EXPECT_EQ(roofline(r, Probes{}), 0.0);
}

// A minimal JSON validator (values, objects, arrays, strings, numbers, literals).
class JsonChecker {
public:
    explicit JsonChecker(const std::string& s) : s_(s) {}
    bool document() {
        ws();
        if (!value()) return false;
        ws();
        return i_ == s_.size();
    }

private:
    void ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool lit(const char* w) {
        const std::string word(w);
        if (s_.compare(i_, word.size(), word) != 0) return false;
        i_ += word.size();
        return true;
    }
    bool string() {
        if (s_[i_] != '"') return false;
        for (++i_; i_ < s_.size(); ++i_) {
            if (s_[i_] == '\\') {
                ++i_;
            } else if (s_[i_] == '"') {
                ++i_;
                return true;
            } else if (static_cast<unsigned char>(s_[i_]) < 0x20) {
                return false;
            }
        }
        return false;
    }
    bool number() {
        const size_t start = i_;
        if (s_[i_] == '-') ++i_;
        while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || std::strchr(".eE+-", s_[i_]))) ++i_;
        return i_ > start && std::isdigit(static_cast<unsigned char>(s_[i_ - 1]));
    }
    bool value() {
        if (i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++i_;
            ws();
            if (i_ < s_.size() && s_[i_] == close) return ++i_, true;
            while (true) {
                ws();
                if (c == '{') {
                    if (!string()) return false;
                    ws();
                    if (i_ >= s_.size() || s_[i_++] != ':') return false;
                    ws();
                }
                if (!value()) return false;
                ws();
                if (i_ >= s_.size()) return false;
                if (s_[i_] == close) return ++i_, true;
                if (s_[i_++] != ',') return false;
            }
        }
        if (c == '"') return string();
        if (c == 't') return lit("true");
        if (c == 'f') return lit("false");
        if (c == 'n') return lit("null");
        return number();
    }
    const std::string& s_;
    size_t i_ = 0;
};

class BenchOnTinyModel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        path_ = (std::filesystem::temp_directory_path() / "ember-bench-test-tiny-Q4_K_M.gguf").string();
        SynthParams p;
        p.shape = "test-tiny";
        p.type = "Q4_K_M";
        p.vocab_path = test::data_path("vocab/ggml-vocab-llama-spm.gguf");
        write_synthetic_model(path_, p);
    }
    static void TearDownTestSuite() { std::filesystem::remove(path_); }
    static std::string path_;
};
std::string BenchOnTinyModel::path_;

// -np and -d: rows per (sequences, depth, test); t/s counts the tokens of every sequence.
TEST_F(BenchOnTinyModel, ParallelSequencesAndDepthRows) {
    BenchParams params;
    params.models = {path_};
    params.n_prompt = {8};
    params.n_gen = {4};
    params.reps = 2;
    params.threads = {2};
    params.n_parallel = {1, 3};
    params.n_depth = {0, 6};
    const Probes probes{.threads = 2, .bandwidth_gbs = 10, .peak_gflops = 50, .flops_kernel = "test",
                        .bandwidth_pattern = "test", .peak_int8_gops = 0, .int8_kernel = ""};
    const std::vector<BenchResult> rows = run_bench(params, probes);
    ASSERT_EQ(rows.size(), 8u);  // 2 sequence counts × 2 depths × (pp8, tg4)
    const char* names[] = {"pp8", "tg4", "pp8 @ d6", "tg4 @ d6"};
    for (size_t i = 0; i < rows.size(); ++i) {
        const BenchResult& r = rows[i];
        const int np = i < 4 ? 1 : 3;
        EXPECT_EQ(r.n_parallel, np);
        EXPECT_EQ(r.n_depth, i % 4 < 2 ? 0 : 6);
        EXPECT_EQ(r.test_name(), names[i % 4]);
        ASSERT_EQ(r.samples_ts.size(), 2u);
        for (size_t k = 0; k < 2; ++k) {
            EXPECT_NEAR(r.samples_ts[k], 1e9 * np * (r.n_prompt + r.n_gen) / static_cast<double>(r.samples_ns[k]), 1e-6);
        }
        EXPECT_GT(r.ts.mean, 0);
        EXPECT_DOUBLE_EQ(r.ts_per_seq.mean, r.ts.mean / np);
        EXPECT_GT(r.roofline, 0);
    }
    EXPECT_GT(rows[2].flops_per_token, rows[0].flops_per_token);  // attention over the depth
    const std::string md = format_markdown(rows);
    EXPECT_NE(md.find(" np |"), std::string::npos) << md;
    EXPECT_NE(md.find("t/s per seq"), std::string::npos) << md;
    EXPECT_NE(md.find("tg4 @ d6"), std::string::npos) << md;
    const std::string json = format_json(rows);
    EXPECT_TRUE(JsonChecker(json).document()) << json;
    for (const char* field : {"\"n_parallel\": 3", "\"n_depth\": 6", "\"avg_ts_per_seq\": ", "\"stddev_ts_per_seq\": "}) {
        EXPECT_NE(json.find(field), std::string::npos) << field;
    }
    params.n_parallel = {65};
    EXPECT_NE(test::error_of([&] { run_bench(params, probes); }).find("-np must be 1 .. 64"), std::string::npos);
}

TEST_F(BenchOnTinyModel, RowsHaveTheWorkloadAndPositiveSpeeds) {
    BenchParams params;
    params.models = {path_};
    params.n_prompt = {8};
    params.n_gen = {4};
    params.pg = {{8, 4}};
    params.reps = 2;
    params.threads = {1, 2};
    // Made-up probe results, so the roofline arithmetic runs without the 1 GiB probe.
    const Probes probes{.threads = 2,
                        .bandwidth_gbs = 10,
                        .peak_gflops = 50,
                        .flops_kernel = "test",
                        .bandwidth_pattern = "test",
                        .peak_int8_gops = 0,
                        .int8_kernel = ""};
    const std::vector<BenchResult> rows = run_bench(params, probes);
    ASSERT_EQ(rows.size(), 6u);  // 2 thread counts × (pp8, tg4, pp8+tg4)
    const char* names[] = {"pp8", "tg4", "pp8+tg4"};
    for (size_t i = 0; i < rows.size(); ++i) {
        const BenchResult& r = rows[i];
        EXPECT_EQ(r.test_name(), names[i % 3]);
        EXPECT_EQ(r.n_threads, i < 3 ? 1 : 2);
        EXPECT_EQ(r.n_prompt, i % 3 == 1 ? 0 : 8);
        EXPECT_EQ(r.n_gen, i % 3 == 0 ? 0 : 4);
        EXPECT_EQ(r.n_batch, 2048u);
        EXPECT_EQ(r.backend, "cpu");
        ASSERT_EQ(r.samples_ns.size(), 2u);
        ASSERT_EQ(r.samples_ts.size(), 2u);
        for (size_t k = 0; k < 2; ++k) {
            EXPECT_GT(r.samples_ns[k], 0u);
            EXPECT_NEAR(r.samples_ts[k], 1e9 * (r.n_prompt + r.n_gen) / static_cast<double>(r.samples_ns[k]), 1e-9);
        }
        const Stats ts = mean_stddev(r.samples_ts);
        EXPECT_GT(r.ts.mean, 0);
        EXPECT_DOUBLE_EQ(r.ts.mean, ts.mean);
        EXPECT_DOUBLE_EQ(r.ts.stddev, ts.stddev);
        EXPECT_GT(r.roofline, 0);
        EXPECT_GT(r.model_size, 0u);
        EXPECT_GT(r.model_n_params, 16'000'000u);  // two 256 × 32000 matrices and the layers
        EXPECT_EQ(r.model_type.rfind("llama ", 0), 0u) << r.model_type;
        if (r.n_gen > 0) {
            EXPECT_GT(r.bytes_per_token, 0);
            EXPECT_LT(r.bytes_per_token, static_cast<double>(r.model_size));  // token_embd is only gathered
        }
        if (r.n_prompt > 0) {
            EXPECT_GT(r.flops_per_token, 2.0 * 8'000'000);
        }
    }

    const std::string md = format_markdown(rows);
    EXPECT_NE(md.find("| model"), std::string::npos);
    EXPECT_NE(md.find("t/s"), std::string::npos);
    EXPECT_NE(md.find("roofline"), std::string::npos);
    EXPECT_NE(md.find("pp8+tg4"), std::string::npos);
    EXPECT_NE(md.find(" ± "), std::string::npos);
    EXPECT_EQ(md.find("n_batch"), std::string::npos);  // default batch: no column

    const std::string json = format_json(rows);
    EXPECT_TRUE(JsonChecker(json).document()) << json;
    for (const char* field : {"model_filename", "model_type", "model_size", "model_n_params", "n_batch", "n_threads",
                              "n_prompt", "n_gen", "avg_ts", "stddev_ts", "samples_ts", "avg_ns", "stddev_ns",
                              "samples_ns", "backends", "test_time", "roofline", "bandwidth_gbs", "peak_gflops", "peak_int8_gops"}) {
        EXPECT_NE(json.find(std::string("\"") + field + "\": "), std::string::npos) << field;
    }
    EXPECT_NE(json.find("\"n_prompt\": 8"), std::string::npos);
    EXPECT_NE(json.find("\"n_gen\": 4"), std::string::npos);

    const std::string jsonl = format_jsonl(rows);
    size_t lines = 0, start = 0;
    while (start < jsonl.size()) {
        const size_t end = jsonl.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_TRUE(JsonChecker(jsonl.substr(start, end - start)).document());
        ++lines;
        start = end + 1;
    }
    EXPECT_EQ(lines, rows.size());

    const std::string csv = format_csv(rows);
    EXPECT_EQ(csv.rfind("model_filename,model_type,model_size,model_n_params,", 0), 0u);
    EXPECT_EQ(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')), rows.size() + 1);
    EXPECT_THROW(format_results("xml", rows), Error);
}

TEST_F(BenchOnTinyModel, BadParametersAreClearErrors) {
    BenchParams params;
    params.models = {path_};
    params.n_prompt = {8};
    params.n_gen = {0};
    params.reps = 1;
    params.backends = {"no-such-backend"};
    EXPECT_THROW(run_bench(params, {}), Error);
    params.backends = {"cpu"};
    params.n_prompt = {0};
    EXPECT_THROW(run_bench(params, {}), Error);  // no tests left
    params.n_prompt = {8};
    params.reps = 0;
    EXPECT_THROW(run_bench(params, {}), Error);
    params.reps = 1;
    params.n_batch = 3;  // the prompt in steps of 3: still one row
    EXPECT_EQ(run_bench(params, {}).size(), 1u);
}

TEST(BenchProbes, ReturnPositiveRates) {
    EXPECT_GT(probe_memory_bandwidth(1, size_t{8} << 20, 2), 0);  // small buffer: just that it runs
    // Sizes that leave tails after the thread shares and the 1-8 streams of 256-byte blocks; every
    // pass checks that its loop summed each word exactly once (it fails otherwise).
    for (const int threads : {1, 2, 3}) {
        for (const size_t bytes : {size_t{8} << 20, (size_t{4} << 20) + 8 * 37, size_t{200}, size_t{8}}) {
            std::string pattern;
            const double gbs = probe_memory_bandwidth(threads, bytes, 1, &pattern);
            EXPECT_TRUE(std::isfinite(gbs)) << threads << " threads, " << bytes << " bytes";
            EXPECT_GT(gbs, 0) << threads << " threads, " << bytes << " bytes";
            EXPECT_LT(gbs, 10'000) << threads << " threads, " << bytes << " bytes";  // 10 TB/s: a broken timer
            EXPECT_NE(pattern.find("stream"), std::string::npos) << pattern;
        }
    }
    EXPECT_EQ(probe_memory_bandwidth(1, 4, 1), 0);  // less than one word: nothing to read
    std::string kernel;
    EXPECT_GT(probe_peak_gflops(1, &kernel), 0);
    EXPECT_FALSE(kernel.empty());
    for (const int threads : {1, 2}) {
        std::string int8;
        const double gops = probe_peak_int8_gops(threads, &int8);
        EXPECT_TRUE(std::isfinite(gops));
        EXPECT_GT(gops, 0) << int8;
        EXPECT_LT(gops, 1e6) << int8;  // 1 POP/s: a broken timer
        EXPECT_FALSE(int8.empty());
    }
}

}  // namespace
}  // namespace ember::bench
