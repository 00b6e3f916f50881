// The filters (`x | name(args)`), after jinja2/filters.py, plus Hugging Face's tojson.
#include "jinja/error.h"
#include "jinja/evaluator.h"
#include "jinja/json.h"
#include "jinja/value.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <string_view>

namespace ember::jinja {

const Value* arg(const CallArgs& args, size_t index, std::string_view name) {
    if (index < args.args.size()) return &args.args[index];
    return args.kwarg(name);
}
std::string arg_str(const CallArgs& args, size_t index, std::string_view name, std::string fallback) {
    const Value* v = arg(args, index, name);
    return v ? to_str(*v) : fallback;
}
int64_t arg_int(const CallArgs& args, size_t index, std::string_view name, int64_t fallback) {
    const Value* v = arg(args, index, name);
    if (!v) return fallback;
    if (v->kind == Kind::Int) return v->i;
    if (v->kind == Kind::Bool) return v->b;
    if (v->kind == Kind::Float && std::isfinite(v->f) && std::fabs(v->f) < 9e18) return static_cast<int64_t>(v->f);
    if (v->is_undefined()) fail_undefined(*v);
    throw_error(ErrorKind::Type, cat("'", v->type_name(), "' object cannot be interpreted as an integer"));
}
bool arg_bool(const CallArgs& args, size_t index, std::string_view name, bool fallback) {
    const Value* v = arg(args, index, name);
    return v ? v->truthy() : fallback;
}

namespace {

// A stable merge sort whose comparator may throw (a TypeError for unorderable items) without
// the undefined behaviour std::sort has for inconsistent comparators.
template <typename Less>
void merge_sort(std::vector<Value>& v, Less less) {
    if (v.size() < 2) return;
    std::vector<Value> tmp(v.size());
    for (size_t width = 1; width < v.size(); width *= 2) {
        for (size_t lo = 0; lo < v.size(); lo += 2 * width) {
            size_t mid = std::min(lo + width, v.size()), hi = std::min(lo + 2 * width, v.size());
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi) tmp[o++] = less(v[b], v[a]) ? v[b++] : v[a++];
            while (a < mid) tmp[o++] = v[a++];
            while (b < hi) tmp[o++] = v[b++];
        }
        v.swap(tmp);
    }
}

// Jinja's make_attrgetter: "a.b.0" looked up part by part with getitem.
Value get_path(Renderer& r, const Value& v, const std::string& path) {
    Value cur = v;
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        Value key = Value::string(part);
        if (!part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 18)
            key = Value::integer(std::atoll(part.c_str()));
        cur = r.get_item(cur, key);
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

Value sort_key(Renderer& r, const Value& v, const Value* attribute, bool case_sensitive) {
    Value k = attribute && !attribute->is_none() ? get_path(r, v, to_str(*attribute)) : v;
    if (!case_sensitive && k.is_string()) return Value::string(ascii_lower(k.s));
    return k;
}

std::vector<Value> items_of(const Value& v) {
    if (v.is_undefined()) return {};
    return iterate(v);
}

Value f_abs(Renderer&, const Value& v, CallArgs&) {
    if (v.kind == Kind::Int) {
        if (v.i == INT64_MIN) throw_error(ErrorKind::Type, "integer overflow");
        return Value::integer(v.i < 0 ? -v.i : v.i);
    }
    if (v.kind == Kind::Bool) return Value::integer(v.b);
    if (v.kind == Kind::Float) return Value::number(std::fabs(v.f));
    if (v.is_undefined()) fail_undefined(v);
    throw_error(ErrorKind::Type, "bad operand type for abs(): '" + v.type_name() + "'");
}

Value f_attr(Renderer& r, const Value& v, CallArgs& a) { return r.get_attr(v, arg_str(a, 0, "name", "")); }

Value f_batch(Renderer& r, const Value& v, CallArgs& a) {
    int64_t n = arg_int(a, 0, "linecount", 1);
    if (n <= 0) throw_error(ErrorKind::Type, "batch size must be positive");
    const Value* fill = arg(a, 1, "fill_with");
    std::vector<Value> out, cur;
    for (Value& x : items_of(v)) {
        cur.push_back(std::move(x));
        if (static_cast<int64_t>(cur.size()) == n) out.push_back(Value::make_list(std::move(cur))), cur.clear();
    }
    if (!cur.empty()) {
        if (fill && !fill->is_none()) {
            r.count_iterations(static_cast<size_t>(n) - cur.size());
            while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
        }
        out.push_back(Value::make_list(std::move(cur)));
    }
    return Value::make_generator(std::move(out));
}

Value f_capitalize(Renderer&, const Value& v, CallArgs&) {
    std::string s = ascii_lower(to_str(v));
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 32);
    return Value::string(s);
}

Value f_center(Renderer& r, const Value& v, CallArgs& a) {
    std::string s = to_str(v);
    int64_t width = arg_int(a, 0, "width", 80);
    int64_t len = static_cast<int64_t>(utf8_chars(s).size());
    if (width <= len) return Value::string(s);
    r.check_size(static_cast<size_t>(width));
    int64_t total = width - len, left = total / 2 + (total & width & 1);
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
}

Value f_length(Renderer&, const Value& v, CallArgs&) { return Value::integer(length(v)); }

Value f_default(Renderer&, const Value& v, CallArgs& a) {
    const Value* d = arg(a, 0, "default_value");
    bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return d ? *d : Value::string("");
    return v;
}

Value f_dictsort(Renderer& r, const Value& v, CallArgs& a) {
    if (!v.is_mapping()) throw_error(ErrorKind::Type, "can only dictsort a mapping");
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    std::string by = arg_str(a, 1, "by", "key");
    bool reverse = arg_bool(a, 2, "reverse", false);
    int pos = by == "key" ? 0 : by == "value" ? 1 : -1;
    if (pos < 0) throw_error(ErrorKind::Type, "You can only sort by either \"key\" or \"value\"");
    std::vector<Value> items;
    for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_list({k, x}, true));
    merge_sort(items, [&](const Value& x, const Value& y) {
        Value kx = sort_key(r, x.list->items[static_cast<size_t>(pos)], nullptr, cs);
        Value ky = sort_key(r, y.list->items[static_cast<size_t>(pos)], nullptr, cs);
        return reverse ? compare(ky, kx, "<") < 0 : compare(kx, ky, "<") < 0;
    });
    return Value::make_list(std::move(items));
}

}  // namespace

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

namespace {

Value f_escape(Renderer&, const Value& v, CallArgs&) {
    if (v.is_string() && v.markup) return v;
    Value r = Value::string(html_escape(to_str(v)));
    r.markup = true;
    return r;
}

Value f_first(Renderer&, const Value& v, CallArgs&) {
    std::vector<Value> items = items_of(v);
    if (items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items.front();
}

Value f_last(Renderer&, const Value& v, CallArgs&) {
    if (v.is_list() && v.list->generator) throw_error(ErrorKind::Type, "'generator' object is not reversible");
    std::vector<Value> items = items_of(v);
    if (items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items.back();
}

bool parse_py_float(const std::string& text, double& out) {
    std::string s = py_strip(text, true, true, nullptr);
    std::string t;
    for (char c : s)
        if (c != '_') t += c;
    std::string low = ascii_lower(t);
    if (low == "inf" || low == "+inf" || low == "infinity" || low == "+infinity") { out = INFINITY; return true; }
    if (low == "-inf" || low == "-infinity") { out = -INFINITY; return true; }
    if (low == "nan" || low == "+nan" || low == "-nan") { out = NAN; return true; }
    if (t.empty() || t.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
    char* end = nullptr;
    out = std::strtod(t.c_str(), &end);
    return end && *end == '\0';
}

Value f_float(Renderer&, const Value& v, CallArgs& a) {
    const Value* d = arg(a, 0, "default");
    Value fallback = d ? *d : Value::number(0.0);
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
        double x;
        if (parse_py_float(v.s, x)) return Value::number(x);
    }
    return fallback;
}

Value f_int(Renderer&, const Value& v, CallArgs& a) {
    const Value* d = arg(a, 0, "default");
    Value fallback = d ? *d : Value::integer(0);
    int64_t base = arg_int(a, 1, "base", 10);
    auto from_double = [&](double x) -> Value {
        if (std::isnan(x)) throw_error(ErrorKind::Type, "ValueError: cannot convert float NaN to integer");
        if (!std::isfinite(x) || std::fabs(x) >= 9.2e18) throw_error(ErrorKind::Type, "OverflowError: cannot convert float to integer");
        return Value::integer(static_cast<int64_t>(x));
    };
    if (v.kind == Kind::Int) return v;
    if (v.kind == Kind::Bool) return Value::integer(v.b);
    if (v.kind == Kind::Float) return from_double(v.f);
    if (v.is_string()) {
        std::string s = py_strip(v.s, true, true, nullptr);
        std::string t;
        for (char c : s)
            if (c != '_') t += c;
        if (base >= 2 && base <= 36 && !t.empty()) {
            size_t k = 0;
            bool neg = false;
            if (t[0] == '+' || t[0] == '-') neg = t[k++] == '-';
            if (base == 16 && t.size() > k + 1 && t[k] == '0' && (t[k + 1] == 'x' || t[k + 1] == 'X')) k += 2;
            if (base == 8 && t.size() > k + 1 && t[k] == '0' && (t[k + 1] == 'o' || t[k + 1] == 'O')) k += 2;
            if (base == 2 && t.size() > k + 1 && t[k] == '0' && (t[k + 1] == 'b' || t[k + 1] == 'B')) k += 2;
            int64_t r = 0;
            bool ok = k < t.size();
            for (; k < t.size() && ok; ++k) {
                char c = t[k];
                int dgt = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 99;
                if (dgt >= base || __builtin_mul_overflow(r, base, &r) || __builtin_add_overflow(r, dgt, &r)) ok = false;
            }
            if (ok) return Value::integer(neg ? -r : r);
        }
        double x;
        if (parse_py_float(v.s, x) && std::isfinite(x)) return from_double(x);
        if (parse_py_float(v.s, x)) return from_double(x);
    }
    return fallback;
}

Value f_items(Renderer&, const Value& v, CallArgs&) {
    if (v.is_undefined()) return Value::make_generator({});
    if (!v.is_mapping()) throw_error(ErrorKind::Type, "Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict->items) out.push_back(Value::make_list({k, x}, true));
    return Value::make_generator(std::move(out));
}

std::vector<std::string> splitlines(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    std::vector<std::string_view> cs = utf8_chars(s);
    for (size_t k = 0; k < cs.size(); ++k) {
        std::string_view c = cs[k];
        bool brk = c == "\n" || c == "\r" || c == "\v" || c == "\f" || c == "\x1c" || c == "\x1d" || c == "\x1e" ||
                   c == "\xc2\x85" || c == "\xe2\x80\xa8" || c == "\xe2\x80\xa9";
        if (!brk) {
            cur += c;
            continue;
        }
        if (c == "\r" && k + 1 < cs.size() && cs[k + 1] == "\n") ++k;
        out.push_back(std::move(cur));
        cur.clear();
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

Value f_indent(Renderer& r, const Value& v, CallArgs& a) {
    const Value* w = arg(a, 0, "width");
    std::string ind;
    if (w && w->is_string()) {
        ind = w->s;
    } else {
        int64_t n = arg_int(a, 0, "width", 4);
        if (n > 0) {
            r.check_size(static_cast<size_t>(n));
            ind.assign(static_cast<size_t>(n), ' ');
        }
    }
    bool first = arg_bool(a, 1, "first", false);
    bool blank = arg_bool(a, 2, "blank", false);
    std::string s = to_str(v) + "\n";
    std::vector<std::string> lines = splitlines(s);
    std::string out;
    if (blank) {
        for (size_t k = 0; k < lines.size(); ++k) {
            if (k) out += "\n" + ind;
            out += lines[k];
            r.check_size(out.size());
        }
    } else {
        out = lines.empty() ? "" : lines[0];
        for (size_t k = 1; k < lines.size(); ++k) {
            out += "\n";
            if (!lines[k].empty()) out += ind;
            out += lines[k];
            r.check_size(out.size());
        }
    }
    if (first) out = ind + out;
    return Value::string(std::move(out));
}

Value f_join(Renderer& r, const Value& v, CallArgs& a) {
    std::string sep = arg_str(a, 0, "d", "");
    const Value* attribute = arg(a, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& x : items_of(v)) {
        if (!first) out += sep;
        first = false;
        out += to_str(attribute && !attribute->is_none() ? get_path(r, x, to_str(*attribute)) : x);
        r.check_size(out.size());
    }
    return Value::string(std::move(out));
}

Value f_list(Renderer&, const Value& v, CallArgs&) { return Value::make_list(items_of(v)); }

Value f_lower(Renderer&, const Value& v, CallArgs&) { return Value::string(ascii_lower(to_str(v))); }
Value f_upper(Renderer&, const Value& v, CallArgs&) { return Value::string(ascii_upper(to_str(v))); }

Value f_map(Renderer& r, const Value& v, CallArgs& a) {
    std::vector<Value> out;
    if (!v.truthy()) return Value::make_generator({});
    const Value* attribute = a.kwarg("attribute");
    if (attribute) {
        const Value* dflt = a.kwarg("default");
        for (const Value& x : items_of(v)) {
            Value y = get_path(r, x, to_str(*attribute));
            if (y.is_undefined() && dflt) y = *dflt;
            out.push_back(y);
        }
        return Value::make_generator(std::move(out));
    }
    if (a.args.empty()) throw_error(ErrorKind::Type, "map requires a filter argument");
    std::string name = to_str(a.args[0]);
    FilterFn fn = find_filter(name);
    if (!fn) throw_error(ErrorKind::Runtime, "No filter named '" + name + "'.");
    CallArgs rest;
    rest.args.assign(a.args.begin() + 1, a.args.end());
    rest.kwargs = a.kwargs;
    for (const Value& x : items_of(v)) out.push_back(fn(r, x, rest));
    return Value::make_generator(std::move(out));
}

Value minmax(Renderer& r, const Value& v, CallArgs& a, bool want_max) {
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* attribute = arg(a, 1, "attribute");
    std::vector<Value> items = items_of(v);
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    size_t best = 0;
    for (size_t k = 1; k < items.size(); ++k) {
        Value kb = sort_key(r, items[best], attribute, cs), kk = sort_key(r, items[k], attribute, cs);
        int c = compare(kk, kb, want_max ? ">" : "<");
        if (want_max ? c > 0 : c < 0) best = k;
    }
    return items[best];
}
Value f_max(Renderer& r, const Value& v, CallArgs& a) { return minmax(r, v, a, true); }
Value f_min(Renderer& r, const Value& v, CallArgs& a) { return minmax(r, v, a, false); }

Value f_pprint(Renderer&, const Value& v, CallArgs&) { return Value::string(repr(v)); }

// select / reject / selectattr / rejectattr
Value select_common(Renderer& r, const Value& v, CallArgs& a, bool by_attr, bool keep_true) {
    size_t first_test = by_attr ? 1 : 0;
    std::string attribute = by_attr ? (a.args.empty() ? "" : to_str(a.args[0])) : "";
    if (by_attr && a.args.empty()) throw_error(ErrorKind::Type, "Missing parameter for attribute name");
    TestFn test = nullptr;
    CallArgs rest;
    if (a.args.size() > first_test) {
        std::string name = to_str(a.args[first_test]);
        test = find_test(name);
        if (!test) throw_error(ErrorKind::Runtime, "No test named '" + name + "'.");
        rest.args.assign(a.args.begin() + static_cast<long>(first_test) + 1, a.args.end());
        rest.kwargs = a.kwargs;
    }
    std::vector<Value> out;
    if (!v.truthy()) return Value::make_generator({});  // Jinja: `if value:` before iterating
    for (const Value& x : items_of(v)) {
        Value y = by_attr ? get_path(r, x, attribute) : x;
        bool t = test ? test(r, y, rest) : y.truthy();
        if (t == keep_true) out.push_back(x);
    }
    return Value::make_generator(std::move(out));
}
Value f_select(Renderer& r, const Value& v, CallArgs& a) { return select_common(r, v, a, false, true); }
Value f_reject(Renderer& r, const Value& v, CallArgs& a) { return select_common(r, v, a, false, false); }
Value f_selectattr(Renderer& r, const Value& v, CallArgs& a) { return select_common(r, v, a, true, true); }
Value f_rejectattr(Renderer& r, const Value& v, CallArgs& a) { return select_common(r, v, a, true, false); }

Value f_replace(Renderer& r, const Value& v, CallArgs& a) {
    std::string s = to_str(v);
    std::string from = arg_str(a, 0, "old", "");
    std::string to = arg_str(a, 1, "new", "");
    const Value* cv = arg(a, 2, "count");
    int64_t count = cv && !cv->is_none() ? arg_int(a, 2, "count", -1) : -1;
    std::string out;
    if (from.empty()) {
        std::vector<std::string_view> cs = utf8_chars(s);
        int64_t done = 0;
        for (size_t k = 0; k <= cs.size(); ++k) {
            if (count < 0 || done < count) { out += to; ++done; }
            if (k < cs.size()) out += cs[k];
            r.check_size(out.size());
        }
        return Value::string(std::move(out));
    }
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t at = s.find(from, pos);
        if (at == std::string::npos) break;
        out.append(s, pos, at - pos);
        out += to;
        r.check_size(out.size());
        pos = at + from.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return Value::string(std::move(out));
}

Value f_reverse(Renderer&, const Value& v, CallArgs&) {
    if (v.is_string()) {
        std::vector<std::string_view> cs = utf8_chars(v.s);
        std::string out;
        for (size_t k = cs.size(); k-- > 0;) out += cs[k];
        return Value::string(std::move(out));
    }
    std::vector<Value> items = items_of(v);
    std::reverse(items.begin(), items.end());
    return Value::make_generator(std::move(items));
}

double py_round(double x, int64_t digits) {
    if (!std::isfinite(x)) return x;
    if (digits > 22) return x;
    if (digits < -22) return 0.0 * x;
    double p = std::pow(10.0, static_cast<double>(digits < 0 ? -digits : digits));
    double y = digits >= 0 ? x * p : x / p;
    if (!std::isfinite(y)) return x;
    double r = std::nearbyint(y);  // round half to even, like Python
    if (std::fabs(y - std::trunc(y)) != 0.5) r = std::round(y);
    return digits >= 0 ? r / p : r * p;
}

Value f_round(Renderer&, const Value& v, CallArgs& a) {
    int64_t precision = arg_int(a, 0, "precision", 0);
    std::string method = arg_str(a, 1, "method", "common");
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_number()) throw_error(ErrorKind::Type, "type " + v.type_name() + " doesn't define __round__ method");
    if (method == "common") {
        if (v.kind != Kind::Float) return Value::integer(v.kind == Kind::Int ? v.i : v.b);
        return Value::number(py_round(v.f, precision));
    }
    if (method != "ceil" && method != "floor") throw_error(ErrorKind::Type, "method must be common, ceil or floor");
    double p = std::pow(10.0, static_cast<double>(precision));
    double x = v.as_double() * p;
    return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

Value f_safe(Renderer&, const Value& v, CallArgs&) {
    Value r = v.is_string() ? v : Value::string(to_str(v));
    r.markup = true;
    return r;
}

Value f_sort(Renderer& r, const Value& v, CallArgs& a) {
    bool reverse = arg_bool(a, 0, "reverse", false);
    bool cs = arg_bool(a, 1, "case_sensitive", false);
    const Value* attribute = arg(a, 2, "attribute");
    std::vector<Value> items = items_of(v);
    merge_sort(items, [&](const Value& x, const Value& y) {
        Value kx = sort_key(r, x, attribute, cs), ky = sort_key(r, y, attribute, cs);
        return reverse ? compare(ky, kx, "<") < 0 : compare(kx, ky, "<") < 0;
    });
    return Value::make_list(std::move(items));
}

Value f_string(Renderer&, const Value& v, CallArgs&) { return v.is_string() ? v : Value::string(to_str(v)); }

Value f_sum(Renderer& r, const Value& v, CallArgs& a) {
    const Value* attribute = arg(a, 0, "attribute");
    const Value* start = arg(a, 1, "start");
    Value total = start ? *start : Value::integer(0);
    for (const Value& x : items_of(v))
        total = py_add(total, attribute && !attribute->is_none() ? get_path(r, x, to_str(*attribute)) : x, r.limits());
    return total;
}

Value f_title(Renderer&, const Value& v, CallArgs&) {
    // Jinja: split at runs of [-\s({\[<], capitalize the first letter of each piece.
    std::string s = to_str(v), out;
    bool word_start = true;
    for (char c : s) {
        bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || c == ' ' || c == '\t' || c == '\n' ||
                   c == '\r' || c == '\f' || c == '\v';
        if (sep) {
            out += c;
            word_start = true;
        } else if (word_start) {
            out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
            word_start = false;
        } else {
            out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        }
    }
    return Value::string(std::move(out));
}

Value f_tojson(Renderer& r, const Value& v, CallArgs& a) {
    JsonOptions o;
    o.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
    const Value* indent = arg(a, 1, "indent");
    if (indent && !indent->is_none()) {
        if (indent->is_string()) {
            o.indent = indent->s;
        } else {
            int64_t n = arg_int(a, 1, "indent", 0);
            r.check_size(n > 0 ? static_cast<size_t>(n) : 0);
            o.indent = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
        }
        o.item_separator = ",";
    }
    const Value* seps = arg(a, 2, "separators");
    if (seps && !seps->is_none()) {
        std::vector<Value> parts = iterate(*seps);
        if (parts.size() != 2) throw_error(ErrorKind::Type, "separators must be an (item_separator, key_separator) pair");
        o.item_separator = to_str(parts[0]);
        o.key_separator = to_str(parts[1]);
    }
    o.sort_keys = arg_bool(a, 3, "sort_keys", false);
    std::string out = to_json(v, o);
    r.check_size(out.size());
    return Value::string(std::move(out));
}

Value f_trim(Renderer&, const Value& v, CallArgs& a) {
    const Value* chars = arg(a, 0, "chars");
    if (chars && !chars->is_none()) {
        std::string c = to_str(*chars);
        return Value::string(py_strip(to_str(v), true, true, &c));
    }
    return Value::string(py_strip(to_str(v), true, true, nullptr));
}

Value f_truncate(Renderer&, const Value& v, CallArgs& a) {
    std::string s = to_str(v);
    int64_t length = arg_int(a, 0, "length", 255);
    bool killwords = arg_bool(a, 1, "killwords", false);
    std::string end = arg_str(a, 2, "end", "...");
    int64_t leeway = arg_int(a, 3, "leeway", 5);  // Jinja's truncate.leeway policy
    std::vector<std::string_view> cs = utf8_chars(s);
    int64_t n = static_cast<int64_t>(cs.size());
    if (n <= length + leeway) return Value::string(s);
    int64_t keep = length - static_cast<int64_t>(utf8_chars(end).size());
    if (keep < 0) keep = 0;
    std::string head;
    for (int64_t k = 0; k < keep && k < n; ++k) head += cs[static_cast<size_t>(k)];
    if (killwords) return Value::string(head + end);
    size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head = head.substr(0, sp);
    return Value::string(head + end);
}

Value f_unique(Renderer& r, const Value& v, CallArgs& a) {
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* attribute = arg(a, 1, "attribute");
    std::vector<Value> out, seen;
    for (const Value& x : items_of(v)) {
        Value k = sort_key(r, x, attribute, cs);
        hash_key(k);
        bool dup = false;
        for (const Value& s : seen)
            if (equals(s, k)) { dup = true; break; }
        if (dup) continue;
        seen.push_back(k);
        out.push_back(x);
    }
    return Value::make_generator(std::move(out));
}

Value f_wordcount(Renderer&, const Value& v, CallArgs&) {
    std::string s = to_str(v);
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : s) {
        bool w = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
        if (w && !in_word) ++n;
        in_word = w;
    }
    return Value::integer(n);
}

Value f_format(Renderer& r, const Value& v, CallArgs& a) {
    if (!a.kwargs.empty() && !a.args.empty()) throw_error(ErrorKind::Type, "can't handle positional and keyword arguments at the same time");
    if (!a.kwargs.empty()) {
        Value d = Value::make_dict();
        for (auto& [k, x] : a.kwargs) d.dict->set(Value::string(k), x);
        return py_arith("%", Value::string(to_str(v)), d, r.limits());
    }
    return py_arith("%", Value::string(to_str(v)), Value::make_list(a.args, true), r.limits());
}

Value f_xmlattr(Renderer&, const Value& v, CallArgs& a) {
    if (!v.is_mapping()) throw_error(ErrorKind::Type, "xmlattr needs a mapping");
    bool autospace = arg_bool(a, 0, "autospace", true);
    std::string out;
    for (const auto& [k, x] : v.dict->items) {
        if (x.is_none() || x.is_undefined()) continue;
        if (!out.empty()) out += ' ';
        out += html_escape(to_str(k)) + "=\"" + html_escape(to_str(x)) + "\"";
    }
    if (autospace && !out.empty()) out = " " + out;
    return Value::string(std::move(out));
}

const std::map<std::string_view, FilterFn>& filter_table() {
    static const std::map<std::string_view, FilterFn> table = {
        {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize},
        {"center", f_center}, {"count", f_length}, {"d", f_default}, {"default", f_default},
        {"dictsort", f_dictsort}, {"e", f_escape}, {"escape", f_escape}, {"first", f_first},
        {"float", f_float}, {"forceescape", f_escape}, {"format", f_format}, {"indent", f_indent},
        {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last}, {"length", f_length},
        {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min},
        {"pprint", f_pprint}, {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
        {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
        {"selectattr", f_selectattr}, {"sort", f_sort}, {"string", f_string}, {"sum", f_sum},
        {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim}, {"truncate", f_truncate},
        {"unique", f_unique}, {"upper", f_upper}, {"wordcount", f_wordcount}, {"xmlattr", f_xmlattr},
    };
    return table;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
    const auto& t = filter_table();
    auto it = t.find(name);
    return it == t.end() ? nullptr : it->second;
}

}  // namespace ember::jinja
