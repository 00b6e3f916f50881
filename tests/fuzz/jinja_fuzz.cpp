// libFuzzer target for the Jinja2 renderer (jinja/): template source and context.
//
// The input is a template, optionally followed by a NUL byte and a JSON context. Parsing and
// rendering must either succeed or fail with ember::Error (jinja::TemplateError or a JSON error);
// anything else (another exception type, a sanitizer report, a leak, a hang past the limits) is
// a finding. The limits are small so that each input renders quickly.
#include "ember/error.h"
#include "jinja/json.h"
#include "jinja/template.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

const char* kDefaultContext = R"({"messages": [
  {"role": "system", "content": "You are helpful."},
  {"role": "user", "content": "Hi {{ x }} <|im_end|>"},
  {"role": "assistant", "content": "Hello", "tool_calls": [{"id": "call12345", "type": "function",
    "function": {"name": "get_weather", "arguments": {"location": "Paris", "n": 1.5}}}]},
  {"role": "tool", "content": "{\"t\": 20}", "tool_call_id": "call12345"},
  {"role": "user", "content": "\u4f60\u597d \ud83d\ude00"}],
 "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
   "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}],
 "documents": null, "enable_thinking": false})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t nul = input.find('\0');
    std::string_view source = input.substr(0, nul);
    std::string_view context_text = nul == std::string_view::npos ? std::string_view(kDefaultContext)
                                                                   : input.substr(nul + 1);
    ember::jinja::RenderLimits limits;
    limits.max_call_depth = 32;
    limits.max_loop_iterations = 20000;
    limits.max_output_bytes = size_t{1} << 20;
    try {
        ember::jinja::Value context;
        try {
            context = ember::jinja::parse_json(context_text);
        } catch (const ember::Error&) {
            context = ember::jinja::parse_json(kDefaultContext);
        }
        if (!context.is_dict()) context = ember::jinja::parse_json(kDefaultContext);
        auto tmpl = ember::jinja::Template::parse(source);
        std::string out = tmpl.render(context, limits);
        if (out.size() > limits.max_output_bytes) {
            std::fprintf(stderr, "jinja_fuzz: output over the limit\n");
            std::abort();
        }
    } catch (const ember::Error&) {
        // the expected failure
    }
    return 0;
}
