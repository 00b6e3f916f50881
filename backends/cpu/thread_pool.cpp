#include "backends/cpu/thread_pool.h"

#include <chrono>

namespace ember::cpu {
namespace {

using Clock = std::chrono::steady_clock;

// How long a waiting thread spins before it yields and then sleeps. A step shared by two
// running threads ends well inside this; a partner that lost its core takes longer.
constexpr auto kSpin = std::chrono::microseconds(50);
constexpr int kYields = 4;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Waits until done(a) holds: spin, then yield, then futex-sleep. The sleeper count lets the
// notifying side skip the wake-up system call when nobody sleeps (see notify()).
template <typename T, typename Done>
void wait_until(const std::atomic<T>& a, Done done, std::atomic<int>& sleepers) {
    if (done(a.load(std::memory_order_acquire))) return;
    const auto t0 = Clock::now();
    for (int i = 1;; ++i) {
        cpu_relax();
        if (done(a.load(std::memory_order_acquire))) return;
        if ((i & 31) == 0 && Clock::now() - t0 > kSpin) break;
    }
    for (int i = 0; i < kYields; ++i) {
        std::this_thread::yield();
        if (done(a.load(std::memory_order_acquire))) return;
    }
    for (;;) {
        // Dekker-style with seq_cst on both sides: either the notifier sees sleepers > 0 and
        // wakes us, or our load below sees its new value (wait() also re-checks the value).
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        const T v = a.load(std::memory_order_seq_cst);
        if (!done(v)) a.wait(v, std::memory_order_seq_cst);
        sleepers.fetch_sub(1, std::memory_order_seq_cst);
        if (done(a.load(std::memory_order_acquire))) return;
    }
}

template <typename T>
void notify(std::atomic<T>& a, const std::atomic<int>& sleepers) {
    if (sleepers.load(std::memory_order_seq_cst) > 0) a.notify_all();
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    stop_ = true;
    job_epoch_.fetch_add(1, std::memory_order_seq_cst);
    notify(job_epoch_, sleepers_);
    for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_job(JobFn fn, void* ctx) {
    if (n_threads_ == 1) {
        fn(ctx, 0, 1);
        return;
    }
    job_ = fn;
    ctx_ = ctx;
    job_done_.store(0, std::memory_order_relaxed);
    job_epoch_.fetch_add(1, std::memory_order_seq_cst);  // publishes job_ and ctx_
    notify(job_epoch_, sleepers_);

    fn(ctx, 0, n_threads_);

    const int others = n_threads_ - 1;
    wait_until(job_done_, [others](int v) { return v == others; }, sleepers_);
}

void ThreadPool::worker(int ith) {
    uint32_t seen = 0;
    for (;;) {
        wait_until(job_epoch_, [seen](uint32_t v) { return v != seen; }, sleepers_);
        seen = job_epoch_.load(std::memory_order_acquire);
        if (stop_) return;
        job_(ctx_, ith, n_threads_);
        job_done_.fetch_add(1, std::memory_order_seq_cst);
        notify(job_done_, sleepers_);
    }
}

void ThreadPool::finish(std::atomic<int>& finished) {
    finished.fetch_add(1, std::memory_order_seq_cst);
    notify(finished, sleepers_);
}

void ThreadPool::wait_for(const std::atomic<int>& finished, int n) {
    wait_until(finished, [n](int v) { return v >= n; }, sleepers_);
}

}  // namespace ember::cpu
