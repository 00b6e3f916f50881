// `ember perplexity`: perplexity over a text file, by the reference method; the last line
// is "PPL = x.xxxx +/- y.yyyyy". With --kl-divergence-base FILE the run's log-probabilities are
// saved; with --kl-divergence FILE another model is compared against them (model/eval/kl_divergence.h).
#include "core/error.h"
#include "model/eval/kl_divergence.h"
#include "model/eval/perplexity.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <memory>
#include <optional>

namespace {

struct PerplexityOptions {
    ember::cli::SessionOptions session;
    std::string file;
    std::string kld_base_out;  // --kl-divergence-base: write the base here
    std::string kld_base_in;   // --kl-divergence: compare against this base
};

// The running perplexity after each chunk, through the progress reporter; the last line
// (at the end of the run) gives the final running value.
class ChunkProgress {
public:
    explicit ChunkProgress(const char* label) : progress_(label) {}
    ember::ChunkDoneFn callback() {
        return [this](size_t chunk, size_t n_chunks, double ppl) {
            last_ = fmt::format("chunk {}/{} PPL {:.4f}", chunk + 1, n_chunks, ppl);
            if (chunk + 1 < n_chunks) progress_.update(static_cast<double>(chunk + 1) / static_cast<double>(n_chunks), last_);
        };
    }
    void finish() { progress_.finish(last_); }

private:
    ember::cli::Progress progress_;
    std::string last_;
};

void print_ppl(const ember::PerplexityResult& r, uint32_t n_ctx) {
    fmt::print(stderr, "{} chunks of {} tokens, {} tokens scored\n", r.n_chunks, n_ctx, r.n_scored);
    ember::cli::write_stdout(fmt::format("PPL = {:.4f} +/- {:.5f}\n", r.ppl, r.ppl_stderr));
}

// --kl-divergence: the tokens come from the base file; -f, when given, must tokenize to them.
int run_kl_divergence(PerplexityOptions o) {
    const ember::KlDivergenceBase base = ember::read_kl_divergence_base(o.kld_base_in);
    if (o.session.ctx != 0 && o.session.ctx != base.n_ctx) {
        ember::fail("-c {} differs from the base run's context of {} tokens ({})", o.session.ctx, base.n_ctx,
                    o.kld_base_in);
    }
    o.session.ctx = base.n_ctx;
    auto model = ember::Model::load(o.session.model_path());
    ember::Session session(model, o.session.params());
    if (!o.file.empty()) {
        const std::vector<int32_t> tokens = ember::perplexity_tokens(session, ember::cli::read_input_text(o.file), base.n_ctx);
        if (tokens != base.tokens) {
            ember::fail("{} tokenizes differently from the base run's text in {} ({} vs {} tokens): another text or "
                        "another vocabulary",
                        o.file, o.kld_base_in, tokens.size(), base.tokens.size());
        }
    }
    ChunkProgress progress("kl-divergence");
    const ember::KlDivergenceResult r = ember::kl_divergence(session, base, progress.callback());
    progress.finish();
    fmt::print(stderr, "{} chunks of {} tokens, {} positions compared with {}\n", base.n_chunks, base.n_ctx, r.n,
               o.kld_base_in);
    ember::cli::write_stdout(ember::format_kl_divergence(r) + fmt::format("PPL = {:.4f} +/- {:.5f}\n", r.ppl, r.ppl_unc));
    return 0;
}

int run(PerplexityOptions o) {
    if (!o.kld_base_out.empty() && !o.kld_base_in.empty()) {
        ember::fail("--kl-divergence-base writes a base run and --kl-divergence compares with one: use one of them");
    }
    if (!o.kld_base_in.empty()) return run_kl_divergence(std::move(o));
    if (o.file.empty()) ember::fail("no text: pass -f FILE");
    // Created before the run, so an output that cannot be written fails now, not after it.
    std::optional<ember::OutputFile> base_out;
    if (!o.kld_base_out.empty()) base_out.emplace(o.kld_base_out);
    const std::string text = ember::cli::read_input_text(o.file);
    if (o.session.ctx == 0) o.session.ctx = 512;
    const uint32_t n_ctx = o.session.ctx;
    auto model = ember::Model::load(o.session.model_path());
    ember::Session session(model, o.session.params());
    ChunkProgress progress("perplexity");
    if (!base_out) {
        const ember::PerplexityResult r = ember::perplexity(session, text, n_ctx, progress.callback());
        progress.finish();
        print_ppl(r, n_ctx);
        return 0;
    }
    if (n_ctx > session.n_ctx()) ember::fail("perplexity context {} exceeds the session's {}", n_ctx, session.n_ctx());
    const std::vector<int32_t> tokens = ember::perplexity_tokens(session, text, n_ctx);
    const ember::KlDivergenceBase base = ember::collect_kl_divergence_base(session, tokens, n_ctx, progress.callback());
    progress.finish();
    ember::write_kl_divergence_base(*base_out, base);
    fmt::print(stderr, "wrote the base log-probabilities to {} ({} positions x {} tokens)\n", o.kld_base_out,
               base.n_chunks * base.n_scored_per_chunk(), base.n_vocab);
    print_ppl(ember::base_perplexity(base), n_ctx);
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<PerplexityOptions>();
    o->session.add_to(cmd);
    cmd.add_option("-f,--file", o->file,
                   "text file, - for standard input (with --kl-divergence: optional, checked against the base's tokens)");
    cmd.add_option("--kl-divergence-base", o->kld_base_out,
                   "save this run's log-probabilities to FILE, as the base for --kl-divergence");
    cmd.add_option("--kl-divergence", o->kld_base_in,
                   "compare this model with the base run saved in FILE: KL divergence, same top token, PPL ratio");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(perplexity, "Measure perplexity over a text file (and KL divergence against a base run)", setup);
