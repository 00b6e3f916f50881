// `ember generate`: streams generated text to stdout; logs and timings go to stderr.
#include "core/error.h"
#include "ember/parallel.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace {

struct GenerateOptions {
    ember::cli::SessionOptions session;
    std::string prompt = "Once upon a time";
    std::string prompt_file;
    int32_t n_predict = 128;
    ember::SamplerParams sampling;
    uint32_t parallel = 0;  // --parallel N: the prompts (lines of -f) through N sequences at once
};

// --parallel: each non-empty line of the prompt text is a request; N sequences of one Engine run
// them with continuous batching. Each completion is printed (prompt, then text) as it finishes.
int run_parallel(const GenerateOptions& o, const std::string& text) {
    std::vector<ember::ParallelRequest> requests;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            requests.push_back({line, ember::GenerateParams{o.n_predict, o.sampling, false}});
        }
        start = end + 1;
    }
    if (requests.empty()) ember::fail("--parallel: no prompts (one per line of -f FILE, or -p)");
    const std::string path = o.session.model_path();
    auto model = ember::Model::load(path);
    ember::EngineParams ep;
    const ember::SessionParams sp = o.session.params();
    ep.n_ctx = sp.n_ctx;
    ep.n_seq = o.parallel;
    ep.n_batch = sp.n_batch;
    ep.n_threads = sp.n_threads;
    ep.kv_type = sp.kv_type;
    ep.backend = sp.backend;
    ep.device = sp.device;
    ep.n_gpu_layers = sp.n_gpu_layers;
    ember::Engine engine(model, ep);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<ember::GenerateResult> results = ember::generate_parallel(engine, requests);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    size_t n_tokens = 0;
    for (size_t i = 0; i < results.size(); ++i) {
        ember::cli::write_stdout(fmt::format("[{}] {}{}\n", i + 1, requests[i].prompt, results[i].text));
        n_tokens += results[i].n_prompt + results[i].tokens.size();
    }
    fmt::print(stderr, "model: {} ({}), context {} shared by {} sequences, backend {}\n", path, model->description(),
               engine.n_ctx(), engine.n_seq(), o.session.backend);
    fmt::print(stderr, "{} requests, {} tokens (prompt and generated) in {:.1f} ms: {:.2f} t/s in all\n", results.size(),
               n_tokens, ms, ms > 0 ? 1000.0 * static_cast<double>(n_tokens) / ms : 0.0);
    return 0;
}

int run(const GenerateOptions& o) {
    if (o.n_predict == 0 || o.n_predict < -1) ember::fail("-n must be a positive number of tokens, or -1 for no limit");
    const std::string prompt = o.prompt_file.empty() ? o.prompt : ember::cli::read_input_text(o.prompt_file);
    if (o.parallel > 0) return run_parallel(o, prompt);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string path = o.session.model_path();
    auto model = ember::Model::load(path);
    ember::Session session(model, o.session.params());
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    ember::GenerateParams params{o.n_predict, o.sampling, false};
    // A failed write (a full disk, a reader that went away with SIGPIPE ignored) ends the generation.
    const ember::GenerateResult r = session.generate(prompt, params, ember::cli::try_write_stdout);
    ember::cli::write_stdout("\n");
    const auto rate = [](size_t n, double ms) { return ms > 0 ? 1000.0 * static_cast<double>(n) / ms : 0.0; };
    // Logs go to stderr after the text, so that an error is always the first line there.
    fmt::print(stderr, "model: {} ({}), context {}, backend {}\n", path, model->description(), session.n_ctx(),
               o.session.backend);
    fmt::print(stderr, "seed {}, stopped by {}\n", r.seed, ember::stop_reason_name(r.stop));
    fmt::print(stderr, "load: {:.1f} ms | prompt: {} tokens, {:.1f} ms, {:.2f} t/s | generation: {} tokens, {:.1f} ms, {:.2f} t/s\n",
               load_ms, r.n_prompt, r.prompt_ms, rate(r.n_prompt, r.prompt_ms), r.tokens.size(), r.generate_ms,
               rate(r.tokens.size(), r.generate_ms));
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<GenerateOptions>();
    o->session.add_to(cmd);
    auto* p = cmd.add_option("-p,--prompt", o->prompt, "prompt text");
    cmd.add_option("-f,--file", o->prompt_file, "read the prompt from a file (- for standard input)")->excludes(p);
    cmd.add_option("-n,--n-predict", o->n_predict, "tokens to generate (-1: until the end of text)");
    ember::cli::add_sampling_options(cmd, o->sampling);
    cmd.add_option("--parallel", o->parallel,
                   "run each line of the prompt (-f FILE) as its own request, N sequences at once through one engine")
        ->check(CLI::Range(1, 64));
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(generate, "Generate text from a prompt", setup);
