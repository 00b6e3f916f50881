// GET /metrics in Prometheus' text format (version 0.0.4): counters (_total), gauges, and the
// token rates over the time since the previous scrape.
#pragma once

#include "server/scheduler.h"

#include <mutex>
#include <string>

namespace ember::server {

class Metrics {
public:
    explicit Metrics(uint32_t n_slots) : n_slots_(n_slots) {}
    // The exposition text for these stats; `draining` is exported as a gauge too.
    std::string render(const Scheduler::Stats& stats, bool draining);

private:
    uint32_t n_slots_;
    std::mutex mutex_;
    Clock::time_point last_at_ = Clock::now();
    uint64_t last_prompt_ = 0, last_generated_ = 0;
};

}  // namespace ember::server
