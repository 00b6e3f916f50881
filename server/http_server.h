// ember serve: loads the model, starts the scheduler, and answers both dialects (OpenAI's and
// Ollama's) over HTTP until SIGTERM has drained it or SIGINT came twice.
//
// Around the endpoints: /health (503 while draining), /metrics, the web chat page at / for
// browsers, CORS (the Origin reflected, OPTIONS answered before authentication), --api-key
// (Bearer or X-Api-Key, compared in constant time; /health and the page stay public), a cap on
// request bodies, and one access-log line per request on stderr.
#pragma once

#include "server/service.h"

namespace ember::server {

// Runs the server; returns the process's exit status. Throws ember::Error when the model cannot
// be loaded or the address cannot be bound.
int serve(const ServeOptions& options);

}  // namespace ember::server
