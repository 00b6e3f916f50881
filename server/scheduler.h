// The server's slot loop: requests (jobs) wait in a bounded queue, take one of n_slots Engine
// sequences when one is free, and are decoded together by one thread with continuous batching
// (model/runtime/batcher.h: each step one token of every generating slot plus a chunk of a
// prompt being prefilled). A job streams its text to the HTTP thread that waits on it; that
// thread cancels it when its client hangs up, which frees the slot before the next step.
// A finished job's cells stay in the prefix cache for the next request that begins the same.
//
//   Scheduler scheduler(engine, {.n_slots = 4, .n_ctx_slot = 4096, .max_queue = 64, .cache_cells = 8192});
//   auto job = scheduler.submit(std::move(spec));       // ApiError 503 when the queue is full
//   for (;;) { Job::Update u = job->wait(50ms); send(u.text); if (u.done) break; }
#pragma once

#include "ember/engine.h"
#include "ember/sampler.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ember::server {

using Clock = std::chrono::steady_clock;

// What a request asks for, checked and tokenized by the HTTP side.
struct JobSpec {
    std::vector<int32_t> prompt;  // not empty, fits the slot's context
    int32_t n_predict = 0;        // >= 1, prompt.size() + n_predict <= the slot's context
    SamplerParams sampling;
    std::vector<std::string> stop;  // stop strings (not sent to the client)
    int top_logprobs = -1;          // -1: no log-probabilities; 0..20: the chosen token's and that many others
    Clock::time_point deadline = Clock::time_point::max();
};

struct TokenLogprob {
    std::string token;  // the token's bytes (may be part of a UTF-8 character)
    float logprob = 0;
    std::vector<std::pair<std::string, float>> top;  // the most likely tokens, best first
};

enum class Finish { Stop, Length, Cancelled, Deadline, Error };
const char* finish_name(Finish f);  // "stop", "length", "cancelled", "deadline", "error"

struct JobResult {
    Finish finish = Finish::Stop;
    std::string error;  // Finish::Error: what failed
    size_t n_prompt = 0, n_cached = 0, n_generated = 0;
    double queue_ms = 0, prompt_ms = 0, generate_ms = 0;
};

class Job {
public:
    // What arrived since the last wait(): text (stop strings removed), the tokens' logprobs
    // when asked, and at the end done with the result.
    struct Update {
        std::string text;
        std::vector<TokenLogprob> logprobs;
        bool done = false;
        JobResult result;
    };
    // Returns at once when news is there, else after at most `timeout`.
    Update wait(std::chrono::milliseconds timeout);
    // The client is gone (or the request is abandoned): the job ends at the next step.
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

private:
    friend class Scheduler;
    void add(std::string_view text, TokenLogprob* logprob);
    void end(JobResult result);

    JobSpec spec_;
    Clock::time_point queued_at_;
    std::atomic<bool> cancelled_{false};
    std::mutex mutex_;
    std::condition_variable news_;
    Update pending_;
};

class Scheduler {
public:
    struct Params {
        uint32_t n_slots = 1;      // sequences decoded at once; the engine has more for the cache
        uint32_t n_ctx_slot = 0;   // most tokens (prompt + reply) of one request
        size_t max_queue = 64;     // jobs waiting for a slot beyond which submit() refuses
        uint32_t cache_cells = 0;  // cells the prefix cache may keep
        // Prompt tokens a step takes while others generate: a long prompt is read in chunks of
        // this size, so the other streams' next token waits one chunk, not the whole prompt.
        uint32_t prompt_chunk = 128;
    };
    struct Stats {
        uint64_t requests = 0, rejected = 0, cancelled = 0;
        uint64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
        uint64_t decode_steps = 0, step_sequences = 0, step_tokens = 0;
        size_t processing = 0, queued = 0;
        uint32_t kv_cells_used = 0, kv_cells = 0, cache_entries = 0, cache_cells = 0;
    };

    // The engine needs n_slots + 1 sequences or more (the rest hold cached prefixes) and
    // n_slots * n_ctx_slot + cache_cells cells.
    Scheduler(std::shared_ptr<Engine> engine, const Params& params);
    ~Scheduler();  // ends every job (Cancelled) and the loop
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues a job; throws ApiError 503 (unavailable_error) when the queue is full or the
    // server is draining.
    std::shared_ptr<Job> submit(JobSpec spec);
    // Refuse new jobs from now on; the ones queued and running finish.
    void drain();
    // Refuse new jobs and end every running and queued one at the next step (Cancelled).
    void cancel_all();
    bool draining() const { return draining_.load(); }
    // Nothing running or queued.
    bool idle() const;

    Stats stats() const;
    const Params& params() const { return params_; }
    Engine& engine() const { return *engine_; }

private:
    struct Slot;
    void loop();
    void admit(std::unique_lock<std::mutex>& lock);
    void start(SeqId seq, std::shared_ptr<Job> job);
    void check_cancellations();
    void fail_all(const std::string& message);

    std::shared_ptr<Engine> engine_;
    Params params_;
    struct State;
    std::unique_ptr<State> state_;  // the loop thread's: the batcher, the slots, the cache

    mutable std::mutex mutex_;  // guards queue_, stats_, stopping_
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> queue_;
    Stats stats_;
    bool stopping_ = false;
    std::atomic<bool> draining_{false};
    std::atomic<bool> cancel_all_{false};
    std::atomic<size_t> n_running_{0};
    std::thread thread_;
};

}  // namespace ember::server
