// Value semantics after Python: str/repr, truthiness, ==, ordering, hashing, len, iteration.
#include "jinja/value.h"

#include "jinja/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace ember::jinja {

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Syntax: return "TemplateSyntaxError";
        case ErrorKind::Undefined: return "UndefinedError";
        case ErrorKind::Type: return "TypeError";
        case ErrorKind::Security: return "SecurityError";
        case ErrorKind::Runtime: return "TemplateRuntimeError";
        case ErrorKind::Raised: return "raise_exception";
        case ErrorKind::Limit: return "LimitError";
    }
    return "Error";
}

static std::string format_error(ErrorKind kind, const std::string& message, int line, int column) {
    if (kind == ErrorKind::Raised) return cat("template raised: ", message);
    std::string out = "template";
    if (line > 0) out = cat(out, ":", std::to_string(line), ":", std::to_string(column));
    return cat(out, ": ", kind == ErrorKind::Syntax ? "syntax error" : error_kind_name(kind), ": ", message);
}

TemplateError::TemplateError(ErrorKind kind, std::string message, int line, int column)
    : ember::Error(format_error(kind, message, line, column)),
      kind_(kind), message_(std::move(message)), line_(line), column_(column) {}

void throw_error(ErrorKind kind, std::string message) { throw TemplateError(kind, std::move(message)); }

// ---- objects ----

bool Object::get_attr(std::string_view, Value&) const { return false; }
Value Object::call(Renderer&, CallArgs&) { throw_error(ErrorKind::Type, cat("'", type_name(), "' object is not callable")); }

const Value* CallArgs::kwarg(std::string_view name) const {
    for (const auto& [k, v] : kwargs)
        if (k == name) return &v;
    return nullptr;
}

// ---- constructors ----

Value Value::undefined(std::string message, bool security) {
    Value v;
    v.s = std::move(message);
    v.security = security;
    return v;
}
Value Value::none() { Value v; v.kind = Kind::None; return v; }
Value Value::boolean(bool b) { Value v; v.kind = Kind::Bool; v.b = b; return v; }
Value Value::integer(int64_t i) { Value v; v.kind = Kind::Int; v.i = i; return v; }
Value Value::number(double f) { Value v; v.kind = Kind::Float; v.f = f; return v; }
Value Value::string(std::string s) { Value v; v.kind = Kind::String; v.s = std::move(s); return v; }
Value Value::make_list(std::vector<Value> items, bool tuple) {
    Value v;
    v.kind = Kind::List;
    v.list = std::make_shared<ListObj>();
    v.list->items = std::move(items);
    v.list->tuple = tuple;
    return v;
}
Value Value::make_generator(std::vector<Value> items) {
    Value v = make_list(std::move(items));
    v.list->generator = true;
    return v;
}
Value Value::make_dict() { Value v; v.kind = Kind::Dict; v.dict = std::make_shared<DictObj>(); return v; }
Value Value::make_namespace() { Value v = make_dict(); v.dict->is_namespace = true; return v; }
Value Value::object(std::shared_ptr<Object> o) { Value v; v.kind = Kind::Object; v.obj = std::move(o); return v; }

double Value::as_double() const {
    if (kind == Kind::Int) return static_cast<double>(i);
    if (kind == Kind::Bool) return b ? 1.0 : 0.0;
    return f;
}

bool Value::truthy() const {
    switch (kind) {
        case Kind::Undefined: case Kind::None: return false;
        case Kind::Bool: return b;
        case Kind::Int: return i != 0;
        case Kind::Float: return f != 0.0;
        case Kind::String: return !s.empty();
        case Kind::List: return list->generator || !list->items.empty();
        case Kind::Dict: return dict->is_namespace || !dict->items.empty();
        case Kind::Object: return true;
    }
    return false;
}

std::string Value::type_name() const {
    switch (kind) {
        case Kind::Undefined: return "Undefined";
        case Kind::None: return "NoneType";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::String: return "str";
        case Kind::List: return list->generator ? "generator" : list->tuple ? "tuple" : "list";
        case Kind::Dict: return dict->is_namespace ? "Namespace" : "dict";
        case Kind::Object: return obj->type_name();
    }
    return "object";
}

// ---- dict ----

const Value* DictObj::find(const Value& key) const {
    std::string h;
    try {
        h = hash_key(key);
    } catch (const TemplateError&) {
        return nullptr;
    }
    auto it = index.find(h);
    return it == index.end() ? nullptr : &items[it->second].second;
}
const Value* DictObj::find(std::string_view key) const {
    std::string h = "s:";
    h += key;
    auto it = index.find(h);
    return it == index.end() ? nullptr : &items[it->second].second;
}
void DictObj::set(Value key, Value value) {
    std::string h = hash_key(key);
    auto it = index.find(h);
    if (it != index.end()) {
        items[it->second].second = std::move(value);
        return;
    }
    index.emplace(std::move(h), items.size());
    items.emplace_back(std::move(key), std::move(value));
}

// ---- str / repr ----

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    // sci = [-]D[.DDD]e[+-]XX: split into sign, digits, exponent
    bool neg = sci[0] == '-';
    if (neg) sci.erase(0, 1);
    size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    int exp = std::atoi(sci.c_str() + e + 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    std::string out = neg ? "-" : "";
    if (exp < -4 || exp >= 16) {
        out += digits[0];
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        out += eb;
    } else if (exp < 0) {
        out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else {
        size_t int_len = static_cast<size_t>(exp) + 1;
        if (digits.size() <= int_len) {
            out += digits + std::string(int_len - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, int_len) + "." + digits.substr(int_len);
        }
    }
    return out;
}

std::string py_string_repr(std::string_view s) {
    bool has_single = s.find('\'') != std::string_view::npos;
    bool has_double = s.find('"') != std::string_view::npos;
    char q = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == q || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else out += static_cast<char>(c);
    }
    out += q;
    return out;
}

static void repr_into(const Value& v, std::string& out, int depth);

static void str_into(const Value& v, std::string& out, int depth) {
    switch (v.kind) {
        case Kind::Undefined: return;
        case Kind::String: out += v.s; return;
        default: repr_into(v, out, depth);
    }
}

static void repr_into(const Value& v, std::string& out, int depth) {
    if (depth > 200) throw_error(ErrorKind::Limit, "maximum recursion depth exceeded while getting the repr of an object");
    switch (v.kind) {
        case Kind::Undefined: out += "Undefined"; return;
        case Kind::None: out += "None"; return;
        case Kind::Bool: out += v.b ? "True" : "False"; return;
        case Kind::Int: out += std::to_string(v.i); return;
        case Kind::Float: out += float_repr(v.f); return;
        case Kind::String: out += py_string_repr(v.s); return;
        case Kind::List: {
            if (v.list->generator) { out += "<generator object>"; return; }
            out += v.list->tuple ? '(' : '[';
            bool first = true;
            for (const Value& x : v.list->items) {
                if (!first) out += ", ";
                first = false;
                repr_into(x, out, depth + 1);
            }
            if (v.list->tuple && v.list->items.size() == 1) out += ',';
            out += v.list->tuple ? ')' : ']';
            return;
        }
        case Kind::Dict: {
            if (v.dict->is_namespace) out += "<Namespace ";
            out += '{';
            bool first = true;
            for (const auto& [k, x] : v.dict->items) {
                if (!first) out += ", ";
                first = false;
                repr_into(k, out, depth + 1);
                out += ": ";
                repr_into(x, out, depth + 1);
            }
            out += '}';
            if (v.dict->is_namespace) out += '>';
            return;
        }
        case Kind::Object: out += cat("<", v.obj->type_name(), " object>"); return;
    }
}

std::string to_str(const Value& v) {
    std::string out;
    str_into(v, out, 0);
    return out;
}
std::string repr(const Value& v) {
    std::string out;
    repr_into(v, out, 0);
    return out;
}

// ---- comparison ----

static bool equals_depth(const Value& a, const Value& b, int depth) {
    if (depth > 200) throw_error(ErrorKind::Limit, "maximum recursion depth exceeded in comparison");
    if (a.is_number() && b.is_number()) {
        if (a.kind != Kind::Float && b.kind != Kind::Float) {
            int64_t x = a.kind == Kind::Int ? a.i : a.b, y = b.kind == Kind::Int ? b.i : b.b;
            return x == y;
        }
        return a.as_double() == b.as_double();
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Kind::Undefined: case Kind::None: return true;
        case Kind::String: return a.s == b.s;
        case Kind::List: {
            if (a.list == b.list) return true;
            if (a.list->tuple != b.list->tuple || a.list->generator || b.list->generator) return false;
            if (a.list->items.size() != b.list->items.size()) return false;
            for (size_t k = 0; k < a.list->items.size(); ++k)
                if (!equals_depth(a.list->items[k], b.list->items[k], depth + 1)) return false;
            return true;
        }
        case Kind::Dict: {
            if (a.dict == b.dict) return true;
            if (a.dict->is_namespace || b.dict->is_namespace) return false;
            if (a.dict->size() != b.dict->size()) return false;
            for (const auto& [k, x] : a.dict->items) {
                const Value* y = b.dict->find(k);
                if (!y || !equals_depth(x, *y, depth + 1)) return false;
            }
            return true;
        }
        case Kind::Object: return a.obj == b.obj;
        default: return false;
    }
}

bool equals(const Value& a, const Value& b) { return equals_depth(a, b, 0); }

int compare(const Value& a, const Value& b, std::string_view op) {
    if (a.is_number() && b.is_number()) {
        if (a.kind != Kind::Float && b.kind != Kind::Float) {
            int64_t x = a.kind == Kind::Int ? a.i : a.b, y = b.kind == Kind::Int ? b.i : b.b;
            return x < y ? -1 : x > y ? 1 : 0;
        }
        double x = a.as_double(), y = b.as_double();
        return x < y ? -1 : x > y ? 1 : 0;  // NaN compares as equal here; callers check ==
    }
    if (a.kind == Kind::String && b.kind == Kind::String) {
        int c = a.s.compare(b.s);
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.kind == Kind::List && b.kind == Kind::List && a.list->tuple == b.list->tuple && !a.list->generator &&
        !b.list->generator) {
        const auto &x = a.list->items, &y = b.list->items;
        for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
            if (equals(x[k], y[k])) continue;
            return compare(x[k], y[k], op);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    throw_error(ErrorKind::Type, cat("'", op, "' not supported between instances of '", a.type_name(), "' and '",
                                     b.type_name(), "'"));
}

std::string hash_key(const Value& key) {
    switch (key.kind) {
        case Kind::None: return "N";
        case Kind::Bool: return key.b ? "n:1" : "n:0";
        case Kind::Int: return "n:" + std::to_string(key.i);
        case Kind::Float:
            if (std::isfinite(key.f) && key.f == std::trunc(key.f) && std::fabs(key.f) < 9.2e18)
                return "n:" + std::to_string(static_cast<int64_t>(key.f));
            return "f:" + float_repr(key.f);
        case Kind::String: return "s:" + key.s;
        case Kind::List:
            if (key.list->tuple) {
                std::string h = "t:";
                for (const Value& x : key.list->items) {
                    std::string k = hash_key(x);
                    h += std::to_string(k.size()) + ":" + k;
                }
                return h;
            }
            break;
        case Kind::Undefined: return "U";
        default: break;
    }
    throw_error(ErrorKind::Type, "unhashable type: '" + key.type_name() + "'");
}

void fail_undefined(const Value& v) {
    if (v.security) throw_error(ErrorKind::Security, v.s);
    throw_error(ErrorKind::Undefined, v.s.empty() ? "value is undefined" : v.s);
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined:
            if (v.security) fail_undefined(v);
            return {};
        case Kind::List: return v.list->items;
        case Kind::Dict: {
            if (v.dict->is_namespace) break;
            std::vector<Value> keys;
            keys.reserve(v.dict->items.size());
            for (const auto& kv : v.dict->items) keys.push_back(kv.first);
            return keys;
        }
        case Kind::String: {
            std::vector<Value> chars;
            for (std::string_view c : utf8_chars(v.s)) chars.push_back(Value::string(std::string(c)));
            return chars;
        }
        default: break;
    }
    throw_error(ErrorKind::Type, "'" + v.type_name() + "' object is not iterable");
}

int64_t length(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined: return 0;
        case Kind::String: return static_cast<int64_t>(utf8_chars(v.s).size());
        case Kind::List:
            if (v.list->generator) break;
            return static_cast<int64_t>(v.list->items.size());
        case Kind::Dict:
            if (v.dict->is_namespace) break;
            return static_cast<int64_t>(v.dict->items.size());
        default: break;
    }
    throw_error(ErrorKind::Type, "object of type '" + v.type_name() + "' has no len()");
}

// ---- UTF-8 ----

static size_t utf8_len_at(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) return 1;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
    return n;
}

std::vector<std::string_view> utf8_chars(std::string_view s) {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_len_at(s, i);
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

static uint32_t decode(std::string_view c) {
    unsigned char b0 = static_cast<unsigned char>(c[0]);
    if (c.size() == 1) return b0;
    uint32_t cp = b0 & (0x7F >> c.size());
    for (size_t k = 1; k < c.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(c[k]) & 0x3F);
    return cp;
}

bool is_py_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

std::string py_strip(std::string_view s, bool left, bool right, const std::string* chars) {
    std::vector<std::string_view> cs = utf8_chars(s);
    std::vector<std::string_view> set;
    if (chars) set = utf8_chars(*chars);
    auto strip_me = [&](std::string_view c) {
        if (!chars) return is_py_space(decode(c));
        return std::find(set.begin(), set.end(), c) != set.end();
    };
    size_t b = 0, e = cs.size();
    if (left)
        while (b < e && strip_me(cs[b])) ++b;
    if (right)
        while (e > b && strip_me(cs[e - 1])) --e;
    std::string out;
    for (size_t k = b; k < e; ++k) out += cs[k];
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}
std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace ember::jinja
