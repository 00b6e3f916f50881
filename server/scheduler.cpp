// The slot loop (scheduler.h). One thread owns the Batcher, the slots and the prefix cache;
// HTTP threads only touch the queue (under mutex_) and their own Job.
#include "server/scheduler.h"

#include "core/error.h"
#include "model/runtime/batcher.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "server/api_error.h"
#include "server/prefix_cache.h"
#include "server/stop_strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace ember::server {

const char* finish_name(Finish f) {
    switch (f) {
        case Finish::Stop: return "stop";
        case Finish::Length: return "length";
        case Finish::Cancelled: return "cancelled";
        case Finish::Deadline: return "deadline";
        case Finish::Error: return "error";
    }
    return "?";
}

// ---- Job: the hand-over between the loop and one HTTP thread ----

Job::Update Job::wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    news_.wait_for(lock, timeout, [&] { return pending_.done || !pending_.text.empty() || !pending_.logprobs.empty(); });
    Update u = std::move(pending_);
    pending_ = Update{};
    return u;
}

void Job::add(std::string_view text, TokenLogprob* logprob) {
    {
        std::lock_guard lock(mutex_);
        pending_.text += text;
        if (logprob != nullptr) pending_.logprobs.push_back(std::move(*logprob));
    }
    news_.notify_all();
}

void Job::end(JobResult result) {
    {
        std::lock_guard lock(mutex_);
        pending_.done = true;
        pending_.result = std::move(result);
    }
    news_.notify_all();
}

// ---- the loop's state ----

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// The chosen token's log-probability under softmax(logits), and the n best tokens'.
TokenLogprob logprobs_of(const Vocab& vocab, std::span<const float> logits, int32_t token, int n_top) {
    const float max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<double>(l - max));
    const float log_z = max + static_cast<float>(std::log(sum));
    TokenLogprob t;
    t.token = vocab.token_to_piece(token, false);
    t.logprob = logits[static_cast<size_t>(token)] - log_z;
    if (n_top > 0) {
        std::vector<int32_t> ids(logits.size());
        std::iota(ids.begin(), ids.end(), 0);
        const size_t n = std::min(static_cast<size_t>(n_top), ids.size());
        std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), [&](int32_t a, int32_t b) {
            const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
            return la != lb ? la > lb : a < b;
        });
        for (size_t i = 0; i < n; ++i) {
            t.top.emplace_back(vocab.token_to_piece(ids[i], false), logits[static_cast<size_t>(ids[i])] - log_z);
        }
    }
    return t;
}

}  // namespace

struct Scheduler::Slot {
    std::shared_ptr<Job> job;
    std::optional<StopStrings> stops;
    std::optional<Finish> finish;  // set when the loop ends it (stop string, cancel, deadline, error)
    std::string error;             // Finish::Error: what failed
    size_t n_cached = 0;
    Clock::time_point started;
};

struct Scheduler::State {
    std::optional<Batcher> batcher;
    std::vector<Slot> slots;
    std::optional<PrefixCache> cache;
};

Scheduler::Scheduler(std::shared_ptr<Engine> engine, const Params& params)
    : engine_(std::move(engine)), params_(params), state_(std::make_unique<State>()) {
    if (params.n_slots == 0 || engine_->n_seq() < params.n_slots + 1) {
        fail("scheduler: {} slots need an engine of at least {} sequences (it has {})", params.n_slots,
             params.n_slots + 1, engine_->n_seq());
    }
    state_->slots.resize(params.n_slots);
    state_->cache.emplace(*engine_, static_cast<SeqId>(params.n_slots), params.cache_cells);
    const Vocab& vocab = engine_->model().vocab();
    state_->batcher.emplace(*engine_, Batcher::Events{
        .on_token = [this, &vocab](SeqId seq, int32_t token, std::string_view piece, std::span<const float> logits) {
            Slot& slot = state_->slots[static_cast<size_t>(seq)];
            std::optional<TokenLogprob> lp;
            if (token >= 0 && slot.job->spec_.top_logprobs >= 0) {
                lp = logprobs_of(vocab, logits, token, slot.job->spec_.top_logprobs);
            }
            StopStrings::Out out = slot.stops->push(piece);
            slot.job->add(out.text, lp ? &*lp : nullptr);
            if (out.matched) {
                slot.finish = Finish::Stop;
                return false;
            }
            return true;
        },
        .on_done = [this](SeqId seq, GenerateResult&& r) {
            Slot& slot = state_->slots[static_cast<size_t>(seq)];
            if (!slot.finish || *slot.finish != Finish::Stop) slot.job->add(slot.stops->flush(), nullptr);
            JobResult result;
            result.finish = slot.finish ? *slot.finish : r.stop == StopReason::EndOfGeneration ? Finish::Stop : Finish::Length;
            result.error = slot.error;
            result.n_prompt = r.n_prompt;
            result.n_cached = slot.n_cached;
            result.n_generated = r.tokens.size();
            result.queue_ms = ms_between(slot.job->queued_at_, slot.started);
            result.prompt_ms = r.prompt_ms;
            result.generate_ms = r.generate_ms;
            // Its cells (prompt and the reply but its last token) stay for the next request.
            std::vector<int32_t> tokens = slot.job->spec_.prompt;
            tokens.insert(tokens.end(), r.tokens.begin(), r.tokens.end());
            state_->cache->keep(seq, tokens);
            {
                std::lock_guard lock(mutex_);
                stats_.cache_entries = state_->cache->n_entries();
                stats_.cache_cells = state_->cache->n_cells();
                stats_.generated_tokens += r.tokens.size();
                if (result.finish == Finish::Cancelled) ++stats_.cancelled;
            }
            slot.job->end(std::move(result));
            slot = Slot{};
            n_running_.fetch_sub(1);
        },
    }, params.prompt_chunk);
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Job> Scheduler::submit(JobSpec spec) {
    auto job = std::make_shared<Job>();
    job->spec_ = std::move(spec);
    job->queued_at_ = Clock::now();
    {
        std::lock_guard lock(mutex_);
        if (draining_.load()) {
            ++stats_.rejected;
            throw ApiError(503, "unavailable_error", "the server is shutting down");
        }
        if (queue_.size() >= params_.max_queue) {
            ++stats_.rejected;
            throw ApiError(503, "unavailable_error",
                           fmt::format("the server is busy: {} requests are waiting already", queue_.size()));
        }
        ++stats_.requests;
        queue_.push_back(job);
    }
    wake_.notify_all();
    return job;
}

void Scheduler::drain() {
    draining_.store(true);
}

void Scheduler::cancel_all() {
    draining_.store(true);
    cancel_all_.store(true);
    {
        std::lock_guard lock(mutex_);
        for (const std::shared_ptr<Job>& job : queue_) job->cancel();  // ended as they reach a slot
    }
    wake_.notify_all();
}

bool Scheduler::idle() const {
    std::lock_guard lock(mutex_);
    return queue_.empty() && n_running_.load() == 0;
}

Scheduler::Stats Scheduler::stats() const {
    std::lock_guard lock(mutex_);
    Stats s = stats_;
    s.queued = queue_.size();
    s.processing = n_running_.load();
    s.kv_cells_used = engine_->n_used();
    s.kv_cells = engine_->n_ctx();
    return s;
}

// Moves queued jobs into free slots (under mutex_, which it releases while starting them).
void Scheduler::admit(std::unique_lock<std::mutex>& lock) {
    for (SeqId s = 0; s < static_cast<SeqId>(params_.n_slots) && !queue_.empty(); ++s) {
        if (state_->slots[static_cast<size_t>(s)].job) continue;
        std::shared_ptr<Job> job = std::move(queue_.front());
        queue_.pop_front();
        n_running_.fetch_add(1);
        lock.unlock();
        start(s, std::move(job));
        lock.lock();
    }
}

void Scheduler::start(SeqId seq, std::shared_ptr<Job> job) {
    Slot& slot = state_->slots[static_cast<size_t>(seq)];
    slot = Slot{};
    slot.job = job;
    slot.started = Clock::now();
    slot.stops.emplace(job->spec_.stop);
    const JobSpec& spec = job->spec_;
    auto end_now = [&](Finish f, std::string error) {
        JobResult r;
        r.finish = f;
        r.error = std::move(error);
        r.n_prompt = spec.prompt.size();
        r.queue_ms = ms_between(job->queued_at_, slot.started);
        {
            std::lock_guard lock(mutex_);
            if (f == Finish::Cancelled) ++stats_.cancelled;
        }
        job->end(std::move(r));
        slot = Slot{};
        n_running_.fetch_sub(1);
    };
    if (job->cancelled()) return end_now(Finish::Cancelled, {});
    if (Clock::now() >= spec.deadline) return end_now(Finish::Deadline, {});
    try {
        const uint32_t reused = state_->cache->take(seq, spec.prompt);
        slot.n_cached = reused;
        state_->cache->make_room(static_cast<uint32_t>(spec.prompt.size() - reused) + 1);
        {
            std::lock_guard lock(mutex_);
            stats_.prompt_tokens += spec.prompt.size();
            stats_.cached_tokens += reused;
            stats_.cache_entries = state_->cache->n_entries();
            stats_.cache_cells = state_->cache->n_cells();
        }
        GenerateParams p;
        p.n_predict = spec.n_predict;
        p.sampling = spec.sampling;
        state_->batcher->start(seq, spec.prompt, reused, p);
    } catch (const std::exception& e) {
        engine_->seq_rm(seq);
        end_now(Finish::Error, e.what());
    }
}

void Scheduler::check_cancellations() {
    const Clock::time_point now = Clock::now();
    for (SeqId s = 0; s < static_cast<SeqId>(params_.n_slots); ++s) {
        Slot& slot = state_->slots[static_cast<size_t>(s)];
        if (!slot.job) continue;
        if (slot.job->cancelled() || cancel_all_.load()) {
            slot.finish = Finish::Cancelled;
        } else if (now >= slot.job->spec_.deadline) {
            slot.finish = Finish::Deadline;
        } else {
            continue;
        }
        state_->batcher->stop(s, StopReason::Callback);
    }
}

void Scheduler::fail_all(const std::string& message) {
    for (SeqId s = 0; s < static_cast<SeqId>(params_.n_slots); ++s) {
        Slot& slot = state_->slots[static_cast<size_t>(s)];
        if (!slot.job) continue;
        slot.finish = Finish::Error;
        slot.error = message;
        state_->batcher->stop(s, StopReason::Callback);  // ends the job, with its text so far
    }
}

void Scheduler::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (stopping_) break;
        admit(lock);
        if (n_running_.load() == 0) {
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            continue;
        }
        lock.unlock();
        check_cancellations();
        size_t n_seqs = 0;
        for (const Slot& s : state_->slots) n_seqs += s.job ? 1 : 0;
        size_t n_tokens = 0;
        std::string error;
        try {
            n_tokens = state_->batcher->step();
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (!error.empty()) {
            fmt::print(stderr, "error: decode step failed: {}\n", error);
            fail_all(error);
        }
        lock.lock();
        if (n_tokens > 0) {
            ++stats_.decode_steps;
            stats_.step_sequences += n_seqs;
            stats_.step_tokens += n_tokens;
        }
    }
    // Stopping: every job ends.
    lock.unlock();
    for (SeqId s = 0; s < static_cast<SeqId>(params_.n_slots); ++s) {
        if (state_->slots[static_cast<size_t>(s)].job) {
            state_->slots[static_cast<size_t>(s)].finish = Finish::Cancelled;
            state_->batcher->stop(s, StopReason::Callback);
        }
    }
    lock.lock();
    for (auto& job : queue_) {
        JobResult r;
        r.finish = Finish::Cancelled;
        job->end(r);
    }
    queue_.clear();
}

}  // namespace ember::server
