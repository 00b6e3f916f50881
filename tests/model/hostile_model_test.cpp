// Models a hostile or careless user could hand over (issue "what a hostile-user probe found"):
// a non-finite RMS epsilon, NaN weights, metadata the runtime rejects. Each is a clear error, and
// the same error wherever the model is used (generate, perplexity, quantize).
#include "core/error.h"
#include "ember/gguf.h"
#include "model/eval/perplexity.h"
#include "model/quantize/quantize.h"
#include "ember/session.h"
#include "model/runtime/model.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ember {
namespace {

std::string stories() { return test::data_path("../../models/stories260K.gguf"); }

using test::error_of;

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("ember-hostile-" + name)).string();
}

// A copy of stories260K with some metadata values replaced and some F32 tensors filled with
// `fill`. The blobs live in `storage` until the file is written.
std::string variant(const std::string& name, const std::map<std::string, gguf::Value>& values,
                    const std::vector<std::string>& filled_tensors = {}, float fill = 0.0f) {
    const gguf::File src = gguf::File::open(stories());
    gguf::Writer w;
    for (const gguf::KeyValue& kv : src.metadata()) {
        if (kv.key == "general.alignment") continue;
        const auto it = values.find(kv.key);
        w.add(kv.key, it == values.end() ? kv.value : it->second);
    }
    std::vector<std::vector<float>> storage;
    for (const gguf::TensorInfo& t : src.tensors()) {
        const std::span<const int64_t> ne(t.ne.data(), t.n_dims);
        if (std::find(filled_tensors.begin(), filled_tensors.end(), t.name) != filled_tensors.end()) {
            EXPECT_EQ(t.type, Type::F32) << t.name;
            auto& blob = storage.emplace_back(static_cast<size_t>(t.n_elements()), fill);
            w.add_tensor(t.name, t.type, ne, blob.data(), blob.size() * sizeof(float));
        } else {
            w.add_tensor(t.name, t.type, ne, t.data, t.nbytes);
        }
    }
    const std::string path = temp_path(name + ".gguf");
    w.write(path);
    return path;
}

TEST(HostileModel, RmsEpsilonMustBeFiniteAndNonNegative) {
    const std::string key = "llama.attention.layer_norm_rms_epsilon";
    for (const float eps : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), -1.0f}) {
        const std::string path = variant("eps", {{key, gguf::Value::f32(eps)}});
        const std::string err = error_of([&] { Model::load(path); });
        EXPECT_NE(err.find("layer_norm_rms_epsilon"), std::string::npos) << eps << ": " << err;
        EXPECT_NE(err.find("must be finite and >= 0"), std::string::npos) << eps << ": " << err;
        std::filesystem::remove(path);
    }
}

// NaN weights: generation stops with an error (the sampler sees a NaN logit), and so does
// perplexity, instead of printing "PPL = nan" with success.
TEST(HostileModel, NanWeightsAreAnErrorInGenerationAndPerplexity) {
    const std::string path = variant("nan", {}, {"output_norm.weight"}, std::numeric_limits<float>::quiet_NaN());
    auto model = Model::load(path);
    Session session(model, SessionParams{});
    GenerateParams gp;
    gp.n_predict = 4;
    gp.sampling.temperature = 0.0f;
    std::string err = error_of([&] { session.generate("Once upon a time", gp, [](std::string_view) { return true; }); });
    EXPECT_NE(err.find("NaN"), std::string::npos) << err;

    const std::string text = test::read_text(test::data_path("text/garden.txt"));
    Session ppl_session(model, SessionParams{});
    err = error_of([&] { perplexity(ppl_session, text, 128, nullptr); });
    EXPECT_NE(err.find("is nan at position"), std::string::npos) << err;
    EXPECT_NE(err.find("not finite"), std::string::npos) << err;
    std::filesystem::remove(path);
}

// 10 tokens for 512 embedding rows: `generate` rejects the model, so `quantize` must not write it.
TEST(HostileModel, QuantizeRefusesAModelTheRuntimeRejects) {
    const gguf::File src = gguf::File::open(stories());
    const gguf::Value* tokens = src.find("tokenizer.ggml.tokens");
    const gguf::Value* scores = src.find("tokenizer.ggml.scores");
    const gguf::Value* types = src.find("tokenizer.ggml.token_type");
    ASSERT_TRUE(tokens && scores && types);
    auto first_ten = [](const gguf::Value& v) {
        return gguf::Value::array_of(v.element_type, std::vector<gguf::Scalar>(v.array.begin(), v.array.begin() + 10));
    };
    const std::string path = variant("ten-tokens", {{"tokenizer.ggml.tokens", first_ten(*tokens)},
                                                    {"tokenizer.ggml.scores", first_ten(*scores)},
                                                    {"tokenizer.ggml.token_type", first_ten(*types)}});
    const std::string load_err = error_of([&] { Model::load(path); });
    EXPECT_NE(load_err, "(no error)");

    const std::string out = temp_path("ten-tokens-q8.gguf");
    std::filesystem::remove(out);
    QuantizeParams qp;
    qp.type = "Q8_0";
    qp.n_threads = 2;
    const std::string err = error_of([&] { quantize_model(path, out, qp); });
    EXPECT_NE(err.find("cannot quantize: " + load_err), std::string::npos) << err;
    EXPECT_FALSE(std::filesystem::exists(out));
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace ember
