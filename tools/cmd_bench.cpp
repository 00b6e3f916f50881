// `ember bench`: llama-bench-style pp/tg speed with a roofline column (bench/bench.h).
// Results go to stdout (-o md|csv|json|jsonl); probes and progress go to stderr.
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/kernel_levels.h"
#include "bench/bench.h"
#include "core/error.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

namespace {

struct BenchOptions {
    std::vector<std::string> models;
    std::string synth_shape;
    std::vector<std::string> synth_types;
    std::vector<std::string> p_args;  // -p values; "-pg a,b" arrives as "g" followed by "a,b"
    std::vector<std::string> n_args;
    std::vector<std::string> pg_args;
    std::vector<std::string> np_args;  // --parallel; "-np N" arrives in n_args as "p" then "N"
    std::vector<std::string> d_args;
    int reps = 5;
    std::vector<std::string> t_args;
    uint32_t n_batch = 2048;
    std::vector<std::string> backends;
    std::string output = "md";
    bool no_probes = false;
    size_t probe_mib = 1024;
    std::string vocab;
};

// "1,2" and "3" -> {1, 2, 3}.
std::vector<std::string> split_commas(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const std::string& a : args) {
        size_t start = 0;
        while (start <= a.size()) {
            const size_t comma = a.find(',', start);
            const std::string item = a.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!item.empty()) out.push_back(item);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return out;
}

int to_int(const std::string& s, const char* option) {
    try {
        size_t used = 0;
        const int v = std::stoi(s, &used);
        if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
    ember::fail("{}: '{}' is not a number", option, s);
}

std::vector<int> ints(const std::vector<std::string>& args, const char* option) {
    std::vector<int> out;
    for (const std::string& s : split_commas(args)) out.push_back(to_int(s, option));
    return out;
}

ember::bench::TestSpec pg_pair(const std::string& arg) {
    const std::vector<std::string> parts = split_commas({arg});
    if (parts.size() != 2) ember::fail("-pg: expected two numbers 'PROMPT,GEN', not '{}'", arg);
    return {to_int(parts[0], "-pg"), to_int(parts[1], "-pg")};
}

int run(BenchOptions& o) {
    ember::bench::BenchParams params;
    auto progress = [](std::string_view line) {
        fmt::print(stderr, "{}\n", line);
        std::fflush(stderr);
    };
    params.progress = progress;

    // -p: plain values are prompt lengths; a "g" (from "-pg") makes the next value a pp+tg pair.
    std::vector<std::string> p_plain;
    for (size_t i = 0; i < o.p_args.size(); ++i) {
        if (o.p_args[i] == "g") {
            if (i + 1 >= o.p_args.size()) ember::fail("-pg needs a value 'PROMPT,GEN'");
            params.pg.push_back(pg_pair(o.p_args[++i]));
        } else if (o.p_args[i].size() > 1 && o.p_args[i][0] == 'g') {
            params.pg.push_back(pg_pair(o.p_args[i].substr(1)));  // "-pg512,128"
        } else {
            p_plain.push_back(o.p_args[i]);
        }
    }
    for (const std::string& a : o.pg_args) params.pg.push_back(pg_pair(a));
    // -n: plain values are generation lengths; a "p" (from "-np") makes the next value -np's.
    std::vector<std::string> n_plain, np = o.np_args;
    for (size_t i = 0; i < o.n_args.size(); ++i) {
        if (o.n_args[i] == "p") {
            if (i + 1 >= o.n_args.size()) ember::fail("-np needs a value: sequences decoded together, comma list");
            np.push_back(o.n_args[++i]);
        } else if (o.n_args[i].size() > 1 && o.n_args[i][0] == 'p') {
            np.push_back(o.n_args[i].substr(1));  // "-np4"
        } else {
            n_plain.push_back(o.n_args[i]);
        }
    }
    o.n_args = n_plain;
    if (!np.empty()) params.n_parallel = ints(np, "-np");
    if (!o.d_args.empty()) params.n_depth = ints(o.d_args, "-d");
    const bool only_pg = !params.pg.empty() && p_plain.empty() && o.n_args.empty();
    if (!p_plain.empty()) params.n_prompt = ints(p_plain, "-p");
    if (!o.n_args.empty()) params.n_gen = ints(o.n_args, "-n");
    if (only_pg) {  // like llama-bench, "-pg" alone keeps the default pp and tg tests
        params.n_prompt = {512};
        params.n_gen = {128};
    }
    params.reps = o.reps;
    params.n_batch = o.n_batch;
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    params.threads = o.t_args.empty() ? std::vector<int>{hw} : ints(o.t_args, "-t");
    for (int& t : params.threads) t = t == 0 ? hw : t;
    params.backends = o.backends.empty() ? std::vector<std::string>{"cpu"} : split_commas(o.backends);
    params.models = split_commas(o.models);
    (void)ember::bench::format_results(o.output, {});  // reject a bad -o before any work

    if (!o.synth_shape.empty()) {
        std::string vocab = o.vocab;
        if (vocab.empty()) {
            const std::string candidates[] = {EMBER_SYNTH_VOCAB_INSTALLED, EMBER_SYNTH_VOCAB_SOURCE};
            vocab = ember::bench::first_existing_path(candidates, "the Llama SPM vocabulary (llama-spm.gguf)");
        }
        const std::vector<std::string> types =
            o.synth_types.empty() ? std::vector<std::string>{"Q4_K_M"} : split_commas(o.synth_types);
        for (const std::string& type : types) {
            std::optional<ember::cli::Progress> writing;  // shown only when the model is written
            params.models.push_back(ember::bench::cached_synthetic_model(
                o.synth_shape, type, vocab, progress,
                [&](size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total, std::string_view name) {
                    if (!writing) writing.emplace("bench: synth");
                    writing->update(bytes_total ? static_cast<double>(bytes_done) / static_cast<double>(bytes_total) : 1.0,
                                    fmt::format("{}/{} {}", done, total, name));
                }));
            if (writing) writing->finish();
        }
    } else if (!o.synth_types.empty()) {
        ember::fail("--type needs --synth SHAPE");
    }
    if (params.models.empty()) ember::fail("no model: give -m FILE or --synth SHAPE");

    const ember::cpu::CpuKernels& kernels = ember::cpu::cpu_kernels();
    const ember::cpu::CpuFeatures& features = ember::cpu::cpu_features();
    std::string feature_names;
    for (const std::string& f : features.names()) feature_names += (feature_names.empty() ? "" : " ") + f;
    fmt::print(stderr, "bench: CPU kernels '{}', CPU features [{}], {} hardware threads\n", kernels.variant,
               feature_names, hw);

    ember::bench::Probes probes;
    if (!o.no_probes) {
        const int nt = *std::max_element(params.threads.begin(), params.threads.end());
        probes.threads = nt;
        probes.bandwidth_gbs = ember::bench::probe_memory_bandwidth(nt, o.probe_mib << 20, ember::bench::kBandwidthRuns,
                                                                    &probes.bandwidth_pattern);
        fmt::print(stderr,
                   "bench: memory read bandwidth {:.1f} GB/s ({} threads, {} MiB buffer, best of {} passes of 1-8 "
                   "streams/thread, won by {})\n",
                   probes.bandwidth_gbs, nt, o.probe_mib, ember::bench::kBandwidthRuns, probes.bandwidth_pattern);
        probes.peak_gflops = ember::bench::probe_peak_gflops(nt, &probes.flops_kernel);
        fmt::print(stderr, "bench: peak FP32 rate {:.1f} GFLOP/s ({} threads, {} FMA loop, best of 4)\n",
                   probes.peak_gflops, nt, probes.flops_kernel);
        probes.peak_int8_gops = ember::bench::probe_peak_int8_gops(nt, &probes.int8_kernel);
        fmt::print(stderr,
                   "bench: peak int8 rate {:.1f} GOP/s ({} threads, {} loop, best of 4; the pp roofline of "
                   "quantized matmuls)\n",
                   probes.peak_int8_gops, nt, probes.int8_kernel);
    }

    const std::vector<ember::bench::BenchResult> rows = ember::bench::run_bench(params, probes);
    const std::string text = ember::bench::format_results(o.output, rows);
    ember::cli::write_stdout(text);
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<BenchOptions>();
    cmd.add_option("-m,--model", o->models, "GGUF model file(s): repeat, or a comma list");
    cmd.add_option("--synth", o->synth_shape, "benchmark a synthetic model of this shape (tinyllama-1.1b, llama-0.5b, test-tiny)");
    cmd.add_option("--type", o->synth_types, "synthetic model type(s), comma list (default Q4_K_M)");
    cmd.add_option("-p,--n-prompt", o->p_args, "prompt lengths, comma list (default 512; 0: no pp test)");
    cmd.add_option("-n,--n-gen", o->n_args, "generation lengths, comma list (default 128; 0: no tg test)");
    cmd.add_option("--pg", o->pg_args, "combined test PROMPT,GEN (also accepted as -pg)");
    cmd.add_option("--parallel", o->np_args,
                   "sequences decoded together, comma list (also -np; default 1): t/s is their aggregate");
    cmd.add_option("-d,--n-depth", o->d_args, "context tokens per sequence filled before each test, comma list (default 0)");
    cmd.add_option("-r,--repetitions", o->reps, "timed repetitions per test")->capture_default_str();
    cmd.add_option("-t,--threads", o->t_args, "thread counts, comma list (default: all cores)");
    cmd.add_option("-b,--batch-size", o->n_batch, "tokens per decode step for the prompt")->capture_default_str();
    cmd.add_option("--backend", o->backends, "backends, comma list (default cpu)");
    cmd.add_option("-o,--output", o->output, "output format: md, csv, json, jsonl")->capture_default_str();
    cmd.add_flag("--no-probes", o->no_probes, "skip the bandwidth and FLOP probes (no roofline column)");
    cmd.add_option("--probe-mib", o->probe_mib, "buffer size of the bandwidth probe in MiB")->capture_default_str();
    cmd.add_option("--vocab", o->vocab, "vocabulary for --synth (default: the bundled Llama SPM vocab)");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(bench, "Measure prompt-processing and generation speed (llama-bench style)", setup);
