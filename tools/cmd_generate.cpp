// `ember generate`: streams generated text to stdout; logs and timings go to stderr.
#include "core/error.h"
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
};

int run(const GenerateOptions& o) {
    if (o.n_predict == 0 || o.n_predict < -1) ember::fail("-n must be a positive number of tokens, or -1 for no limit");
    const std::string prompt = o.prompt_file.empty() ? o.prompt : ember::cli::read_input_text(o.prompt_file);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string path = o.session.model_path();
    auto model = ember::Model::load(path);
    ember::Session session(model, o.session.params());
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    ember::GenerateParams params{o.n_predict, o.sampling};
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
    cmd.add_option("--temp", o->sampling.temperature, "temperature (0: greedy)")->check(ember::cli::kNonNegative);
    cmd.add_option("--top-k", o->sampling.top_k, "top-k (0: off)")->check(ember::cli::kNonNegative);
    cmd.add_option("--top-p", o->sampling.top_p, "top-p (1: off)");
    cmd.add_option("--min-p", o->sampling.min_p, "min-p (0: off)");
    cmd.add_option("--repeat-penalty", o->sampling.repeat_penalty, "repetition penalty (1: off)");
    cmd.add_option("--repeat-last-n", o->sampling.repeat_last_n, "tokens the repetition penalty looks back over");
    cmd.add_option("--seed", o->sampling.seed, "random seed (default: random)");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(generate, "Generate text from a prompt", setup);
