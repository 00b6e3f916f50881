// The chat page that `ember serve` returns for `GET /` when the client asks for text/html: one
// self-contained HTML document (its CSS and JavaScript inline, nothing loaded from elsewhere, so
// it works on a machine without internet) that talks to the server's own OpenAI-style API:
// GET /v1/models for the model's id, POST /v1/chat/completions with "stream": true for replies.
#pragma once

#include <string_view>

namespace ember::server {

// The whole page, UTF-8, with static storage duration (the view never dangles).
std::string_view chat_page_html();

}  // namespace ember::server
