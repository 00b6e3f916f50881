// The public entry of the Jinja2 renderer: parse a template once, render it with a context.
//
//     auto t = ember::jinja::Template::parse(source);          // TemplateError(Syntax) with line:col
//     std::string text = t.render(context_value, limits);       // TemplateError on failure
//
// Semantics: Jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop
// controls, Hugging Face's tojson / raise_exception / strftime_now, {% generation %} rendering
// its body. The renderer knows nothing of models.
#pragma once

#include "jinja/error.h"
#include "jinja/value.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ember::jinja {

struct RenderLimits {
    int max_call_depth = 64;                  // nested macro / recursive-loop calls
    uint64_t max_loop_iterations = 1000000;   // all loop iterations of one render, together
    size_t max_output_bytes = size_t{16} << 20;  // the output, and any string built on the way
};

class Template {
public:
    static Template parse(std::string_view source);

    // context: a dict Value of the template's variables.
    std::string render(const Value& context, const RenderLimits& limits = {}) const;

    Template(Template&&) noexcept;
    Template& operator=(Template&&) noexcept;
    ~Template();

private:
    struct Impl;
    explicit Template(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ember::jinja
