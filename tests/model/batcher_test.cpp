// Batcher: a long prompt is read in chunks of prompt_chunk tokens while another sequence
// generates, and the generating sequence gets a token at every step meanwhile.
#include "model/runtime/batcher.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

namespace ember {
namespace {

TEST(Batcher, ALongPromptIsReadInChunksWhileAnotherSequenceGenerates) {
    auto model = Model::load(test::data_path("../../models/stories260K.gguf"));
    Engine engine(model, {.n_ctx = 1024, .n_seq = 2, .n_batch = 512});
    std::vector<int> tokens_of(2, 0);
    Batcher batcher(engine, {.on_token = [&](SeqId s, int32_t t, std::string_view, std::span<const float>) {
                                 if (t >= 0) ++tokens_of[static_cast<size_t>(s)];
                                 return true;
                             },
                             .on_done = [&](SeqId s, GenerateResult&&) { engine.seq_rm(s); }},
                    /*prompt_chunk=*/16);
    GenerateParams p;
    p.n_predict = 200;
    p.sampling.temperature = 0.0f;
    batcher.start(0, model->vocab().tokenize("Once upon a time", true, false), 0, p);
    while (tokens_of[0] == 0) batcher.step();  // sequence 0 generates from here on

    std::vector<int32_t> long_prompt = model->vocab().tokenize("Once upon a time", true, false);
    while (long_prompt.size() < 100) long_prompt.push_back(long_prompt[1 + long_prompt.size() % 4]);
    p.n_predict = 4;
    batcher.start(1, long_prompt, 0, p);
    int steps = 0;
    while (batcher.n_prefilling() > 0) {
        const int before = tokens_of[0];
        const size_t decoded = batcher.step();
        ++steps;
        EXPECT_LE(decoded, 1u + 16u) << "one token of sequence 0 and a chunk of at most 16";
        EXPECT_EQ(tokens_of[0], before + 1) << "sequence 0 gets its token at every step";
    }
    EXPECT_EQ(steps, (100 + 15) / 16);
    // Alone, a prompt is read in steps of n_batch.
    while (batcher.n_active() > 0) batcher.step();
    batcher.start(1, long_prompt, 0, p);
    EXPECT_EQ(batcher.step(), 100u);
}

}  // namespace
}  // namespace ember
