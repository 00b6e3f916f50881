// `ember perplexity`: perplexity over a text file, by the reference method; the last line
// is "PPL = x.xxxx +/- y.yyyyy".
#include "core/error.h"
#include "model/perplexity.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace {

struct PerplexityOptions {
    ember::cli::SessionOptions session;
    std::string file;
};

int run(PerplexityOptions o) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) ember::fail("cannot read {}", o.file);
    std::ostringstream text;
    text << in.rdbuf();
    if (o.session.ctx == 0) o.session.ctx = 512;
    const uint32_t n_ctx = o.session.ctx;
    auto model = ember::Model::load(o.session.model_path());
    ember::Session session(model, o.session.params());
    const ember::PerplexityResult r = ember::perplexity(session, text.str(), n_ctx, [](size_t chunk, double ppl) {
        fmt::print(stderr, "[{}]{:.4f} ", chunk + 1, ppl);
    });
    fmt::print(stderr, "\n{} chunks of {} tokens, {} tokens scored\n", r.n_chunks, n_ctx, r.n_scored);
    fmt::print("PPL = {:.4f} +/- {:.5f}\n", r.ppl, r.ppl_stderr);
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<PerplexityOptions>();
    o->session.add_to(cmd);
    cmd.add_option("-f,--file", o->file, "text file")->required();
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(perplexity, "Measure perplexity over a text file", setup);
