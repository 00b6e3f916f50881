#include "server/http_server.h"

#include "core/error.h"
#include "ember/type.h"
#include "ember/version.h"
#include "model/chat/chat_template.h"
#include "model/runtime/model.h"
#include "server/metrics.h"
#include "server/web_page.h"

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ember::server {
namespace {

using nlohmann::json;

// Compares without an early exit, so the time taken does not tell how much of a key matched.
bool same_key(std::string_view given, std::string_view key) {
    if (key.empty()) return false;
    size_t diff = given.size() ^ key.size();
    for (size_t i = 0; i < given.size(); ++i) {
        diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(key[i % key.size()]);
    }
    return diff == 0;
}

bool authorized(const httplib::Request& req, const std::string& key) {
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
        same_key(std::string_view(auth).substr(kBearer.size()), key)) {
        return true;
    }
    return req.has_header("X-Api-Key") && same_key(req.get_header_value("X-Api-Key"), key);
}

// Paths reachable without the key: health checks, and the page (it asks for the key itself).
bool public_path(const httplib::Request& req) {
    return req.path == "/health" || ((req.method == "GET" || req.method == "HEAD") && req.path == "/");
}

void add_cors(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Origin") || res.has_header("Access-Control-Allow-Origin")) return;
    res.set_header("Access-Control-Allow-Origin", req.get_header_value("Origin"));
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
    res.set_header("Access-Control-Max-Age", "600");
}

// The error type of a status httplib answers by itself (no route, body too large, ...).
const char* error_type(int status) {
    switch (status) {
        case 400: return "invalid_request_error";
        case 401: return "authentication_error";
        case 404: return "not_found_error";
        case 405: return "invalid_request_error";
        case 413: return "invalid_request_error";
        case 503: return "unavailable_error";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

struct RequestClock {
    Clock::time_point started;
    bool set = false;
};
RequestClock& request_clock() {
    thread_local RequestClock c;
    return c;
}

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read the chat template file '{}'", path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// SIGTERM (or a first SIGINT) drains: /health answers 503, new requests 503 (after
// --drain-delay), running ones finish, then the server stops. A second SIGINT stops at once. The handler only writes the
// signal's number to a pipe (any thread may take a process signal, including threads that
// libraries such as OpenBLAS started before ours); this thread reads it and acts.
int g_signal_pipe[2] = {-1, -1};
std::atomic<bool> g_interrupted{false};  // stopped by a second SIGINT: exit status 130
extern "C" void on_serve_signal(int sig) {
    const unsigned char b = static_cast<unsigned char>(sig);
    [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &b, 1);
}

void install_signal_pipe() {
    if (pipe(g_signal_pipe) != 0) fail("cannot create the signal pipe");
    for (const int sig : {SIGINT, SIGTERM}) {
        struct sigaction sa {};
        sa.sa_handler = on_serve_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(sig, &sa, nullptr);
    }
}

// What the first SIGTERM (or SIGINT) starts. `leaving` turns /health to 503 at once; with a
// --drain-delay, new requests are still served until `refuse_at`, so that a balancer's health
// check takes the replica out of its pool before the replica refuses anything. Then the
// scheduler drains: new requests 503, running ones finish, the server stops when idle.
struct Leaving {
    std::atomic<bool> leaving{false};
    Clock::time_point refuse_at{};
};

// One thread, joined by serve(): it reads the signal pipe, and while leaving it also watches
// the clock (the drain delay) and the scheduler going idle (20 ms at a time). A 0 byte from
// serve() tells it to return.
void watch_signals(httplib::Server& http, Scheduler& scheduler, Leaving& state, double drain_delay_s) {
    int n_interrupts = 0;
    bool drained_stop = false;
    for (;;) {
        pollfd p{g_signal_pipe[0], POLLIN, 0};
        const int ready = poll(&p, 1, state.leaving.load() ? 20 : -1);
        if (ready < 0 && errno != EINTR) return;
        if (ready <= 0) {
            if (state.leaving.load() && !scheduler.draining() && Clock::now() >= state.refuse_at) {
                fmt::print(stderr, "drain delay over: new requests get 503 ({} running or queued finish first)\n",
                           scheduler.stats().processing + scheduler.stats().queued);
                scheduler.drain();
            }
            if (scheduler.draining() && !drained_stop && scheduler.idle()) {
                // Let the last responses reach their clients before the listener closes.
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                fmt::print(stderr, "drained: stopping\n");
                drained_stop = true;
                http.stop();
            }
            continue;
        }
        unsigned char b = 0;
        if (read(g_signal_pipe[0], &b, 1) != 1 || b == 0) return;
        const int sig = b;
        if (sig == SIGINT && ++n_interrupts >= 2) {
            fmt::print(stderr, "interrupted twice: stopping now\n");
            g_interrupted = true;
            state.leaving = true;
            scheduler.cancel_all();  // the streams end at the next step, so their threads can be joined
            http.stop();
            continue;
        }
        if (!state.leaving.load()) {
            const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
            state.refuse_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(drain_delay_s));
            state.leaving = true;
            if (drain_delay_s > 0) {
                fmt::print(stderr, "{}: leaving (/health 503; new requests still served for {:g} s, then draining)\n",
                           name, drain_delay_s);
            } else {
                const Scheduler::Stats st = scheduler.stats();
                fmt::print(stderr, "{}: draining (new requests get 503; {} running or queued finish first)\n", name,
                           st.processing + st.queued);
                scheduler.drain();
            }
        }
    }
}

}  // namespace

int serve(const ServeOptions& o) {
    // SIGINT and SIGTERM go to watch_signals; a client that hangs up makes a write fail
    // instead of killing the process.
    install_signal_pipe();
    std::signal(SIGPIPE, SIG_IGN);

    if (o.n_slots == 0 || o.n_slots > 32) fail("-np must be 1 .. 32, not {}", o.n_slots);
    if (o.max_queue == 0) fail("--queue must be at least 1");
    Service service;
    service.options = o;
    const auto t0 = Clock::now();
    service.model = Model::load(o.model_path);
    const HParams& hp = service.model->hparams();
    const uint32_t n_ctx_slot = o.n_ctx != 0 ? o.n_ctx : std::min<uint32_t>(hp.n_ctx_train, 4096);
    if (n_ctx_slot < 8) fail("-c must be at least 8 tokens, not {}", n_ctx_slot);
    // The cache: n_slots contexts, plus what --cache-mib holds of finished conversations, at
    // most as many cells as the slots have. (Attention is unified today: every token reads every
    // used cell, masked, so kept cells cost time at each step; this bounds it to twice the slots'.)
    const size_t cell_bytes = static_cast<size_t>(hp.n_layer) * 2 * row_size(Type::F16, hp.n_embd_kv());
    const uint64_t cache_cells = std::min<uint64_t>(static_cast<uint64_t>(o.cache_mib) * (1u << 20) / cell_bytes,
                                                    static_cast<uint64_t>(n_ctx_slot) * o.n_slots);
    const uint64_t n_cells = static_cast<uint64_t>(o.n_slots) * n_ctx_slot + cache_cells;
    if (n_cells > (1u << 24)) fail("{} slots of {} tokens need {} KV cells: too many", o.n_slots, n_ctx_slot, n_cells);
    EngineParams ep;
    ep.n_ctx = static_cast<uint32_t>(n_cells);
    ep.n_seq = std::min<uint32_t>(64, o.n_slots + (cache_cells > 0 ? 16 : 1));
    ep.n_threads = o.n_threads;
    ep.backend = o.backend;
    ep.device = o.device;
    ep.n_gpu_layers = o.n_gpu_layers;
    service.engine = std::make_shared<Engine>(service.model, ep);
    service.scheduler = std::make_unique<Scheduler>(
        service.engine, Scheduler::Params{o.n_slots, n_ctx_slot, o.max_queue, static_cast<uint32_t>(cache_cells)});
    std::string source;
    if (!o.chat_template.empty()) {
        source = read_file(o.chat_template);
    } else {
        chat::ChatTemplate t = chat::select_template(service.model->file());
        if (t.fallback) fmt::print(stderr, "note: {} has no chat template; using ChatML\n", o.model_path);
        source = std::move(t.source);
    }
    service.prompter = std::make_unique<Prompter>(service.model, std::move(source));
    service.model_id = o.alias.empty() ? file_name(o.model_path) : o.alias;
    service.created = static_cast<int64_t>(std::time(nullptr));
    service.load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    fmt::print(stderr, "model: {} ({}), {} slots of {} tokens, {} KV cells ({:.0f} MiB, {} for the prefix cache), load {:.0f} ms\n",
               service.model_id, service.model->description(), o.n_slots, n_ctx_slot, n_cells,
               static_cast<double>(service.engine->kv_bytes()) / (1 << 20), cache_cells, service.load_ms);

    httplib::Server http;
    // A streaming response holds its worker thread: one per slot and queued request, plus
    // some for the quick endpoints (models, health, metrics) that must answer meanwhile.
    const size_t n_workers = o.n_slots + o.max_queue + 8;
    http.new_task_queue = [n_workers] { return new httplib::ThreadPool(n_workers); };
    http.set_payload_max_length(o.max_body);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server on the
    // same port would start silently and take half the connections.
    http.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http.set_keep_alive_timeout(5);
    http.set_read_timeout(30);
    http.set_write_timeout(30);
    Metrics metrics(o.n_slots);

    http.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
        request_clock() = {Clock::now(), true};
        request_tokens() = {};
        if (req.method == "OPTIONS") {  // CORS preflight: before authentication, as browsers send no key
            add_cors(req, res);
            res.status = 204;
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!o.api_key.empty() && !public_path(req) && !authorized(req, o.api_key)) {
            add_cors(req, res);
            send_error(res, ApiError(401, "authentication_error", "a valid API key is required (Authorization: Bearer KEY)"),
                       req.path.rfind("/api/", 0) == 0 ? Dialect::Ollama : Dialect::OpenAI);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) { add_cors(req, res); });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;  // a route's own error body
        std::string message = res.status == 404   ? fmt::format("no endpoint {} {}", req.method, req.path)
                              : res.status == 413 ? "the request body is too large (--max-body)"
                                                  : fmt::format("HTTP {}", res.status);
        // cpp-httplib caps form bodies at 8 KiB whatever --max-body says; `curl -d` sends JSON as one.
        if (res.status == 413 && req.get_header_value("Content-Type").find("x-www-form-urlencoded") != std::string::npos) {
            message = "a body sent as application/x-www-form-urlencoded is limited to 8 KiB; send JSON with "
                      "'Content-Type: application/json' (curl: -H 'Content-Type: application/json')";
        }
        add_cors(req, res);
        send_error(res, ApiError(res.status, error_type(res.status), message),
                   req.path.rfind("/api/", 0) == 0 ? Dialect::Ollama : Dialect::OpenAI);
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        send_error(res, ApiError(500, "server_error", what));
    });
    http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        const RequestClock& c = request_clock();
        const double ms = c.set ? std::chrono::duration<double, std::milli>(Clock::now() - c.started).count() : 0;
        const RequestTokens& t = request_tokens();
        const std::string tokens = t.set ? fmt::format(" prompt={} cached={} generated={} {}", t.prompt, t.cached, t.generated, t.finish) : "";
        fmt::print(stderr, "{} {} {} {}{} {:.1f}ms\n", req.remote_addr, req.method, req.path, res.status, tokens, ms);
    });

    Scheduler& scheduler = *service.scheduler;
    Leaving leaving;
    http.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
        if (leaving.leaving.load() || scheduler.draining()) {
            res.set_header("Retry-After", "1");
            send_json(res, {{"status", "draining"}}, 503);
        } else {
            send_json(res, {{"status", "ok"}});
        }
    });
    http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics.render(scheduler.stats(), leaving.leaving.load() || scheduler.draining()), "text/plain; version=0.0.4");
    });
    // "/": the chat page for a browser, Ollama's liveness answer for everyone else.
    http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("Accept").find("text/html") != std::string::npos) {
            res.set_header("Content-Security-Policy",
                           "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
            res.set_content(std::string(chat_page_html()), "text/html; charset=utf-8");
        } else {
            res.set_content("Ollama is running", "text/plain; charset=utf-8");
        }
    });
    add_openai_routes(http, service);
    add_ollama_routes(http, service);

    int port = o.port;
    if (port == 0) {
        port = http.bind_to_any_port(o.host);
        if (port < 0) fail("cannot bind {} to a free port", o.host);
    } else if (!http.bind_to_port(o.host, port)) {
        fail("cannot bind {}:{} (in use, or not an address of this machine)", o.host, port);
    }
    std::thread signals([&] { watch_signals(http, scheduler, leaving, o.drain_delay_s); });
    const std::string shown_host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    fmt::print(stderr, "listening on http://{}:{}\n", shown_host, port);
    std::fflush(stderr);
    http.listen_after_bind();
    const unsigned char quit = 0;
    [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &quit, 1);
    signals.join();
    return g_interrupted ? 130 : 0;
}

}  // namespace ember::server
