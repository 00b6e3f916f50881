// The Session API on the bundled model: bad input, determinism, the context limit,
// options that must not change results, and perplexity against the reference.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/eval/perplexity.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

namespace ember {
namespace {

std::string stories() { return test::data_path("../../models/stories260K.gguf"); }

std::shared_ptr<const Model> load_stories() {
    static std::shared_ptr<const Model> model = Model::load(stories());
    return model;
}

// Expects `fn` to throw ember::Error whose message contains `needle`.
void expect_error(const std::function<void()>& fn, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

// A copy of stories260K with one change: a metadata value replaced, a tensor left out,
// or a tensor's shape cut to half its rows.
std::string write_variant(const std::string& name, const std::string& key, const std::string& new_value,
                          const std::string& drop_tensor, const std::string& halve_tensor) {
    const gguf::File src = gguf::File::open(stories());
    gguf::Writer w;
    for (const gguf::KeyValue& kv : src.metadata()) {
        if (kv.key == "general.alignment") continue;
        w.add(kv.key, kv.key == key ? gguf::Value::string(new_value) : kv.value);
    }
    for (const gguf::TensorInfo& t : src.tensors()) {
        if (t.name == drop_tensor) continue;
        std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        size_t nbytes = t.nbytes;
        if (t.name == halve_tensor) {
            ne.back() /= 2;
            nbytes /= 2;
        }
        w.add_tensor(t.name, t.type, ne, t.data, nbytes);
    }
    const std::string path = (std::filesystem::temp_directory_path() / ("ember_" + name + ".gguf")).string();
    w.write(path);
    return path;
}

TEST(Session, PromptLongerThanTheContextIsAnError) {
    Session s(load_stories(), {.n_ctx = 16});
    expect_error([&] { s.generate("Once upon a time there was a girl who liked to play in the park with her dog", {}); },
                 "longer than the context");
}

TEST(Session, EmptyPromptIsAnError) {
    Session s(load_stories(), {.n_ctx = 64});
    expect_error([&] { s.generate("", {}); }, "prompt is empty");
}

TEST(Session, InvalidUtf8PromptIsAnError) {
    Session s(load_stories(), {.n_ctx = 64});
    expect_error([&] { s.generate("Once \xff upon", {}); }, "not valid UTF-8");
    expect_error([&] { s.generate("\xe2\x82", {}); }, "not valid UTF-8");         // truncated sequence
    expect_error([&] { s.generate("\xc0\xaf", {}); }, "not valid UTF-8");         // overlong
    expect_error([&] { s.generate("\xed\xa0\x80", {}); }, "not valid UTF-8");     // surrogate
}

TEST(Session, TokenIdsOutOfRangeAreAnError) {
    Session s(load_stories(), {.n_ctx = 64});
    const int32_t bad[] = {1, 512};
    expect_error([&] { s.decode(bad); }, "out of range");
}

TEST(Session, MissingFileIsAnError) { expect_error([] { Model::load("/nonexistent/model.gguf"); }, "/nonexistent/model.gguf"); }

TEST(Session, VocabOnlyFileIsAnError) {
    expect_error([] { Model::load(test::data_path("vocab/ggml-vocab-llama-spm.gguf")); }, "no tensors");
}

TEST(Session, UnsupportedArchitectureIsNamed) {
    const std::string path = write_variant("arch", "general.architecture", "gpt9", "", "");
    expect_error([&] { Model::load(path); }, "unsupported architecture 'gpt9'");
}

TEST(Session, MissingTensorIsNamed) {
    const std::string path = write_variant("missing", "", "", "blk.3.ffn_up.weight", "");
    expect_error([&] { Model::load(path); }, "missing tensor 'blk.3.ffn_up.weight'");
}

TEST(Session, WrongShapeIsNamed) {
    const std::string path = write_variant("shape", "", "", "", "blk.1.attn_k.weight");
    expect_error([&] { Model::load(path); }, "tensor 'blk.1.attn_k.weight' has shape");
}

TEST(Session, SameSeedSameTextWhateverTheThreadCount) {
    GenerateParams p;
    p.n_predict = 40;
    p.sampling.temperature = 0.9f;
    p.sampling.seed = 1234;
    std::string texts[3];
    int i = 0;
    for (int threads : {1, 2, 1}) {
        Session s(load_stories(), {.n_ctx = 128, .n_threads = threads});
        texts[i++] = s.generate("Once upon a time", p).text;
    }
    EXPECT_EQ(texts[0], texts[1]);
    EXPECT_EQ(texts[0], texts[2]);
    EXPECT_FALSE(texts[0].empty());
}

TEST(Session, StreamedPiecesAddUpToTheText) {
    Session s(load_stories(), {.n_ctx = 128});
    std::string streamed;
    GenerateParams p;
    p.n_predict = 30;
    p.sampling.temperature = 0.0f;
    const GenerateResult r = s.generate("Lily and Tom", p, [&](std::string_view piece) {
        streamed += piece;
        return true;
    });
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.tokens.size(), 30u);

    // Returning false from the callback stops generation.
    int pieces = 0;
    const GenerateResult stopped = s.generate("Lily and Tom", p, [&](std::string_view) { return ++pieces < 3; });
    EXPECT_EQ(stopped.stop, StopReason::Callback);
    EXPECT_EQ(stopped.tokens.size(), 3u);
}

TEST(Session, FullContextIsAnErrorUnlessShifting) {
    GenerateParams p;
    p.n_predict = 40;
    p.sampling.temperature = 0.0f;
    Session strict(load_stories(), {.n_ctx = 24});
    expect_error([&] { strict.generate("Once upon a time", p); }, "do not fit");

    Session shifting(load_stories(), {.n_ctx = 24, .ctx_shift = true});
    const GenerateResult r = shifting.generate("Once upon a time", p);
    EXPECT_EQ(r.tokens.size(), 40u);
    EXPECT_LE(shifting.n_past(), 24u);
}

TEST(Session, BatchSizeAndKvTypeBarelyChangeLogits) {
    const std::vector<int32_t> tokens = Session(load_stories(), {.n_ctx = 64}).tokenize("Lily and Tom went to the park.");
    auto run = [&](uint32_t n_batch, Type kv) {
        Session s(load_stories(), {.n_ctx = 64, .n_batch = n_batch, .kv_type = kv});
        s.decode(tokens, true);
        std::vector<float> all;
        for (size_t i = 0; i < tokens.size(); ++i) all.insert(all.end(), s.logits(i).begin(), s.logits(i).end());
        return all;
    };
    const std::vector<float> base = run(512, Type::F16);
    const std::vector<float> small_batches = run(3, Type::F16);
    const std::vector<float> f32_cache = run(512, Type::F32);
    ASSERT_EQ(base.size(), small_batches.size());
    double max_batch = 0, max_kv = 0;
    for (size_t i = 0; i < base.size(); ++i) {
        max_batch = std::max(max_batch, double(std::fabs(base[i] - small_batches[i])));
        max_kv = std::max(max_kv, double(std::fabs(base[i] - f32_cache[i])));
    }
    EXPECT_LT(max_batch, 1e-3);
    EXPECT_LT(max_kv, 0.05);
}

TEST(Session, PerplexityMatchesTheReference) {
    const std::string json = test::read_text(test::data_path("reference/perplexity/stories260K.garden.json"));
    const std::string text = test::read_text(test::data_path("text/garden.txt"));
    Session s(load_stories(), {.n_ctx = 128, .n_threads = 2});
    const PerplexityResult r = perplexity(s, text, 128);
    EXPECT_EQ(r.n_chunks, 9u);
    EXPECT_NEAR(r.ppl, 4.1095, 0.001);
    std::printf("[perplexity] stories260K garden.txt c=128: %.4f +/- %.5f\n", r.ppl, r.ppl_stderr);
    RecordProperty("ppl", std::to_string(r.ppl));
}

}  // namespace
}  // namespace ember
