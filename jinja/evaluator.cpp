// Statements and expressions at run time: scopes (a frame per loop iteration, macro call and
// with-block; set writes to the innermost frame), the loop object, macros and call blocks,
// attribute / item lookup with the sandbox's rules, and the limits.
#include "jinja/evaluator.h"

#include "jinja/error.h"

#include <cmath>

namespace ember::jinja {

Value make_builtin(std::string name, Builtin::Fn fn) {
    return Value::object(std::make_shared<Builtin>(std::move(name), std::move(fn)));
}

namespace {

class Macro : public Object {
public:
    Macro(const Node& def, std::shared_ptr<Frame> closure, std::string name, bool is_caller)
        : def_(def), closure_(std::move(closure)), name_(std::move(name)), is_caller_(is_caller) {}
    std::string type_name() const override { return "Macro"; }
    bool callable() const override { return true; }
    bool get_attr(std::string_view name, Value& out) const override {
        if (name == "name") { out = Value::string(name_); return true; }
        if (name == "arguments") {
            std::vector<Value> names;
            for (const auto& p : def_.params) names.push_back(Value::string(p.first));
            out = Value::make_list(std::move(names), true);
            return true;
        }
        return false;
    }
    Value call(Renderer& r, CallArgs& args) override {
        const auto& params = def_.params;
        auto frame = std::make_shared<Frame>();
        frame->parent = closure_;
        std::vector<bool> bound(params.size(), false);
        std::vector<Value> varargs;
        for (size_t k = 0; k < args.args.size(); ++k) {
            if (k < params.size()) {
                frame->vars[params[k].first] = args.args[k];
                bound[k] = true;
            } else {
                varargs.push_back(args.args[k]);
            }
        }
        Value kwargs = Value::make_dict();
        Value caller;
        for (auto& [name, v] : args.kwargs) {
            bool found = false;
            for (size_t k = 0; k < params.size(); ++k) {
                if (params[k].first == name) {
                    if (bound[k]) throw_error(ErrorKind::Type, "macro '" + name_ + "' got multiple values for argument '" + name + "'");
                    frame->vars[name] = v;
                    bound[k] = true;
                    found = true;
                }
            }
            if (found) continue;
            if (name == "caller" && !is_caller_) {
                caller = v;
                continue;
            }
            kwargs.dict->set(Value::string(name), v);
        }
        for (size_t k = 0; k < params.size(); ++k) {
            if (bound[k]) continue;
            if (params[k].second) {
                frame->vars[params[k].first] = r.eval(*params[k].second, frame);
            } else {
                frame->vars[params[k].first] =
                    Value::undefined("parameter '" + params[k].first + "' was not provided");
            }
        }
        frame->vars["varargs"] = Value::make_list(std::move(varargs), true);
        frame->vars["kwargs"] = kwargs;
        if (!caller.is_undefined()) frame->vars["caller"] = caller;
        r.enter_call();
        std::string out;
        try {
            r.exec(def_.body, out, frame);
        } catch (...) {
            r.leave_call();
            throw;
        }
        r.leave_call();
        return Value::string(std::move(out));
    }

private:
    const Node& def_;
    std::shared_ptr<Frame> closure_;
    std::string name_;
    bool is_caller_;
};

struct LoopState {
    std::vector<Value> items;
    size_t index0 = 0;
    int depth = 1;
    Value last_changed;
    bool has_changed = false;
};

class Loop : public Object {
public:
    Loop(std::shared_ptr<LoopState> st, const Node* node, std::shared_ptr<Frame> frame)
        : st_(std::move(st)), node_(node), frame_(std::move(frame)) {}
    std::string type_name() const override { return "LoopContext"; }
    bool callable() const override { return node_->flag; }
    bool get_attr(std::string_view name, Value& out) const override {
        const int64_t n = static_cast<int64_t>(st_->items.size());
        const int64_t i = static_cast<int64_t>(st_->index0);
        if (name == "index") out = Value::integer(i + 1);
        else if (name == "index0") out = Value::integer(i);
        else if (name == "revindex") out = Value::integer(n - i);
        else if (name == "revindex0") out = Value::integer(n - i - 1);
        else if (name == "first") out = Value::boolean(i == 0);
        else if (name == "last") out = Value::boolean(i == n - 1);
        else if (name == "length") out = Value::integer(n);
        else if (name == "depth") out = Value::integer(st_->depth);
        else if (name == "depth0") out = Value::integer(st_->depth - 1);
        else if (name == "previtem") out = i > 0 ? st_->items[st_->index0 - 1] : Value::undefined("there is no previous item");
        else if (name == "nextitem") out = i + 1 < n ? st_->items[st_->index0 + 1] : Value::undefined("there is no next item");
        else if (name == "cycle") {
            auto st = st_;
            out = make_builtin("cycle", [st](Renderer&, CallArgs& a) -> Value {
                if (a.args.empty()) throw_error(ErrorKind::Type, "no items for cycling given");
                return a.args[st->index0 % a.args.size()];
            });
        } else if (name == "changed") {
            auto st = st_;
            out = make_builtin("changed", [st](Renderer&, CallArgs& a) -> Value {
                Value v = Value::make_list(a.args, true);
                if (st->has_changed && equals(v, st->last_changed)) return Value::boolean(false);
                st->has_changed = true;
                st->last_changed = v;
                return Value::boolean(true);
            });
        } else return false;
        return true;
    }
    Value call(Renderer& r, CallArgs& args) override {
        if (!node_->flag) return Object::call(r, args);
        if (args.args.size() != 1) throw_error(ErrorKind::Type, "loop() takes exactly one argument");
        std::string out;
        r.enter_call();
        try {
            auto frame = frame_;
            r.run_for(*node_, args.args[0], out, frame, st_->depth + 1);
        } catch (...) {
            r.leave_call();
            throw;
        }
        r.leave_call();
        return Value::string(std::move(out));
    }
    void clear() override {
        frame_.reset();
        st_->last_changed = Value();  // loop.changed(loop) would otherwise be a cycle
    }

private:
    std::shared_ptr<LoopState> st_;
    const Node* node_;
    std::shared_ptr<Frame> frame_;
};

constexpr int kMaxNesting = 2000;

struct NestGuard {
    int& n;
    explicit NestGuard(int& counter) : n(counter) {
        if (++n > kMaxNesting) {
            --n;
            throw_error(ErrorKind::Limit, "recursion depth limit exceeded (template nesting over " +
                                              std::to_string(kMaxNesting) + " levels at run time)");
        }
    }
    ~NestGuard() { --n; }
};

std::string object_type_repr(const Value& v) {
    if (v.is_none()) return "None";
    return v.type_name() + " object";
}

Value missing_attr(const Value& obj, const std::string& name) {
    return Value::undefined(cat("'", object_type_repr(obj), "' has no attribute '", name, "'"));
}

}  // namespace

Renderer::Renderer(const Lexed& lexed, const Value& context, const RenderLimits& limits)
    : lexed_(lexed), context_(context), limits_(limits) {}

Renderer::~Renderer() {
    // Break the cycles a template can make (a namespace holding itself, a macro stored in the
    // frame it closes over), so that everything is freed.
    for (auto& ns : namespaces_) {
        auto items = std::move(ns->items);
        ns->index.clear();
    }
    for (auto& f : captured_) {
        auto vars = std::move(f->vars);
    }
    for (auto& o : objects_) o->clear();
}

std::string Renderer::render(const Body& body) {
    auto root = std::make_shared<Frame>();
    captured_.push_back(root);
    std::string out;
    exec(body, out, root);
    return out;
}

void Renderer::enter_call() {
    if (++depth_ > limits_.max_call_depth) {
        --depth_;
        throw_error(ErrorKind::Limit, "recursion depth limit exceeded (max_call_depth = " +
                                          std::to_string(limits_.max_call_depth) + ")");
    }
}

void Renderer::count_iterations(size_t n) {
    iterations_ += n;
    if (iterations_ > limits_.max_loop_iterations)
        throw_error(ErrorKind::Limit, "loop iteration limit exceeded (max_loop_iterations = " +
                                          std::to_string(limits_.max_loop_iterations) + ")");
}

void Renderer::check_size(size_t bytes) const {
    if (bytes > limits_.max_output_bytes)
        throw_error(ErrorKind::Limit, "output size limit exceeded (max_output_bytes = " +
                                          std::to_string(limits_.max_output_bytes) + ")");
}

void Renderer::append(std::string& out, std::string_view text) const {
    check_size(out.size() + text.size());
    out += text;
}

void Renderer::rethrow_at(const Node& n, const TemplateError& e) const {
    int line, col;
    lexed_.line_col(n.pos, line, col);
    throw TemplateError(e.kind(), e.message(), line, col);
}

Value Renderer::lookup(const std::string& name, const std::shared_ptr<Frame>& frame) const {
    for (const Frame* f = frame.get(); f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return it->second;
    }
    if (context_.is_dict())
        if (const Value* v = context_.dict->find(std::string_view(name))) return *v;
    Value g;
    if (find_global(name, g)) return g;
    return Value::undefined("'" + name + "' is undefined");
}

// ---- statements ----

Flow Renderer::exec(const Body& body, std::string& out, std::shared_ptr<Frame>& frame) {
    for (const NodePtr& n : body) {
        Flow f = exec_node(*n, out, frame);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Flow Renderer::exec_node(const Node& n, std::string& out, std::shared_ptr<Frame>& frame) {
    try {
        NestGuard guard(nesting_);
        switch (n.kind) {
            case NodeKind::Output: append(out, n.name); return Flow::Normal;
            case NodeKind::Print: {
                Value v = eval(*n.a, frame);
                if (v.is_string()) append(out, v.s);
                else append(out, to_str(v));
                return Flow::Normal;
            }
            case NodeKind::If:
                for (const auto& [cond, body] : n.branches)
                    if (eval(*cond, frame).truthy()) return exec(body, out, frame);
                return exec(n.else_body, out, frame);
            case NodeKind::For: {
                Value iterable = eval(*n.b, frame);
                run_for(n, iterable, out, frame, 1);
                return Flow::Normal;
            }
            case NodeKind::Set: assign(*n.a, eval(*n.b, frame), frame); return Flow::Normal;
            case NodeKind::SetBlock: {
                std::string captured;
                auto inner = frame;
                exec(n.body, captured, inner);
                Value v = Value::string(std::move(captured));
                if (n.b) v = apply_filter(*n.b, v, frame);
                assign(*n.a, v, frame);
                return Flow::Normal;
            }
            case NodeKind::Macro:
                frame->vars[n.name] = Value::object(std::make_shared<Macro>(n, capture(frame), n.name, false));
                return Flow::Normal;
            case NodeKind::CallBlock: {
                Value caller = Value::object(std::make_shared<Macro>(n, capture(frame), "caller", true));
                const Node& call = *n.a;
                Value fn = eval(*call.a, frame);
                CallArgs args;
                eval_args(call, frame, args);
                args.kwargs.emplace_back("caller", caller);
                Value v = this->call(fn, args);
                append(out, to_str(v));
                return Flow::Normal;
            }
            case NodeKind::FilterBlock: {
                std::string captured;
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                exec(n.body, captured, inner);
                append(out, to_str(apply_filter(*n.b, Value::string(std::move(captured)), frame)));
                return Flow::Normal;
            }
            case NodeKind::With: {
                auto inner = std::make_shared<Frame>();
                inner->parent = frame;
                for (const auto& [name, expr] : n.params) inner->vars[name] = eval(*expr, frame);
                return exec(n.body, out, inner);
            }
            case NodeKind::Break: return Flow::Break;
            case NodeKind::Continue: return Flow::Continue;
            default: throw_error(ErrorKind::Runtime, "unexpected node");
        }
    } catch (const TemplateError& e) {
        if (e.line() == 0) rethrow_at(n, e);
        throw;
    }
}

void Renderer::run_for(const Node& n, const Value& iterable, std::string& out, std::shared_ptr<Frame>& frame,
                       int depth) {
    if (iterable.is_undefined()) {
        if (iterable.security) fail_undefined(iterable);
    }
    std::vector<Value> items = iterate(iterable);
    if (n.c) {
        std::vector<Value> kept;
        for (Value& item : items) {
            count_iterations(1);
            auto tmp = std::make_shared<Frame>();
            tmp->parent = frame;
            assign(*n.a, item, tmp);
            if (eval(*n.c, tmp).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        auto inner = std::make_shared<Frame>();
        inner->parent = frame;
        exec(n.else_body, out, inner);
        return;
    }
    auto st = std::make_shared<LoopState>();
    st->items = std::move(items);
    st->depth = depth;
    auto loop_obj = std::make_shared<Loop>(st, &n, n.flag ? capture(frame) : nullptr);
    objects_.push_back(loop_obj);
    {
        Value loop = Value::object(loop_obj);
        for (size_t k = 0; k < st->items.size(); ++k) {
            count_iterations(1);
            st->index0 = k;
            auto inner = std::make_shared<Frame>();
            inner->parent = frame;
            inner->vars["loop"] = loop;
            assign(*n.a, st->items[k], inner);
            Flow f = exec(n.body, out, inner);
            if (f == Flow::Break) break;
        }
    }
    loop_obj->clear();
    // Nothing kept it (no namespace or macro frame holds `loop`): free its items now.
    if (loop_obj.use_count() == 2 && objects_.back() == loop_obj) objects_.pop_back();
}

void Renderer::assign(const Node& target, const Value& v, std::shared_ptr<Frame>& frame) {
    switch (target.kind) {
        case NodeKind::Name: frame->vars[target.name] = v; return;
        case NodeKind::NsAttr: {
            Value ns = lookup(target.name, frame);
            if (!ns.is_namespace())
                throw_error(ErrorKind::Runtime, "cannot assign attribute on non-namespace object");
            ns.dict->set(Value::string(target.value.s), v);
            return;
        }
        case NodeKind::TupleLit: {
            std::vector<Value> items = iterate(v);
            if (items.size() > target.items.size())
                throw_error(ErrorKind::Type, "too many values to unpack (expected " +
                                                 std::to_string(target.items.size()) + ")");
            if (items.size() < target.items.size())
                throw_error(ErrorKind::Type, "not enough values to unpack (expected " +
                                                 std::to_string(target.items.size()) + ", got " +
                                                 std::to_string(items.size()) + ")");
            for (size_t k = 0; k < items.size(); ++k) assign(*target.items[k], items[k], frame);
            return;
        }
        default: throw_error(ErrorKind::Syntax, "cannot assign to this expression");
    }
}

// ---- expressions ----

Value Renderer::eval(const Node& n, std::shared_ptr<Frame>& frame) {
    try {
        NestGuard guard(nesting_);
        return eval_inner(n, frame);
    } catch (const TemplateError& e) {
        if (e.line() == 0) rethrow_at(n, e);
        throw;
    }
}

void Renderer::eval_args(const Node& n, std::shared_ptr<Frame>& frame, CallArgs& args) {
    for (const NodePtr& a : n.items) args.args.push_back(eval(*a, frame));
    if (n.c) {
        Value star = eval(*n.c, frame);
        for (Value& v : iterate(star)) args.args.push_back(std::move(v));
    }
    for (const auto& [name, expr] : n.kwargs) args.kwargs.emplace_back(name, eval(*expr, frame));
    if (n.d) {
        Value d = eval(*n.d, frame);
        if (!d.is_mapping()) throw_error(ErrorKind::Type, "argument after ** must be a mapping, not " + d.type_name());
        for (const auto& [k, v] : d.dict->items) {
            if (!k.is_string()) throw_error(ErrorKind::Type, "keywords must be strings");
            args.kwargs.emplace_back(k.s, v);
        }
    }
}

Value Renderer::call(const Value& fn, CallArgs& args) {
    if (fn.is_undefined()) fail_undefined(fn);
    if (!fn.is_callable()) throw_error(ErrorKind::Type, cat("'", fn.type_name(), "' object is not callable"));
    return fn.obj->call(*this, args);
}

Value Renderer::apply_filter(const Node& f, Value input, std::shared_ptr<Frame>& frame) {
    if (f.a) input = apply_filter(*f.a, std::move(input), frame);
    FilterFn fn = find_filter(f.name);
    if (!fn) throw_error(ErrorKind::Runtime, "No filter named '" + f.name + "' found.");
    CallArgs args;
    eval_args(f, frame, args);
    return fn(*this, input, args);
}

Value Renderer::get_attr(const Value& obj, const std::string& name) {
    switch (obj.kind) {
        case Kind::Undefined: fail_undefined(obj);
        case Kind::Dict: {
            if (obj.dict->is_namespace) {
                if (const Value* v = obj.dict->find(std::string_view(name))) return *v;
                return missing_attr(obj, name);
            }
            Value m;
            if (find_method(obj, name, m)) return m;
            if (const Value* v = obj.dict->find(std::string_view(name))) return *v;
            return missing_attr(obj, name);
        }
        case Kind::Object: {
            Value out;
            if (obj.obj->get_attr(name, out)) return out;
            return missing_attr(obj, name);
        }
        default: {
            Value m;
            if (find_method(obj, name, m)) return m;
            return missing_attr(obj, name);
        }
    }
}

Value Renderer::get_item(const Value& obj, const Value& key) {
    switch (obj.kind) {
        case Kind::Undefined: fail_undefined(obj);
        case Kind::List:
            if (!obj.list->generator && (key.kind == Kind::Int || key.kind == Kind::Bool)) {
                int64_t i = key.kind == Kind::Int ? key.i : key.b;
                int64_t n = static_cast<int64_t>(obj.list->items.size());
                if (i < 0) i += n;
                if (i >= 0 && i < n) return obj.list->items[static_cast<size_t>(i)];
                return Value::undefined("'" + object_type_repr(obj) + "' has no element " + repr(key));
            }
            break;
        case Kind::String:
            if (key.kind == Kind::Int || key.kind == Kind::Bool) {
                auto chars = utf8_chars(obj.s);
                int64_t i = key.kind == Kind::Int ? key.i : key.b;
                int64_t n = static_cast<int64_t>(chars.size());
                if (i < 0) i += n;
                if (i >= 0 && i < n) return Value::string(std::string(chars[static_cast<size_t>(i)]));
                return Value::undefined("'str object' has no element " + repr(key));
            }
            break;
        case Kind::Dict:
            if (!obj.dict->is_namespace) {
                if (const Value* v = obj.dict->find(key)) return *v;
                if (!key.is_string()) return Value::undefined("'dict object' has no element " + repr(key));
            }
            break;
        default: break;
    }
    if (key.is_string()) return get_attr(obj, key.s);
    return Value::undefined("'" + object_type_repr(obj) + "' has no element " + repr(key));
}

Value Renderer::binary(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") {
        std::string s = to_str(a);
        std::string t = to_str(b);
        check_size(s.size() + t.size());
        return Value::string(s + t);
    }
    return py_arith(op, a, b, limits_);
}

Value Renderer::eval_inner(const Node& n, std::shared_ptr<Frame>& frame) {
    switch (n.kind) {
        case NodeKind::Literal: return n.value;
        case NodeKind::Name: return lookup(n.name, frame);
        case NodeKind::ListLit:
        case NodeKind::TupleLit: {
            std::vector<Value> items;
            items.reserve(n.items.size());
            for (const NodePtr& x : n.items) items.push_back(eval(*x, frame));
            return Value::make_list(std::move(items), n.kind == NodeKind::TupleLit);
        }
        case NodeKind::DictLit: {
            Value d = Value::make_dict();
            for (size_t k = 0; k + 1 < n.items.size(); k += 2) {
                Value key = eval(*n.items[k], frame);
                d.dict->set(key, eval(*n.items[k + 1], frame));
            }
            return d;
        }
        case NodeKind::Attr: return get_attr(eval(*n.a, frame), n.name);
        case NodeKind::Item: {
            Value obj = eval(*n.a, frame);
            return get_item(obj, eval(*n.b, frame));
        }
        case NodeKind::Slice: {
            Value obj = eval(*n.a, frame);
            Value start = n.b ? eval(*n.b, frame) : Value::none();
            Value stop = n.c ? eval(*n.c, frame) : Value::none();
            Value step = n.d ? eval(*n.d, frame) : Value::none();
            return py_slice(obj, start, stop, step);
        }
        case NodeKind::Call: {
            Value fn = eval(*n.a, frame);
            CallArgs args;
            eval_args(n, frame, args);
            return call(fn, args);
        }
        case NodeKind::Filter: {
            Value input = n.a ? eval(*n.a, frame) : Value::undefined();
            FilterFn fn = find_filter(n.name);
            if (!fn) throw_error(ErrorKind::Runtime, "No filter named '" + n.name + "' found.");
            CallArgs args;
            eval_args(n, frame, args);
            return fn(*this, input, args);
        }
        case NodeKind::Test: {
            Value input = eval(*n.a, frame);
            TestFn fn = find_test(n.name);
            if (!fn) throw_error(ErrorKind::Runtime, "No test named '" + n.name + "' found.");
            CallArgs args;
            eval_args(n, frame, args);
            bool r = fn(*this, input, args);
            return Value::boolean(n.flag ? !r : r);
        }
        case NodeKind::Unary: {
            Value v = eval(*n.a, frame);
            if (n.name == "not") return Value::boolean(!v.truthy());
            if (v.is_undefined()) fail_undefined(v);
            if (v.kind == Kind::Bool) v = Value::integer(v.b);
            if (v.kind == Kind::Int) {
                if (n.name == "+") return v;
                if (v.i == INT64_MIN) throw_error(ErrorKind::Type, "integer overflow");
                return Value::integer(-v.i);
            }
            if (v.kind == Kind::Float) return n.name == "+" ? v : Value::number(-v.f);
            throw_error(ErrorKind::Type, "bad operand type for unary " + n.name + ": '" + v.type_name() + "'");
        }
        case NodeKind::Binary: {
            if (n.name == "and") {
                Value a = eval(*n.a, frame);
                return a.truthy() ? eval(*n.b, frame) : a;
            }
            if (n.name == "or") {
                Value a = eval(*n.a, frame);
                return a.truthy() ? a : eval(*n.b, frame);
            }
            Value a = eval(*n.a, frame);
            Value b = eval(*n.b, frame);
            return binary(n.name, a, b);
        }
        case NodeKind::Compare: {
            Value left = eval(*n.a, frame);
            for (size_t k = 0; k < n.ops.size(); ++k) {
                Value right = eval(*n.items[k], frame);
                const std::string& op = n.ops[k];
                bool r;
                if (op == "==") r = equals(left, right);
                else if (op == "!=") r = !equals(left, right);
                else if (op == "in") r = py_in(left, right);
                else if (op == "notin") r = !py_in(left, right);
                else {
                    if ((left.kind == Kind::Float && std::isnan(left.f)) || (right.kind == Kind::Float && std::isnan(right.f))) {
                        r = false;
                    } else {
                        int c = compare(left, right, op);
                        r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
                    }
                }
                if (!r) return Value::boolean(false);
                left = std::move(right);
            }
            return Value::boolean(true);
        }
        case NodeKind::CondExpr:
            if (eval(*n.a, frame).truthy()) return eval(*n.b, frame);
            if (n.c) return eval(*n.c, frame);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
        default: throw_error(ErrorKind::Runtime, "unexpected expression");
    }
}

}  // namespace ember::jinja
