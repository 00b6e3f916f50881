// KL divergence runs on the bundled stories260K: against itself (zero, same top token everywhere)
// and against its Q8_0 quantization (small but not zero).
#include "model/eval/kl_divergence.h"

#include "core/error.h"
#include "model/runtime/model.h"
#include "model/eval/perplexity.h"
#include "model/quantize/quantize.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace ember {
namespace {

std::string stories() { return test::data_path("../../models/stories260K.gguf"); }

KlDivergenceBase f32_base(uint32_t n_ctx) {
    Session session(Model::load(stories()), {.n_ctx = n_ctx, .n_threads = 2});
    const std::vector<int32_t> tokens =
        perplexity_tokens(session, test::read_text(test::data_path("text/garden.txt")), n_ctx);
    return collect_kl_divergence_base(session, tokens, n_ctx);
}

TEST(KlDivergenceRun, ModelAgainstItselfAndItsQ8_0) {
    const KlDivergenceBase base = f32_base(128);
    EXPECT_EQ(base.n_vocab, 512u);
    EXPECT_EQ(base.n_chunks, 9u);
    // The base's own perplexity is the reference's (tests/data/reference/perplexity: 4.1095).
    EXPECT_NEAR(base_perplexity(base).ppl, 4.1095, 2e-3);

    Session same(Model::load(stories()), {.n_ctx = 128, .n_threads = 1});
    const KlDivergenceResult self = kl_divergence(same, base);
    EXPECT_EQ(self.n, 9u * 63u);
    EXPECT_NEAR(self.kld_mean, 0.0, 1e-6);
    EXPECT_NEAR(self.kld_max, 0.0, 1e-5);
    EXPECT_DOUBLE_EQ(self.same_top, 1.0);
    EXPECT_NEAR(self.ppl_ratio, 1.0, 1e-5);
    EXPECT_NEAR(self.ppl, self.ppl_base, 1e-4);

    const std::string q8 = (std::filesystem::temp_directory_path() / "ember-kld-stories-q8.gguf").string();
    QuantizeParams qp;
    qp.type = "Q8_0";
    quantize_model(stories(), q8, qp);
    Session quantized(Model::load(q8), {.n_ctx = 128, .n_threads = 2});
    const KlDivergenceResult r = kl_divergence(quantized, base);
    std::printf("[kld] stories260K Q8_0 vs F32: mean KLD %.6f, 99%% %.6f, same top %.2f%%, PPL ratio %.4f\n",
                r.kld_mean, r.kld_p99, 100 * r.same_top, r.ppl_ratio);
    EXPECT_GT(r.kld_mean, 1e-5);  // quantization changes something...
    EXPECT_LT(r.kld_mean, 5e-3);  // ...but little at 8 bits
    EXPECT_GE(r.kld_p99, r.kld_median);
    EXPECT_GE(r.kld_max, r.kld_p99);
    EXPECT_GT(r.same_top, 0.95);
    EXPECT_NEAR(r.ppl_ratio, r.ppl / r.ppl_base, 1e-9);
    std::filesystem::remove(q8);
}

TEST(KlDivergenceRun, VocabularyMismatchIsAnError) {
    KlDivergenceBase base;
    base.n_vocab = 32000;
    base.n_ctx = 8;
    base.n_chunks = 1;
    base.tokens.assign(8, 1);
    base.log_probs.assign(size_t{32000} * base.n_scored_per_chunk(), -10.0f);
    Session session(Model::load(stories()), {.n_ctx = 8, .n_threads = 1});
    try {
        kl_divergence(session, base);
        FAIL() << "a base with another vocabulary was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("512 tokens"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ember
