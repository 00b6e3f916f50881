// An error answered to an HTTP client: its status, OpenAI's error type and message, and extra
// fields for the error object (exceed_context_size_error carries n_prompt_tokens and n_ctx).
// Both dialects send it as {"error":{"code":STATUS,"message":…,"type":…, extra…}}.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace ember::server {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string type, const std::string& message, nlohmann::json extra = nlohmann::json::object())
        : std::runtime_error(message), status_(status), type_(std::move(type)), extra_(std::move(extra)) {}

    int status() const { return status_; }
    const std::string& type() const { return type_; }
    nlohmann::json body() const {
        nlohmann::json e = extra_;
        e["code"] = status_;
        e["message"] = what();
        e["type"] = type_;
        return {{"error", e}};
    }

private:
    int status_;
    std::string type_;
    nlohmann::json extra_;
};

inline ApiError invalid_request(const std::string& message) { return {400, "invalid_request_error", message}; }

// JSON text for the wire: invalid UTF-8 (a model's partial character, a client's bad bytes)
// becomes U+FFFD instead of an exception.
inline std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace ember::server
