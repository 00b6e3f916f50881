// serve_load: a load generator for `ember serve` (or any OpenAI-compatible server), measuring what
// a user of a chat endpoint feels under N concurrent clients:
//
//   serve_load --url http://127.0.0.1:PORT -c N_CLIENTS -T SECONDS [--max-tokens 64]
//              [--prompt-file F] [--pid SERVER_PID] [--api-key K] [--model ID]
//              [--temperature X] [--json]
//
// Each client is a thread with its own keep-alive connection that, until SECONDS have passed,
// POSTs /v1/chat/completions {messages: [{role: user, content: PROMPT}], stream: true,
// max_tokens, temperature, stream_options: {include_usage: true}} and reads the Server-Sent
// Events as they arrive. PROMPT differs per client and request (a line of --prompt-file, or a
// built-in story opening), each starting with the client and request numbers so that no two
// share a cached prefix beyond a few tokens.
//
// Per request: TTFT = send to the first non-empty delta.content; ITL = the gaps between
// consecutive content chunks. A request's tokens are usage.completion_tokens when the usage
// chunk came, else its content chunks. At the deadline requests still running are cut (the
// connection closes, so the server cancels them); their tokens so far still count.
// Outcomes: ok (200 and data: [DONE]), rejected (HTTP 503: the server's queue is full), cut,
// and errors by kind (HTTP status, connection failure, an error event, a stream without [DONE]).
// Tokens/s = all generated tokens / wall time of the run. With --pid, the server's VmRSS is read
// from /proc/PID/status at the start and the end, and sampled every 100 ms for its peak.
//
// Build by hand (Debian's cpp-httplib is a compiled library, nlohmann-json is header-only):
//   g++ -std=c++20 -O2 bench/serve_load.cpp -o serve_load -lcpp-httplib -lpthread
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

struct Options {
    std::string url = "http://127.0.0.1:8080";
    int clients = 4;
    double seconds = 10;
    int max_tokens = 64;
    double temperature = 0.7;
    std::string prompt_file;
    long pid = 0;
    std::string api_key;
    std::string model;  // empty: data[0].id of GET /v1/models
    bool json = false;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr,
                 "serve_load: %s\n"
                 "usage: serve_load --url http://HOST:PORT -c N_CLIENTS -T SECONDS [--max-tokens N]\n"
                 "                  [--prompt-file F] [--pid SERVER_PID] [--api-key K] [--model ID]\n"
                 "                  [--temperature X] [--json]\n",
                 message.c_str());
    std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
    std::istringstream in(text);
    T value{};
    if (!(in >> value) || !in.eof()) usage_error(flag + " wants a number, not '" + text + "'");
    return value;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(flag + " wants a value");
            return argv[++i];
        };
        if (flag == "--url") o.url = value();
        else if (flag == "-c" || flag == "--clients") o.clients = parse_number<int>(flag, value());
        else if (flag == "-T" || flag == "--seconds") o.seconds = parse_number<double>(flag, value());
        else if (flag == "--max-tokens" || flag == "-n") o.max_tokens = parse_number<int>(flag, value());
        else if (flag == "--temperature") o.temperature = parse_number<double>(flag, value());
        else if (flag == "--prompt-file") o.prompt_file = value();
        else if (flag == "--pid") o.pid = parse_number<long>(flag, value());
        else if (flag == "--api-key") o.api_key = value();
        else if (flag == "--model") o.model = value();
        else if (flag == "--json") o.json = true;
        else if (flag == "-h" || flag == "--help") usage_error("a load generator for OpenAI-style chat servers");
        else usage_error("unknown option " + flag);
    }
    if (o.clients < 1 || o.clients > 1024) usage_error("-c wants 1 to 1024 clients");
    if (!(o.seconds > 0) || o.seconds > 24 * 3600) usage_error("-T wants a positive number of seconds");
    if (o.max_tokens < 1) usage_error("--max-tokens wants a positive number");
    return o;
}

// "http://HOST[:PORT][/]" (HOST may be [IPv6]) -> host and port; no path, no https (the server
// speaks plain HTTP on the machine it runs on).
struct Endpoint {
    std::string host;
    int port = 80;
};

Endpoint parse_url(const std::string& url) {
    constexpr std::string_view scheme = "http://";
    if (url.rfind(scheme, 0) != 0) usage_error("--url must start with http:// (got '" + url + "')");
    std::string rest = url.substr(scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.find('/') != std::string::npos) usage_error("--url takes no path: " + url);
    Endpoint e;
    std::string port_text;
    if (!rest.empty() && rest.front() == '[') {  // [::1]:8080
        const auto close = rest.find(']');
        if (close == std::string::npos) usage_error("bad IPv6 host in " + url);
        e.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') usage_error("bad port in " + url);
            port_text = rest.substr(close + 2);
        }
    } else {
        const auto colon = rest.rfind(':');
        e.host = rest.substr(0, colon);
        if (colon != std::string::npos) port_text = rest.substr(colon + 1);
    }
    if (e.host.empty()) usage_error("no host in " + url);
    if (!port_text.empty()) e.port = parse_number<int>("--url port", port_text);
    if (e.port < 1 || e.port > 65535) usage_error("bad port in " + url);
    return e;
}

// VmRSS of /proc/PID/status in KiB; nullopt when the process is gone or unreadable.
std::optional<long> read_rss_kib(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return std::nullopt;
}

// Splits text that arrives in pieces of any size into Server-Sent Events. Lines end in \n or
// \r\n; a blank line ends an event; its `data:` lines (one leading space dropped) are joined
// with \n and passed to on_event. Comments (`:`) and other fields are skipped.
class SseSplitter {
public:
    template <typename OnEvent>
    void feed(std::string_view piece, OnEvent&& on_event) {
        buffer_.append(piece);
        size_t start = 0;
        for (size_t eol; (eol = buffer_.find('\n', start)) != std::string::npos; start = eol + 1) {
            std::string_view line(buffer_.data() + start, eol - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty()) {
                if (has_data_) on_event(std::string_view(data_));
                data_.clear();
                has_data_ = false;
            } else if (line.rfind("data:", 0) == 0) {
                line.remove_prefix(5);
                if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
                if (has_data_) data_.push_back('\n');
                data_.append(line);
                has_data_ = true;
            }
        }
        buffer_.erase(0, start);
    }

private:
    std::string buffer_;  // the unfinished last line
    std::string data_;    // the current event's data so far
    bool has_data_ = false;
};

// What one client saw over the run (merged into the totals once all have stopped).
struct Tally {
    int64_t ok = 0;
    int64_t rejected = 0;
    int64_t cut = 0;
    int64_t tokens = 0;
    std::map<std::string, int64_t> errors;  // kind -> count
    std::vector<double> ttft_ms;
    std::vector<double> itl_ms;

    void merge(const Tally& t) {
        ok += t.ok;
        rejected += t.rejected;
        cut += t.cut;
        tokens += t.tokens;
        for (const auto& [kind, n] : t.errors) errors[kind] += n;
        ttft_ms.insert(ttft_ms.end(), t.ttft_ms.begin(), t.ttft_ms.end());
        itl_ms.insert(itl_ms.end(), t.itl_ms.begin(), t.itl_ms.end());
    }
};

constexpr const char* kOpenings[] = {
    "Tell me a story about a small dog who finds a red ball in the park.",
    "Once upon a time there was a girl who loved to paint the sky.",
    "Write a short story about a boat that wanted to fly.",
    "Tell me about a cat and a bird who became friends.",
    "Write a story where a boy finds a key under a big tree.",
    "Tell a bedtime story about the moon and a sleepy bear.",
    "Once upon a time a little robot wanted to learn to dance.",
    "Write a story about a rainy day and a yellow umbrella.",
};

std::string make_prompt(const std::vector<std::string>& lines, int client, int64_t request) {
    const std::string tag = "[client " + std::to_string(client) + ", request " + std::to_string(request) + "] ";
    if (!lines.empty()) {
        // A different line for each (client, request) while there are enough lines.
        const size_t index = (static_cast<size_t>(request) * 131 + static_cast<size_t>(client)) % lines.size();
        return tag + lines[index];
    }
    constexpr size_t n = sizeof(kOpenings) / sizeof(kOpenings[0]);
    return tag + kOpenings[(static_cast<size_t>(client) + static_cast<size_t>(request)) % n];
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Shared {
    Options options;
    Endpoint endpoint;
    std::string model;
    std::vector<std::string> prompt_lines;
    Clock::time_point deadline;
};

// One client: requests back to back until the deadline. After a rejection or an error it waits
// 100 ms, so that a refusing server is not measured by how fast it can refuse.
Tally run_client(const Shared& s, int client) {
    Tally tally;
    httplib::Client http(s.endpoint.host, s.endpoint.port);
    http.set_keep_alive(true);
    http.set_connection_timeout(5, 0);
    httplib::Headers headers;
    if (!s.options.api_key.empty()) headers.emplace("Authorization", "Bearer " + s.options.api_key);

    for (int64_t request = 0; Clock::now() < s.deadline; ++request) {
        json body = {
            {"messages", json::array({{{"role", "user"}, {"content", make_prompt(s.prompt_lines, client, request)}}})},
            {"stream", true},
            {"max_tokens", s.options.max_tokens},
            {"temperature", s.options.temperature},
            {"stream_options", {{"include_usage", true}}},
        };
        if (!s.model.empty()) body["model"] = s.model;

        // A read never waits past the deadline by more than a few seconds: a request stuck in
        // the server's queue at the end is cut, not waited for.
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(s.deadline - Clock::now()).count();
        http.set_read_timeout(std::max<int64_t>(1, left + 5), 0);

        int status = 0;
        SseSplitter sse;
        bool done = false;
        bool stream_error = false;
        bool bad_event = false;
        int64_t chunks = 0;
        std::optional<int64_t> usage_tokens;
        Clock::time_point last_token;
        std::vector<double> gaps;
        std::optional<double> ttft;

        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/chat/completions";
        req.headers = headers;
        req.headers.emplace("Accept", "text/event-stream");
        req.body = body.dump();
        req.set_header("Content-Type", "application/json");
        req.response_handler = [&](const httplib::Response& res) {
            status = res.status;
            return true;
        };
        const auto sent = Clock::now();
        req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
            if (Clock::now() >= s.deadline) return false;  // cut: closes the connection
            if (status != 200) return true;  // an error body: the status is the kind
            sse.feed(std::string_view(data, size), [&](std::string_view event) {
                if (event == "[DONE]") {
                    done = true;
                    return;
                }
                const json chunk = json::parse(event, nullptr, false);
                if (chunk.is_discarded()) {
                    bad_event = true;
                    return;
                }
                if (chunk.contains("error")) stream_error = true;
                if (chunk.contains("usage") && chunk["usage"].is_object() &&
                    chunk["usage"].contains("completion_tokens") && chunk["usage"]["completion_tokens"].is_number())
                    usage_tokens = chunk["usage"]["completion_tokens"].get<int64_t>();
                if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return;
                const json& choice = chunk["choices"][0];
                if (!choice.contains("delta") || !choice["delta"].is_object()) return;
                const json& delta = choice["delta"];
                if (!delta.contains("content") || !delta["content"].is_string() ||
                    delta["content"].get_ref<const std::string&>().empty())
                    return;
                const auto now = Clock::now();
                if (!ttft) ttft = ms_between(sent, now);
                else gaps.push_back(ms_between(last_token, now));
                last_token = now;
                ++chunks;
            });
            return true;
        };

        const httplib::Result result = http.send(req);
        const bool past_deadline = Clock::now() >= s.deadline;
        const int64_t tokens = usage_tokens.value_or(chunks);
        auto keep_timings = [&] {
            if (ttft) tally.ttft_ms.push_back(*ttft);
            tally.itl_ms.insert(tally.itl_ms.end(), gaps.begin(), gaps.end());
            tally.tokens += tokens;
        };
        bool failed = false;
        if (!result) {
            if (past_deadline) {
                ++tally.cut;
                keep_timings();
                break;
            }
            ++tally.errors["connection: " + httplib::to_string(result.error())];
            failed = true;
        } else if (status == 503) {
            ++tally.rejected;
            failed = true;
        } else if (status != 200) {
            ++tally.errors["HTTP " + std::to_string(status)];
            failed = true;
        } else if (stream_error || bad_event) {
            ++tally.errors[stream_error ? "error event" : "event not JSON"];
            keep_timings();
            failed = true;
        } else if (!done) {
            ++tally.errors["stream without [DONE]"];
            keep_timings();
            failed = true;
        } else {
            ++tally.ok;
            keep_timings();
        }
        if (failed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return tally;
}

// Nearest-rank percentile of sorted values; NaN for none.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return std::nan("");
    const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

json number_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(std::round(v * 1000) / 1000); }
json number_or_null(const std::optional<long>& v) { return v ? json(*v) : json(nullptr); }

std::string fmt_ms(double v) {
    if (std::isnan(v)) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    return text;
}

std::string fmt_mib(const std::optional<long>& kib) {
    if (!kib) return "?";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(*kib) / 1024.0);
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    Shared s;
    s.options = parse_options(argc, argv);
    const Options& o = s.options;
    s.endpoint = parse_url(o.url);

    if (!o.prompt_file.empty()) {
        std::ifstream in(o.prompt_file);
        if (!in) usage_error("cannot read " + o.prompt_file);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) s.prompt_lines.push_back(line);
        }
        if (s.prompt_lines.empty()) usage_error(o.prompt_file + " holds no prompt (one per line)");
    }

    // The server must answer before the clock starts: its model id (unless --model) also shows
    // that the URL and the key are right.
    {
        httplib::Client http(s.endpoint.host, s.endpoint.port);
        http.set_connection_timeout(5, 0);
        http.set_read_timeout(30, 0);
        httplib::Headers headers;
        if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);
        const auto res = http.Get("/v1/models", headers);
        if (!res) {
            std::fprintf(stderr, "serve_load: GET %s/v1/models: %s\n", o.url.c_str(),
                         httplib::to_string(res.error()).c_str());
            return 1;
        }
        if (res->status != 200) {
            std::fprintf(stderr, "serve_load: GET %s/v1/models: HTTP %d %s\n", o.url.c_str(), res->status,
                         res->body.substr(0, 300).c_str());
            return 1;
        }
        s.model = o.model;
        if (s.model.empty()) {
            const json models = json::parse(res->body, nullptr, false);
            if (!models.is_discarded() && models.contains("data") && models["data"].is_array() &&
                !models["data"].empty() && models["data"][0].contains("id") && models["data"][0]["id"].is_string())
                s.model = models["data"][0]["id"].get<std::string>();
        }
    }

    std::optional<long> rss_start;
    if (o.pid > 0) {
        rss_start = read_rss_kib(o.pid);
        if (!rss_start) {
            std::fprintf(stderr, "serve_load: no VmRSS in /proc/%ld/status (is the server running?)\n", o.pid);
            return 1;
        }
    }

    // The RSS sampler wakes every 100 ms until told to stop (a condition variable, so that it
    // stops at once rather than after its last sleep).
    std::atomic<long> rss_peak{rss_start.value_or(0)};
    std::mutex sampler_mutex;
    std::condition_variable sampler_wake;
    bool sampler_stop = false;
    std::thread sampler;
    if (o.pid > 0) {
        sampler = std::thread([&] {
            std::unique_lock lock(sampler_mutex);
            while (!sampler_wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return sampler_stop; })) {
                if (const auto rss = read_rss_kib(o.pid)) rss_peak = std::max(rss_peak.load(), *rss);
            }
        });
    }

    const auto start = Clock::now();
    s.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    std::vector<Tally> tallies(static_cast<size_t>(o.clients));
    std::vector<std::thread> clients;
    for (int c = 0; c < o.clients; ++c)
        clients.emplace_back([&, c] { tallies[static_cast<size_t>(c)] = run_client(s, c); });
    for (auto& t : clients) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    std::optional<long> rss_end;
    if (o.pid > 0) {
        rss_end = read_rss_kib(o.pid);
        {
            std::lock_guard lock(sampler_mutex);
            sampler_stop = true;
        }
        sampler_wake.notify_all();
        sampler.join();
        if (rss_end) rss_peak = std::max(rss_peak.load(), *rss_end);
    }

    Tally total;
    for (const auto& t : tallies) total.merge(t);
    std::sort(total.ttft_ms.begin(), total.ttft_ms.end());
    std::sort(total.itl_ms.begin(), total.itl_ms.end());
    int64_t errors = 0;
    for (const auto& [kind, n] : total.errors) errors += n;
    const double tokens_per_s = elapsed > 0 ? static_cast<double>(total.tokens) / elapsed : 0;
    const std::optional<long> peak = o.pid > 0 ? std::optional<long>(rss_peak.load()) : std::nullopt;

    if (o.json) {
        json errors_by_kind = json::object();
        for (const auto& [kind, n] : total.errors) errors_by_kind[kind] = n;
        const json report = {
            {"url", o.url},
            {"model", s.model},
            {"clients", o.clients},
            {"seconds", std::round(elapsed * 1000) / 1000},
            {"max_tokens", o.max_tokens},
            {"requests_ok", total.ok},
            {"errors", errors},
            {"rejected", total.rejected},
            {"cut", total.cut},
            {"errors_by_kind", errors_by_kind},
            {"tokens", total.tokens},
            {"tokens_per_s", std::round(tokens_per_s * 1000) / 1000},
            {"ttft_ms", {{"p50", number_or_null(percentile(total.ttft_ms, 50))},
                         {"p99", number_or_null(percentile(total.ttft_ms, 99))},
                         {"n", total.ttft_ms.size()}}},
            {"itl_ms", {{"p50", number_or_null(percentile(total.itl_ms, 50))},
                        {"p99", number_or_null(percentile(total.itl_ms, 99))},
                        {"n", total.itl_ms.size()}}},
            {"rss_kib", {{"start", number_or_null(rss_start)}, {"end", number_or_null(rss_end)},
                         {"peak", number_or_null(peak)}}},
        };
        std::printf("%s\n", report.dump().c_str());
    } else {
        std::printf("serve_load: %d clients for %.1f s against %s (model %s, max_tokens %d)\n", o.clients, elapsed,
                    o.url.c_str(), s.model.empty() ? "?" : s.model.c_str(), o.max_tokens);
        std::printf("requests: %lld ok, %lld errors, %lld rejected (503), %lld cut at the deadline\n",
                    static_cast<long long>(total.ok), static_cast<long long>(errors),
                    static_cast<long long>(total.rejected), static_cast<long long>(total.cut));
        for (const auto& [kind, n] : total.errors)
            std::printf("  error %s: %lld\n", kind.c_str(), static_cast<long long>(n));
        std::printf("tokens: %lld generated, %.1f tokens/s aggregate\n", static_cast<long long>(total.tokens),
                    tokens_per_s);
        std::printf("TTFT ms: p50 %s  p99 %s  (%zu requests)\n", fmt_ms(percentile(total.ttft_ms, 50)).c_str(),
                    fmt_ms(percentile(total.ttft_ms, 99)).c_str(), total.ttft_ms.size());
        std::printf("ITL ms:  p50 %s  p99 %s  (%zu gaps)\n", fmt_ms(percentile(total.itl_ms, 50)).c_str(),
                    fmt_ms(percentile(total.itl_ms, 99)).c_str(), total.itl_ms.size());
        if (o.pid > 0)
            std::printf("server RSS: %s at start, %s at end, %s peak\n", fmt_mib(rss_start).c_str(),
                        fmt_mib(rss_end).c_str(), fmt_mib(peak).c_str());
    }
    // A run in which nothing succeeded is a failure, for scripts that only look at the status.
    return total.ok > 0 ? 0 : 1;
}
