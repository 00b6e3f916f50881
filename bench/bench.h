// `ember bench`: prompt-processing (pp) and token-generation (tg) speed, measured the way
// llama-bench measures it (docs/FORMATS.md §7), with a roofline column that says how close each
// result is to what this machine's memory bandwidth (tg) or FLOP rate (pp) allows.
//
//   ember::bench::Probes probes = ember::bench::run_probes(2);
//   auto rows = ember::bench::run_bench({.models = {"m.gguf"}, .threads = {2}}, probes);
//   std::cout << ember::bench::format_markdown(rows);
//
// Workload per test (pp512, tg128, pp512+tg128): an Engine of N = n_parallel sequences with
// n_ctx = N · (n_depth + n_prompt + n_gen). Each repetition clears the cache, then (untimed)
// fills n_depth random tokens per sequence; then, timed: the N prompts of random ids (BOS first
// when the vocab adds BOS) processed together, n_batch tokens a step; then n_gen steps in which
// every sequence decodes one token (lock-step, as llama-batched-bench). One untimed warm-up, then
// `reps` timed repetitions. ts = 1e9·N·(n_prompt + n_gen) / t_ns (aggregate over the sequences),
// ts_per_seq = ts / N.
#pragma once

#include "model/quantize/synth.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::bench {

// ---- statistics ------------------------------------------------------------------------

struct Stats {
    double mean = 0;
    double stddev = 0;  // sample standard deviation (n - 1); 0 for fewer than two values
};
Stats mean_stddev(std::span<const double> values);

// ---- roofline probes ---------------------------------------------------------------------

struct Probes {
    int threads = 0;
    double bandwidth_gbs = 0;       // memory read bandwidth, GB/s (1e9 bytes); 0 = not measured
    double peak_gflops = 0;         // FP32 FMA throughput, GFLOP/s; 0 = not measured
    std::string flops_kernel;       // "avx2+fma" or "scalar"
    std::string bandwidth_pattern;  // the read loop that reached bandwidth_gbs: "avx512, 4 streams/thread"
    double peak_int8_gops = 0;      // int8 multiply-add throughput, GOP/s (2 per multiply-add); 0 = not measured
    std::string int8_kernel;        // "amx-int8", "avx512-vnni", "avx2 maddubs" or "scalar"
};

// Passes per read pattern of the bandwidth probe.
inline constexpr int kBandwidthRuns = 3;

// Streaming read of a `bytes`-sized buffer (≫ last-level cache) by `threads` threads, summing
// 64-bit words with the widest vector loads the CPU has (AVX-512, AVX2 or portable), each thread
// reading its share as 1, 2, 4 or 8 interleaved streams; the best of `runs` passes of every
// pattern, in GB/s. `pattern` receives the winner ("avx512, 4 streams/thread"). Fails if a pass
// does not sum every word exactly once.
double probe_memory_bandwidth(int threads, size_t bytes = size_t{1} << 30, int runs = kBandwidthRuns,
                              std::string* pattern = nullptr);
// Register-blocked FMA loop on every thread (AVX-512 where the avx512 kernel set is in use, else
// AVX2+FMA when the CPU has it, else scalar); the best of a few runs, in GFLOP/s. `kernel` receives
// which loop ran.
double probe_peak_gflops(int threads, std::string* kernel = nullptr);
// int8 x int8 multiply-adds on every thread, on the unit the CPU kernel set in use runs its
// quantized matmuls on (AMX-INT8, AVX512_VNNI, AVX2 or portable; bench_int8_probe.cpp); the best
// of a few runs, in GOP/s. `kernel` receives which loop ran.
double probe_peak_int8_gops(int threads, std::string* kernel = nullptr);
// All three probes, `threads` threads each.
Probes run_probes(int threads, size_t bandwidth_bytes = size_t{1} << 30);

// ---- the benchmark -----------------------------------------------------------------------

struct TestSpec {
    int n_prompt = 0;
    int n_gen = 0;
    std::string name() const;  // "pp512", "tg128", "pp512+tg128"
};

struct BenchParams {
    std::vector<std::string> models;         // GGUF files
    std::vector<int> n_prompt = {512};       // one pp test per value (0: none)
    std::vector<int> n_gen = {128};          // one tg test per value (0: none)
    std::vector<TestSpec> pg;                // combined tests
    int reps = 5;
    std::vector<int> threads = {0};          // 0: all hardware threads
    uint32_t n_batch = 2048;
    std::vector<std::string> backends = {"cpu"};
    std::vector<int> n_parallel = {1};       // -np: sequences decoded together, one row per value
    std::vector<int> n_depth = {0};          // -d: context tokens per sequence filled before the test
    uint32_t seed = 1234;                    // for the random prompt and generation ids
    // Progress lines for stderr (nullptr: silent).
    std::function<void(std::string_view line)> progress;
};

struct BenchResult {
    std::string model_filename;
    std::string model_type;  // Model::description(), "llama 1.1B Q4_K - Medium"
    uint64_t model_size = 0;      // tensor bytes
    uint64_t model_n_params = 0;
    std::string backend;     // the backend name as given ("cpu")
    int n_threads = 0;
    uint32_t n_batch = 0;
    int n_prompt = 0;
    int n_gen = 0;
    int n_depth = 0;
    int n_parallel = 1;
    std::string test_time;   // ISO 8601 UTC, when the test started
    std::vector<uint64_t> samples_ns;
    std::vector<double> samples_ts;
    Stats ns;
    Stats ts;          // aggregate tokens/s of all n_parallel sequences
    Stats ts_per_seq;  // per sequence (ts / n_parallel)
    // Model cost, per token: weight bytes a one-token decode reads, and FLOPs a prompt token needs.
    double bytes_per_token = 0;
    double flops_per_token = 0;
    // The part of flops_per_token done as int8 x int8 dot products (matmuls whose weights the
    // CPU backend dots against Q8_0/Q8_1/Q8_K activations); its roofline is the int8 peak.
    double int8_flops_per_token = 0;
    double roofline = 0;     // ideal time / measured time (0..1), 0 when the probes were not run
    double bandwidth_gbs = 0;
    double peak_gflops = 0;
    double peak_int8_gops = 0;
    std::string cpu_kernels;  // the CPU kernel variant ("scalar", "avx2")

    // "pp512", "tg128 @ d1024" (llama-bench's names)
    std::string test_name() const;
};

// Runs every test for every model × backend × thread count. Throws ember::Error for an
// unknown backend, an unreadable model, or bad parameters.
std::vector<BenchResult> run_bench(const BenchParams& params, const Probes& probes);

// Roofline of one result: the ideal time divided by the mean measured time, where the ideal
// time is n_parallel · n_prompt · (int8_flops_per_token / int8 peak + the other FLOPs / FP32
// peak) + n_gen · bytes_per_token / bandwidth (a lock-step of n_parallel tokens reads the weights
// once). For pp this is FLOPs per token · t/s / peak (with the
// int8 part against the int8 peak when it was measured, else everything against the FP32
// peak), for tg bytes_per_token · t/s / bandwidth. The peaks are scaled by n_threads /
// probes.threads when a row uses fewer threads than the probe did (bandwidth is not: one
// core can nearly saturate it). 0 when a needed probe is missing.
double roofline(const BenchResult& r, const Probes& probes);

// ---- output ------------------------------------------------------------------------------

std::string format_markdown(std::span<const BenchResult> rows);
std::string format_csv(std::span<const BenchResult> rows);
std::string format_json(std::span<const BenchResult> rows);   // an array of objects
std::string format_jsonl(std::span<const BenchResult> rows);  // one object per line
// "md", "csv", "json", "jsonl"; throws ember::Error for another name.
std::string format_results(std::string_view format, std::span<const BenchResult> rows);

// ---- synthetic models ----------------------------------------------------------------------

// A synthetic model (model/quantize/synth.h) of `shape` and `type`, cached as
// ${TMPDIR:-/tmp}/ember-synth-SHAPE-TYPE-vN.gguf: reused when it is present and loads,
// else written there. `log` gets a line saying which; `write_progress` sees the writing's
// progress (tools/progress.h shows it). Returns the path.
std::string cached_synthetic_model(const std::string& shape, const std::string& type, const std::string& vocab_path,
                                   const std::function<void(std::string_view line)>& log = {},
                                   const SynthProgressFn& write_progress = {});

// The first of `candidates` that exists; throws ember::Error naming all of them (for `what`).
std::string first_existing_path(std::span<const std::string> candidates, std::string_view what);

}  // namespace ember::bench
