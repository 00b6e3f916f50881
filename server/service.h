// What the endpoints of both dialects share: the options, the model, the scheduler and the
// prompter, and the steps every generation request takes — read the JSON body, read sampling
// fields, check the prompt against the context, then stream a job's text as it comes or
// collect it, cancelling the job when the client hangs up.
#pragma once

#include "ember/model.h"
#include "server/api_error.h"
#include "server/prompt.h"
#include "server/scheduler.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ember::server {

struct ServeOptions {
    std::string model_path;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string alias;           // the model's id in both dialects; empty: the file name
    uint32_t n_slots = 4;        // -np: requests decoded at once
    uint32_t n_ctx = 0;          // -c: tokens of one request (prompt + reply); 0: the model's, capped at 4096
    int n_threads = 0;
    std::string api_key;         // empty: no authentication
    size_t max_queue = 64;       // requests waiting for a slot before 503
    uint32_t cache_mib = 256;    // the prefix cache's KV memory
    std::string chat_template;   // a template file; empty: the model's (or ChatML)
    std::string backend = "cpu";
    int device = 0;
    int n_gpu_layers = -1;
    size_t max_body = 8u << 20;  // bytes of a request body
    double request_timeout_s = 600;  // a request's deadline from its arrival
    double drain_delay_s = 0;    // after SIGTERM: /health 503 at once, new requests served this long still
};

// The client's end of the connection, to notice it hanging up between decode steps.
class ClientWatch {
public:
    explicit ClientWatch(const httplib::Request& req);  // finds the connection's socket
    bool gone() const;                                  // the peer closed or reset it

private:
    int fd_ = -1;
};

struct Service {
    ServeOptions options;
    std::shared_ptr<const Model> model;
    std::shared_ptr<Engine> engine;
    std::unique_ptr<Scheduler> scheduler;
    std::unique_ptr<Prompter> prompter;
    std::string model_id;
    int64_t created = 0;  // unix seconds when the model was loaded
    double load_ms = 0;

    uint32_t n_ctx_slot() const { return scheduler->params().n_ctx_slot; }
};

// The request body as a JSON object (400 for malformed JSON or another type).
nlohmann::json parse_body(const httplib::Request& req);

// Typed field readers: absent (or null) gives nullopt; a wrong type or range is a 400 naming
// the field.
std::optional<double> number_field(const nlohmann::json& obj, const char* name, const std::string& where);
std::optional<int64_t> integer_field(const nlohmann::json& obj, const char* name, const std::string& where);
std::optional<bool> bool_field(const nlohmann::json& obj, const char* name, const std::string& where);
std::optional<std::string> string_field(const nlohmann::json& obj, const char* name, const std::string& where);

// temperature, top_p, top_k, min_p, seed, presence_penalty, frequency_penalty, repeat_penalty,
// repeat_last_n from `obj` (OpenAI's request or Ollama's options), onto `base`.
SamplerParams read_sampling(const nlohmann::json& obj, const std::string& where, SamplerParams base = {});
// `stop`: a string or a list of strings.
std::vector<std::string> read_stop(const nlohmann::json& obj, const std::string& where);

// The job for a tokenized prompt: checks it against the slot's context (400
// exceed_context_size_error) and caps the reply (max_tokens absent: up to the context).
JobSpec make_job(const Service& service, std::vector<int32_t> prompt, std::optional<int64_t> max_tokens);

// Frames of a streamed response, written as the job's text arrives.
struct StreamFrames {
    std::string content_type;
    std::function<std::string()> begin;                     // before any text (may be empty)
    std::function<std::string(const Job::Update&)> update;  // text and logprobs that arrived
    std::function<std::string(const JobResult&)> end;       // the last frames
    std::function<std::string(const ApiError&)> error;      // a failure after streaming began
};
void stream_job(const Service& service, const httplib::Request& req, httplib::Response& res, std::shared_ptr<Job> job,
                StreamFrames frames);

// Waits for the whole reply; the job is cancelled if the client hangs up meanwhile. A job that
// failed or passed its deadline throws ApiError (500 / 504).
struct Collected {
    std::string text;
    std::vector<TokenLogprob> logprobs;
    JobResult result;
};
Collected collect_job(const httplib::Request& req, const std::shared_ptr<Job>& job);

// The ApiError a finished job's failure maps to (Error: 500, Deadline: 504); nullopt otherwise.
std::optional<ApiError> job_failure(const JobResult& result);

// Errors are {"error":{"code","message","type"}} in OpenAI's dialect, {"error":"message"} in Ollama's.
enum class Dialect { OpenAI, Ollama };

// Answers with a JSON body.
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
void send_error(httplib::Response& res, const ApiError& e, Dialect dialect = Dialect::OpenAI);

// What the access log line of this thread's current request says about tokens.
struct RequestTokens {
    size_t prompt = 0, cached = 0, generated = 0;
    const char* finish = "";
    bool set = false;
};
RequestTokens& request_tokens();  // thread-local

// The endpoints of each dialect (openai.cpp, ollama.cpp), wrapped by `handle`: an ApiError
// becomes its status and body, {"error":{"code","message","type"}} in OpenAI's dialect and
// {"error":"message"} in Ollama's (what its clients read).
using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
Handler handle(Handler h, Dialect dialect = Dialect::OpenAI);
void add_openai_routes(httplib::Server& http, Service& service);
void add_ollama_routes(httplib::Server& http, Service& service);

}  // namespace ember::server
