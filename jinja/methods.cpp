// Python methods of str, dict and list values, as the sandbox allows them: the ones that would
// modify a list or dict (append, pop, update, ...) are blocked with Jinja2's SecurityError.
#include "jinja/error.h"
#include "jinja/evaluator.h"
#include "jinja/value.h"

#include <algorithm>

namespace ember::jinja {

namespace {

std::vector<std::string> split_ws(const std::string& s, int64_t maxsplit) {
    std::vector<std::string> out;
    std::vector<std::string_view> cs = utf8_chars(s);
    auto space = [](std::string_view c) {
        if (c.size() == 1) return is_py_space(static_cast<unsigned char>(c[0]));
        return c == "\xc2\x85" || c == "\xc2\xa0" || c == "\xe3\x80\x80" || c == "\xe2\x80\xa8" || c == "\xe2\x80\xa9";
    };
    size_t k = 0;
    while (true) {
        while (k < cs.size() && space(cs[k])) ++k;
        if (k >= cs.size()) break;
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
            std::string rest;
            for (size_t j = k; j < cs.size(); ++j) rest += cs[j];
            // Python strips trailing whitespace of the remainder only for rsplit; keep as is
            size_t e = rest.size();
            out.push_back(rest.substr(0, e));
            // trailing whitespace is kept by str.split(None, n)
            return out;
        }
        std::string word;
        while (k < cs.size() && !space(cs[k])) word += cs[k++];
        out.push_back(std::move(word));
    }
    return out;
}

std::vector<std::string> split_sep(const std::string& s, const std::string& sep, int64_t maxsplit) {
    if (sep.empty()) throw_error(ErrorKind::Type, "ValueError: empty separator");
    std::vector<std::string> out;
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        size_t at = s.find(sep, pos);
        if (at == std::string::npos) break;
        out.push_back(s.substr(pos, at - pos));
        pos = at + sep.size();
    }
    out.push_back(s.substr(pos));
    return out;
}

std::vector<std::string> rsplit_sep(const std::string& s, const std::string& sep, int64_t maxsplit) {
    if (maxsplit < 0) return split_sep(s, sep, -1);
    if (sep.empty()) throw_error(ErrorKind::Type, "ValueError: empty separator");
    std::vector<std::string> out;
    size_t end = s.size();
    while (static_cast<int64_t>(out.size()) < maxsplit) {
        if (end < sep.size()) break;
        size_t at = s.rfind(sep, end - sep.size());
        if (at == std::string::npos) break;
        out.push_back(s.substr(at + sep.size(), end - at - sep.size()));
        end = at;
    }
    out.push_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
}

Value strings(const std::vector<std::string>& parts) {
    std::vector<Value> items;
    for (const std::string& p : parts) items.push_back(Value::string(p));
    return Value::make_list(std::move(items));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
    auto one = [&](const Value& a) {
        if (!a.is_string()) throw_error(ErrorKind::Type, std::string(prefix ? "startswith" : "endswith") +
                                                             " first arg must be str or a tuple of str, not " + a.type_name());
        if (a.s.size() > s.size()) return false;
        return prefix ? s.compare(0, a.s.size(), a.s) == 0 : s.compare(s.size() - a.s.size(), a.s.size(), a.s) == 0;
    };
    if (affix.is_list() && affix.list->tuple) {
        for (const Value& a : affix.list->items)
            if (one(a)) return true;
        return false;
    }
    return one(affix);
}

std::string py_title(const std::string& s) {
    std::string out;
    bool prev_cased = false;
    for (char c : s) {
        bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
        if (lower && !prev_cased) out += static_cast<char>(c - 32);
        else if (upper && prev_cased) out += static_cast<char>(c + 32);
        else out += c;
        prev_cased = lower || upper;
    }
    return out;
}

// str.format: {} {0} {name} {0.attr} {x[key]}, !r / !s, and a format spec of [[fill]align][width].
std::string py_format(Renderer& r, const std::string& fmt, const CallArgs& a) {
    std::string out;
    size_t auto_index = 0;
    for (size_t k = 0; k < fmt.size(); ++k) {
        char c = fmt[k];
        if (c == '}') {
            if (k + 1 < fmt.size() && fmt[k + 1] == '}') { out += '}'; ++k; continue; }
            throw_error(ErrorKind::Type, "ValueError: Single '}' encountered in format string");
        }
        if (c != '{') { out += c; continue; }
        if (k + 1 < fmt.size() && fmt[k + 1] == '{') { out += '{'; ++k; continue; }
        size_t e = fmt.find('}', k);
        if (e == std::string::npos) throw_error(ErrorKind::Type, "ValueError: Single '{' encountered in format string");
        std::string field = fmt.substr(k + 1, e - k - 1);
        k = e;
        std::string spec, conv;
        size_t colon = field.find(':');
        if (colon != std::string::npos) { spec = field.substr(colon + 1); field = field.substr(0, colon); }
        size_t bang = field.find('!');
        if (bang != std::string::npos) { conv = field.substr(bang + 1); field = field.substr(0, bang); }
        size_t name_end = field.find_first_of(".[");
        std::string head = field.substr(0, name_end);
        Value v;
        if (head.empty()) {
            if (auto_index >= a.args.size()) throw_error(ErrorKind::Type, "IndexError: Replacement index out of range");
            v = a.args[auto_index++];
        } else if (head.find_first_not_of("0123456789") == std::string::npos && head.size() < 9) {
            size_t idx = static_cast<size_t>(std::stoul(head));
            if (idx >= a.args.size()) throw_error(ErrorKind::Type, "IndexError: Replacement index out of range");
            v = a.args[idx];
        } else {
            const Value* kv = a.kwarg(head);
            if (!kv) throw_error(ErrorKind::Type, "KeyError: '" + head + "'");
            v = *kv;
        }
        size_t p = name_end;
        while (p != std::string::npos && p < field.size()) {
            if (field[p] == '.') {
                size_t q = field.find_first_of(".[", p + 1);
                v = r.get_attr(v, field.substr(p + 1, q == std::string::npos ? std::string::npos : q - p - 1));
                p = q;
            } else {
                size_t q = field.find(']', p);
                if (q == std::string::npos) throw_error(ErrorKind::Type, "ValueError: Missing ']' in format string");
                std::string key = field.substr(p + 1, q - p - 1);
                Value kv = key.find_first_not_of("0123456789") == std::string::npos && !key.empty() && key.size() < 18
                               ? Value::integer(std::stoll(key)) : Value::string(key);
                v = r.get_item(v, kv);
                p = q + 1;
            }
        }
        std::string text = conv == "r" ? repr(v) : to_str(v);
        if (!spec.empty()) {
            char fill = ' ', align = v.is_number() ? '>' : '<';
            size_t s = 0;
            if (spec.size() >= 2 && (spec[1] == '<' || spec[1] == '>' || spec[1] == '^')) { fill = spec[0]; align = spec[1]; s = 2; }
            else if (spec[0] == '<' || spec[0] == '>' || spec[0] == '^') { align = spec[0]; s = 1; }
            int64_t width = 0;
            for (; s < spec.size() && spec[s] >= '0' && spec[s] <= '9' && width < 100000; ++s) width = width * 10 + (spec[s] - '0');
            int64_t len = static_cast<int64_t>(utf8_chars(text).size());
            if (width > len) {
                size_t pad = static_cast<size_t>(width - len);
                if (align == '<') text += std::string(pad, fill);
                else if (align == '>') text = std::string(pad, fill) + text;
                else text = std::string(pad / 2, fill) + text + std::string(pad - pad / 2, fill);
            }
        }
        out += text;
        r.check_size(out.size());
    }
    return out;
}

int64_t char_index(const std::string& s, size_t byte_pos) {
    return static_cast<int64_t>(utf8_chars(std::string_view(s).substr(0, byte_pos)).size());
}

Value str_method(const std::string& self, const std::string& name, Renderer& r, CallArgs& a) {
    auto chars_arg = [&](size_t k) -> const Value* {
        const Value* c = arg(a, k, "chars");
        return c && !c->is_none() ? c : nullptr;
    };
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const Value* c = chars_arg(0);
        std::string cs = c ? to_str(*c) : "";
        return Value::string(py_strip(self, name != "rstrip", name != "lstrip", c ? &cs : nullptr));
    }
    if (name == "split" || name == "rsplit") {
        const Value* sep = arg(a, 0, "sep");
        int64_t maxsplit = arg_int(a, 1, "maxsplit", -1);
        if (!sep || sep->is_none()) {
            if (name == "rsplit" && maxsplit >= 0) {
                std::vector<std::string_view> cs = utf8_chars(self);
                auto space = [](std::string_view c) { return c.size() == 1 && is_py_space(static_cast<unsigned char>(c[0])); };
                std::vector<std::string> out;
                size_t e = cs.size();
                while (true) {
                    while (e > 0 && space(cs[e - 1])) --e;
                    if (e == 0) break;
                    if (static_cast<int64_t>(out.size()) >= maxsplit) {
                        std::string rest;
                        for (size_t j = 0; j < e; ++j) rest += cs[j];
                        out.push_back(rest);
                        break;
                    }
                    size_t b2 = e;
                    while (b2 > 0 && !space(cs[b2 - 1])) --b2;
                    std::string word;
                    for (size_t j = b2; j < e; ++j) word += cs[j];
                    out.push_back(word);
                    e = b2;
                }
                std::reverse(out.begin(), out.end());
                return strings(out);
            }
            return strings(split_ws(self, maxsplit));
        }
        std::string s = to_str(*sep);
        return strings(name == "split" ? split_sep(self, s, maxsplit) : rsplit_sep(self, s, maxsplit));
    }
    if (name == "splitlines") {
        std::vector<std::string> out;
        std::string cur;
        for (char c : self) {
            if (c == '\n' || c == '\r') { out.push_back(cur); cur.clear(); }
            else cur += c;
        }
        if (!cur.empty()) out.push_back(cur);
        return strings(out);
    }
    if (name == "startswith" || name == "endswith") {
        const Value* affix = arg(a, 0, "prefix");
        if (!affix) throw_error(ErrorKind::Type, name + "() takes at least 1 argument (0 given)");
        return Value::boolean(affix_match(self, *affix, name == "startswith"));
    }
    if (name == "replace") {
        if (a.args.size() < 2) throw_error(ErrorKind::Type, "replace expected at least 2 arguments");
        std::string from = to_str(a.args[0]), to = to_str(a.args[1]);
        int64_t count = a.args.size() > 2 ? arg_int(a, 2, "count", -1) : -1;
        std::string out;
        if (from.empty()) {
            std::vector<std::string_view> cs = utf8_chars(self);
            int64_t done = 0;
            for (size_t k = 0; k <= cs.size(); ++k) {
                if (count < 0 || done < count) { out += to; ++done; }
                if (k < cs.size()) out += cs[k];
                r.check_size(out.size());
            }
            return Value::string(out);
        }
        size_t pos = 0;
        for (int64_t done = 0; count < 0 || done < count; ++done) {
            size_t at = self.find(from, pos);
            if (at == std::string::npos) break;
            out.append(self, pos, at - pos);
            out += to;
            r.check_size(out.size());
            pos = at + from.size();
        }
        out.append(self, pos, std::string::npos);
        return Value::string(out);
    }
    if (name == "upper") return Value::string(ascii_upper(self));
    if (name == "lower" || name == "casefold") return Value::string(ascii_lower(self));
    if (name == "title") return Value::string(py_title(self));
    if (name == "capitalize") {
        std::string s = ascii_lower(self);
        if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 32);
        return Value::string(s);
    }
    if (name == "swapcase") {
        std::string s = self;
        for (char& c : s) {
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
            else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        }
        return Value::string(s);
    }
    if (name == "format") return Value::string(py_format(r, self, a));
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        if (a.args.empty() || !a.args[0].is_string())
            throw_error(ErrorKind::Type, "must be str, not " + (a.args.empty() ? std::string("nothing") : a.args[0].type_name()));
        const std::string& sub = a.args[0].s;
        if (name == "count") {
            if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8_chars(self).size()) + 1);
            int64_t n = 0;
            for (size_t p = self.find(sub); p != std::string::npos; p = self.find(sub, p + sub.size())) ++n;
            return Value::integer(n);
        }
        size_t at = (name == "find" || name == "index") ? self.find(sub) : self.rfind(sub);
        if (at == std::string::npos) {
            if (name == "index" || name == "rindex") throw_error(ErrorKind::Type, "ValueError: substring not found");
            return Value::integer(-1);
        }
        return Value::integer(char_index(self, at));
    }
    if (name == "join") {
        if (a.args.empty()) throw_error(ErrorKind::Type, "join() takes exactly one argument (0 given)");
        std::string out;
        bool first = true;
        for (const Value& x : iterate(a.args[0])) {
            if (!x.is_string()) throw_error(ErrorKind::Type, "sequence item: expected str instance, " + x.type_name() + " found");
            if (!first) out += self;
            first = false;
            out += x.s;
            r.check_size(out.size());
        }
        return Value::string(out);
    }
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal" || name == "isalpha" || name == "isalnum" ||
        name == "isspace" || name == "isupper" || name == "islower") {
        if (self.empty()) return Value::boolean(false);
        bool cased = false, ok = true;
        for (unsigned char c : self) {
            bool digit = c >= '0' && c <= '9', up = c >= 'A' && c <= 'Z', low = c >= 'a' && c <= 'z';
            if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") ok = ok && digit;
            else if (name == "isalpha") ok = ok && (up || low || c >= 0x80);
            else if (name == "isalnum") ok = ok && (up || low || digit || c >= 0x80);
            else if (name == "isspace") ok = ok && is_py_space(c);
            else if (name == "isupper") { if (low) ok = false; cased = cased || up; }
            else { if (up) ok = false; cased = cased || low; }
        }
        if (name == "isupper" || name == "islower") ok = ok && cased;
        return Value::boolean(ok);
    }
    if (name == "zfill" || name == "ljust" || name == "rjust" || name == "center") {
        int64_t width = arg_int(a, 0, "width", 0);
        std::string fill = name == "zfill" ? "0" : arg_str(a, 1, "fillchar", " ");
        int64_t len = static_cast<int64_t>(utf8_chars(self).size());
        if (width <= len) return Value::string(self);
        r.check_size(static_cast<size_t>(width) * fill.size());
        size_t pad = static_cast<size_t>(width - len);
        auto rep = [&](size_t n) { std::string s; for (size_t k = 0; k < n; ++k) s += fill; return s; };
        if (name == "ljust") return Value::string(self + rep(pad));
        if (name == "rjust") return Value::string(rep(pad) + self);
        if (name == "zfill") {
            if (!self.empty() && (self[0] == '-' || self[0] == '+')) return Value::string(self.substr(0, 1) + rep(pad) + self.substr(1));
            return Value::string(rep(pad) + self);
        }
        size_t left = pad / 2 + (pad & static_cast<size_t>(width) & 1);
        return Value::string(rep(left) + self + rep(pad - left));
    }
    if (name == "partition" || name == "rpartition") {
        std::string sep = arg_str(a, 0, "sep", "");
        if (sep.empty()) throw_error(ErrorKind::Type, "ValueError: empty separator");
        size_t at = name == "partition" ? self.find(sep) : self.rfind(sep);
        std::vector<Value> parts;
        if (at == std::string::npos) {
            if (name == "partition") parts = {Value::string(self), Value::string(""), Value::string("")};
            else parts = {Value::string(""), Value::string(""), Value::string(self)};
        } else {
            parts = {Value::string(self.substr(0, at)), Value::string(sep), Value::string(self.substr(at + sep.size()))};
        }
        return Value::make_list(std::move(parts), true);
    }
    if (name == "removeprefix" || name == "removesuffix") {
        std::string x = arg_str(a, 0, "prefix", "");
        if (name == "removeprefix" && self.compare(0, x.size(), x) == 0) return Value::string(self.substr(x.size()));
        if (name == "removesuffix" && !x.empty() && self.size() >= x.size() &&
            self.compare(self.size() - x.size(), x.size(), x) == 0)
            return Value::string(self.substr(0, self.size() - x.size()));
        return Value::string(self);
    }
    throw_error(ErrorKind::Type, "unknown str method " + name);
}

const char* kStrMethods[] = {"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
                             "replace", "upper", "lower", "casefold", "title", "capitalize", "swapcase", "format",
                             "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isnumeric",
                             "isdecimal", "isalpha", "isalnum", "isspace", "isupper", "islower", "zfill", "ljust",
                             "rjust", "center", "partition", "rpartition", "removeprefix", "removesuffix"};
const char* kDictMethods[] = {"items", "keys", "values", "get", "copy"};
const char* kDictUnsafe[] = {"pop", "popitem", "setdefault", "update", "clear"};
const char* kListMethods[] = {"index", "count", "copy"};
const char* kListUnsafe[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};

template <size_t N>
bool in(const char* (&names)[N], const std::string& name) {
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

Value unsafe(const Value& self, const std::string& name) {
    return Value::undefined("access to attribute '" + name + "' of '" + self.type_name() + "' object is unsafe.", true);
}

}  // namespace

bool find_method(const Value& self, const std::string& name, Value& out) {
    if (self.is_string()) {
        if (!in(kStrMethods, name)) return false;
        std::string s = self.s;
        out = make_builtin(name, [s, name](Renderer& r, CallArgs& a) { return str_method(s, name, r, a); });
        return true;
    }
    if (self.is_mapping()) {
        if (in(kDictUnsafe, name)) { out = unsafe(self, name); return true; }
        if (!in(kDictMethods, name)) return false;
        auto d = self.dict;
        out = make_builtin(name, [d, name](Renderer&, CallArgs& a) -> Value {
            if (name == "get") {
                if (a.args.empty()) throw_error(ErrorKind::Type, "get expected at least 1 argument, got 0");
                const Value* v = d->find(a.args[0]);
                if (v) return *v;
                return a.args.size() > 1 ? a.args[1] : Value::none();
            }
            if (name == "copy") {
                Value c = Value::make_dict();
                *c.dict = *d;
                c.dict->is_namespace = false;
                return c;
            }
            std::vector<Value> items;
            for (const auto& [k, v] : d->items) {
                if (name == "items") items.push_back(Value::make_list({k, v}, true));
                else items.push_back(name == "keys" ? k : v);
            }
            return Value::make_list(std::move(items));
        });
        return true;
    }
    if (self.is_list() && !self.list->generator) {
        if (in(kListUnsafe, name)) { out = unsafe(self, name); return true; }
        if (!in(kListMethods, name)) return false;
        auto l = self.list;
        out = make_builtin(name, [l, name](Renderer&, CallArgs& a) -> Value {
            if (name == "copy") return Value::make_list(l->items, l->tuple);
            if (a.args.empty()) throw_error(ErrorKind::Type, name + "() takes exactly one argument (0 given)");
            int64_t n = 0;
            for (size_t k = 0; k < l->items.size(); ++k) {
                if (!equals(l->items[k], a.args[0])) continue;
                if (name == "index") return Value::integer(static_cast<int64_t>(k));
                ++n;
            }
            if (name == "index") throw_error(ErrorKind::Type, "ValueError: value is not in list");
            return Value::integer(n);
        });
        return true;
    }
    return false;
}

}  // namespace ember::jinja
