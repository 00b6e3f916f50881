// Tokenizing after Jinja2's lexer (jinja2/lexer.py), with trim_blocks and lstrip_blocks:
// `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all after it;
// `%}`/`#}` eat one newline (trim_blocks); spaces and tabs between a line start and `{%`/`{#`
// are dropped (lstrip_blocks) unless the tag starts with `+`.
#include "jinja/lexer.h"

#include "jinja/error.h"
#include "jinja/value.h"

#include <algorithm>

namespace ember::jinja {

void Lexed::line_col(size_t pos, int& line, int& col) const {
    line = 1;
    col = 1;
    for (size_t k = 0; k < pos && k < source.size(); ++k) {
        if (source[k] == '\n') {
            ++line;
            col = 1;
        } else if ((static_cast<unsigned char>(source[k]) & 0xC0) != 0x80) {
            ++col;
        }
    }
}

namespace {

std::string normalize(std::string_view src) {
    std::string out;
    out.reserve(src.size());
    for (size_t k = 0; k < src.size(); ++k) {
        if (src[k] == '\r') {
            out += '\n';
            if (k + 1 < src.size() && src[k + 1] == '\n') ++k;
        } else {
            out += src[k];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Python's str.rstrip() on UTF-8.
std::string_view rstrip_ws(std::string_view s) {
    std::vector<std::string_view> cs = utf8_chars(s);
    size_t n = s.size();
    for (size_t k = cs.size(); k-- > 0;) {
        std::string_view c = cs[k];
        uint32_t cp;
        unsigned char b0 = static_cast<unsigned char>(c[0]);
        if (c.size() == 1) {
            cp = b0;
        } else {
            cp = b0 & (0x7F >> c.size());
            for (size_t j = 1; j < c.size(); ++j) cp = (cp << 6) | (static_cast<unsigned char>(c[j]) & 0x3F);
        }
        if (!is_py_space(cp)) break;
        n -= c.size();
    }
    return s.substr(0, n);
}

bool all_ws(std::string_view s) {
    if (s.empty()) return false;
    return rstrip_ws(s).empty();
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Lexer {
public:
    explicit Lexer(std::string_view src) { out_.source = normalize(src); }

    Lexed run() {
        const std::string& s = out_.source;
        size_t pos = 0;
        bool line_starting = true;
        while (pos < s.size()) {
            size_t tag = find_tag(pos);
            if (tag == std::string::npos) {
                push(Tok::Data, s.substr(pos), pos);
                break;
            }
            std::string_view text = std::string_view(s).substr(pos, tag - pos);
            char kind = s[tag + 1];
            size_t after = tag + 2;
            char sign = 0;
            if (after < s.size() && (s[after] == '-' || s[after] == '+')) sign = s[after++];
            size_t raw_body = 0;
            bool raw = kind == '%' && match_raw_begin(after, raw_body);
            if (sign == '-') {
                text = rstrip_ws(text);
            } else if (sign != '+' && kind != '{') {
                size_t l_pos = text.rfind('\n');
                l_pos = l_pos == std::string_view::npos ? 0 : l_pos + 1;
                if ((l_pos > 0 || line_starting) && all_ws(text.substr(l_pos))) text = text.substr(0, l_pos);
            }
            if (!text.empty()) push(Tok::Data, std::string(text), pos);
            if (raw) {
                pos = lex_raw(raw_body, tag, line_starting);
            } else if (kind == '#') {
                pos = lex_comment(after, tag, line_starting);
            } else {
                pos = lex_tag(kind == '{', tag, after, line_starting);
            }
        }
        push(Tok::End, "", s.size());
        return std::move(out_);
    }

private:
    Lexed out_;

    void push(Tok t, std::string text, size_t pos) { out_.tokens.push_back({t, std::move(text), pos}); }

    [[noreturn]] void error(size_t pos, const std::string& msg) {
        int line, col;
        out_.line_col(pos, line, col);
        throw TemplateError(ErrorKind::Syntax, msg, line, col);
    }

    size_t find_tag(size_t from) const {
        const std::string& s = out_.source;
        for (size_t k = s.find('{', from); k != std::string::npos; k = s.find('{', k + 1)) {
            if (k + 1 < s.size() && (s[k + 1] == '{' || s[k + 1] == '%' || s[k + 1] == '#')) return k;
        }
        return std::string::npos;
    }

    size_t skip_ws(size_t p) const {
        while (p < out_.source.size() && is_space(out_.source[p])) ++p;
        return p;
    }

    bool word_at(size_t p, std::string_view w) const {
        return out_.source.compare(p, w.size(), w) == 0 &&
               (p + w.size() >= out_.source.size() || !is_name_char(out_.source[p + w.size()]));
    }

    // `raw\s*(-%}\s*|%})` after `{%[-+]?\s*`; sets body to the first byte of the raw text.
    bool match_raw_begin(size_t p, size_t& body) const {
        const std::string& s = out_.source;
        p = skip_ws(p);
        if (s.compare(p, 3, "raw") != 0) return false;
        p = skip_ws(p + 3);
        if (s.compare(p, 3, "-%}") == 0) {
            body = skip_ws(p + 3);
            return true;
        }
        if (s.compare(p, 2, "%}") == 0) {
            body = p + 2;
            return true;
        }
        return false;
    }

    size_t lex_raw(size_t body, size_t tag_pos, bool& line_starting) {
        const std::string& s = out_.source;
        for (size_t k = find_tag(body); k != std::string::npos; k = find_tag(k + 1)) {
            if (s[k + 1] != '%') continue;
            size_t p = k + 2;
            char sign = 0;
            if (p < s.size() && (s[p] == '-' || s[p] == '+')) sign = s[p++];
            p = skip_ws(p);
            if (s.compare(p, 6, "endraw") != 0) continue;
            p = skip_ws(p + 6);
            size_t end;
            if (s.compare(p, 3, "+%}") == 0) end = p + 3;
            else if (s.compare(p, 3, "-%}") == 0) end = skip_ws(p + 3);
            else if (s.compare(p, 2, "%}") == 0) end = p + 2 + (p + 2 < s.size() && s[p + 2] == '\n');
            else continue;
            std::string_view text = std::string_view(s).substr(body, k - body);
            if (sign == '-') {
                text = rstrip_ws(text);
            } else if (sign != '+') {
                size_t l_pos = text.rfind('\n');
                l_pos = l_pos == std::string_view::npos ? 0 : l_pos + 1;
                if (l_pos > 0 && all_ws(text.substr(l_pos))) text = text.substr(0, l_pos);
            }
            if (!text.empty()) push(Tok::Data, std::string(text), body);
            line_starting = s[end - 1] == '\n';
            return end;
        }
        error(tag_pos, "Missing end of raw directive");
    }

    size_t lex_comment(size_t p, size_t tag_pos, bool& line_starting) {
        const std::string& s = out_.source;
        for (size_t k = p; k < s.size(); ++k) {
            size_t end = 0;
            if (s.compare(k, 3, "+#}") == 0) end = k + 3;
            else if (s.compare(k, 3, "-#}") == 0) end = skip_ws(k + 3);
            else if (s.compare(k, 2, "#}") == 0) end = k + 2 + (k + 2 < s.size() && s[k + 2] == '\n');
            if (end) {
                line_starting = s[end - 1] == '\n';
                return end;
            }
        }
        error(tag_pos, "Missing end of comment tag");
    }

    size_t lex_tag(bool variable, size_t tag_pos, size_t p, bool& line_starting) {
        const std::string& s = out_.source;
        push(variable ? Tok::VarBegin : Tok::BlockBegin, "", tag_pos);
        std::vector<char> balance;
        while (true) {
            size_t q = skip_ws(p);
            if (q >= s.size()) {
                push(Tok::End, "", s.size());  // the parser reports the unexpected end
                return s.size();
            }
            if (q > p) {
                line_starting = s[q - 1] == '\n';
                p = q;
            }
            if (balance.empty()) {
                size_t end = 0;
                if (variable) {
                    if (s.compare(p, 3, "-}}") == 0) end = skip_ws(p + 3);
                    else if (s.compare(p, 2, "}}") == 0) end = p + 2;
                } else {
                    if (s.compare(p, 3, "+%}") == 0) end = p + 3;
                    else if (s.compare(p, 3, "-%}") == 0) end = skip_ws(p + 3);
                    else if (s.compare(p, 2, "%}") == 0) end = p + 2 + (p + 2 < s.size() && s[p + 2] == '\n');
                }
                if (end) {
                    push(variable ? Tok::VarEnd : Tok::BlockEnd, "", p);
                    line_starting = s[end - 1] == '\n';
                    return end;
                }
            }
            char c = s[p];
            if (is_digit(c)) {
                p = lex_number(p);
            } else if (is_name_start(c)) {
                size_t e = p;
                while (e < s.size() && is_name_char(s[e])) ++e;
                push(Tok::Name, s.substr(p, e - p), p);
                p = e;
            } else if (c == '\'' || c == '"') {
                p = lex_string(p);
            } else {
                static const char* ops2[] = {"//", "**", "==", "!=", ">=", "<="};
                size_t len = 0;
                for (const char* o : ops2)
                    if (s.compare(p, 2, o) == 0) len = 2;
                if (!len && std::string_view("+-/*%~[](){}><=.:|,;").find(c) != std::string_view::npos) len = 1;
                if (!len) error(p, std::string("unexpected char '") + c + "'");
                std::string op = s.substr(p, len);
                if (op == "(" || op == "[" || op == "{") {
                    balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
                } else if (op == ")" || op == "]" || op == "}") {
                    if (balance.empty()) error(p, "unexpected '" + op + "'");
                    if (balance.back() != op[0])
                        error(p, "unexpected '" + op + "', expected '" + std::string(1, balance.back()) + "'");
                    balance.pop_back();
                }
                push(Tok::Op, op, p);
                p += len;
            }
            line_starting = false;
        }
    }

    size_t digits(size_t p) const {  // (\d+_)*\d+ ; returns the end (p when none)
        const std::string& s = out_.source;
        size_t e = p;
        if (e >= s.size() || !is_digit(s[e])) return p;
        while (true) {
            while (e < s.size() && is_digit(s[e])) ++e;
            if (e + 1 < s.size() && s[e] == '_' && is_digit(s[e + 1])) {
                ++e;
                continue;
            }
            return e;
        }
    }

    size_t lex_number(size_t p) {
        const std::string& s = out_.source;
        size_t e = digits(p);
        bool is_float = false;
        bool after_dot = p > 0 && s[p - 1] == '.';
        if (!after_dot) {
            size_t f = e;
            if (f + 1 < s.size() && s[f] == '.' && is_digit(s[f + 1])) {
                f = digits(f + 1);
                is_float = true;
            }
            if (f < s.size() && (s[f] == 'e' || s[f] == 'E')) {
                size_t x = f + 1;
                if (x < s.size() && (s[x] == '+' || s[x] == '-')) ++x;
                size_t xe = digits(x);
                if (xe > x) {
                    f = xe;
                    is_float = true;
                }
            }
            if (is_float) e = f;
        }
        std::string text;
        for (size_t k = p; k < e; ++k)
            if (s[k] != '_') text += s[k];
        push(is_float ? Tok::Float : Tok::Int, text, p);
        return e;
    }

    size_t lex_string(size_t p) {
        const std::string& s = out_.source;
        char q = s[p];
        std::string v;
        size_t k = p + 1;
        while (true) {
            if (k >= s.size()) error(p, std::string("unexpected char '") + q + "'");
            char c = s[k];
            if (c == q) break;
            if (c != '\\') {
                v += c;
                ++k;
                continue;
            }
            if (k + 1 >= s.size()) error(p, std::string("unexpected char '") + q + "'");
            char n = s[k + 1];
            k += 2;
            switch (n) {
                case '\n': break;
                case '\\': v += '\\'; break;
                case '\'': v += '\''; break;
                case '"': v += '"'; break;
                case 'a': v += '\a'; break;
                case 'b': v += '\b'; break;
                case 'f': v += '\f'; break;
                case 'n': v += '\n'; break;
                case 'r': v += '\r'; break;
                case 't': v += '\t'; break;
                case 'v': v += '\v'; break;
                case 'x': case 'u': case 'U': {
                    int need = n == 'x' ? 2 : n == 'u' ? 4 : 8;
                    uint32_t cp = 0;
                    for (int j = 0; j < need; ++j) {
                        int h = k < s.size() ? hex_value(s[k]) : -1;
                        if (h < 0) error(p, std::string("truncated \\") + n + " escape in string");
                        cp = cp * 16 + static_cast<uint32_t>(h);
                        ++k;
                    }
                    if (cp > 0x10FFFF) error(p, "illegal Unicode character in string");
                    append_utf8(v, cp);
                    break;
                }
                default:
                    if (n >= '0' && n <= '7') {
                        uint32_t cp = static_cast<uint32_t>(n - '0');
                        for (int j = 0; j < 2 && k < s.size() && s[k] >= '0' && s[k] <= '7'; ++j, ++k)
                            cp = cp * 8 + static_cast<uint32_t>(s[k] - '0');
                        append_utf8(v, cp);
                    } else {
                        v += '\\';
                        v += n;
                    }
            }
        }
        push(Tok::String, std::move(v), p);
        return k + 1;
    }
};

}  // namespace

Lexed lex(std::string_view source) { return Lexer(source).run(); }

}  // namespace ember::jinja
