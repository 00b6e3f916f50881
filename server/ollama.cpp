// The Ollama dialect, as Open WebUI's Ollama connection and the `ollama` client call it:
// GET|HEAD /, /api/version, /api/tags, /api/ps, POST /api/show, /api/chat, /api/generate.
// Streams are newline-delimited JSON (one object per line); the last line has "done": true
// and the timings in nanoseconds.
#include "ember/version.h"
#include "model/runtime/model.h"
#include "server/service.h"

#include <fmt/format.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace ember::server {
namespace {

using nlohmann::json;

// RFC 3339 with nanoseconds, in UTC: 2026-12-07T15:59:54.123456789Z
std::string rfc3339(std::chrono::system_clock::time_point t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:09d}Z", date, ns % 1000000000);
}

std::string now() { return rfc3339(std::chrono::system_clock::now()); }

int64_t ns(double ms) { return static_cast<int64_t>(ms * 1e6); }

// The model's size class and quantization, from its description ("llama 1.1B Q4_K - Medium").
json details(const Service& s) {
    const std::string d = s.model->description();
    const size_t a = d.find(' '), b = a == std::string::npos ? a : d.find(' ', a + 1);
    const std::string size = b == std::string::npos ? "" : d.substr(a + 1, b - a - 1);
    const std::string quant = b == std::string::npos ? "" : d.substr(b + 1);
    return {{"parent_model", ""},
            {"format", "gguf"},
            {"family", s.model->architecture()},
            {"families", json::array({s.model->architecture()})},
            {"parameter_size", size},
            {"quantization_level", quant}};
}

// A stable digest-like id for the file (Ollama names blobs by sha256; hashing a multi-GB file
// per listing is too slow, so this hashes the path, size and modification time).
std::string digest(const Service& s) {
    struct stat st {};
    stat(s.model->path().c_str(), &st);
    const std::string key = fmt::format("{}:{}:{}", s.model->path(), st.st_size, st.st_mtime);
    uint64_t h1 = 1469598103934665603ull, h2 = 1099511628211ull;
    for (unsigned char c : key) {
        h1 = (h1 ^ c) * 1099511628211ull;
        h2 = (h2 + c) * 6364136223846793005ull + 1442695040888963407ull;
    }
    return fmt::format("{:016x}{:016x}{:016x}{:016x}", h1, h2, h1 ^ h2, h1 * 31 + h2);
}

json model_entry(const Service& s) {
    struct stat st {};
    const auto sys = stat(s.model->path().c_str(), &st) != 0
                         ? std::chrono::system_clock::now()
                         : std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                 std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    return {{"name", s.model_id},
            {"model", s.model_id},
            {"modified_at", rfc3339(sys)},
            {"size", s.model->file().file_size()},
            {"digest", digest(s)},
            {"details", details(s)}};
}

// The metadata as Ollama's model_info: scalars as they are, arrays summarized as their length
// (the vocabulary alone would be megabytes) except short ones.
json model_info(const Service& s) {
    json info = json::object();
    for (const gguf::KeyValue& kv : s.model->file().metadata()) {
        auto scalar = [](const gguf::Scalar& v) -> json {
            return std::visit([](const auto& x) -> json { return x; }, v);
        };
        if (kv.value.is_array()) {
            if (kv.value.array_size() <= 64) {
                json a = json::array();
                for (const gguf::Scalar& v : kv.value.array) a.push_back(scalar(v));
                info[kv.key] = a;
            } else {
                info[kv.key] = nullptr;  // as `ollama show` prints long arrays: present, elided
            }
        } else if (kv.key != "tokenizer.chat_template") {
            info[kv.key] = scalar(kv.value.scalar);
        }
    }
    return info;
}

bool names_this_model(const Service& s, const std::string& name) {
    return name == s.model_id || name == s.model_id + ":latest" ||
           name == std::filesystem::path(s.model->path()).filename().string();
}

// options{temperature, top_k, top_p, min_p, seed, num_predict, num_ctx, stop, repeat_penalty, ...}
struct Options {
    SamplerParams sampling;
    std::vector<std::string> stop;
    std::optional<int64_t> num_predict;
};

Options read_options(const json& body) {
    Options o;
    if (!body.contains("options") || body["options"].is_null()) return o;
    const json& opts = body["options"];
    if (!opts.is_object()) throw invalid_request("'options' must be an object");
    o.sampling = read_sampling(opts, "options.");
    o.stop = read_stop(opts, "options.");
    if (auto n = integer_field(opts, "num_predict", "options.")) {
        if (*n < -2) throw invalid_request("'options.num_predict' must be -1 (no limit), -2 (fill the context) or >= 0");
        if (*n >= 0) o.num_predict = *n;  // -1 and -2: until the end of the turn or the context
        if (*n == 0) o.num_predict = 1;   // Ollama answers one token for 0; there is no empty reply
    }
    (void)integer_field(opts, "num_ctx", "options.");  // the server's -c applies; a type check only
    return o;
}

std::string ndjson(const json& j) { return dump(j) + "\n"; }

json final_fields(const Service& s, const JobResult& r, double total_ms) {
    return {{"done", true},
            {"done_reason", r.finish == Finish::Length ? "length" : "stop"},
            {"total_duration", ns(total_ms)},
            {"load_duration", ns(0)},
            {"prompt_eval_count", r.n_prompt - r.n_cached},
            {"prompt_eval_duration", ns(r.prompt_ms)},
            {"eval_count", r.n_generated},
            {"eval_duration", ns(r.generate_ms)},
            {"model", s.model_id},
            {"created_at", now()}};
}

// /api/chat (chat = true: "message") and /api/generate ("response").
void generate(Service& service, const httplib::Request& req, httplib::Response& res, bool chat) {
    const auto started = Clock::now();
    const json body = parse_body(req);
    const bool stream = bool_field(body, "stream", "").value_or(true);  // Ollama streams by default
    if (auto f = body.find("format"); f != body.end() && !f->is_null() && !(f->is_string() && f->get<std::string>().empty())) {
        throw invalid_request("'format' (structured output) is not supported");
    }
    const Options o = read_options(body);
    std::vector<int32_t> prompt;
    if (chat) {
        if (!body.contains("messages")) throw invalid_request("'messages' is required");
        prompt = service.prompter->chat(body["messages"]);
    } else {
        const std::string text = string_field(body, "prompt", "").value_or("");
        if (text.empty()) {  // Ollama's way to load a model: an empty prompt answers done at once
            send_json(res, {{"model", service.model_id}, {"created_at", now()}, {"response", ""}, {"done", true},
                            {"done_reason", "load"}});
            return;
        }
        if (bool_field(body, "raw", "").value_or(false)) {
            prompt = service.prompter->text(text);
        } else {
            json messages = json::array();
            if (auto sys = string_field(body, "system", ""); sys && !sys->empty()) {
                messages.push_back({{"role", "system"}, {"content", *sys}});
            }
            messages.push_back({{"role", "user"}, {"content", text}});
            prompt = service.prompter->chat(messages);
        }
    }
    JobSpec spec = make_job(service, std::move(prompt), o.num_predict);
    spec.sampling = o.sampling;
    spec.stop = o.stop;
    auto job = service.scheduler->submit(std::move(spec));
    const std::string model = service.model_id;
    auto piece = [=](const std::string& text) {
        json line = {{"model", model}, {"created_at", now()}, {"done", false}};
        if (chat) {
            line["message"] = {{"role", "assistant"}, {"content", text}};
        } else {
            line["response"] = text;
        }
        return line;
    };
    if (!stream) {
        const Collected got = collect_job(req, job);
        if (got.result.finish == Finish::Cancelled) return;
        json out = piece(got.text);
        out.update(final_fields(service, got.result, std::chrono::duration<double, std::milli>(Clock::now() - started).count()));
        send_json(res, out);
        return;
    }
    StreamFrames frames;
    frames.content_type = "application/x-ndjson";
    frames.begin = [] { return std::string(); };
    frames.update = [=](const Job::Update& u) { return ndjson(piece(u.text)); };
    frames.end = [=, s = &service](const JobResult& r) {
        json last = piece("");
        last.update(final_fields(*s, r, std::chrono::duration<double, std::milli>(Clock::now() - started).count()));
        return ndjson(last);
    };
    frames.error = [](const ApiError& e) { return ndjson({{"error", e.what()}}); };
    stream_job(service, req, res, std::move(job), std::move(frames));
}

}  // namespace

void add_ollama_routes(httplib::Server& http, Service& service) {
    Service* s = &service;
    http.Get("/api/version", handle([](const httplib::Request&, httplib::Response& res) {
                 send_json(res, {{"version", ember::version()}});
             }, Dialect::Ollama));
    http.Get("/api/tags", handle([s](const httplib::Request&, httplib::Response& res) {
                 send_json(res, {{"models", json::array({model_entry(*s)})}});
             }, Dialect::Ollama));
    http.Get("/api/ps", handle([s](const httplib::Request&, httplib::Response& res) {
                 json m = model_entry(*s);
                 m.erase("modified_at");
                 m["size"] = s->model->weight_bytes() + s->engine->kv_bytes();
                 m["size_vram"] = s->options.backend == "cpu" ? 0 : s->model->weight_bytes();
                 m["expires_at"] = "2318-01-01T00:00:00.000000000Z";  // loaded until the server stops
                 m["context_length"] = s->n_ctx_slot();
                 send_json(res, {{"models", json::array({m})}});
             }, Dialect::Ollama));
    http.Post("/api/show", handle([s](const httplib::Request& req, httplib::Response& res) {
                  const json body = parse_body(req);
                  std::optional<std::string> name = string_field(body, "model", "");
                  if (!name) name = string_field(body, "name", "");
                  if (!name) throw invalid_request("'model' is required");
                  if (!names_this_model(*s, *name)) throw ApiError(404, "not_found_error", fmt::format("model '{}' not found", *name));
                  send_json(res, {{"modelfile", fmt::format("FROM {}\n", s->model->path())},
                                  {"parameters", ""},
                                  {"template", s->prompter->template_source()},
                                  {"details", details(*s)},
                                  {"model_info", model_info(*s)},
                                  {"capabilities", json::array({"completion"})},
                                  {"modified_at", model_entry(*s)["modified_at"]}});
              }, Dialect::Ollama));
    http.Post("/api/chat", handle([s](const httplib::Request& req, httplib::Response& res) { generate(*s, req, res, true); }, Dialect::Ollama));
    http.Post("/api/generate", handle([s](const httplib::Request& req, httplib::Response& res) { generate(*s, req, res, false); }, Dialect::Ollama));
}

}  // namespace ember::server
