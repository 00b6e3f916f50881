// The evaluator: walks the syntax tree with Jinja2's runtime semantics in an immutable sandbox
// (no attribute writes except on namespace(), no list/dict mutation, no file or environment
// access) and enforces the render limits.
#pragma once

#include "jinja/ast.h"
#include "jinja/lexer.h"
#include "jinja/template.h"
#include "jinja/value.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace ember::jinja {

struct Frame {
    std::shared_ptr<Frame> parent;
    std::unordered_map<std::string, Value> vars;
};

// A callable made of a C++ function (globals, bound methods, loop.cycle, ...).
class Builtin : public Object {
public:
    using Fn = std::function<Value(Renderer&, CallArgs&)>;
    Builtin(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
    std::string type_name() const override { return "builtin_function_or_method"; }
    bool callable() const override { return true; }
    Value call(Renderer& r, CallArgs& args) override { return fn_(r, args); }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    Fn fn_;
};
Value make_builtin(std::string name, Builtin::Fn fn);

enum class Flow { Normal, Break, Continue };

class Renderer {
public:
    Renderer(const Lexed& lexed, const Value& context, const RenderLimits& limits);
    ~Renderer();
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;

    std::string render(const Body& body);

    // For filters, tests, methods and globals.
    Value call(const Value& fn, CallArgs& args);
    Value get_attr(const Value& obj, const std::string& name);
    Value get_item(const Value& obj, const Value& key);
    void count_iterations(size_t n);
    void check_size(size_t bytes) const;
    void register_namespace(const Value& ns) { namespaces_.push_back(ns.dict); }
    const RenderLimits& limits() const { return limits_; }

    // Used by macros and the loop object.
    void enter_call();
    void leave_call() { --depth_; }
    Flow exec(const Body& body, std::string& out, std::shared_ptr<Frame>& frame);
    Value eval(const Node& n, std::shared_ptr<Frame>& frame);
    std::shared_ptr<Frame> capture(const std::shared_ptr<Frame>& frame) {
        captured_.push_back(frame);
        return frame;
    }
    void run_for(const Node& n, const Value& iterable, std::string& out, std::shared_ptr<Frame>& frame, int depth);

private:
    const Lexed& lexed_;
    Value context_;
    RenderLimits limits_;
    int depth_ = 0;
    int nesting_ = 0;  // evaluator recursion (statements and expressions), bounds the stack
    uint64_t iterations_ = 0;
    std::vector<std::shared_ptr<Frame>> captured_;
    std::vector<std::shared_ptr<DictObj>> namespaces_;
    std::vector<std::shared_ptr<Object>> objects_;  // loop objects: cleared at the end

    [[noreturn]] void rethrow_at(const Node& n, const TemplateError& e) const;
    Value lookup(const std::string& name, const std::shared_ptr<Frame>& frame) const;
    Value eval_inner(const Node& n, std::shared_ptr<Frame>& frame);
    void eval_args(const Node& n, std::shared_ptr<Frame>& frame, CallArgs& args);
    Value apply_filter(const Node& f, Value input, std::shared_ptr<Frame>& frame);
    Value binary(const std::string& op, const Value& a, const Value& b);
    void assign(const Node& target, const Value& v, std::shared_ptr<Frame>& frame);
    Flow exec_node(const Node& n, std::string& out, std::shared_ptr<Frame>& frame);
    void append(std::string& out, std::string_view text) const;
};

// ---- tables (filters.cpp, tests.cpp, methods.cpp, globals.cpp) ----
using FilterFn = Value (*)(Renderer&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Renderer&, const Value& input, CallArgs& args);
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// A method of a str / dict / list value (bound), a sandbox-blocked one (an Undefined that raises
// SecurityError when used), or false when the type has no such attribute.
bool find_method(const Value& self, const std::string& name, Value& out);
bool find_global(const std::string& name, Value& out);

// Argument helpers for the built-ins: positional index or keyword name, else the fallback.
const Value* arg(const CallArgs& args, size_t index, std::string_view name);
std::string arg_str(const CallArgs& args, size_t index, std::string_view name, std::string fallback);
int64_t arg_int(const CallArgs& args, size_t index, std::string_view name, int64_t fallback);
bool arg_bool(const CallArgs& args, size_t index, std::string_view name, bool fallback);

// Python arithmetic on ints with overflow checks (TypeError / OverflowError as TemplateError).
Value py_add(const Value& a, const Value& b, const RenderLimits& limits);
Value py_arith(const std::string& op, const Value& a, const Value& b, const RenderLimits& limits);
bool py_in(const Value& needle, const Value& haystack);
std::string html_escape(const std::string& s);  // markupsafe.escape: & < > " '
Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace ember::jinja
