// The errors a template can produce. All are ember::Error, so callers that do not care about the
// kind just print what(). kind tells raise_exception() apart from everything else.
#pragma once

#include "ember/error.h"

#include <string>
#include <string_view>

namespace ember::jinja {

enum class ErrorKind {
    Syntax,     // a malformed template: line and column
    Undefined,  // UndefinedError: an undefined value was used
    Type,       // TypeError / ValueError: an operation on values of the wrong type
    Security,   // SecurityError: the sandbox blocked an attribute (list.append, ...)
    Runtime,    // TemplateRuntimeError and the rest
    Raised,     // the template called raise_exception(message)
    Limit,      // a render limit (recursion depth, loop iterations, output size) was reached
};

const char* error_kind_name(ErrorKind kind);

class TemplateError : public ember::Error {
public:
    TemplateError(ErrorKind kind, std::string message, int line = 0, int column = 0);
    ErrorKind kind() const { return kind_; }
    const std::string& message() const { return message_; }  // without location or kind
    int line() const { return line_; }
    int column() const { return column_; }

private:
    ErrorKind kind_;
    std::string message_;
    int line_, column_;
};

[[noreturn]] void throw_error(ErrorKind kind, std::string message);

// Concatenates text pieces by appending (GCC 12 warns falsely, -Wrestrict, on "lit" + string).
template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out.append(std::string_view(parts)), ...);
    return out;
}

}  // namespace ember::jinja
