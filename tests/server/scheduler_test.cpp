// The server's slot loop without HTTP: jobs decoded together give what each gives alone, a
// finished conversation's cells serve the next request that begins the same (and the LRU keeps
// the most recently used), a cancelled job frees its slot, a full queue refuses with 503.
#include "server/api_error.h"
#include "server/prefix_cache.h"
#include "server/scheduler.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <thread>

namespace ember::server {
namespace {

std::shared_ptr<const Model> stories() {
    static std::shared_ptr<const Model> model = Model::load(test::data_path("../../models/stories260K.gguf"));
    return model;
}

std::vector<int32_t> tokens(const std::string& text) { return stories()->vocab().tokenize(text, true, false); }

JobSpec greedy(const std::string& prompt, int32_t n) {
    JobSpec spec;
    spec.prompt = tokens(prompt);
    spec.n_predict = n;
    spec.sampling.temperature = 0.0f;
    return spec;
}

struct Reply {
    std::string text;
    JobResult result;
};

Reply finish(Job& job) {
    Reply r;
    for (;;) {
        Job::Update u = job.wait(std::chrono::milliseconds(50));
        r.text += u.text;
        if (u.done) {
            r.result = u.result;
            return r;
        }
    }
}

std::shared_ptr<Engine> engine(uint32_t n_ctx, uint32_t n_seq) {
    return std::make_shared<Engine>(stories(), EngineParams{.n_ctx = n_ctx, .n_seq = n_seq, .n_batch = 32});
}

const char* kPrompts[] = {"Once upon a time", "Tom had a big red ball.", "One day", "Lily went to the park",
                          "The sun was shining", "She liked to play", "A little dog", "The cat sat"};

TEST(Scheduler, JobsTogetherGiveWhatEachGivesAlone) {
    std::vector<std::string> alone;
    {
        Scheduler one(engine(512, 2), {.n_slots = 1, .n_ctx_slot = 256, .max_queue = 8, .cache_cells = 0});
        for (const char* p : kPrompts) alone.push_back(finish(*one.submit(greedy(p, 24))).text);
    }
    Scheduler four(engine(4 * 256, 5), {.n_slots = 4, .n_ctx_slot = 256, .max_queue = 8, .cache_cells = 0});
    std::vector<std::shared_ptr<Job>> jobs;
    for (const char* p : kPrompts) jobs.push_back(four.submit(greedy(p, 24)));
    for (size_t i = 0; i < jobs.size(); ++i) {
        const Reply r = finish(*jobs[i]);
        EXPECT_EQ(r.text, alone[i]) << kPrompts[i];
        EXPECT_EQ(r.result.finish, Finish::Length);
        EXPECT_EQ(r.result.n_generated, 24u);
    }
    const Scheduler::Stats s = four.stats();
    EXPECT_EQ(s.requests, 8u);
    EXPECT_EQ(s.generated_tokens, 8u * 24);
    EXPECT_GT(s.step_sequences, s.decode_steps) << "some steps must have decoded several sequences";
    EXPECT_EQ(s.kv_cells_used, 0u) << "no cache: every cell is free again";
}

TEST(Scheduler, AFinishedConversationServesTheNextThatBeginsTheSame) {
    Scheduler s(engine(2 * 256 + 512, 6), {.n_slots = 2, .n_ctx_slot = 256, .max_queue = 8, .cache_cells = 512});
    const Reply first = finish(*s.submit(greedy("Once upon a time there was a little girl", 16)));
    EXPECT_EQ(first.result.n_cached, 0u);
    // The next turn resends the first prompt and the reply: all of it is cached but the last token.
    JobSpec next = greedy("Once upon a time there was a little girl", 8);
    const size_t n_first = next.prompt.size();
    const Reply again = finish(*s.submit(next));
    EXPECT_EQ(again.result.n_cached, n_first - 1);
    EXPECT_EQ(again.text, first.text.substr(0, again.text.size())) << "the cache gives the same greedy text";
    EXPECT_GT(s.stats().cache_entries, 0u);
    EXPECT_GT(s.stats().cached_tokens, 0u);
}

TEST(Scheduler, AStopStringEndsTheJobAndIsNotSent) {
    Scheduler s(engine(512, 2), {.n_slots = 1, .n_ctx_slot = 256, .max_queue = 8, .cache_cells = 0});
    const Reply plain = finish(*s.submit(greedy("Once upon a time", 32)));
    ASSERT_GT(plain.text.size(), 8u);
    const std::string stop = plain.text.substr(4, 3);
    JobSpec spec = greedy("Once upon a time", 32);
    spec.stop = {stop};
    const Reply cut = finish(*s.submit(spec));
    EXPECT_EQ(cut.text, plain.text.substr(0, plain.text.find(stop)));
    EXPECT_EQ(cut.result.finish, Finish::Stop);
}

TEST(Scheduler, CancelFreesTheSlotAndAFullQueueRefuses) {
    Scheduler s(engine(2048, 2), {.n_slots = 1, .n_ctx_slot = 2048, .max_queue = 1, .cache_cells = 0});
    auto running = s.submit(greedy("Once upon a time", 2000));
    while (s.stats().processing == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto waiting = s.submit(greedy("One day", 4));
    try {
        s.submit(greedy("Too many", 4));
        ADD_FAILURE() << "a full queue accepted a job";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 503);
        EXPECT_EQ(e.type(), "unavailable_error");
    }
    EXPECT_EQ(s.stats().rejected, 1u);
    running->cancel();
    const Reply r = finish(*running);
    EXPECT_EQ(r.result.finish, Finish::Cancelled);
    EXPECT_LT(r.result.n_generated, 2000u);
    EXPECT_EQ(finish(*waiting).result.n_generated, 4u) << "the queued job runs once the slot is free";
    EXPECT_EQ(s.stats().cancelled, 1u);
    s.drain();
    EXPECT_THROW(s.submit(greedy("Late", 4)), ApiError);
}

TEST(Scheduler, APassedDeadlineEndsTheJob) {
    Scheduler s(engine(2048, 2), {.n_slots = 1, .n_ctx_slot = 2048, .max_queue = 4, .cache_cells = 0});
    JobSpec spec = greedy("Once upon a time", 2000);
    spec.deadline = Clock::now() + std::chrono::milliseconds(30);
    const Reply r = finish(*s.submit(spec));
    EXPECT_EQ(r.result.finish, Finish::Deadline);
}

TEST(PrefixCache, KeepsTheMostRecentlyUsedWithinItsBudget) {
    auto e = engine(1024, 4);
    PrefixCache cache(*e, /*first_seq=*/1, /*max_cells=*/40);
    auto fill = [&](const std::string& text) {  // decodes text into slot 0, then keeps it
        const std::vector<int32_t> t = tokens(text);
        Batch b;
        for (size_t i = 0; i < t.size(); ++i) b.add(t[i], static_cast<int32_t>(i), 0, false);
        e->decode(b);
        cache.keep(0, t);
        return t;
    };
    const auto a = fill("Once upon a time there was a girl");
    const auto b = fill("Tom had a big red ball and a dog");
    EXPECT_EQ(cache.n_entries(), 2u);
    EXPECT_EQ(e->seq_n_cells(0), 0u) << "keep empties the slot";
    EXPECT_EQ(cache.take(0, a), a.size() - 1) << "the whole prompt but its last token";
    e->seq_rm(0);
    // A third entry over the budget evicts the least recently used: b (a was just used).
    const auto c = fill("The sun was shining on the hill today");
    EXPECT_LE(cache.n_cells(), 40u);
    EXPECT_EQ(cache.take(0, b), 1u) << "b was evicted: only the BOS that every entry begins with is found";
    e->seq_rm(0);
    EXPECT_GT(cache.take(0, c), 0u);
    e->seq_rm(0);
    // An entry the new one extends is dropped: it holds nothing the new one lacks.
    const size_t before = cache.n_entries();
    fill("The sun was shining on the hill today and the birds sang");
    EXPECT_EQ(cache.n_entries(), before);
}

}  // namespace
}  // namespace ember::server
