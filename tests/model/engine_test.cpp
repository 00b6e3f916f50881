// ember::Engine on the bundled model: sequences decoded together give the logits they get
// decoded alone (mixed prompt chunks and single tokens, a shared prefix via seq_cp, a shifted
// sequence); greedy continuations are the same alone and 4 at once, also from 4 threads; the
// in-place context shift against the recompute it replaced; bad batches are errors that
// disturb no other sequence.
#include "core/error.h"
#include "ember/engine.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "model/tokenizer/vocab.h"
#include "support/test_support.h"
#include "support/vulkan_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace ember {
namespace {

std::shared_ptr<const Model> stories() {
    static std::shared_ptr<const Model> model = Model::load(test::data_path("../../models/stories260K.gguf"));
    return model;
}

std::vector<int32_t> tokens_of(const std::string& text) { return stories()->vocab().tokenize(text, true, false); }

double cosine(std::span<const float> a, std::span<const float> b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

int32_t argmax(std::span<const float> v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Expects two logits rows to agree: the same argmax and cosine >= 0.99999.
void expect_same_row(std::span<const float> alone, std::span<const float> together, const std::string& what) {
    ASSERT_EQ(alone.size(), together.size()) << what;
    EXPECT_EQ(argmax(alone), argmax(together)) << what;
    EXPECT_GE(cosine(alone, together), 0.99999) << what;
}

// The logits of every token of `tokens` appended to sequence `seq` at positions from `first`.
Batch sequence_batch(std::span<const int32_t> tokens, int32_t first, SeqId seq) {
    Batch b;
    for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], first + static_cast<int32_t>(i), seq, true);
    return b;
}

// The backend the correctness tests run on (a parameter of EngineOn); the others use the CPU.
std::string g_backend = "cpu";

EngineParams on_backend(uint32_t n_ctx, uint32_t n_seq = 1, uint32_t n_batch = 512) {
    EngineParams p;
    p.n_ctx = n_ctx;
    p.n_seq = n_seq;
    p.n_batch = n_batch;
    p.backend = g_backend;
    return p;
}

class EngineOn : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        g_backend = GetParam();
        if (g_backend == "vulkan") EMBER_REQUIRE_VULKAN();
    }
    void TearDown() override { g_backend = "cpu"; }
};

std::vector<std::string> backends_under_test() {
    std::vector<std::string> b{"cpu"};
#ifdef EMBER_WITH_BLAS
    b.push_back("blas");
#endif
#ifdef EMBER_WITH_VULKAN
    b.push_back("vulkan");
#endif
    return b;
}

const char* const kPrompts[] = {
    "Once upon a time, there was a little girl named Lily.",
    "Tom had a big red ball.",
    "The sun was shining and the birds were singing in the tall green trees near the house.",
    "One day",
};

TEST_P(EngineOn, SequencesDecodedTogetherMatchEachDecodedAlone) {
    std::vector<std::vector<int32_t>> prompts;
    for (const char* p : kPrompts) prompts.push_back(tokens_of(p));
    const std::vector<int32_t> more = tokens_of("She liked to play");  // the next turn of every sequence

    // Alone: one engine per sequence, the prompt then `more`.
    std::vector<BatchLogits> alone_prompt, alone_more;
    for (const auto& p : prompts) {
        Engine e(stories(), on_backend(128, 1));
        alone_prompt.push_back(e.decode(sequence_batch(p, 0, 0)));
        alone_more.push_back(e.decode(sequence_batch(more, static_cast<int32_t>(p.size()), 0)));
    }

    // Together: sequences 0 and 1 start with their prompts; then 2 and 3's prompts come in one
    // batch with sequence 0 and 1's next tokens (a step mixing prompt chunks and single tokens).
    Engine e(stories(), on_backend(256, 4, 16));
    Batch first;
    for (SeqId s : {0, 1}) {
        for (size_t i = 0; i < prompts[s].size(); ++i) first.add(prompts[s][i], int32_t(i), s, true);
    }
    const BatchLogits r1 = e.decode(first);
    Batch second;
    std::vector<std::pair<SeqId, size_t>> who;  // second's token -> (sequence, index in its run)
    for (size_t i = 0; i < std::max(prompts[2].size(), more.size()); ++i) {
        for (SeqId s : {0, 1}) {
            if (i < more.size()) {
                second.add(more[i], int32_t(prompts[s].size() + i), s, true);
                who.emplace_back(s, i);
            }
        }
        for (SeqId s : {2, 3}) {
            if (i < prompts[s].size()) {
                second.add(prompts[s][i], int32_t(i), s, true);
                who.emplace_back(s, i);
            }
        }
    }
    const BatchLogits r2 = e.decode(second);

    size_t row = 0;
    for (SeqId s : {0, 1}) {
        for (size_t i = 0; i < prompts[s].size(); ++i, ++row) {
            expect_same_row(alone_prompt[s].row(i), r1.row(row), "seq " + std::to_string(s) + " prompt " + std::to_string(i));
        }
    }
    for (size_t k = 0; k < who.size(); ++k) {
        const auto [s, i] = who[k];
        const BatchLogits& ref = s < 2 ? alone_more[s] : alone_prompt[s];
        expect_same_row(ref.row(i), r2.of_token(k), "seq " + std::to_string(s) + " step 2 token " + std::to_string(i));
    }
    EXPECT_EQ(e.n_used(), prompts[0].size() + prompts[1].size() + prompts[2].size() + prompts[3].size() + 2 * more.size());
}

TEST_P(EngineOn, SharedPrefixViaSeqCpMatchesTheSequenceAlone) {
    const std::vector<int32_t> prefix = tokens_of("Once upon a time, there was a little girl named Lily.");
    const std::vector<int32_t> a = tokens_of("She had a cat")  ;
    const std::vector<int32_t> b = tokens_of("He went to the park");
    auto alone = [&](const std::vector<int32_t>& tail) {
        Engine e(stories(), on_backend(128));
        e.decode(sequence_batch(prefix, 0, 0));
        return e.decode(sequence_batch(tail, static_cast<int32_t>(prefix.size()), 0));
    };
    const BatchLogits ref_a = alone(a), ref_b = alone(b);

    Engine e(stories(), on_backend(128, 2));
    e.decode(sequence_batch(prefix, 0, 0));
    const uint32_t used_after_prefix = e.n_used();
    e.seq_cp(0, 1);  // sequence 1 shares the prefix's cells: nothing is copied
    EXPECT_EQ(e.n_used(), used_after_prefix);
    EXPECT_EQ(e.seq_n_cells(1), prefix.size());
    Batch both;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size()) both.add(a[i], int32_t(prefix.size() + i), 0, true);
        if (i < b.size()) both.add(b[i], int32_t(prefix.size() + i), 1, true);
    }
    const BatchLogits r = e.decode(both);
    size_t k = 0;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size()) expect_same_row(ref_a.row(i), r.row(k++), "a " + std::to_string(i));
        if (i < b.size()) expect_same_row(ref_b.row(i), r.row(k++), "b " + std::to_string(i));
    }
    // The prefix stays while either sequence holds it.
    e.seq_rm(0);
    EXPECT_EQ(e.seq_n_cells(1), prefix.size() + b.size());
    EXPECT_EQ(e.n_used(), prefix.size() + b.size());
}

// Keys re-roped in place equal keys computed at the new positions (RoPE's rotations compose):
// a sequence decoded at positions 7 .. 7+n then shifted by -7 continues as one decoded at 0 .. n.
TEST_P(EngineOn, ShiftInPlaceEqualsDecodingAtTheNewPositions) {
    const std::vector<int32_t> t = tokens_of("Once upon a time, there was a little girl named Lily.");
    const std::vector<int32_t> next = tokens_of("She loved to play");
    const auto n = static_cast<int32_t>(t.size());
    Engine direct(stories(), on_backend(128));
    direct.decode(sequence_batch(t, 0, 0));
    const BatchLogits want = direct.decode(sequence_batch(next, n, 0));

    Engine moved(stories(), on_backend(128));
    moved.decode(sequence_batch(t, 7, 0));
    moved.seq_shift(0, 0, -1, -7);
    EXPECT_EQ(moved.seq_pos_max(0), n - 1);
    const BatchLogits got = moved.decode(sequence_batch(next, n, 0));
    for (size_t i = 0; i < next.size(); ++i) expect_same_row(want.row(i), got.row(i), "token " + std::to_string(i));
}

// A context shift (drop some tokens, move the rest down) on a sequence among others equals the
// same shift done alone. Against recomputing the kept tokens afresh it differs by design: the
// kept cells' deeper-layer K and V still carry what the dropped tokens contributed (as in
// llama.cpp's shift); measured here as the same argmax and cosine >= 0.999.
TEST_P(EngineOn, ShiftedSequenceAmongOthersMatchesTheShiftAlone) {
    const std::vector<int32_t> t = tokens_of("Once upon a time, there was a little girl named Lily. She loved to play outside.");
    const std::vector<int32_t> next = tokens_of("One day");
    const int32_t n_keep = 1, n_drop = 6;
    std::vector<int32_t> kept(t.begin(), t.begin() + n_keep);
    kept.insert(kept.end(), t.begin() + n_keep + n_drop, t.end());
    const auto p_next = static_cast<int32_t>(kept.size());

    Engine re(stories(), on_backend(128));
    re.decode(sequence_batch(kept, 0, 0));
    const BatchLogits recompute = re.decode(sequence_batch(next, p_next, 0));

    auto shift = [&](Engine& e, SeqId s) {
        e.seq_rm(s, n_keep, n_keep + n_drop);
        e.seq_shift(s, n_keep + n_drop, -1, -n_drop);
        EXPECT_EQ(e.seq_pos_max(s), p_next - 1);
    };
    Engine alone(stories(), on_backend(128));
    alone.decode(sequence_batch(t, 0, 0));
    shift(alone, 0);
    const BatchLogits shifted_alone = alone.decode(sequence_batch(next, p_next, 0));

    Engine e(stories(), on_backend(256, 3));
    const std::vector<int32_t> other = tokens_of("Tom had a big red ball.");
    Batch b = sequence_batch(t, 0, 1);
    for (size_t i = 0; i < other.size(); ++i) b.add(other[i], int32_t(i), 0, false);
    e.decode(b);
    shift(e, 1);
    Batch b2 = sequence_batch(next, p_next, 1);
    b2.add(next[0], int32_t(other.size()), 0, true);
    const BatchLogits together = e.decode(b2);

    for (size_t i = 0; i < next.size(); ++i) {
        expect_same_row(shifted_alone.row(i), together.row(i), "shifted among others, token " + std::to_string(i));
        EXPECT_EQ(argmax(recompute.row(i)), argmax(shifted_alone.row(i))) << "token " << i;
        EXPECT_GE(cosine(recompute.row(i), shifted_alone.row(i)), 0.999) << "token " << i;
    }
}

std::vector<int32_t> greedy_alone(const std::string& prompt, int n) {
    Session s(stories(), {.n_ctx = 256});
    GenerateParams p;
    p.n_predict = n;
    p.sampling.temperature = 0.0f;
    return s.generate(prompt, p).tokens;
}

TEST(Engine, GreedyContinuationsAreTheSameAloneAndFourAtOnce) {
    constexpr int kN = 24;
    Engine e(stories(), {.n_ctx = 512, .n_seq = 4});
    std::vector<std::vector<int32_t>> seqs, generated(4);
    Batch b;
    for (SeqId s = 0; s < 4; ++s) {
        seqs.push_back(tokens_of(kPrompts[s]));
        for (size_t i = 0; i < seqs[s].size(); ++i) b.add(seqs[s][i], int32_t(i), s, i + 1 == seqs[s].size());
    }
    BatchLogits out = e.decode(b);
    for (int step = 0; step < kN; ++step) {
        Batch next;
        for (SeqId s = 0; s < 4; ++s) {
            const int32_t tok = argmax(out.row(static_cast<size_t>(s)));
            generated[s].push_back(tok);
            next.add(tok, static_cast<int32_t>(seqs[s].size()), s, true);
            seqs[s].push_back(tok);
        }
        if (step + 1 < kN) out = e.decode(next);
    }
    for (SeqId s = 0; s < 4; ++s) {
        std::vector<int32_t> alone = greedy_alone(kPrompts[s], kN);
        // Generation stops at an end-of-generation token; lock-step does not: compare what alone made.
        ASSERT_LE(alone.size(), generated[s].size());
        generated[s].resize(alone.size());
        EXPECT_EQ(alone, generated[s]) << "prompt " << s;
    }
}

TEST(Engine, SessionsOnOneEngineFromFourThreads) {
    constexpr int kN = 16;
    auto engine = std::make_shared<Engine>(stories(), EngineParams{.n_ctx = 512, .n_seq = 4});
    std::vector<std::vector<int32_t>> got(4);
    std::vector<std::thread> threads;
    for (SeqId s = 0; s < 4; ++s) {
        threads.emplace_back([&, s] {
            Session session(engine, s);
            GenerateParams p;
            p.n_predict = kN;
            p.sampling.temperature = 0.0f;
            got[s] = session.generate(kPrompts[s], p).tokens;
        });
    }
    for (auto& t : threads) t.join();
    for (SeqId s = 0; s < 4; ++s) EXPECT_EQ(got[s], greedy_alone(kPrompts[s], kN)) << "prompt " << s;
    EXPECT_EQ(engine->n_used(), 0u);  // each Session freed its cells
}

TEST(Engine, BadBatchesAreErrorsThatDisturbNoOtherSequence) {
    Engine e(stories(), {.n_ctx = 32, .n_seq = 2});
    const std::vector<int32_t> p = tokens_of("Tom had a big red ball.");
    e.decode(sequence_batch(p, 0, 0));
    const uint32_t used = e.n_used();
    const int32_t n_vocab = static_cast<int32_t>(stories()->n_vocab());
    auto expect_fails = [&](const Batch& b, const std::string& needle) {
        const std::string msg = test::error_of([&] { e.decode(b); });
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        EXPECT_EQ(e.n_used(), used) << needle;
    };
    Batch unknown_seq;
    unknown_seq.add(1, 0, 2);
    expect_fails(unknown_seq, "sequence id 2 is out of range [0, 2)");
    Batch backwards;
    backwards.add(1, 3, 1);
    backwards.add(1, 2, 1);
    expect_fails(backwards, "position 2 of sequence 1 does not come after its position 3");
    Batch before_cache;
    before_cache.add(1, 1, 0);  // sequence 0 already holds positions 0 .. p.size() - 1
    expect_fails(before_cache, "does not come after");
    Batch bad_token;
    bad_token.add(1, 0, 1);
    bad_token.add(n_vocab, 1, 1);
    expect_fails(bad_token, "token id 512 is out of range [0, 512)");
    Batch too_long;
    for (int32_t i = 0; i < 40; ++i) too_long.add(1, i, 1);
    expect_fails(too_long, "the KV cache is full");
    EXPECT_NE(test::error_of([] { Batch().add(1, 0, 64); }).find("out of range"), std::string::npos);
    EXPECT_NE(test::error_of([&] { e.decode(Batch()); }).find("empty"), std::string::npos);
    EXPECT_NE(test::error_of([&] { e.seq_rm(5); }).find("sequence id 5"), std::string::npos);
    EXPECT_NE(test::error_of([] { Engine(stories(), {.n_seq = 65}); }).find("1 .. 64"), std::string::npos);

    // Sequence 0 goes on exactly as it would have.
    Engine ref(stories(), {.n_ctx = 32});
    ref.decode(sequence_batch(p, 0, 0));
    const std::vector<int32_t> more = tokens_of("He");
    const BatchLogits a = e.decode(sequence_batch(more, int32_t(p.size()), 0));
    const BatchLogits b = ref.decode(sequence_batch(more, int32_t(p.size()), 0));
    for (size_t i = 0; i < more.size(); ++i) expect_same_row(b.row(i), a.row(i), "after the errors");
}

// reuse_prefix: a second turn that resends the first turn's prompt and reply computes only
// the new tokens, and generates what a fresh sequence would.
TEST(Engine, SessionReusesItsOwnPrefixAndAnotherSequences) {
    const std::string turn1 = "Once upon a time, there was a little girl named Lily.";
    GenerateParams p;
    p.n_predict = 12;
    p.sampling.temperature = 0.0f;
    p.reuse_prefix = true;
    auto engine = std::make_shared<Engine>(stories(), EngineParams{.n_ctx = 256, .n_seq = 2});
    Session chat(engine, 0);
    const GenerateResult r1 = chat.generate(turn1, p);
    EXPECT_EQ(r1.n_reused, 0u);
    const std::string turn2 = turn1 + r1.text + " Then she went home.";
    const GenerateResult r2 = chat.generate(turn2, p);
    const size_t n_turn2 = tokens_of(turn2).size();
    EXPECT_EQ(r2.n_prompt, n_turn2);
    EXPECT_GE(r2.n_reused, tokens_of(turn1).size()) << "the first turn's prompt is in the cache";
    EXPECT_LT(r2.n_reused, n_turn2);
    Session fresh(stories(), {.n_ctx = 256});
    GenerateParams no_reuse = p;
    no_reuse.reuse_prefix = false;
    EXPECT_EQ(r2.tokens, fresh.generate(turn2, no_reuse).tokens);

    // Another Session on the engine starts from sequence 0's cells.
    Session other(engine, 1);
    const GenerateResult r3 = other.generate(turn1 + " She", p);
    EXPECT_EQ(r3.n_reused, tokens_of(turn1).size() - 0) << "the shared first sentence";
    EXPECT_EQ(r3.tokens, fresh.generate(turn1 + " She", no_reuse).tokens);
}

// Named as the backends' display names: scripts/test_emulated leaves out *Vulkan* (lavapipe's
// JIT uses the host CPU's instructions, which an emulated CPU lacks).
INSTANTIATE_TEST_SUITE_P(Backends, EngineOn, testing::ValuesIn(backends_under_test()),
                         [](const testing::TestParamInfo<std::string>& info) -> std::string {
                             if (info.param == "vulkan") return "Vulkan";
                             if (info.param == "blas") return "BLAS";
                             return "CPU";
                         });

}  // namespace
}  // namespace ember
