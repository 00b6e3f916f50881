// `ember chat-template`: renders a chat template with a JSON context and prints exactly the
// result (nothing added), for checking prompts against other implementations.
//
//   ember chat-template (--template FILE | -m MODEL) --context CTX.json
//   ember chat-template -m MODEL --messages MSGS.json [--add-generation-prompt]
//
// With -m the template is the model's (`--template-name NAME` picks `tokenizer.chat_template.NAME`)
// unless --template is given, and bos_token / eos_token default to the model's token texts.
// raise_exception(MSG) ends with "error: template raised: MSG" and exit status 1.
#include "core/error.h"
#include "ember/gguf.h"
#include "jinja/json.h"
#include "model/chat/chat_template.h"
#include "model/tokenizer/vocab.h"
#include "tools/cli_io.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

namespace {

struct ChatTemplateOptions {
    std::string template_file;
    std::string model;
    std::string template_name;
    std::string context_file;
    std::string messages_file;
    bool add_generation_prompt = false;
};

ember::jinja::Value read_json(const std::string& path, const char* what) {
    const std::string text = ember::cli::read_input_text(path);
    try {
        return ember::jinja::parse_json(text);
    } catch (const ember::Error& e) {
        ember::fail("{} {}: {}", what, path, e.what());
    }
}

int run(const ChatTemplateOptions& o) {
    if (o.template_file.empty() && o.model.empty()) {
        fmt::print(stderr, "error: chat-template needs --template FILE or -m MODEL\n");
        return 2;
    }
    if (o.context_file.empty() && o.messages_file.empty()) {
        fmt::print(stderr, "error: chat-template needs --context CTX.json or --messages MSGS.json\n");
        return 2;
    }
    std::string source;
    std::string source_name;
    ember::chat::SpecialTokens tokens;
    if (!o.model.empty()) {
        const ember::gguf::File file = ember::gguf::File::open(o.model);
        tokens = ember::chat::special_tokens(ember::Vocab::from_gguf(file));
        if (o.template_file.empty()) {
            ember::chat::ChatTemplate t = ember::chat::select_template(file, o.template_name);
            if (t.fallback)
                fmt::print(stderr, "note: {} has no chat template; using the built-in ChatML template\n", o.model);
            source = std::move(t.source);
            source_name = o.model;
        }
    }
    if (!o.template_file.empty()) {
        source = ember::cli::read_input_text(o.template_file);
        source_name = o.template_file;
    }

    ember::jinja::Value context;
    if (!o.context_file.empty()) {
        context = read_json(o.context_file, "--context");
        if (!context.is_mapping()) ember::fail("--context {}: expected a JSON object of the template's variables", o.context_file);
        ember::chat::add_special_tokens(context, tokens);
    } else {
        ember::jinja::Value messages = read_json(o.messages_file, "--messages");
        if (!messages.is_list()) ember::fail("--messages {}: expected a JSON array of messages", o.messages_file);
        context = ember::chat::make_context(messages, o.add_generation_prompt, ember::jinja::Value::none(), tokens);
    }

    std::string text;
    try {
        text = ember::chat::render(source, context);
    } catch (const ember::jinja::TemplateError& e) {
        if (e.kind() == ember::jinja::ErrorKind::Raised || e.line() == 0) throw;
        const char* kind = e.kind() == ember::jinja::ErrorKind::Syntax ? "syntax error" : ember::jinja::error_kind_name(e.kind());
        ember::fail("{}:{}:{}: {}: {}", source_name, e.line(), e.column(), kind, e.message());
    }
    ember::cli::write_stdout(text);
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<ChatTemplateOptions>();
    cmd.add_option("--template", o->template_file, "Jinja2 chat template file");
    cmd.add_option("-m,--model", o->model, "GGUF model (or vocab) file: its template, bos_token and eos_token");
    cmd.add_option("--template-name", o->template_name, "with -m: the named variant tokenizer.chat_template.NAME");
    auto* ctx = cmd.add_option("--context", o->context_file, "JSON object of the template's variables (- for stdin)");
    cmd.add_option("--messages", o->messages_file, "JSON array of messages: builds the context")->excludes(ctx);
    cmd.add_flag("--add-generation-prompt", o->add_generation_prompt, "with --messages: end with the assistant's turn");
    return [o] { return run(*o); };
}

}  // namespace

// Registered by hand: EMBER_CLI_COMMAND makes the name from an identifier, which cannot hold '-'.
[[maybe_unused]] static const bool ember_cli_command_registered_chat_template =
    ::ember::cli::register_command({"chat-template", "Render a chat template with a JSON context", setup});
