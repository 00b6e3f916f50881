#include "server/prompt.h"

#include "core/utf8.h"
#include "jinja/error.h"
#include "jinja/json.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "server/api_error.h"

#include <fmt/format.h>

namespace ember::server {

Prompter::Prompter(std::shared_ptr<const Model> model, std::string template_source)
    : model_(std::move(model)), source_(std::move(template_source)), special_(chat::special_tokens(model_->vocab())) {}

namespace {

// The message's text: a string, null (an assistant turn that only called tools), or text parts.
std::string content_text(const nlohmann::json& content, size_t i) {
    if (content.is_string()) return content.get<std::string>();
    if (content.is_null()) return {};
    if (!content.is_array()) throw invalid_request(fmt::format("messages[{}].content must be a string or an array of parts", i));
    std::string text;
    for (size_t p = 0; p < content.size(); ++p) {
        const nlohmann::json& part = content[p];
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
            throw invalid_request(fmt::format("messages[{}].content[{}] must be an object with a \"type\"", i, p));
        }
        const std::string type = part["type"].get<std::string>();
        if (type != "text") {
            throw invalid_request(fmt::format("messages[{}].content[{}]: parts of type '{}' are not supported (text only)", i, p, type));
        }
        if (!part.contains("text") || !part["text"].is_string()) {
            throw invalid_request(fmt::format("messages[{}].content[{}].text must be a string", i, p));
        }
        text += part["text"].get<std::string>();
    }
    return text;
}

}  // namespace

std::string Prompter::render(const nlohmann::json& messages) const {
    if (!messages.is_array()) throw invalid_request("'messages' must be an array");
    if (messages.empty()) throw invalid_request("'messages' must not be empty");
    nlohmann::json clean = nlohmann::json::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const nlohmann::json& m = messages[i];
        if (!m.is_object()) throw invalid_request(fmt::format("messages[{}] must be an object", i));
        if (!m.contains("role") || !m["role"].is_string()) throw invalid_request(fmt::format("messages[{}].role must be a string", i));
        std::string role = m["role"].get<std::string>();
        if (role == "developer") role = "system";  // OpenAI's newer name for it
        if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
            throw invalid_request(fmt::format("messages[{}].role '{}' is not one of system, developer, user, assistant, tool",
                                              i, m["role"].get<std::string>()));
        }
        if (!m.contains("content")) throw invalid_request(fmt::format("messages[{}] has no content", i));
        clean.push_back({{"role", role}, {"content", content_text(m["content"], i)}});
    }
    try {
        const jinja::Value context = chat::make_context(jinja::parse_json(clean.dump()), /*add_generation_prompt=*/true,
                                                        jinja::Value::none(), special_);
        return chat::render(source_, context);
    } catch (const jinja::TemplateError& e) {
        throw invalid_request(fmt::format("the chat template failed on these messages: {}", e.what()));
    }
}

std::vector<int32_t> Prompter::chat(const nlohmann::json& messages) const {
    const std::string prompt = render(messages);
    // The template writes the special tokens itself (BOS included, when it wants one).
    const bool has_bos = special_.bos && !special_.bos->empty() && prompt.rfind(*special_.bos, 0) == 0;
    return model_->vocab().tokenize(prompt, /*add_special=*/!has_bos, /*parse_special=*/true);
}

std::vector<int32_t> Prompter::text(std::string_view prompt) const {
    if (const size_t bad = first_invalid_utf8(prompt); bad != std::string::npos) {
        throw invalid_request(fmt::format("the prompt is not valid UTF-8 (byte {})", bad));
    }
    return model_->vocab().tokenize(prompt, /*add_special=*/true, /*parse_special=*/false);
}

}  // namespace ember::server
