// Template: lex + parse once, check filter and test names the way Jinja2's compiler does, and
// render with a fresh evaluator per call.
#include "jinja/template.h"

#include "jinja/evaluator.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace ember::jinja {

struct Template::Impl {
    Lexed lexed;
    Body body;
};

namespace {

// Jinja2 rejects an unknown filter or test when it compiles the template, except inside an
// {% if %} (its test and branches) or an inline if-expression, where the check waits for run time.
void check_names(const Lexed& lx, const Node& n, bool soft) {
    auto fail_at = [&](const std::string& what) {
        int line, col;
        lx.line_col(n.pos, line, col);
        throw TemplateError(ErrorKind::Syntax, what, line, col);
    };
    if (!soft && n.kind == NodeKind::Filter && !find_filter(n.name)) fail_at("No filter named '" + n.name + "'.");
    if (!soft && n.kind == NodeKind::Test && !find_test(n.name)) fail_at("No test named '" + n.name + "'.");
    bool child_soft = soft || n.kind == NodeKind::If || n.kind == NodeKind::CondExpr;
    for (const NodePtr* p : {&n.a, &n.b, &n.c, &n.d})
        if (*p) check_names(lx, **p, child_soft);
    for (const NodePtr& x : n.items) check_names(lx, *x, child_soft);
    for (const auto& kv : n.kwargs) check_names(lx, *kv.second, child_soft);
    for (const auto& kv : n.params)
        if (kv.second) check_names(lx, *kv.second, child_soft);
    for (const auto& br : n.branches) {
        check_names(lx, *br.first, true);
        for (const NodePtr& x : br.second) check_names(lx, *x, true);
    }
    // Loop, macro and call bodies are new frames: the softness of an enclosing if ends there.
    bool body_soft = (n.kind == NodeKind::For || n.kind == NodeKind::Macro || n.kind == NodeKind::CallBlock)
                         ? false : child_soft;
    for (const NodePtr& x : n.body) check_names(lx, *x, body_soft);
    for (const NodePtr& x : n.else_body) check_names(lx, *x, n.kind == NodeKind::If ? true : body_soft);
}

}  // namespace

Template::Template(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

Template Template::parse(std::string_view source) {
    auto impl = std::make_unique<Impl>();
    impl->lexed = lex(source);
    impl->body = jinja::parse(impl->lexed);
    for (const NodePtr& n : impl->body) check_names(impl->lexed, *n, false);
    return Template(std::move(impl));
}

std::string Template::render(const Value& context, const RenderLimits& limits) const {
    Renderer r(impl_->lexed, context, limits);
    return r.render(impl_->body);
}

}  // namespace ember::jinja
