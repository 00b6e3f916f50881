// ember serve: an OpenAI- and Ollama-compatible HTTP server (server/http_server.h).
#include "core/error.h"
#include "server/http_server.h"
#include "tools/commands.h"
#include "tools/session_options.h"

#include <fstream>
#include <memory>
#include <sstream>

namespace {

struct ServeCliOptions {
    ember::server::ServeOptions serve;
    std::string api_key_file;
};

std::string read_key_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) ember::fail("--api-key-file: cannot read {}", path);
    std::string key;
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key.empty()) ember::fail("--api-key-file: {} holds no key on its first line", path);
    return key;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<ServeCliOptions>();
    ember::server::ServeOptions& s = o->serve;
    cmd.add_option("-m,--model", s.model_path, "GGUF model file")->required();
    cmd.add_option("--host", s.host, "address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)");
    cmd.add_option("--port", s.port, "TCP port (0: any free port, printed when ready)")->check(CLI::Range(0, 65535));
    cmd.add_option("--alias", s.alias, "the model's name in the API (default: the file name)");
    cmd.add_option("--parallel", s.n_slots, "-np: requests decoded at once (slots)")->check(CLI::Range(1, 32));
    cmd.add_option("-c,--ctx-size", s.n_ctx, "tokens of one request, prompt and reply (0: the model's, at most 4096)");
    cmd.add_option("-t,--threads", s.n_threads, "threads (0: all cores)")->check(ember::cli::kThreadCount);
    cmd.add_option("--api-key", s.api_key, "require this key (Authorization: Bearer KEY or X-Api-Key)");
    cmd.add_option("--api-key-file", o->api_key_file, "read the key from the first line of this file");
    cmd.add_option("--queue", s.max_queue, "requests that may wait for a slot; beyond them 503")->check(CLI::Range(1, 4096));
    cmd.add_option("--cache-mib", s.cache_mib, "KV memory kept for finished conversations (prefix cache; 0: off)");
    cmd.add_option("--chat-template", s.chat_template, "Jinja2 chat template file (default: the model's, else ChatML)");
    cmd.add_option("--backend", s.backend, "cpu, blas or vulkan");
    cmd.add_option("--device", s.device, "which device of the backend");
    cmd.add_option("--n-gpu-layers", s.n_gpu_layers, "-ngl: layers on the device (-1: all)");
    cmd.add_option("--max-body", s.max_body, "largest request body in bytes");
    cmd.add_option("--timeout", s.request_timeout_s, "seconds a request may take from its arrival")->check(CLI::PositiveNumber);
    cmd.add_option("--drain-delay", s.drain_delay_s,
                   "seconds after SIGTERM that new requests are still served while /health answers 503 "
                   "(longer than a balancer's health check takes to drop this replica; 0: refuse them at once)")
        ->check(CLI::Range(0.0, 3600.0));
    return [o] {
        if (!o->api_key_file.empty()) o->serve.api_key = read_key_file(o->api_key_file);
        return ember::server::serve(o->serve);
    };
}

}  // namespace

EMBER_CLI_COMMAND(serve, "Serve the model over HTTP: OpenAI and Ollama APIs, a web chat page at /", setup);
