// The BLAS backend in whole models: a session on "blas" generates what the CPU does, and
// `ember bench --backend cpu,blas` measures both into one table. (Reference-logit parity
// with BLAS is in parity_test.cpp.)
#ifdef EMBER_WITH_BLAS

#include "backends/blas/blas_backend.h"
#include "bench/bench.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace ember {
namespace {

std::string stories260k() { return test::data_path("../../models/stories260K.gguf"); }

// A session whose BLAS backend takes every batch (the prompts here are shorter than the
// automatic threshold), with the environment restored afterwards.
std::unique_ptr<Session> blas_session(SessionParams params) {
    params.backend = "blas";
    ::setenv("EMBER_BLAS_MIN_BATCH", "1", 1);
    auto session = std::make_unique<Session>(Model::load(stories260k()), params);
    ::unsetenv("EMBER_BLAS_MIN_BATCH");
    return session;
}

// A trained model's greedy continuation is a sharp test: every step's argmax must survive
// BLAS's different (F32-activation) arithmetic.
TEST(BlasModel, GreedyContinuationMatchesTheReference) {
    for (const char* prompt_name : {"story", "park"}) {
        const std::string json =
            test::read_text(test::data_path(std::string("reference/logits/stories260K.") + prompt_name + ".json"));
        const std::vector<int32_t> want = test::json_int_array(json, "greedy_tokens");
        auto session = blas_session({.n_ctx = 256, .n_threads = 2});
        GenerateParams params;
        params.n_predict = static_cast<int32_t>(want.size());
        params.sampling.temperature = 0.0f;
        const uint64_t calls = blas::sgemm_calls();
        const GenerateResult r = session->generate(test::json_string(json, "prompt"), params);
        EXPECT_GT(blas::sgemm_calls(), calls) << "BLAS never ran";
        EXPECT_EQ(r.tokens, want) << prompt_name;
    }
}

// Prompt logits on BLAS and on the CPU agree closely (the CPU rounds activations to 8 bits
// or F16 before its dot products, BLAS does not).
TEST(BlasModel, PromptLogitsAgreeWithTheCpu) {
    const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 261, 289, 319, 285, 297, 336, 413, 270, 260};
    Session cpu(Model::load(stories260k()), {.n_ctx = 64, .n_threads = 2});
    cpu.decode(tokens, /*all_logits=*/true);
    auto blas = blas_session({.n_ctx = 64, .n_threads = 2});
    blas->decode(tokens, /*all_logits=*/true);
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::span<const float> a = cpu.logits(i), b = blas->logits(i);
        double err = 0, ref = 0;
        for (size_t k = 0; k < a.size(); ++k) {
            err += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
            ref += double(a[k]) * a[k];
        }
        EXPECT_LE(err / ref, 1e-4) << "position " << i;
    }
}

TEST(BlasModel, BenchPutsCpuAndBlasInOneTable) {
    bench::BenchParams params;
    params.models = {stories260k()};
    params.n_prompt = {64};
    params.n_gen = {2};
    params.reps = 1;
    params.threads = {1};
    params.backends = {"cpu", "blas"};
    bench::Probes probes;
    probes.threads = 1;
    probes.bandwidth_gbs = 10;
    probes.peak_gflops = 50;
    const std::vector<bench::BenchResult> rows = bench::run_bench(params, probes);
    ASSERT_EQ(rows.size(), 4u);  // (cpu, blas) x (pp64, tg2)
    EXPECT_EQ(rows[0].backend, "cpu");
    EXPECT_EQ(rows[1].backend, "cpu");
    EXPECT_EQ(rows[2].backend, "blas");
    EXPECT_EQ(rows[3].backend, "blas");
    for (const bench::BenchResult& r : rows) EXPECT_GT(r.ts.mean, 0.0) << r.backend << " " << r.test_name();
    const std::string table = bench::format_markdown(rows);
    EXPECT_NE(table.find("| CPU "), std::string::npos) << table;
    EXPECT_NE(table.find("| BLAS "), std::string::npos) << table;
}

}  // namespace
}  // namespace ember

#endif  // EMBER_WITH_BLAS
