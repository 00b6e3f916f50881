// JSON both ways: tojson (Python's json.dumps with ensure_ascii, indent, separators and
// sort_keys: the exact bytes Python writes) and JSON text -> Value (key order kept).
#pragma once

#include "jinja/value.h"

#include <optional>
#include <string>
#include <string_view>

namespace ember::jinja {

struct JsonOptions {
    bool ensure_ascii = false;
    std::optional<std::string> indent;  // none: one line
    std::string item_separator = ", ";  // Python's defaults; ", " becomes "," with an indent
    std::string key_separator = ": ";
    bool sort_keys = false;
};

// Throws TemplateError(Type) for what json.dumps cannot serialize (undefined, generators, ...).
std::string to_json(const Value& v, const JsonOptions& options);

// Parses JSON text (throws ember::Error with the parser's message). Objects keep their key order.
Value parse_json(std::string_view text);

}  // namespace ember::jinja
