// The tests (`x is name(args)`), after jinja2/tests.py.
#include "jinja/error.h"
#include "jinja/evaluator.h"
#include "jinja/value.h"

#include <cmath>
#include <map>

namespace ember::jinja {

namespace {

const Value& need(const CallArgs& a, size_t k, const char* test) {
    if (k >= a.args.size()) {
        if (!a.kwargs.empty()) return a.kwargs[0].second;
        throw_error(ErrorKind::Type, std::string("test '") + test + "' needs an argument");
    }
    return a.args[k];
}

bool t_defined(Renderer&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Renderer&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Renderer&, const Value& v, CallArgs&) { return v.kind == Kind::Bool; }
bool t_true(Renderer&, const Value& v, CallArgs&) { return v.kind == Kind::Bool && v.b; }
bool t_false(Renderer&, const Value& v, CallArgs&) { return v.kind == Kind::Bool && !v.b; }
bool t_integer(Renderer&, const Value& v, CallArgs&) { return v.kind == Kind::Int; }
bool t_float(Renderer&, const Value& v, CallArgs&) { return v.kind == Kind::Float; }
bool t_number(Renderer&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Renderer&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Renderer&, const Value& v, CallArgs&) { return v.is_mapping(); }
bool t_callable(Renderer&, const Value& v, CallArgs&) { return v.is_callable(); }
bool t_escaped(Renderer&, const Value&, CallArgs&) { return false; }
bool t_sequence(Renderer&, const Value& v, CallArgs&) {
    return v.is_string() || v.is_mapping() || (v.is_list() && !v.list->generator);
}
bool t_iterable(Renderer&, const Value& v, CallArgs&) {
    return v.is_string() || v.is_mapping() || v.is_list() || (v.is_undefined() && !v.security);
}

int64_t int_of(const Value& v) {
    if (v.is_undefined()) fail_undefined(v);
    if (v.kind == Kind::Int) return v.i;
    if (v.kind == Kind::Bool) return v.b;
    throw_error(ErrorKind::Type, "unsupported operand type(s) for %: '" + v.type_name() + "' and 'int'");
}

bool t_odd(Renderer& r, const Value& v, CallArgs&) {
    if (v.kind == Kind::Float) return py_arith("%", v, Value::integer(2), r.limits()).as_double() == 1.0;
    return (int_of(v) % 2) != 0;
}
bool t_even(Renderer& r, const Value& v, CallArgs&) {
    if (v.kind == Kind::Float) return py_arith("%", v, Value::integer(2), r.limits()).as_double() == 0.0;
    return (int_of(v) % 2) == 0;
}
bool t_divisibleby(Renderer& r, const Value& v, CallArgs& a) {
    Value m = py_arith("%", v, need(a, 0, "divisibleby"), r.limits());
    return m.as_double() == 0.0;
}
bool t_eq(Renderer&, const Value& v, CallArgs& a) { return equals(v, need(a, 0, "eq")); }
bool t_ne(Renderer&, const Value& v, CallArgs& a) { return !equals(v, need(a, 0, "ne")); }
bool t_lt(Renderer&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "lt"), "<") < 0; }
bool t_le(Renderer&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "le"), "<=") <= 0; }
bool t_gt(Renderer&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "gt"), ">") > 0; }
bool t_ge(Renderer&, const Value& v, CallArgs& a) { return compare(v, need(a, 0, "ge"), ">=") >= 0; }
bool t_in(Renderer&, const Value& v, CallArgs& a) { return py_in(v, need(a, 0, "in")); }
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
    const Value& o = need(a, 0, "sameas");
    if (v.kind != o.kind) return false;
    switch (v.kind) {
        case Kind::None: case Kind::Undefined: return true;
        case Kind::Bool: return v.b == o.b;
        case Kind::Int: return v.i == o.i && v.i >= -5 && v.i <= 256;  // CPython's small-int cache
        case Kind::List: return v.list == o.list;
        case Kind::Dict: return v.dict == o.dict;
        case Kind::Object: return v.obj == o.obj;
        default: return false;
    }
}
bool t_lower(Renderer&, const Value& v, CallArgs&) {
    if (!v.is_string()) return false;
    bool cased = false;
    for (char c : v.s) {
        if (c >= 'A' && c <= 'Z') return false;
        if (c >= 'a' && c <= 'z') cased = true;
    }
    return cased;
}
bool t_upper(Renderer&, const Value& v, CallArgs&) {
    if (!v.is_string()) return false;
    bool cased = false;
    for (char c : v.s) {
        if (c >= 'a' && c <= 'z') return false;
        if (c >= 'A' && c <= 'Z') cased = true;
    }
    return cased;
}
bool t_filter(Renderer&, const Value& v, CallArgs&) { return v.is_string() && find_filter(v.s) != nullptr; }
bool t_test(Renderer&, const Value& v, CallArgs&) { return v.is_string() && find_test(v.s) != nullptr; }

const std::map<std::string_view, TestFn>& test_table() {
    static const std::map<std::string_view, TestFn> table = {
        {"!=", t_ne}, {"<", t_lt}, {"<=", t_le}, {"==", t_eq}, {">", t_gt}, {">=", t_ge},
        {"boolean", t_boolean}, {"callable", t_callable}, {"defined", t_defined},
        {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq}, {"escaped", t_escaped},
        {"even", t_even}, {"false", t_false}, {"filter", t_filter}, {"float", t_float}, {"ge", t_ge},
        {"greaterthan", t_gt}, {"gt", t_gt}, {"in", t_in}, {"integer", t_integer}, {"iterable", t_iterable},
        {"le", t_le}, {"lessthan", t_lt}, {"lower", t_lower}, {"lt", t_lt}, {"mapping", t_mapping},
        {"ne", t_ne}, {"none", t_none}, {"number", t_number}, {"odd", t_odd}, {"sameas", t_sameas},
        {"sequence", t_sequence}, {"string", t_string}, {"test", t_test}, {"true", t_true},
        {"undefined", t_undefined}, {"upper", t_upper},
    };
    return table;
}

}  // namespace

TestFn find_test(std::string_view name) {
    const auto& t = test_table();
    auto it = t.find(name);
    return it == t.end() ? nullptr : it->second;
}

}  // namespace ember::jinja
