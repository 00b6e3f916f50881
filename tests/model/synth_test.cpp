// Synthetic models: §2.3 tensor types, determinism, loadability, finite logits.
#include "model/quantize/synth.h"

#include "core/error.h"
#include "ember/gguf.h"
#include "model/runtime/model.h"
#include "ember/session.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

namespace ember {
namespace {

std::string vocab_path() { return test::data_path("vocab/ggml-vocab-llama-spm.gguf"); }

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("ember-synth-test-" + name)).string();
}

std::string write_tiny(const std::string& name, const std::string& type, uint64_t seed = 42, bool exact = false) {
    const std::string path = temp_path(name);
    SynthParams p;
    p.exact = exact;
    p.shape = "test-tiny";
    p.type = type;
    p.seed = seed;
    p.vocab_path = vocab_path();
    write_synthetic_model(path, p);
    return path;
}

TEST(Synth, UseMoreBitsMatchesTheSpec) {
    // For n = 32: layers {0,1,2,3,6,9,…,27,28,29,30,31}, 16 of 32; 14 of 28; 8 of 16.
    auto count = [](uint32_t n) {
        int c = 0;
        for (uint32_t i = 0; i < n; ++i) c += synth_use_more_bits(i, n);
        return c;
    };
    EXPECT_EQ(count(32), 16);
    EXPECT_EQ(count(28), 14);
    EXPECT_EQ(count(16), 8);
    for (uint32_t i : {0u, 1u, 2u, 3u, 6u, 9u, 27u, 28u, 31u}) EXPECT_TRUE(synth_use_more_bits(i, 32)) << i;
    for (uint32_t i : {4u, 5u, 7u, 8u, 26u}) EXPECT_FALSE(synth_use_more_bits(i, 32)) << i;
}

TEST(Synth, TensorTypeRulesForTinyLlama) {
    const SynthFileType& q4km = synth_file_type("q4_k_m");
    const SynthFileType& q5km = synth_file_type("Q5_K_M");
    const SynthFileType& q4ks = synth_file_type("Q4_K_S");
    const SynthFileType& q8 = synth_file_type("Q8_0");
    const SynthFileType& f16 = synth_file_type("F16");
    const uint32_t n = 22;
    auto type = [&](const SynthFileType& ft, const char* name, uint32_t dims = 2, int64_t ne0 = 2048) {
        return synth_tensor_type(ft, name, dims, ne0, n);
    };
    EXPECT_EQ(type(q4km, "output.weight"), Type::Q6_K);
    EXPECT_EQ(type(q4km, "token_embd.weight"), Type::Q4_K);
    EXPECT_EQ(type(q4km, "output_norm.weight", 1), Type::F32);
    EXPECT_EQ(type(q4km, "blk.0.attn_norm.weight", 1), Type::F32);
    EXPECT_EQ(type(q4km, "blk.0.attn_v.weight"), Type::Q6_K);  // use_more_bits(0, 22)
    EXPECT_EQ(type(q4km, "blk.3.attn_v.weight"), Type::Q4_K);  // 22/8 = 2: 3 -> (3-2)%3 = 1
    EXPECT_EQ(type(q4km, "blk.4.ffn_down.weight", 2, 5632), Type::Q6_K);  // (4-2)%3 = 2
    EXPECT_EQ(type(q4km, "blk.21.ffn_down.weight", 2, 5632), Type::Q6_K);  // >= 7·22/8 = 19
    EXPECT_EQ(type(q4km, "blk.5.attn_q.weight"), Type::Q4_K);
    EXPECT_EQ(type(q5km, "blk.5.ffn_up.weight"), Type::Q5_K);
    EXPECT_EQ(type(q5km, "blk.0.ffn_down.weight", 2, 5632), Type::Q6_K);
    EXPECT_EQ(type(q4ks, "blk.3.attn_v.weight"), Type::Q5_K);
    EXPECT_EQ(type(q4ks, "blk.4.attn_v.weight"), Type::Q4_K);
    EXPECT_EQ(type(q4ks, "blk.1.ffn_down.weight", 2, 5632), Type::Q5_K);
    EXPECT_EQ(type(q4ks, "blk.2.ffn_down.weight", 2, 5632), Type::Q4_K);
    EXPECT_EQ(type(q8, "output.weight"), Type::Q8_0);
    EXPECT_EQ(type(q8, "blk.0.attn_v.weight"), Type::Q8_0);
    EXPECT_EQ(type(f16, "output.weight"), Type::F16);
    EXPECT_EQ(type(f16, "blk.0.ffn_norm.weight", 1), Type::F32);
    // Rows that are not whole super-blocks fall back (n_embd = 896).
    EXPECT_EQ(type(q4km, "blk.5.attn_q.weight", 2, 896), Type::Q5_0);
    EXPECT_EQ(type(q5km, "blk.5.attn_q.weight", 2, 896), Type::Q5_1);
    EXPECT_EQ(type(q4km, "output.weight", 2, 896), Type::Q8_0);
    EXPECT_EQ(type(q4km, "blk.0.attn_v.weight", 2, 896), Type::Q8_0);
}

TEST(Synth, UnknownNamesAreClearErrors) {
    EXPECT_THROW(synth_shape("llama-70b"), Error);
    EXPECT_THROW(synth_file_type("Q3_K_M"), Error);
    SynthParams p;
    p.shape = "test-tiny";
    p.type = "Q8_0";
    p.vocab_path = test::data_path("text/garden.txt");  // not a GGUF file
    std::filesystem::remove(temp_path("bad-vocab.gguf"));
    EXPECT_THROW(write_synthetic_model(temp_path("bad-vocab.gguf"), p), Error);
    EXPECT_FALSE(std::filesystem::exists(temp_path("bad-vocab.gguf")));
}

// Another tokenizer's vocabulary sets the embedding and output size (gpt-2: 50257 tokens).
TEST(Synth, TakesTheVocabularysSize) {
    SynthParams p;
    p.shape = "test-tiny";
    p.type = "Q8_0";
    p.vocab_path = test::data_path("vocab/ggml-vocab-gpt-2.gguf");
    const std::string path = temp_path("gpt2-vocab.gguf");
    write_synthetic_model(path, p);
    const auto model = Model::load(path);
    EXPECT_EQ(model->n_vocab(), 50257u);
    std::filesystem::remove(path);
}

// One Q4_K_M test-tiny file shared by the tests that only read it.
class SynthTiny : public ::testing::Test {
protected:
    static void SetUpTestSuite() { path_ = write_tiny("q4km.gguf", "Q4_K_M"); }
    static void TearDownTestSuite() { std::filesystem::remove(path_); }
    static std::string path_;
};
std::string SynthTiny::path_;

TEST_F(SynthTiny, Q4KMHasTheSpecTypesAndLoads) {
    const std::string& path = path_;
    const auto model = Model::load(path);
    const gguf::File& f = model->file();
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_string("general.name"), "synthetic test-tiny");
    EXPECT_EQ(f.get_u32("general.file_type"), 15u);
    EXPECT_EQ(f.get_u32("general.quantization_version"), 2u);
    EXPECT_EQ(f.get_u32("llama.embedding_length"), 256u);
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(model->vocab().n_tokens(), 32000);
    const uint32_t n_layer = model->hparams().n_layer;
    ASSERT_EQ(n_layer, 2u);
    EXPECT_EQ(f.tensors().size(), 3u + 9u * n_layer);
    for (const gguf::TensorInfo& t : f.tensors()) {
        Type want = Type::Q4_K;
        if (t.n_dims == 1) {
            want = Type::F32;
        } else if (t.name == "output.weight") {
            want = Type::Q6_K;
        } else if (t.name.ends_with("attn_v.weight") || t.name.ends_with("ffn_down.weight")) {
            const uint32_t il = static_cast<uint32_t>(std::stoi(t.name.substr(4)));
            if (synth_use_more_bits(il, n_layer)) want = Type::Q6_K;
        }
        EXPECT_EQ(t.type, want) << t.name << " is " << type_name(t.type);
    }
    // Both branches of the rule occur: use_more_bits(0, 2) is false, use_more_bits(1, 2) is true.
    EXPECT_EQ(f.find_tensor("blk.0.attn_v.weight")->type, Type::Q4_K);
    EXPECT_EQ(f.find_tensor("blk.1.attn_v.weight")->type, Type::Q6_K);
    EXPECT_EQ(f.find_tensor("blk.1.ffn_down.weight")->type, Type::Q6_K);
    // The canonical layout: the reader's view written back is the same file, byte for byte.
    EXPECT_EQ(gguf::Writer::copy_of(f).to_bytes(), test::read_file(path));
}

TEST(Synth, SameSeedSameBytesOtherSeedOtherBytes) {
    const std::string a = write_tiny("seed-a.gguf", "Q8_0", 7);
    const std::string b = write_tiny("seed-b.gguf", "Q8_0", 7);
    const std::string c = write_tiny("seed-c.gguf", "Q8_0", 8);
    const auto bytes_a = test::read_file(a);
    EXPECT_EQ(bytes_a, test::read_file(b));
    EXPECT_NE(bytes_a, test::read_file(c));
    // Every row through the reference quantizer: also deterministic, and other bytes.
    const std::string d = write_tiny("seed-d.gguf", "Q8_0", 7, /*exact=*/true);
    const std::string e = write_tiny("seed-e.gguf", "Q8_0", 7, /*exact=*/true);
    const auto bytes_d = test::read_file(d);
    EXPECT_EQ(bytes_d, test::read_file(e));
    EXPECT_NE(bytes_a, bytes_d);
    EXPECT_EQ(bytes_a.size(), bytes_d.size());
    EXPECT_NO_THROW(Model::load(d));
    for (const auto& p : {a, b, c, d, e}) std::filesystem::remove(p);
}

TEST_F(SynthTiny, GenerateRunsWithFiniteLogits) {
    for (const char* type : {"Q4_K_M", "F16"}) {
        const std::string path = type == std::string("Q4_K_M") ? path_ : write_tiny("gen-F16.gguf", type);
        const auto model = Model::load(path);
        Session session(model, {.n_ctx = 64, .n_threads = 1});
        const std::vector<int32_t> prompt = session.tokenize("Once upon a time");
        session.decode(prompt, /*all_logits=*/true);
        for (size_t i = 0; i < prompt.size(); ++i) {
            for (float x : session.logits(i)) ASSERT_TRUE(std::isfinite(x)) << type;
        }
        const GenerateResult r = session.generate("Hello", {.n_predict = 8, .sampling = {}});
        EXPECT_LE(r.tokens.size(), 8u) << type;
        if (r.tokens.size() < 8) {
            EXPECT_EQ(r.stop, StopReason::EndOfGeneration) << type;
        }
        for (float x : session.logits()) ASSERT_TRUE(std::isfinite(x)) << type;
        if (path != path_) std::filesystem::remove(path);
    }
}

}  // namespace
}  // namespace ember
