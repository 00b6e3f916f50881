// The global functions a template can call: range, dict, namespace, cycler, joiner, and
// Hugging Face's raise_exception and strftime_now (at the fixed time 2024-07-26 00:00:00, so that
// renders are reproducible). Nothing here reads files, the clock or the environment.
#include "jinja/error.h"
#include "jinja/evaluator.h"
#include "jinja/value.h"

#include <ctime>
#include <memory>

namespace ember::jinja {

namespace {

Value g_range(Renderer& r, CallArgs& a) {
    if (a.args.empty() || a.args.size() > 3) throw_error(ErrorKind::Type, "range expected 1 to 3 arguments");
    int64_t start = 0, stop, step = 1;
    auto num = [](const Value& v) -> int64_t {
        if (v.kind == Kind::Int) return v.i;
        if (v.kind == Kind::Bool) return v.b;
        if (v.is_undefined()) fail_undefined(v);
        throw_error(ErrorKind::Type, cat("'", v.type_name(), "' object cannot be interpreted as an integer"));
    };
    if (a.args.size() == 1) {
        stop = num(a.args[0]);
    } else {
        start = num(a.args[0]);
        stop = num(a.args[1]);
        if (a.args.size() == 3) step = num(a.args[2]);
    }
    if (step == 0) throw_error(ErrorKind::Type, "ValueError: range() arg 3 must not be zero");
    std::vector<Value> items;
    __int128 n = 0;
    if (step > 0 && stop > start) n = (static_cast<__int128>(stop) - start + step - 1) / step;
    if (step < 0 && stop < start) n = (static_cast<__int128>(start) - stop - step - 1) / -static_cast<__int128>(step);
    if (n > static_cast<__int128>(r.limits().max_loop_iterations))
        throw_error(ErrorKind::Limit, "loop iteration limit exceeded (max_loop_iterations = " +
                                          std::to_string(r.limits().max_loop_iterations) + "): range too long");
    r.count_iterations(static_cast<size_t>(n));
    for (__int128 k = 0; k < n; ++k) items.push_back(Value::integer(static_cast<int64_t>(start + k * step)));
    return Value::make_list(std::move(items));
}

Value fill_dict(Value d, CallArgs& a, const char* what) {
    if (a.args.size() > 1) throw_error(ErrorKind::Type, std::string(what) + " expected at most 1 positional argument");
    if (!a.args.empty()) {
        const Value& src = a.args[0];
        if (src.is_mapping()) {
            for (const auto& [k, v] : src.dict->items) d.dict->set(k, v);
        } else {
            for (const Value& pair : iterate(src)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2) throw_error(ErrorKind::Type, "dictionary update sequence element has wrong length");
                d.dict->set(kv[0], kv[1]);
            }
        }
    }
    for (auto& [k, v] : a.kwargs) d.dict->set(Value::string(k), v);
    return d;
}

Value g_dict(Renderer&, CallArgs& a) { return fill_dict(Value::make_dict(), a, "dict"); }

Value g_namespace(Renderer& r, CallArgs& a) {
    Value ns = fill_dict(Value::make_namespace(), a, "namespace");
    r.register_namespace(ns);
    return ns;
}

Value g_raise_exception(Renderer&, CallArgs& a) {
    throw TemplateError(ErrorKind::Raised, a.args.empty() ? std::string() : to_str(a.args[0]));
}

Value g_strftime_now(Renderer&, CallArgs& a) {
    std::string fmt = a.args.empty() ? std::string() : to_str(a.args[0]);
    std::tm tm{};
    tm.tm_year = 2024 - 1900;
    tm.tm_mon = 6;
    tm.tm_mday = 26;
    tm.tm_wday = 5;
    tm.tm_yday = 207;
    std::string out;
    for (size_t k = 0; k < fmt.size(); ++k) {
        if (fmt[k] != '%' || k + 1 >= fmt.size()) {
            out += fmt[k];
            continue;
        }
        std::string spec = "%";
        size_t j = k + 1;
        if (fmt[j] == '-' || fmt[j] == '_' || fmt[j] == '0' || fmt[j] == '^' || fmt[j] == '#') spec += fmt[j++];
        if (j >= fmt.size()) { out += fmt.substr(k); break; }
        char c = fmt[j];
        k = j;
        if (c == 'z' || c == 'Z') continue;  // a naive datetime: empty
        if (c == 'f') { out += "000000"; continue; }
        spec += c;
        char buf[128];
        size_t n = std::strftime(buf, sizeof buf, spec.c_str(), &tm);
        out.append(buf, n);
    }
    return Value::string(out);
}

class Cycler : public Object, public std::enable_shared_from_this<Cycler> {
public:
    explicit Cycler(std::vector<Value> items) : items_(std::move(items)) {}
    std::string type_name() const override { return "Cycler"; }
    bool get_attr(std::string_view name, Value& out) const override {
        // The bound methods keep the cycler alive (`{% set f = cycler(1, 2).next %}`).
        auto self = std::const_pointer_cast<Cycler>(shared_from_this());
        if (name == "current") { out = items_.empty() ? Value::none() : items_[pos_]; return true; }
        if (name == "next") {
            out = make_builtin("next", [self](Renderer&, CallArgs&) {
                if (self->items_.empty()) return Value::none();
                Value v = self->items_[self->pos_];
                self->pos_ = (self->pos_ + 1) % self->items_.size();
                return v;
            });
            return true;
        }
        if (name == "reset") {
            out = make_builtin("reset", [self](Renderer&, CallArgs&) { self->pos_ = 0; return Value::none(); });
            return true;
        }
        return false;
    }
    void clear() override { items_.clear(); }

private:
    std::vector<Value> items_;
    size_t pos_ = 0;
};

Value g_cycler(Renderer&, CallArgs& a) {
    if (a.args.empty()) throw_error(ErrorKind::Type, "at least one item has to be provided");
    return Value::object(std::make_shared<Cycler>(a.args));
}

Value g_joiner(Renderer&, CallArgs& a) {
    std::string sep = a.args.empty() ? ", " : to_str(a.args[0]);
    auto used = std::make_shared<bool>(false);
    return make_builtin("joiner", [sep, used](Renderer&, CallArgs&) {
        if (!*used) { *used = true; return Value::string(""); }
        return Value::string(sep);
    });
}

}  // namespace

bool find_global(const std::string& name, Value& out) {
    using Fn = Value (*)(Renderer&, CallArgs&);
    static const std::pair<const char*, Fn> table[] = {
        {"range", g_range}, {"dict", g_dict}, {"namespace", g_namespace}, {"raise_exception", g_raise_exception},
        {"strftime_now", g_strftime_now}, {"cycler", g_cycler}, {"joiner", g_joiner},
    };
    for (const auto& [n, fn] : table) {
        if (name == n) {
            out = make_builtin(name, fn);
            return true;
        }
    }
    return false;
}

}  // namespace ember::jinja
