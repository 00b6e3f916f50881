// `ember chat -m MODEL`: a conversation in the terminal, like `ollama run`. Each turn renders
// the model's chat template (model/chat) over the whole conversation and generates with
// reuse_prefix, so the cached conversation is kept and only the new tokens are prefilled.
// Commands: /bye, /clear, /system TEXT, /save FILE, /? . Ctrl-C stops the reply being written,
// not the program. When stdin is not a terminal each line is a user turn (scripts, tests).
#include "core/error.h"
#include "core/output_file.h"
#include "ember/session.h"
#include "jinja/error.h"
#include "jinja/json.h"
#include "model/chat/chat_template.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "tools/cli_io.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

struct ChatOptions {
    ember::cli::SessionOptions session;
    ember::SamplerParams sampling;
    int32_t n_predict = -1;
    std::string template_file;
    std::string template_name;
    std::string system;
    bool verbose = false;
};

std::atomic<bool> g_stop_reply{false};  // set by Ctrl-C: ends the reply being generated
extern "C" void on_sigint(int) { g_stop_reply.store(true); }

// SIGINT stops the current reply instead of the program (no SA_RESTART: a read at the prompt
// returns, and the prompt says how to leave).
void install_reply_interrupt() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
}

ember::jinja::Value message(const std::string& role, const std::string& content) {
    ember::jinja::Value m = ember::jinja::Value::make_dict();
    m.dict->set(ember::jinja::Value::string("role"), ember::jinja::Value::string(role));
    m.dict->set(ember::jinja::Value::string("content"), ember::jinja::Value::string(content));
    return m;
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

class Chat {
public:
    Chat(const ChatOptions& o, std::shared_ptr<const ember::Model> model)
        : o_(o), model_(std::move(model)), session_(model_, o.session.params()) {
        if (!o.template_file.empty()) {
            source_ = ember::cli::read_input_text(o.template_file);
        } else {
            ember::chat::ChatTemplate t = ember::chat::select_template(model_->file(), o.template_name);
            if (t.fallback) fmt::print(stderr, "note: {} has no chat template; using the built-in ChatML template\n", model_->path());
            source_ = std::move(t.source);
        }
        tokens_ = ember::chat::special_tokens(model_->vocab());
        reset();
        if (!o.system.empty()) set_system(o.system);
    }

    // One line of input: a command or a user turn. False: the user asked to leave.
    bool handle(const std::string& line) {
        const std::string text = trim(line);
        if (text.empty()) return true;
        if (text == "/bye" || text == "/exit") return false;
        if (text == "/?" || text == "/help") {
            say("/bye: leave; /clear: forget the conversation; /system TEXT: set the system message; "
                "/save FILE: write the conversation as JSON messages");
        } else if (text == "/clear") {
            reset();
            if (!system_.empty()) set_system(system_);
            session_.clear();
            say("Cleared the conversation.");
        } else if (text.rfind("/system", 0) == 0 && (text.size() == 7 || text[7] == ' ')) {
            const std::string s = trim(text.substr(7));
            if (s.empty()) {
                say("usage: /system TEXT");
            } else {
                set_system(s);
                said_text_.clear();  // the conversation's start changed
                said_tokens_.clear();
                say("Set the system message.");
            }
        } else if (text.rfind("/save", 0) == 0 && (text.size() == 5 || text[5] == ' ')) {
            save(trim(text.substr(5)));
        } else if (text[0] == '/') {
            say(fmt::format("Unknown command '{}'. Type /? for help.", text.substr(0, text.find(' '))));
        } else {
            turn(text);
        }
        return true;
    }

private:
    void say(const std::string& s) { ember::cli::write_stdout(s + "\n"); }

    void reset() {
        messages_ = ember::jinja::Value::make_list();
        said_text_.clear();
        said_tokens_.clear();
    }

    // The prompt's tokens. When it continues what the conversation said so far (the render of
    // the earlier turns plus the reply as generated), that part keeps its tokens — the reply's
    // tokens as sampled, which its text need not tokenize back to — and only the rest is
    // tokenized, so the cache holding them is reused whole.
    std::vector<int32_t> tokenize(const std::string& prompt) const {
        const ember::Vocab& vocab = model_->vocab();
        if (!said_text_.empty() && prompt.size() > said_text_.size() && prompt.compare(0, said_text_.size(), said_text_) == 0) {
            std::vector<int32_t> ids = said_tokens_;
            const std::vector<int32_t> rest = vocab.tokenize(prompt.substr(said_text_.size()), false, /*parse_special=*/true);
            ids.insert(ids.end(), rest.begin(), rest.end());
            return ids;
        }
        // The template writes the special tokens itself (BOS included, when it wants one).
        const bool has_bos = tokens_.bos && !tokens_.bos->empty() && prompt.rfind(*tokens_.bos, 0) == 0;
        return vocab.tokenize(prompt, /*add_special=*/!has_bos, /*parse_special=*/true);
    }

    void set_system(const std::string& s) {
        system_ = s;
        auto& items = messages_.list->items;
        const ember::jinja::Value m = message("system", s);
        const ember::jinja::Value* role = items.empty() ? nullptr : items[0].dict->find("role");
        if (role != nullptr && role->is_string() && role->s == "system") {
            items[0] = m;
        } else {
            items.insert(items.begin(), m);
        }
    }

    void save(const std::string& path) {
        if (path.empty()) return say("usage: /save FILE");
        try {
            ember::jinja::JsonOptions json;
            json.indent = "  ";
            const std::string text = ember::jinja::to_json(messages_, json) + "\n";
            ember::OutputFile out(path);
            out.write(text.data(), text.size());
            out.commit();
            say(fmt::format("Saved {} messages to {}.", messages_.list->items.size(), path));
        } catch (const std::exception& e) {
            fmt::print(stderr, "error: {}\n", e.what());
        }
    }

    void turn(const std::string& text) {
        messages_.list->items.push_back(message("user", text));
        try {
            const ember::jinja::Value context = ember::chat::make_context(messages_, /*add_generation_prompt=*/true,
                                                                          ember::jinja::Value::none(), tokens_);
            const std::string prompt = ember::chat::render(source_, context);
            const std::vector<int32_t> ids = tokenize(prompt);
            ember::GenerateParams p{o_.n_predict, o_.sampling, /*reuse_prefix=*/true};
            g_stop_reply.store(false);
            const ember::GenerateResult r = session_.generate(std::span<const int32_t>(ids), p, ember::cli::try_write_stdout,
                                                             &g_stop_reply);
            ember::cli::write_stdout(r.stop == ember::StopReason::StopFlag ? "\n(stopped)\n\n" : "\n\n");
            messages_.list->items.push_back(message("assistant", r.text));
            ++n_turns_;
            // What the cache now holds, as text and tokens: the next turn's render starts with it.
            said_text_ = prompt + r.text;
            said_tokens_ = ids;
            said_tokens_.insert(said_tokens_.end(), r.tokens.begin(), r.tokens.end());
            if (o_.verbose) {
                const double gen_rate = r.generate_ms > 0 ? 1000.0 * static_cast<double>(r.tokens.size()) / r.generate_ms : 0;
                fmt::print(stderr, "[turn {}: prompt {} tokens, {} reused, {} prefilled in {:.1f} ms; {} generated, {:.2f} t/s; {}]\n",
                           n_turns_, r.n_prompt, r.n_reused, r.n_prompt - r.n_reused, r.prompt_ms, r.tokens.size(),
                           gen_rate, ember::stop_reason_name(r.stop));
            }
        } catch (const ember::Error& e) {
            messages_.list->items.pop_back();  // the turn did not happen
            fmt::print(stderr, "error: {}\n", e.what());
        }
    }

    const ChatOptions& o_;
    std::shared_ptr<const ember::Model> model_;
    ember::Session session_;
    std::string source_;
    ember::chat::SpecialTokens tokens_;
    ember::jinja::Value messages_;
    std::string system_;
    std::string said_text_;            // the last turn's prompt and reply
    std::vector<int32_t> said_tokens_;  // their tokens (the cache's)
    int n_turns_ = 0;
};

int run(const ChatOptions& o) {
    auto model = ember::Model::load(o.session.model_path());
    Chat chat(o, model);
    const bool terminal = isatty(STDIN_FILENO) == 1;
    install_reply_interrupt();
    if (terminal) fmt::print(stderr, "Chatting with {}. Type /? for help, /bye to leave.\n", model->description());
    for (;;) {
        if (terminal) {
            ember::cli::write_stdout(">>> ");
            std::fflush(stdout);
        }
        std::string line;
        if (!std::getline(std::cin, line)) {
            if (terminal && g_stop_reply.exchange(false)) {  // Ctrl-C at the prompt: the read was interrupted
                std::cin.clear();
                std::clearerr(stdin);  // stdio marks an interrupted read as an error (and EOF)
                ember::cli::write_stdout("\nUse /bye or Ctrl-D to leave.\n");
                continue;
            }
            if (terminal) ember::cli::write_stdout("\n");
            break;
        }
        if (!chat.handle(line)) break;
    }
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<ChatOptions>();
    o->session.add_to(cmd);
    ember::cli::add_sampling_options(cmd, o->sampling);
    cmd.add_option("-n,--n-predict", o->n_predict, "most tokens per reply (-1: until the end of the turn)");
    cmd.add_option("--chat-template", o->template_file, "Jinja2 chat template file (default: the model's)");
    cmd.add_option("--template-name", o->template_name, "the model's named template (tokenizer.chat_template.NAME)");
    cmd.add_option("--system", o->system, "system message");
    cmd.add_flag("--verbose", o->verbose, "after each reply, the tokens prefilled (and reused) and the speed on stderr");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(chat, "Chat with a model in the terminal (its chat template, the conversation kept in the cache)", setup);
