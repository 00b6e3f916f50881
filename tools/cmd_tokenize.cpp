// `ember tokenize`: the prompt's token ids on one line.
#include "core/error.h"
#include "model/runtime/model.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

namespace {

struct TokenizeOptions {
    ember::cli::SessionOptions session;
    std::string prompt;
    std::string prompt_file;
    CLI::Option* prompt_option = nullptr;
    bool no_bos = false;
    bool parse_special = false;
};

int run(const TokenizeOptions& o) {
    const ember::gguf::File file = ember::gguf::File::open(o.session.model_path());
    const ember::Vocab vocab = ember::Vocab::from_gguf(file);  // vocab-only files work too
    if (o.prompt_file.empty() && o.prompt_option->count() == 0) ember::fail("no text: pass -p TEXT or -f FILE");
    const std::string text = o.prompt_file.empty() ? o.prompt : ember::cli::read_input_text(o.prompt_file);
    ember::cli::write_stdout(fmt::format("{}\n", fmt::join(vocab.tokenize(text, !o.no_bos, o.parse_special), " ")));
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<TokenizeOptions>();
    o->session.add_to(cmd, /*with_runtime=*/false);
    o->prompt_option = cmd.add_option("-p,--prompt", o->prompt, "text to tokenize");
    cmd.add_option("-f,--file", o->prompt_file, "read the text from a file (- for standard input)")
        ->excludes(o->prompt_option);
    cmd.add_flag("--no-bos", o->no_bos, "do not add the BOS token");
    cmd.add_flag("--parse-special", o->parse_special, "turn special-token texts like <s> into their ids");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(tokenize, "Print the token ids of a text", setup);
