// A request's conversation or text as the model's prompt tokens. Chat messages (OpenAI's and
// Ollama's shape: role + content as a string or a list of text parts) are checked, rendered
// with the chat template (the model's, --chat-template, or ChatML) and tokenized with special
// tokens; plain prompts are tokenized as text. Every problem is an ApiError 400.
#pragma once

#include "ember/model.h"
#include "model/chat/chat_template.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::server {

class Prompter {
public:
    Prompter(std::shared_ptr<const Model> model, std::string template_source);

    // messages: a non-empty JSON array of {"role": system|developer|user|assistant|tool,
    // "content": string | null | [{"type":"text","text":…}, …]}. The rendered prompt ends
    // with the assistant's turn starting (add_generation_prompt).
    std::vector<int32_t> chat(const nlohmann::json& messages) const;
    std::string render(const nlohmann::json& messages) const;  // the text chat() tokenizes
    // A completion prompt (BOS added as the model asks; special tokens are text).
    std::vector<int32_t> text(std::string_view prompt) const;

    const std::string& template_source() const { return source_; }

private:
    std::shared_ptr<const Model> model_;
    std::string source_;
    chat::SpecialTokens special_;
};

}  // namespace ember::server
