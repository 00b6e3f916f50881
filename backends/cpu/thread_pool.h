// The CPU backend's thread pool: n-1 persistent workers plus the calling thread.
//
// Why not an OpenMP parallel region: libgomp's barriers spin for a long, fixed time
// (GOMP_SPINCOUNT, ~300k iterations) before sleeping. When the cores are shared with other
// processes a spinning thread burns the very time slice its late partner needs, and every
// barrier can cost a scheduler quantum: -t 2 on a loaded 2-core machine fell to 1-40 tokens/s.
// Here a waiting thread spins for a bounded time (kSpin, tens of microseconds: what a step
// takes when every thread is running), then yields, then sleeps on a futex
// (std::atomic::wait). On a quiet machine waits end inside the spin; on a busy one the
// waiters get out of the way.
//
// Work is handed out through counters rather than fixed per-thread shares: threads claim
// chunks of a step with claim(), report them with finish(), and wait_for() the step's count
// before the next one. A thread that has its core does the chunks of one that lost its own.
//
//   ThreadPool pool(2);
//   std::atomic<int> claimed{0}, finished{0};
//   pool.run([&](int thread, int n_threads) {
//       for (int c; (c = ThreadPool::claim(claimed)) < n_chunks;) {
//           do_chunk(c);
//           pool.finish(finished);
//       }
//       pool.wait_for(finished, n_chunks);
//   });
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace ember::cpu {

class ThreadPool {
public:
    // n_threads >= 1; the caller of run() is thread 0, so n_threads - 1 workers are started.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Runs fn(ith, nth) on every thread (ith 0 on the caller) and returns when all have
    // returned. fn must not throw. Not reentrant: one run() at a time per pool.
    template <typename Fn>
    void run(Fn&& fn) {
        auto call = [](void* f, int ith, int nth) { (*static_cast<Fn*>(f))(ith, nth); };
        run_job(call, &fn);
    }

    // Inside fn: the next chunk index of a step (0, 1, 2, ...; past the end when all are taken).
    static int claim(std::atomic<int>& claimed) { return claimed.fetch_add(1, std::memory_order_relaxed); }
    // Inside fn: counts one finished chunk (its writes become visible to wait_for()).
    void finish(std::atomic<int>& finished);
    // Inside fn: returns once `finished` has reached n (spin, yield, then sleep).
    void wait_for(const std::atomic<int>& finished, int n);

private:
    using JobFn = void (*)(void* ctx, int ith, int nth);

    void run_job(JobFn fn, void* ctx);
    void worker(int ith);

    const int n_threads_;
    std::vector<std::thread> workers_;

    // A new job is published by storing job_/ctx_ and bumping job_epoch_.
    JobFn job_ = nullptr;
    void* ctx_ = nullptr;
    std::atomic<uint32_t> job_epoch_{0};
    std::atomic<int> job_done_{0};  // workers finished with the current job
    bool stop_ = false;             // written before the last epoch bump

    std::atomic<int> sleepers_{0};  // threads inside a futex wait (notify only when > 0)
};

}  // namespace ember::cpu
