// `ember synth`: writes a random-weight llama GGUF of a named shape (model/quantize/synth.h).
#include "bench/bench.h"
#include "core/error.h"
#include "model/quantize/synth.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <memory>

namespace {

struct SynthOptions {
    std::string out;
    std::string shape = "tinyllama-1.1b";
    std::string type = "Q4_K_M";
    uint64_t seed = 42;
    std::string vocab;
    int threads = 0;
    bool exact = false;
};

int run(const SynthOptions& o) {
    std::string vocab = o.vocab;
    if (vocab.empty()) {
        const std::string candidates[] = {EMBER_SYNTH_VOCAB_INSTALLED, EMBER_SYNTH_VOCAB_SOURCE};
        vocab = ember::bench::first_existing_path(candidates, "the Llama SPM vocabulary (llama-spm.gguf)");
    }
    ember::SynthParams p;
    p.shape = o.shape;
    p.type = o.type;
    p.seed = o.seed;
    p.vocab_path = vocab;
    p.n_threads = o.threads;
    p.exact = o.exact;
    ember::cli::Progress progress("synth");
    p.progress = [&](size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total, std::string_view name) {
        const double frac = bytes_total ? static_cast<double>(bytes_done) / static_cast<double>(bytes_total) : 1.0;
        progress.update(frac, fmt::format("{}/{} {}", done, total, name));
    };
    ember::SynthSummary s;
    try {
        s = ember::write_synthetic_model(o.out, p);
    } catch (...) {
        progress.abandon();
        throw;
    }
    progress.finish(fmt::format("{} tensors", s.n_tensors));
    fmt::print(stderr, "wrote {}: {} {}, {} tensors, {} parameters, {:.2f} MiB, {:.1f} s\n", o.out, o.shape,
               ember::synth_file_type(o.type).name, s.n_tensors, s.n_params,
               static_cast<double>(s.file_bytes) / (1024.0 * 1024.0), progress.elapsed_s());
    return 0;
}

// CLI11 turns an out-of-range unsigned into its maximum; the seed must be what was typed.
const CLI::Validator kUint64(
    [](const std::string& text) -> std::string {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size()) return "must be an integer from 0 to 18446744073709551615";
        return {};
    },
    "UINT64");

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<SynthOptions>();
    std::string shapes, types;
    for (const auto& s : ember::synth_shapes()) shapes += (shapes.empty() ? "" : ", ") + s.name;
    for (const auto& t : ember::synth_file_types()) types += (types.empty() ? "" : ", ") + std::string(t.name);
    cmd.add_option("out", o->out, "output GGUF file")->required();
    cmd.add_option("--shape", o->shape, "model shape: " + shapes)->capture_default_str();
    cmd.add_option("--type", o->type, "file type: " + types)->capture_default_str();
    cmd.add_option("--seed", o->seed, "random seed for the weights")->capture_default_str()->check(kUint64);
    cmd.add_option("--vocab", o->vocab, "vocab-only GGUF to copy the tokenizer from (default: the bundled Llama SPM vocab)");
    cmd.add_option("-t,--threads", o->threads, "quantization threads (0: all cores)")->check(ember::cli::kThreadCount);
    cmd.add_flag("--exact", o->exact, "quantize every row (slow) instead of drawing blocks from a quantized pool");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(synth, "Write a random-weight llama model of a named shape (for benchmarks and tests)", setup);
