// tojson after CPython's json encoder (json/encoder.py), and JSON parsing via nlohmann-json's
// ordered_json.
#include "jinja/json.h"

#include "jinja/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ember::jinja {

namespace {

void encode_string(std::string_view s, bool ensure_ascii, std::string& out) {
    out += '"';
    for (size_t k = 0; k < s.size(); ++k) {
        unsigned char c = static_cast<unsigned char>(s[k]);
        switch (c) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            default: break;
        }
        char buf[16];
        if (c < 0x20) {
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (c < 0x80 || !ensure_ascii) {
            out += static_cast<char>(c);
        } else {
            size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
            uint32_t cp = c;
            bool ok = n > 1 && k + n <= s.size();
            if (ok) {
                cp = c & (0x7F >> n);
                for (size_t j = 1; j < n; ++j) {
                    unsigned char d = static_cast<unsigned char>(s[k + j]);
                    if ((d & 0xC0) != 0x80) ok = false;
                    cp = (cp << 6) | (d & 0x3F);
                }
            }
            if (!ok) { n = 1; cp = c; }
            k += n - 1;
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            }
            out += buf;
        }
    }
    out += '"';
}

std::string float_json(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return float_repr(d);
}

class Encoder {
public:
    explicit Encoder(const JsonOptions& o) : o_(o) {
        item_sep_ = o.item_separator;
        if (o.indent && item_sep_ == ", ") item_sep_ = ",";
    }
    void encode(const Value& v, std::string& out, int level) {
        if (level > 512) throw_error(ErrorKind::Type, "ValueError: Circular reference detected");
        switch (v.kind) {
            case Kind::None: out += "null"; return;
            case Kind::Bool: out += v.b ? "true" : "false"; return;
            case Kind::Int: out += std::to_string(v.i); return;
            case Kind::Float: out += float_json(v.f); return;
            case Kind::String: encode_string(v.s, o_.ensure_ascii, out); return;
            case Kind::List:
                if (!v.list->generator) {
                    if (v.list->items.empty()) { out += "[]"; return; }
                    out += '[';
                    bool first = true;
                    for (const Value& x : v.list->items) {
                        if (!first) out += item_sep_;
                        first = false;
                        newline(out, level + 1);
                        encode(x, out, level + 1);
                    }
                    newline(out, level);
                    out += ']';
                    return;
                }
                break;
            case Kind::Dict:
                if (!v.dict->is_namespace) {
                    encode_dict(*v.dict, out, level);
                    return;
                }
                break;
            default: break;
        }
        throw_error(ErrorKind::Type, "Object of type " + v.type_name() + " is not JSON serializable");
    }

private:
    const JsonOptions& o_;
    std::string item_sep_;

    void newline(std::string& out, int level) const {
        if (!o_.indent) return;
        out += '\n';
        for (int k = 0; k < level; ++k) out += *o_.indent;
    }

    static std::string key_text(const Value& k) {
        switch (k.kind) {
            case Kind::String: return k.s;
            case Kind::None: return "null";
            case Kind::Bool: return k.b ? "true" : "false";
            case Kind::Int: return std::to_string(k.i);
            case Kind::Float: return float_json(k.f);
            default: break;
        }
        throw_error(ErrorKind::Type, "keys must be str, int, float, bool or None, not " + k.type_name());
    }

    void encode_dict(const DictObj& d, std::string& out, int level) {
        if (d.items.empty()) { out += "{}"; return; }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : d.items) items.push_back(&kv);
        if (o_.sort_keys) {
            for (const auto* kv : items)
                if (kv->first.kind != items[0]->first.kind && !(kv->first.is_number() && items[0]->first.is_number()))
                    throw_error(ErrorKind::Type, "'<' not supported between instances of '" + kv->first.type_name() +
                                                     "' and '" + items[0]->first.type_name() + "'");
            std::stable_sort(items.begin(), items.end(), [](const auto* a, const auto* b) {
                if (a->first.is_string()) return a->first.s < b->first.s;
                if (a->first.is_number()) return a->first.as_double() < b->first.as_double();
                return false;
            });
        }
        out += '{';
        bool first = true;
        for (const auto* kv : items) {
            if (!first) out += item_sep_;
            first = false;
            newline(out, level + 1);
            encode_string(key_text(kv->first), o_.ensure_ascii, out);
            out += o_.key_separator;
            encode(kv->second, out, level + 1);
        }
        newline(out, level);
        out += '}';
    }
};

Value from_ordered(const nlohmann::ordered_json& j, int depth) {
    if (depth > 256) throw ember::Error("JSON nested too deeply (more than 256 levels)");
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            uint64_t u = j.get<uint64_t>();
            if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
            return Value::number(static_cast<double>(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            for (const auto& x : j) items.push_back(from_ordered(x, depth + 1));
            return Value::make_list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            Value d = Value::make_dict();
            for (auto it = j.begin(); it != j.end(); ++it) d.dict->set(Value::string(it.key()), from_ordered(it.value(), depth + 1));
            return d;
        }
        default: return Value::none();
    }
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    Encoder(options).encode(v, out, 0);
    return out;
}

Value parse_json(std::string_view text) {
    nlohmann::ordered_json j;
    try {
        j = nlohmann::ordered_json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw ember::Error(std::string("invalid JSON: ") + e.what());
    }
    return from_ordered(j, 0);
}

}  // namespace ember::jinja
