// Chat templates from GGUF metadata, the ChatML fallback, and rendering.
#include "model/chat/chat_template.h"

#include "core/error.h"
#include "ember/gguf.h"
#include "model/tokenizer/vocab.h"

namespace ember::chat {

namespace {
constexpr std::string_view kKey = "tokenizer.chat_template";
}

std::optional<std::string> template_from_gguf(const gguf::File& file, std::string_view name) {
    std::string key(kKey);
    if (!name.empty()) {
        key += '.';
        key += name;
    }
    return file.get_string_opt(key);
}

std::vector<std::string> template_names(const gguf::File& file) {
    std::vector<std::string> names;
    const std::string prefix = std::string(kKey) + ".";
    if (file.get_string_opt(kKey)) names.emplace_back();
    for (const gguf::KeyValue& kv : file.metadata()) {
        if (kv.key.size() > prefix.size() && kv.key.compare(0, prefix.size(), prefix) == 0 &&
            file.get_string_opt(kv.key))
            names.push_back(kv.key.substr(prefix.size()));
    }
    return names;
}

const std::string& chatml_template() {
    static const std::string t =
        "{%- for message in messages -%}\n"
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | string + '<|im_end|>\\n' -}}\n"
        "{%- endfor -%}\n"
        "{%- if add_generation_prompt -%}\n"
        "{{- '<|im_start|>assistant\\n' -}}\n"
        "{%- endif -%}\n";
    return t;
}

ChatTemplate select_template(const gguf::File& file, std::string_view name) {
    if (auto t = template_from_gguf(file, name)) return {*t, false};
    if (!name.empty()) {
        std::string have;
        for (const std::string& n : template_names(file)) have += (have.empty() ? "" : ", ") + (n.empty() ? "(default)" : n);
        fail("the model has no chat template named '{}' (it has: {})", name, have.empty() ? "none" : have);
    }
    return {chatml_template(), true};
}

SpecialTokens special_tokens(const Vocab& vocab) {
    SpecialTokens t;
    if (vocab.bos() != kNoToken) t.bos = std::string(vocab.token_text(vocab.bos()));
    if (vocab.eos() != kNoToken) t.eos = std::string(vocab.token_text(vocab.eos()));
    return t;
}

void add_special_tokens(jinja::Value& context, const SpecialTokens& tokens) {
    if (!context.is_dict()) return;
    if (tokens.bos && !context.dict->find(std::string_view("bos_token")))
        context.dict->set(jinja::Value::string("bos_token"), jinja::Value::string(*tokens.bos));
    if (tokens.eos && !context.dict->find(std::string_view("eos_token")))
        context.dict->set(jinja::Value::string("eos_token"), jinja::Value::string(*tokens.eos));
}

jinja::Value make_context(const jinja::Value& messages, bool add_generation_prompt, const jinja::Value& tools,
                          const SpecialTokens& tokens) {
    jinja::Value ctx = jinja::Value::make_dict();
    ctx.dict->set(jinja::Value::string("messages"), messages);
    ctx.dict->set(jinja::Value::string("add_generation_prompt"), jinja::Value::boolean(add_generation_prompt));
    ctx.dict->set(jinja::Value::string("tools"), tools);
    ctx.dict->set(jinja::Value::string("documents"), jinja::Value::none());
    add_special_tokens(ctx, tokens);
    return ctx;
}

std::string render(const std::string& source, const jinja::Value& context, const jinja::RenderLimits& limits) {
    return jinja::Template::parse(source).render(context, limits);
}

}  // namespace ember::chat
