// Tokens -> syntax tree, after Jinja2's grammar (jinja2/parser.py): operator precedence, filters,
// tests, tuples, slices, and the statements if/for/set/macro/call/filter/with/break/continue and
// generation (rendered as its body). Errors are TemplateError(Syntax) with line and column.
#pragma once

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace ember::jinja {

// Nesting deeper than this (brackets, unary chains, blocks) is a syntax error, not a deep stack.
inline constexpr int kMaxParseDepth = 200;

Body parse(const Lexed& lexed);

}  // namespace ember::jinja
