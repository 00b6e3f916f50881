#include "server/service.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace ember::server {

// ---- the client's connection ----

namespace {

// "ip", port of a socket address (IPv4 or IPv6).
bool address_of(const sockaddr_storage& a, std::string& ip, int& port) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    } else {
        return false;
    }
    ip = text;
    return true;
}

}  // namespace

// cpp-httplib 0.11 does not hand a route its socket. The connection stays open while the route
// runs, so the socket is the one whose peer and local ports are the request's: found once, by
// looking at the process's descriptors.
ClientWatch::ClientWatch(const httplib::Request& req) {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return;
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
        struct stat st {};
        if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        sockaddr_storage peer{}, local{};
        socklen_t pl = sizeof peer, ll = sizeof local;
        if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
        if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
        std::string peer_ip, local_ip;
        int peer_port = 0, local_port = 0;
        if (!address_of(peer, peer_ip, peer_port) || !address_of(local, local_ip, local_port)) continue;
        if (peer_port == req.remote_port && local_port == req.local_port && peer_ip == req.remote_addr) {
            fd_ = static_cast<int>(fd);
            break;
        }
    }
    closedir(dir);
}

bool ClientWatch::gone() const {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

// ---- request bodies ----

nlohmann::json parse_body(const httplib::Request& req) {
    if (req.body.empty()) throw invalid_request("the request body is empty (expected a JSON object)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
        throw invalid_request(fmt::format("the request body is not valid JSON: {}", e.what()));
    }
    if (!j.is_object()) throw invalid_request("the request body must be a JSON object");
    return j;
}

std::optional<double> number_field(const nlohmann::json& obj, const char* name, const std::string& where) {
    if (!obj.contains(name) || obj[name].is_null()) return std::nullopt;
    if (!obj[name].is_number()) throw invalid_request(fmt::format("'{}{}' must be a number", where, name));
    return obj[name].get<double>();
}

std::optional<int64_t> integer_field(const nlohmann::json& obj, const char* name, const std::string& where) {
    if (!obj.contains(name) || obj[name].is_null()) return std::nullopt;
    const nlohmann::json& v = obj[name];
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return std::numeric_limits<int64_t>::max();
        }
        return v.get<int64_t>();
    }
    if (v.is_number_float()) {  // 64.0 is fine, 6.5 is not
        const double d = v.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) return static_cast<int64_t>(d);
    }
    throw invalid_request(fmt::format("'{}{}' must be an integer", where, name));
}

std::optional<bool> bool_field(const nlohmann::json& obj, const char* name, const std::string& where) {
    if (!obj.contains(name) || obj[name].is_null()) return std::nullopt;
    if (!obj[name].is_boolean()) throw invalid_request(fmt::format("'{}{}' must be true or false", where, name));
    return obj[name].get<bool>();
}

std::optional<std::string> string_field(const nlohmann::json& obj, const char* name, const std::string& where) {
    if (!obj.contains(name) || obj[name].is_null()) return std::nullopt;
    if (!obj[name].is_string()) throw invalid_request(fmt::format("'{}{}' must be a string", where, name));
    return obj[name].get<std::string>();
}

SamplerParams read_sampling(const nlohmann::json& obj, const std::string& where, SamplerParams p) {
    auto in_range = [&](const char* name, double v, double lo, double hi) {
        if (!(v >= lo && v <= hi)) throw invalid_request(fmt::format("'{}{}' must be in [{}, {}], not {}", where, name, lo, hi, v));
        return static_cast<float>(v);
    };
    if (auto v = number_field(obj, "temperature", where)) p.temperature = in_range("temperature", *v, 0, 100);
    if (auto v = number_field(obj, "top_p", where)) {
        if (!(*v > 0 && *v <= 1)) throw invalid_request(fmt::format("'{}top_p' must be in (0, 1], not {}", where, *v));
        p.top_p = static_cast<float>(*v);
    }
    if (auto v = integer_field(obj, "top_k", where)) {
        if (*v < 0 || *v > std::numeric_limits<int32_t>::max()) throw invalid_request(fmt::format("'{}top_k' must be >= 0", where));
        p.top_k = static_cast<int32_t>(*v);
    }
    if (auto v = number_field(obj, "min_p", where)) p.min_p = in_range("min_p", *v, 0, 1);
    if (auto v = integer_field(obj, "seed", where)) {
        // Any integer: its low 32 bits seed the sampler (-1 and 0xFFFFFFFF: a random seed).
        p.seed = *v == -1 ? kSamplerRandomSeed : static_cast<uint32_t>(static_cast<uint64_t>(*v));
    }
    if (auto v = number_field(obj, "presence_penalty", where)) p.presence_penalty = in_range("presence_penalty", *v, -2, 2);
    if (auto v = number_field(obj, "frequency_penalty", where)) p.frequency_penalty = in_range("frequency_penalty", *v, -2, 2);
    if (auto v = number_field(obj, "repeat_penalty", where)) {
        if (!(*v > 0 && *v <= 100)) throw invalid_request(fmt::format("'{}repeat_penalty' must be in (0, 100], not {}", where, *v));
        p.repeat_penalty = static_cast<float>(*v);
    }
    if (auto v = integer_field(obj, "repeat_last_n", where)) {
        if (*v < -1 || *v > 1 << 20) throw invalid_request(fmt::format("'{}repeat_last_n' must be in [-1, {}]", where, 1 << 20));
        p.repeat_last_n = static_cast<int32_t>(*v);
    }
    return p;
}

std::vector<std::string> read_stop(const nlohmann::json& obj, const std::string& where) {
    std::vector<std::string> stops;
    if (!obj.contains("stop") || obj["stop"].is_null()) return stops;
    const nlohmann::json& s = obj["stop"];
    if (s.is_string()) {
        stops.push_back(s.get<std::string>());
    } else if (s.is_array()) {
        for (const nlohmann::json& x : s) {
            if (!x.is_string()) throw invalid_request(fmt::format("'{}stop' must be a string or a list of strings", where));
            stops.push_back(x.get<std::string>());
        }
    } else {
        throw invalid_request(fmt::format("'{}stop' must be a string or a list of strings", where));
    }
    if (stops.size() > 16) throw invalid_request(fmt::format("'{}stop' has {} strings; at most 16", where, stops.size()));
    return stops;
}

JobSpec make_job(const Service& service, std::vector<int32_t> prompt, std::optional<int64_t> max_tokens) {
    const uint32_t n_ctx = service.n_ctx_slot();
    if (prompt.empty()) throw invalid_request("the prompt is empty");
    if (prompt.size() >= n_ctx) {  // at least one token must fit after it
        throw ApiError(400, "exceed_context_size_error",
                       fmt::format("the prompt is {} tokens; the context is {} tokens (with room for the reply)",
                                   prompt.size(), n_ctx),
                       {{"n_prompt_tokens", prompt.size()}, {"n_ctx", n_ctx}});
    }
    JobSpec spec;
    const int64_t room = static_cast<int64_t>(n_ctx) - static_cast<int64_t>(prompt.size());
    spec.n_predict = static_cast<int32_t>(max_tokens ? std::min(*max_tokens, room) : room);
    spec.prompt = std::move(prompt);
    spec.deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(service.options.request_timeout_s * 1000));
    return spec;
}

// ---- answering ----

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
    res.status = status;
    res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e, Dialect dialect) {
    if (e.status() == 503) res.set_header("Retry-After", "1");
    send_json(res, dialect == Dialect::Ollama ? nlohmann::json{{"error", e.what()}} : e.body(), e.status());
}

std::optional<ApiError> job_failure(const JobResult& r) {
    if (r.finish == Finish::Error) return ApiError(500, "server_error", "generation failed: " + r.error);
    if (r.finish == Finish::Deadline) return ApiError(504, "timeout_error", "the request ran past its deadline");
    return std::nullopt;
}

RequestTokens& request_tokens() {
    thread_local RequestTokens tokens;
    return tokens;
}

namespace {

void note_tokens(const JobResult& r) {
    RequestTokens& t = request_tokens();
    t.prompt = r.n_prompt;
    t.cached = r.n_cached;
    t.generated = r.n_generated;
    t.finish = finish_name(r.finish);
    t.set = true;
}

// The client is gone: the job ends at the next step; its counts still go to the access log.
void abandon(Job& job) {
    job.cancel();
    for (int i = 0; i < 500; ++i) {
        Job::Update u = job.wait(std::chrono::milliseconds(10));
        if (u.done) return note_tokens(u.result);
    }
}

constexpr std::chrono::milliseconds kPoll{20};  // how often a waiting route looks at its client

}  // namespace

void stream_job(const Service&, const httplib::Request& req, httplib::Response& res, std::shared_ptr<Job> job,
                StreamFrames frames) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    auto watch = std::make_shared<ClientWatch>(req);
    const std::string content_type = frames.content_type;
    res.set_chunked_content_provider(content_type, [job, watch, frames = std::move(frames)](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) { return s.empty() || sink.write(s.data(), s.size()); };
        if (frames.begin && !write(frames.begin())) {
            abandon(*job);
            return false;
        }
        for (;;) {
            Job::Update u = job->wait(kPoll);
            if (!u.text.empty() || !u.logprobs.empty()) {
                if (!write(frames.update(u))) {
                    abandon(*job);
                    return false;
                }
            }
            if (u.done) {
                note_tokens(u.result);
                std::string last = u.result.finish == Finish::Cancelled ? std::string() : frames.end(u.result);
                if (auto failure = job_failure(u.result)) last = frames.error(*failure);
                if (!write(last)) return false;
                sink.done();
                return true;
            }
            if (watch->gone()) job->cancel();  // the job ends at the next step; keep waiting for it
        }
    });
}

Collected collect_job(const httplib::Request& req, const std::shared_ptr<Job>& job) {
    ClientWatch watch(req);
    Collected c;
    for (;;) {
        Job::Update u = job->wait(kPoll);
        c.text += u.text;
        for (TokenLogprob& t : u.logprobs) c.logprobs.push_back(std::move(t));
        if (u.done) {
            c.result = std::move(u.result);
            note_tokens(c.result);
            if (auto failure = job_failure(c.result)) throw *failure;
            return c;
        }
        if (watch.gone()) job->cancel();
    }
}

Handler handle(Handler h, Dialect dialect) {
    return [h = std::move(h), dialect](const httplib::Request& req, httplib::Response& res) {
        try {
            h(req, res);
        } catch (const ApiError& e) {
            send_error(res, e, dialect);
        } catch (const std::exception& e) {
            send_error(res, ApiError(500, "server_error", e.what()), dialect);
        }
    };
}

}  // namespace ember::server
