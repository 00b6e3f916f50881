// generate_parallel: more requests than sequences, continuous batching; each greedy request
// gives exactly what Session::generate gives alone; a request stopped by its callback does not
// disturb the others; bad requests are errors naming the request.
#include "ember/parallel.h"
#include "model/runtime/model.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace ember {
namespace {

std::shared_ptr<const Model> stories() {
    static std::shared_ptr<const Model> model = Model::load(test::data_path("../../models/stories260K.gguf"));
    return model;
}

GenerateParams greedy(int32_t n) {
    GenerateParams p;
    p.n_predict = n;
    p.sampling.temperature = 0.0f;
    return p;
}

const std::vector<ParallelRequest> kRequests = {
    {"Once upon a time", greedy(8)},
    {"Tom had a big red ball.", greedy(20)},
    {"The sun was shining and the birds were singing in the tall green trees.", greedy(3)},
    {"One day", greedy(15)},
    {"Lily", greedy(1)},
    {"She liked to play with her friends in the park every day after school.", greedy(12)},
    {"Once upon a time", GenerateParams{.n_predict = 10, .sampling = {.temperature = 0.8f, .seed = 7}, .reuse_prefix = false}},
};

TEST(GenerateParallel, EachRequestGetsWhatItGetsAlone) {
    Engine engine(stories(), {.n_ctx = 256, .n_seq = 3, .n_batch = 16});
    std::vector<std::string> streamed(kRequests.size());
    const std::vector<GenerateResult> got =
        generate_parallel(engine, kRequests, [&](size_t i, std::string_view piece) {
            streamed[i] += piece;
            return true;
        });
    ASSERT_EQ(got.size(), kRequests.size());
    for (size_t i = 0; i < kRequests.size(); ++i) {
        Session alone(stories(), {.n_ctx = 256});
        const GenerateResult want = alone.generate(kRequests[i].prompt, kRequests[i].params);
        EXPECT_EQ(got[i].tokens, want.tokens) << "request " << i;
        EXPECT_EQ(got[i].text, want.text) << "request " << i;
        EXPECT_EQ(streamed[i], want.text) << "request " << i;
        EXPECT_EQ(got[i].stop, want.stop) << "request " << i;
        EXPECT_EQ(got[i].n_prompt, want.n_prompt) << "request " << i;
        if (kRequests[i].params.sampling.seed != SamplerParams{}.seed) EXPECT_EQ(got[i].seed, want.seed) << "request " << i;
    }
    EXPECT_EQ(engine.n_used(), 0u);  // every sequence's cells were freed
}

TEST(GenerateParallel, ACallbackStopsOnlyItsRequest) {
    Engine engine(stories(), {.n_ctx = 256, .n_seq = 2});
    const std::vector<ParallelRequest> requests = {{"Once upon a time", greedy(12)}, {"One day", greedy(12)}};
    size_t pieces_of_0 = 0;
    const auto got = generate_parallel(engine, requests, [&](size_t i, std::string_view) {
        return i != 0 || ++pieces_of_0 < 3;
    });
    EXPECT_EQ(got[0].stop, StopReason::Callback);
    EXPECT_EQ(got[0].tokens.size(), 3u);
    Session alone(stories(), {.n_ctx = 256});
    EXPECT_EQ(got[1].tokens, alone.generate("One day", greedy(12)).tokens);
}

TEST(GenerateParallel, BadRequestsAreErrorsNamingThem) {
    Engine engine(stories(), {.n_ctx = 16, .n_seq = 2});
    auto error = [&](const std::vector<ParallelRequest>& r) { return test::error_of([&] { generate_parallel(engine, r); }); };
    EXPECT_NE(error({{"Once", greedy(2)}, {"", greedy(2)}}).find("request 1: the prompt is empty"), std::string::npos);
    EXPECT_NE(error({{"Once", greedy(-2)}}).find("request 0: n_predict"), std::string::npos);
    const std::string long_prompt(400, 'a');
    EXPECT_NE(error({{long_prompt, greedy(2)}}).find("longer than the context of 16 tokens"), std::string::npos);
    EXPECT_NE(error({{"\xff", greedy(2)}}).find("not valid UTF-8"), std::string::npos);
    EXPECT_EQ(engine.n_used(), 0u);
}

}  // namespace
}  // namespace ember
