// `ember eval`: the logits of every prompt position, as float32 rows of n_vocab, and the
// prompt's token ids on stdout (the layout of the reference logits files).
#include "core/error.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <memory>

namespace {

struct EvalOptions {
    ember::cli::SessionOptions session;
    std::string prompt;
    std::string prompt_file;
    CLI::Option* prompt_option = nullptr;
    std::string logits_out;
};

int run(const EvalOptions& o) {
    auto model = ember::Model::load(o.session.model_path());
    ember::Session session(model, o.session.params());
    if (o.prompt_file.empty() && o.prompt_option->count() == 0) ember::fail("no prompt: pass -p TEXT or -f FILE");
    const std::string prompt = o.prompt_file.empty() ? o.prompt : ember::cli::read_input_text(o.prompt_file);
    if (prompt.empty()) ember::fail("the prompt is empty");
    const std::vector<int32_t> tokens = session.tokenize(prompt);
    if (tokens.size() > session.n_ctx()) {
        ember::fail("the prompt is {} tokens, longer than the context of {} tokens", tokens.size(), session.n_ctx());
    }
    session.decode(tokens, /*all_logits=*/true);
    if (!o.logits_out.empty()) {
        std::FILE* f = std::fopen(o.logits_out.c_str(), "wb");
        if (f == nullptr) ember::fail("cannot write {}", o.logits_out);
        bool ok = true;
        for (size_t i = 0; i < tokens.size(); ++i) {
            const auto row = session.logits(i);
            ok = ok && std::fwrite(row.data(), sizeof(float), row.size(), f) == row.size();
        }
        ok = (std::fclose(f) == 0) && ok;
        if (!ok) ember::fail("writing {} failed", o.logits_out);
    }
    ember::cli::write_stdout(fmt::format("{}\n", fmt::join(tokens, " ")));
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<EvalOptions>();
    o->session.add_to(cmd);
    o->prompt_option = cmd.add_option("-p,--prompt", o->prompt, "prompt text");
    cmd.add_option("-f,--file", o->prompt_file, "read the prompt from a file (- for standard input)")
        ->excludes(o->prompt_option);
    cmd.add_option("--logits-out", o->logits_out, "write float32 logits, one row of n_vocab per prompt position");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(eval, "Compute the logits of every prompt position", setup);
