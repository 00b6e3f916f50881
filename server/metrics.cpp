#include "server/metrics.h"

#include <fmt/format.h>

namespace ember::server {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP ember_{} {}\n# TYPE ember_{} {}\nember_{} {}\n", name, help, name, type, name, value);
}

}  // namespace

std::string Metrics::render(const Scheduler::Stats& s, bool draining) {
    double prompt_rate = 0, generated_rate = 0;
    {
        std::lock_guard lock(mutex_);
        const Clock::time_point now = Clock::now();
        const double seconds = std::chrono::duration<double>(now - last_at_).count();
        if (seconds > 0) {
            prompt_rate = static_cast<double>(s.prompt_tokens - s.cached_tokens - last_prompt_) / seconds;
            generated_rate = static_cast<double>(s.generated_tokens - last_generated_) / seconds;
        }
        last_at_ = now;
        last_prompt_ = s.prompt_tokens - s.cached_tokens;
        last_generated_ = s.generated_tokens;
    }
    std::string out;
    metric(out, "requests_total", "counter", "Generation requests accepted.", static_cast<double>(s.requests));
    metric(out, "requests_rejected_total", "counter", "Generation requests refused with 503 (queue full or draining).",
           static_cast<double>(s.rejected));
    metric(out, "requests_cancelled_total", "counter", "Requests ended because the client hung up.",
           static_cast<double>(s.cancelled));
    metric(out, "requests_processing", "gauge", "Requests holding a slot.", static_cast<double>(s.processing));
    metric(out, "requests_queued", "gauge", "Requests waiting for a slot.", static_cast<double>(s.queued));
    metric(out, "slots", "gauge", "Slots (requests decoded at once).", n_slots_);
    metric(out, "prompt_tokens_total", "counter", "Prompt tokens of accepted requests (cached ones included).",
           static_cast<double>(s.prompt_tokens));
    metric(out, "prompt_tokens_computed_total", "counter", "Prompt tokens computed (not taken from the prefix cache).",
           static_cast<double>(s.prompt_tokens - s.cached_tokens));
    metric(out, "prompt_cache_hit_tokens_total", "counter", "Prompt tokens reused from the prefix cache.",
           static_cast<double>(s.cached_tokens));
    metric(out, "generated_tokens_total", "counter", "Tokens generated.", static_cast<double>(s.generated_tokens));
    metric(out, "prompt_tokens_per_second", "gauge", "Prompt tokens computed per second since the previous scrape.",
           prompt_rate);
    metric(out, "generated_tokens_per_second", "gauge", "Tokens generated per second since the previous scrape.",
           generated_rate);
    metric(out, "decode_steps_total", "counter", "Decode steps (forward passes).", static_cast<double>(s.decode_steps));
    metric(out, "step_sequences_total", "counter", "Sequences in all decode steps (divide by steps for the mean batch).",
           static_cast<double>(s.step_sequences));
    metric(out, "step_tokens_total", "counter", "Tokens in all decode steps.", static_cast<double>(s.step_tokens));
    metric(out, "kv_cells_used", "gauge", "KV cache cells holding tokens (slots and the prefix cache).",
           static_cast<double>(s.kv_cells_used));
    metric(out, "kv_cells", "gauge", "KV cache cells in all.", static_cast<double>(s.kv_cells));
    metric(out, "prefix_cache_entries", "gauge", "Finished conversations kept for reuse.",
           static_cast<double>(s.cache_entries));
    metric(out, "prefix_cache_cells", "gauge", "Cells the kept conversations hold.", static_cast<double>(s.cache_cells));
    metric(out, "draining", "gauge", "1 while the server drains (SIGTERM): health answers 503.", draining ? 1 : 0);
    return out;
}

}  // namespace ember::server
