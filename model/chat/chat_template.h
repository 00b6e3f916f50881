// A model's chat template: the Jinja2 program in its GGUF metadata that turns a conversation
// into a prompt (`tokenizer.chat_template`, and named variants `tokenizer.chat_template.NAME`
// such as `tool_use`), the bos/eos token texts it is rendered with, a built-in ChatML template
// for models without one, and rendering (jinja/, Hugging Face's semantics).
#pragma once

#include "jinja/template.h"
#include "jinja/value.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember {
namespace gguf {
class File;
}
class Vocab;
}  // namespace ember

namespace ember::chat {

// The template stored under `tokenizer.chat_template` (name empty) or
// `tokenizer.chat_template.NAME`; nullopt when the file has none by that name.
std::optional<std::string> template_from_gguf(const gguf::File& file, std::string_view name = {});
// The names of the file's templates: "" for the default one, then the named variants.
std::vector<std::string> template_names(const gguf::File& file);

// ChatML (<|im_start|>role\ncontent<|im_end|>\n ...), used when a model has no template.
const std::string& chatml_template();

struct ChatTemplate {
    std::string source;
    bool fallback = false;  // true: the model had none; this is chatml_template()
};
// The model's template by name ("" = default), else the ChatML fallback. A name that is given
// but absent is an error (ember::Error listing the names the file has).
ChatTemplate select_template(const gguf::File& file, std::string_view name = {});

// The texts of the vocab's BOS and EOS tokens (nullopt when the vocab has none).
struct SpecialTokens {
    std::optional<std::string> bos, eos;
};
SpecialTokens special_tokens(const Vocab& vocab);

// Adds bos_token / eos_token to a context dict unless it already has them.
void add_special_tokens(jinja::Value& context, const SpecialTokens& tokens);

// The context transformers' apply_chat_template passes: messages, add_generation_prompt, tools
// (none when absent), documents = none, then the special tokens.
jinja::Value make_context(const jinja::Value& messages, bool add_generation_prompt,
                          const jinja::Value& tools = jinja::Value::none(), const SpecialTokens& tokens = {});

// Parses and renders; throws jinja::TemplateError (kind Raised for raise_exception).
std::string render(const std::string& source, const jinja::Value& context, const jinja::RenderLimits& limits = {});

}  // namespace ember::chat
