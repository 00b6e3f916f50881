// The Jinja2 lexer with trim_blocks and lstrip_blocks on (Hugging Face's settings): template text
// becomes data tokens and the tokens inside {{ }} and {% %}; comments are dropped. Newlines are
// normalized to \n and one trailing newline is removed, as Jinja2 does (keep_trailing_newline off).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ember::jinja {

enum class Tok { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };

struct Token {
    Tok type;
    std::string text;  // Data: the text; String: the unescaped value; Op/Name/Int/Float: as written
    size_t pos;        // byte offset in the normalized source
};

struct Lexed {
    std::string source;  // normalized
    std::vector<Token> tokens;
    void line_col(size_t pos, int& line, int& col) const;
};

// Throws TemplateError(Syntax) with line and column.
Lexed lex(std::string_view source);

}  // namespace ember::jinja
