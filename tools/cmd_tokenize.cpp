// `ember tokenize`: the prompt's token ids on one line.
#include "model/model.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

namespace {

struct TokenizeOptions {
    ember::cli::SessionOptions session;
    std::string prompt;
    bool no_bos = false;
    bool parse_special = false;
};

int run(const TokenizeOptions& o) {
    const ember::gguf::File file = ember::gguf::File::open(o.session.model_path());
    const ember::Vocab vocab = ember::Vocab::from_gguf(file);  // vocab-only files work too
    fmt::print("{}\n", fmt::join(vocab.tokenize(o.prompt, !o.no_bos, o.parse_special), " "));
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<TokenizeOptions>();
    o->session.add_to(cmd, /*with_runtime=*/false);
    cmd.add_option("-p,--prompt", o->prompt, "text to tokenize")->required();
    cmd.add_flag("--no-bos", o->no_bos, "do not add the BOS token");
    cmd.add_flag("--parse-special", o->parse_special, "turn special-token texts like <s> into their ids");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(tokenize, "Print the token ids of a text", setup);
