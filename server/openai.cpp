// The OpenAI dialect: /v1/models, /v1/chat/completions, /v1/completions (each also without
// /v1), and llama-server's /tokenize and /detokenize. Streams are Server-Sent Events:
// `data: {chunk}\n\n` ... `data: [DONE]\n\n`.
#include "ember/version.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "server/service.h"

#include <fmt/format.h>

#include <random>

namespace ember::server {
namespace {

using nlohmann::json;

std::string random_id(const char* prefix) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}{:016x}{:08x}", prefix, rng(), static_cast<uint32_t>(rng()));
}

std::string fingerprint() { return fmt::format("ember-{}", ember::version()); }

json bytes_of(const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
}

json logprobs_json(const std::vector<TokenLogprob>& lps) {
    json content = json::array();
    for (const TokenLogprob& t : lps) {
        json top = json::array();
        for (const auto& [token, lp] : t.top) top.push_back({{"token", token}, {"logprob", lp}, {"bytes", bytes_of(token)}});
        content.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", bytes_of(t.token)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
}

json usage_json(const JobResult& r) {
    return {{"prompt_tokens", r.n_prompt},
            {"completion_tokens", r.n_generated},
            {"total_tokens", r.n_prompt + r.n_generated},
            {"prompt_tokens_details", {{"cached_tokens", r.n_cached}}}};
}

const char* finish_reason(const JobResult& r) { return r.finish == Finish::Length ? "length" : "stop"; }

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

// What chat and text completions read alike.
struct Common {
    bool stream = false;
    bool include_usage = false;
    int top_logprobs = -1;
    std::optional<int64_t> max_tokens;
};

Common read_common(const json& body, bool chat) {
    Common c;
    c.stream = bool_field(body, "stream", "").value_or(false);
    if (body.contains("stream_options") && !body["stream_options"].is_null()) {
        if (!body["stream_options"].is_object()) throw invalid_request("'stream_options' must be an object");
        c.include_usage = bool_field(body["stream_options"], "include_usage", "stream_options.").value_or(false);
    }
    if (auto n = integer_field(body, "n", ""); n && *n != 1) throw invalid_request("only 'n': 1 is supported");
    std::optional<int64_t> max = integer_field(body, "max_completion_tokens", "");
    if (!max) max = integer_field(body, "max_tokens", "");
    if (max && *max < 1) throw invalid_request(fmt::format("'max_tokens' must be a positive integer, not {}", *max));
    c.max_tokens = max;
    if (chat) {
        if (bool_field(body, "logprobs", "").value_or(false)) {
            const int64_t top = integer_field(body, "top_logprobs", "").value_or(0);
            if (top < 0 || top > 20) throw invalid_request("'top_logprobs' must be in [0, 20]");
            c.top_logprobs = static_cast<int>(top);
        } else if (integer_field(body, "top_logprobs", "")) {
            throw invalid_request("'top_logprobs' needs 'logprobs': true");
        }
    } else if (auto lp = integer_field(body, "logprobs", "")) {  // the legacy API: a count
        if (*lp < 0 || *lp > 20) throw invalid_request("'logprobs' must be in [0, 20]");
        c.top_logprobs = static_cast<int>(*lp);
    }
    if (auto u = body.find("user"); u != body.end() && !u->is_null() && !u->is_string()) {
        throw invalid_request("'user' must be a string");
    }
    return c;
}

JobSpec job_for(const Service& service, const json& body, std::vector<int32_t> prompt, const Common& c) {
    JobSpec spec = make_job(service, std::move(prompt), c.max_tokens);
    spec.sampling = read_sampling(body, "");
    spec.stop = read_stop(body, "");
    spec.top_logprobs = c.top_logprobs;
    return spec;
}

void chat_completions(Service& service, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.contains("messages")) throw invalid_request("'messages' is required");
    const Common c = read_common(body, true);
    JobSpec spec = job_for(service, body, service.prompter->chat(body["messages"]), c);
    const bool want_logprobs = spec.top_logprobs >= 0;
    const std::string id = random_id("chatcmpl-");
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    auto job = service.scheduler->submit(std::move(spec));
    const std::string model = service.model_id;

    if (!c.stream) {
        const Collected got = collect_job(req, job);
        if (got.result.finish == Finish::Cancelled) return;  // nobody is listening
        json choice = {{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", got.text}}},
                       {"logprobs", want_logprobs ? logprobs_json(got.logprobs) : json(nullptr)},
                       {"finish_reason", finish_reason(got.result)}};
        send_json(res, {{"id", id},
                        {"object", "chat.completion"},
                        {"created", created},
                        {"model", model},
                        {"system_fingerprint", fingerprint()},
                        {"choices", json::array({choice})},
                        {"usage", usage_json(got.result)}});
        return;
    }
    auto chunk = [=](json delta, json finish, json logprobs) {
        return json{{"id", id},
                    {"object", "chat.completion.chunk"},
                    {"created", created},
                    {"model", model},
                    {"system_fingerprint", fingerprint()},
                    {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)},
                                              {"finish_reason", std::move(finish)}}})}};
    };
    StreamFrames frames;
    frames.content_type = "text/event-stream";
    frames.begin = [=] { return sse(chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)); };
    frames.update = [=](const Job::Update& u) {
        return sse(chunk({{"content", u.text}}, nullptr, want_logprobs ? logprobs_json(u.logprobs) : json(nullptr)));
    };
    frames.end = [=, include_usage = c.include_usage](const JobResult& r) {
        std::string out = sse(chunk(json::object(), finish_reason(r), nullptr));
        if (include_usage) {
            out += sse({{"id", id},
                        {"object", "chat.completion.chunk"},
                        {"created", created},
                        {"model", model},
                        {"system_fingerprint", fingerprint()},
                        {"choices", json::array()},
                        {"usage", usage_json(r)}});
        }
        return out + "data: [DONE]\n\n";
    };
    frames.error = [](const ApiError& e) { return sse(e.body()) + "data: [DONE]\n\n"; };
    stream_job(service, req, res, std::move(job), std::move(frames));
}

// `prompt`: a string, a list holding one string, or a list of token ids.
std::vector<int32_t> completion_prompt(const Service& service, const json& body) {
    if (!body.contains("prompt")) throw invalid_request("'prompt' is required");
    const json& p = body["prompt"];
    if (p.is_string()) return service.prompter->text(p.get<std::string>());
    if (p.is_array() && p.size() == 1 && p[0].is_string()) return service.prompter->text(p[0].get<std::string>());
    if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
        std::vector<int32_t> ids;
        for (const json& t : p) {
            if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= service.model->n_vocab()) {
                throw invalid_request(fmt::format("'prompt' token ids must be integers in [0, {})", service.model->n_vocab()));
            }
            ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
        }
        return ids;
    }
    throw invalid_request("'prompt' must be a string (one prompt per request) or a list of token ids");
}

void completions(Service& service, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const Common c = read_common(body, false);
    JobSpec spec = job_for(service, body, completion_prompt(service, body), c);
    const std::string id = random_id("cmpl-");
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    const std::string model = service.model_id;
    auto job = service.scheduler->submit(std::move(spec));
    auto choice = [](std::string text, json finish) {
        return json{{"text", std::move(text)}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", std::move(finish)}};
    };
    if (!c.stream) {
        const Collected got = collect_job(req, job);
        if (got.result.finish == Finish::Cancelled) return;
        send_json(res, {{"id", id},
                        {"object", "text_completion"},
                        {"created", created},
                        {"model", model},
                        {"system_fingerprint", fingerprint()},
                        {"choices", json::array({choice(got.text, finish_reason(got.result))})},
                        {"usage", usage_json(got.result)}});
        return;
    }
    auto chunk = [=](json choices) {
        return json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                    {"system_fingerprint", fingerprint()}, {"choices", std::move(choices)}};
    };
    StreamFrames frames;
    frames.content_type = "text/event-stream";
    frames.begin = [] { return std::string(); };
    frames.update = [=](const Job::Update& u) { return sse(chunk(json::array({choice(u.text, nullptr)}))); };
    frames.end = [=, include_usage = c.include_usage](const JobResult& r) {
        std::string out = sse(chunk(json::array({choice("", finish_reason(r))})));
        if (include_usage) {
            json last = chunk(json::array());
            last["usage"] = usage_json(r);
            out += sse(last);
        }
        return out + "data: [DONE]\n\n";
    };
    frames.error = [](const ApiError& e) { return sse(e.body()) + "data: [DONE]\n\n"; };
    stream_job(service, req, res, std::move(job), std::move(frames));
}

void models(const Service& service, httplib::Response& res) {
    send_json(res, {{"object", "list"},
                    {"data", json::array({{{"id", service.model_id},
                                           {"object", "model"},
                                           {"created", service.created},
                                           {"owned_by", "ember"},
                                           {"meta", {{"description", service.model->description()},
                                                     {"n_ctx", service.n_ctx_slot()},
                                                     {"n_ctx_train", service.model->n_ctx_train()},
                                                     {"n_vocab", service.model->n_vocab()},
                                                     {"n_params", service.model->n_params()},
                                                     {"size", service.model->weight_bytes()}}}}})}});
}

void tokenize(const Service& service, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::optional<std::string> content = string_field(body, "content", "");
    if (!content) throw invalid_request("'content' (a string) is required");
    const bool add_special = bool_field(body, "add_special", "").value_or(false);
    const bool parse_special = bool_field(body, "parse_special", "").value_or(true);
    const bool with_pieces = bool_field(body, "with_pieces", "").value_or(false);
    const Vocab& vocab = service.model->vocab();
    const std::vector<int32_t> ids = vocab.tokenize(*content, add_special, parse_special);
    json tokens = json::array();
    for (int32_t t : ids) {
        if (with_pieces) {
            tokens.push_back({{"id", t}, {"piece", vocab.token_to_piece(t, false)}});
        } else {
            tokens.push_back(t);
        }
    }
    send_json(res, {{"tokens", tokens}});
}

void detokenize(const Service& service, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    if (!body.contains("tokens") || !body["tokens"].is_array()) throw invalid_request("'tokens' (a list of token ids) is required");
    std::string text;
    const Vocab& vocab = service.model->vocab();
    for (const json& t : body["tokens"]) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= service.model->n_vocab()) {
            throw invalid_request(fmt::format("'tokens' must be integers in [0, {})", service.model->n_vocab()));
        }
        text += vocab.token_to_piece(static_cast<int32_t>(t.get<int64_t>()), false);
    }
    send_json(res, {{"content", text}});
}

}  // namespace

void add_openai_routes(httplib::Server& http, Service& service) {
    Service* s = &service;
    for (const char* prefix : {"/v1", ""}) {
        const std::string p = prefix;
        http.Get(p + "/models", handle([s](const httplib::Request&, httplib::Response& res) { models(*s, res); }));
        http.Post(p + "/chat/completions",
                  handle([s](const httplib::Request& req, httplib::Response& res) { chat_completions(*s, req, res); }));
        http.Post(p + "/completions", handle([s](const httplib::Request& req, httplib::Response& res) { completions(*s, req, res); }));
    }
    http.Post("/tokenize", handle([s](const httplib::Request& req, httplib::Response& res) { tokenize(*s, req, res); }));
    http.Post("/detokenize", handle([s](const httplib::Request& req, httplib::Response& res) { detokenize(*s, req, res); }));
}

}  // namespace ember::server
