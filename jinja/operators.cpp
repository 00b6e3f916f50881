// Python's binary operators on Values (+ - * / // % **), `in`, and slicing, with int64 overflow
// and size checks instead of Python's big integers and unbounded strings.
#include "jinja/error.h"
#include "jinja/evaluator.h"
#include "jinja/value.h"

#include <cmath>
#include <cstdio>

namespace ember::jinja {

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    throw_error(ErrorKind::Type, "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                                     b.type_name() + "'");
}

bool intlike(const Value& v) { return v.kind == Kind::Int || v.kind == Kind::Bool; }
int64_t ival(const Value& v) { return v.kind == Kind::Int ? v.i : v.b; }
[[noreturn]] void overflow() { throw_error(ErrorKind::Type, "integer overflow (ints are 64-bit here)"); }

Value repeat(const Value& seq, int64_t n, const RenderLimits& limits) {
    if (n <= 0) return seq.is_string() ? Value::string("") : Value::make_list({}, seq.list->tuple);
    if (seq.is_string()) {
        if (seq.s.size() * static_cast<unsigned __int128>(n) > limits.max_output_bytes)
            throw_error(ErrorKind::Limit, "output size limit exceeded (max_output_bytes = " +
                                              std::to_string(limits.max_output_bytes) + ")");
        std::string out;
        out.reserve(seq.s.size() * static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) out += seq.s;
        return Value::string(std::move(out));
    }
    if (seq.list->items.size() * static_cast<unsigned __int128>(n) > limits.max_output_bytes / 8)
        throw_error(ErrorKind::Limit, "output size limit exceeded (max_output_bytes = " +
                                          std::to_string(limits.max_output_bytes) + ")");
    std::vector<Value> items;
    for (int64_t k = 0; k < n; ++k) items.insert(items.end(), seq.list->items.begin(), seq.list->items.end());
    return Value::make_list(std::move(items), seq.list->tuple);
}

int64_t floordiv(int64_t a, int64_t b) {
    if (b == -1 && a == INT64_MIN) overflow();
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

int64_t pymod(int64_t a, int64_t b) {
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

double pyfmod(double a, double b) {
    double r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    else if (r == 0) r = std::copysign(0.0, b);
    return r;
}

// printf-style "..." % args (Python's str %): %s %r %d %i %f %x %o %e %g %c %% with flags.
Value percent_format(const std::string& fmt, const Value& args) {
    std::vector<Value> list;
    if (args.is_list() && args.list->tuple) list = args.list->items;
    else list.push_back(args);
    const DictObj* mapping = args.is_mapping() ? args.dict.get() : nullptr;
    size_t next = 0;
    std::string out;
    for (size_t k = 0; k < fmt.size(); ++k) {
        if (fmt[k] != '%') {
            out += fmt[k];
            continue;
        }
        if (++k >= fmt.size()) throw_error(ErrorKind::Type, "incomplete format");
        Value v;
        bool have = false;
        if (fmt[k] == '(') {
            size_t e = fmt.find(')', k);
            if (e == std::string::npos || !mapping) throw_error(ErrorKind::Type, "format requires a mapping");
            const Value* x = mapping->find(std::string_view(fmt).substr(k + 1, e - k - 1));
            if (!x) throw_error(ErrorKind::Type, "format key not found");
            v = *x;
            have = true;
            k = e + 1;
        }
        std::string spec = "%";
        while (k < fmt.size() && std::string_view("-+ #0").find(fmt[k]) != std::string_view::npos) spec += fmt[k++];
        while (k < fmt.size() && fmt[k] >= '0' && fmt[k] <= '9' && spec.size() < 12) spec += fmt[k++];
        if (k < fmt.size() && fmt[k] == '.') {
            spec += fmt[k++];
            while (k < fmt.size() && fmt[k] >= '0' && fmt[k] <= '9' && spec.size() < 16) spec += fmt[k++];
        }
        if (k >= fmt.size()) throw_error(ErrorKind::Type, "incomplete format");
        char c = fmt[k];
        if (c == '%') {
            out += '%';
            continue;
        }
        if (!have) {
            if (mapping) v = args;
            else if (next < list.size()) v = list[next++];
            else throw_error(ErrorKind::Type, "not enough arguments for format string");
        }
        char buf[512];
        if (c == 's' || c == 'r' || c == 'a') {
            std::string s = c == 's' ? to_str(v) : repr(v);
            std::snprintf(buf, sizeof buf, (spec + "s").c_str(), "");
            std::string pad_spec = spec + "s";
            // width/precision on text: apply by hand (snprintf would count bytes the same way)
            int n = std::snprintf(nullptr, 0, pad_spec.c_str(), s.c_str());
            std::string tmp(static_cast<size_t>(n > 0 ? n : 0) + 1, '\0');
            std::snprintf(tmp.data(), tmp.size(), pad_spec.c_str(), s.c_str());
            tmp.pop_back();
            out += tmp;
        } else if (c == 'd' || c == 'i' || c == 'x' || c == 'X' || c == 'o' || c == 'c') {
            if (!v.is_number()) throw_error(ErrorKind::Type, "%" + std::string(1, c) + " format: a number is required, not " + v.type_name());
            long long x = v.kind == Kind::Float ? static_cast<long long>(std::isfinite(v.f) && std::fabs(v.f) < 9e18 ? v.f : 0) : ival(v);
            if (c == 'c') {
                out += static_cast<char>(x & 0x7F);
                continue;
            }
            std::snprintf(buf, sizeof buf, (spec + "ll" + (c == 'i' ? 'd' : c)).c_str(), x);
            out += buf;
        } else if (c == 'f' || c == 'F' || c == 'e' || c == 'E' || c == 'g' || c == 'G') {
            if (!v.is_number()) throw_error(ErrorKind::Type, "must be real number, not " + v.type_name());
            std::snprintf(buf, sizeof buf, (spec + c).c_str(), v.as_double());
            out += buf;
        } else {
            throw_error(ErrorKind::Type, std::string("unsupported format character '") + c + "'");
        }
    }
    if (!mapping && next < list.size() && !(args.is_list() && !args.list->tuple))
        throw_error(ErrorKind::Type, "not all arguments converted during string formatting");
    return Value::string(std::move(out));
}

}  // namespace

Value py_add(const Value& a, const Value& b, const RenderLimits& limits) { return py_arith("+", a, b, limits); }

Value py_arith(const std::string& op, const Value& a, const Value& b, const RenderLimits& limits) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    if (intlike(a) && intlike(b)) {
        int64_t x = ival(a), y = ival(b), r;
        if (op == "+") { if (__builtin_add_overflow(x, y, &r)) overflow(); return Value::integer(r); }
        if (op == "-") { if (__builtin_sub_overflow(x, y, &r)) overflow(); return Value::integer(r); }
        if (op == "*") { if (__builtin_mul_overflow(x, y, &r)) overflow(); return Value::integer(r); }
        if (op == "/") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: division by zero");
            return Value::number(static_cast<double>(x) / static_cast<double>(y));
        }
        if (op == "//") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: integer division or modulo by zero");
            return Value::integer(floordiv(x, y));
        }
        if (op == "%") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: integer modulo by zero");
            return Value::integer(pymod(x, y));
        }
        if (op == "**") {
            if (y < 0) return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
            int64_t result = 1, base = x;
            for (int64_t e = y; e > 0;) {
                if ((e & 1) && __builtin_mul_overflow(result, base, &result)) overflow();
                e >>= 1;
                if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
            }
            return Value::integer(result);
        }
    }
    if (a.is_number() && b.is_number()) {
        double x = a.as_double(), y = b.as_double();
        if (op == "+") return Value::number(x + y);
        if (op == "-") return Value::number(x - y);
        if (op == "*") return Value::number(x * y);
        if (op == "/") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: float division by zero");
            return Value::number(x / y);
        }
        if (op == "//") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: float floor division by zero");
            return Value::number(std::floor(x / y));
        }
        if (op == "%") {
            if (y == 0) throw_error(ErrorKind::Type, "ZeroDivisionError: float modulo");
            return Value::number(pyfmod(x, y));
        }
        if (op == "**") return Value::number(std::pow(x, y));
    }
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            if (a.s.size() + b.s.size() > limits.max_output_bytes)
                throw_error(ErrorKind::Limit, "output size limit exceeded (max_output_bytes = " +
                                                  std::to_string(limits.max_output_bytes) + ")");
            if (a.markup || b.markup) {  // markupsafe.Markup.__add__ / __radd__: escape the plain side
                Value r = Value::string((a.markup ? a.s : html_escape(a.s)) + (b.markup ? b.s : html_escape(b.s)));
                r.markup = true;
                return r;
            }
            return Value::string(a.s + b.s);
        }
        if (a.is_list() && b.is_list() && a.list->tuple == b.list->tuple && !a.list->generator &&
            !b.list->generator) {
            std::vector<Value> items = a.list->items;
            items.insert(items.end(), b.list->items.begin(), b.list->items.end());
            return Value::make_list(std::move(items), a.list->tuple);
        }
    }
    if (op == "*") {
        if ((a.is_string() || (a.is_list() && !a.list->generator)) && intlike(b)) return repeat(a, ival(b), limits);
        if ((b.is_string() || (b.is_list() && !b.list->generator)) && intlike(a)) return repeat(b, ival(a), limits);
    }
    if (op == "%" && a.is_string()) return percent_format(a.s, b);
    unsupported(op, a, b);
}

bool py_in(const Value& needle, const Value& haystack) {
    switch (haystack.kind) {
        case Kind::String:
            if (!needle.is_string()) {
                if (needle.is_undefined()) fail_undefined(needle);
                throw_error(ErrorKind::Type, "'in <string>' requires string as left operand, not " + needle.type_name());
            }
            return haystack.s.find(needle.s) != std::string::npos;
        case Kind::List:
            for (const Value& x : haystack.list->items)
                if (equals(x, needle)) return true;
            return false;
        case Kind::Dict:
            if (haystack.dict->is_namespace) break;
            hash_key(needle);  // unhashable needles are a TypeError, as in Python
            return haystack.dict->find(needle) != nullptr;
        case Kind::Undefined:
            if (haystack.security) fail_undefined(haystack);
            return false;
        default: break;
    }
    throw_error(ErrorKind::Type, "argument of type '" + haystack.type_name() + "' is not iterable");
}

Value py_slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
    if (obj.is_undefined()) fail_undefined(obj);
    auto index = [](const Value& v, const char* what) -> std::pair<bool, int64_t> {
        if (v.is_none()) return {false, 0};
        if (v.kind == Kind::Int) return {true, v.i};
        if (v.kind == Kind::Bool) return {true, v.b};
        if (v.is_undefined()) fail_undefined(v);
        throw_error(ErrorKind::Type, std::string("slice indices must be integers or None, not ") + v.type_name());
        (void)what;
    };
    auto step_arg = index(step_v, "step");
    int64_t step = step_arg.first ? step_arg.second : 1;
    if (step == 0) throw_error(ErrorKind::Type, "slice step cannot be zero");
    if (step == INT64_MIN) step = -INT64_MAX;
    std::vector<std::string_view> chars;
    size_t n;
    if (obj.is_string()) {
        chars = utf8_chars(obj.s);
        n = chars.size();
    } else if (obj.is_list() && !obj.list->generator) {
        n = obj.list->items.size();
    } else {
        throw_error(ErrorKind::Type, "'" + obj.type_name() + "' object is not subscriptable");
    }
    const int64_t len = static_cast<int64_t>(n);
    auto clamp = [&](std::pair<bool, int64_t> p, int64_t dflt) -> int64_t {
        if (!p.first) return dflt;
        int64_t v = p.second;
        if (v < 0) {
            v = v < -len ? -1 : v + len;  // -1: before the start
            if (v < 0) v = step < 0 ? -1 : 0;
        } else if (v >= len) {
            v = step < 0 ? len - 1 : len;
        }
        return v;
    };
    int64_t start = clamp(index(start_v, "start"), step < 0 ? len - 1 : 0);
    int64_t stop = clamp(index(stop_v, "stop"), step < 0 ? -1 : len);
    std::vector<size_t> picks;
    if (step > 0) {
        for (int64_t k = start; k < stop; k += step) {
            picks.push_back(static_cast<size_t>(k));
            if (step > len) break;
        }
    } else {
        for (int64_t k = start; k > stop; k += step) {
            picks.push_back(static_cast<size_t>(k));
            if (-step > len) break;
        }
    }
    if (obj.is_string()) {
        std::string out;
        for (size_t k : picks) out += chars[k];
        return Value::string(std::move(out));
    }
    std::vector<Value> items;
    for (size_t k : picks) items.push_back(obj.list->items[k]);
    return Value::make_list(std::move(items), obj.list->tuple);
}

}  // namespace ember::jinja
