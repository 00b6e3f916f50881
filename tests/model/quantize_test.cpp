// ember quantize: bit-exact with the reference's files, the §2.3 mix rules, refusals and bad input.
#include "model/quantize/quantize.h"

#include "core/error.h"
#include "ember/gguf.h"
#include "model/runtime/model.h"
#include "model/quantize/quant_mix.h"
#include "ember/session.h"
#include "quant/quant.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

namespace ember {
namespace {

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("ember-quantize-test-" + name)).string();
}

QuantizeParams params(std::string type, int n_threads = 2, bool allow_requantize = false) {
    QuantizeParams p;
    p.type = std::move(type);
    p.n_threads = n_threads;
    p.allow_requantize = allow_requantize;
    return p;
}

std::string tiny(const std::string& type) { return test::data_path("models/tiny-" + type + ".gguf"); }
std::string stories() { return test::data_path("../../models/stories260K.gguf"); }

// Error message of `f`, or "" when it does not throw ember::Error.
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Every tensor of `ours` has the reference's name, position, shape, type and bytes.
void expect_same_tensors(const gguf::File& ours, const gguf::File& ref) {
    ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
    for (size_t i = 0; i < ref.tensors().size(); ++i) {
        const gguf::TensorInfo& r = ref.tensors()[i];
        const gguf::TensorInfo& o = ours.tensors()[i];
        EXPECT_EQ(o.name, r.name) << "tensor #" << i;
        EXPECT_EQ(o.ne, r.ne) << r.name;
        EXPECT_EQ(o.type, r.type) << r.name << ": ours " << type_name(o.type) << ", reference " << type_name(r.type);
        if (o.type != r.type || o.nbytes != r.nbytes) continue;
        size_t first_diff = o.nbytes;
        for (size_t b = 0; b < o.nbytes; ++b) {
            if (o.data[b] != r.data[b]) {
                first_diff = b;
                break;
            }
        }
        EXPECT_EQ(first_diff, o.nbytes) << r.name << " (" << type_name(r.type) << ") differs first at byte " << first_diff;
    }
}

struct ReferenceCase {
    const char* type;
    int n_threads;  // each type with another thread count: the bytes must not depend on it
};

class QuantizeReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(QuantizeReference, F16ToTypeEqualsTheReferenceFile) {
    const std::string type = GetParam().type;
    const std::string out = temp_path(type + ".gguf");
    const QuantizeSummary s = quantize_model(tiny("f16"), out, params(type, GetParam().n_threads));
    {
        const gguf::File ours = gguf::File::open(out);
        const gguf::File ref = gguf::File::open(tiny(type));
        expect_same_tensors(ours, ref);
        EXPECT_EQ(ours.get_u32("general.file_type"), ref.get_u32("general.file_type"));
        EXPECT_EQ(ours.get_u32("general.quantization_version"), 2u);
        EXPECT_EQ(s.ftype, ref.get_u32("general.file_type"));
        EXPECT_EQ(s.output_bytes, ours.file_size());
        EXPECT_EQ(s.input_bytes, std::filesystem::file_size(tiny("f16")));
    }
    // Metadata order and layout too: the whole file is the reference's, byte for byte.
    EXPECT_TRUE(test::read_file(out) == test::read_file(tiny(type))) << type << ": the files differ outside the tensors";
    std::filesystem::remove(out);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeReference,
                         ::testing::Values(ReferenceCase{"Q8_0", 1}, ReferenceCase{"Q4_K_M", 2},
                                           ReferenceCase{"Q5_K_M", 3}),
                         [](const auto& info) { return std::string(info.param.type); });

TEST(Quantize, Q4KSMix) {
    const std::string a = temp_path("q4ks.gguf");
    quantize_model(tiny("f16"), a, params("Q4_K_S", 2));
    // Q4_K_S: attn_v of the first 4 layers is Q5_K; ffn_down of the first n/8 = 0 layers is not.
    const gguf::File f = gguf::File::open(a);
    EXPECT_EQ(f.get_u32("general.file_type"), 14u);
    EXPECT_EQ(f.find_tensor("blk.1.attn_v.weight")->type, Type::Q5_K);
    EXPECT_EQ(f.find_tensor("blk.1.ffn_down.weight")->type, Type::Q4_K);
    EXPECT_EQ(f.find_tensor("token_embd.weight")->type, Type::Q6_K);  // tied: the output's rule
    EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, Type::Q4_K);
    std::filesystem::remove(a);
}

TEST(Quantize, QuantizedInputIsRefusedUnlessAllowed) {
    const std::string out = temp_path("requant.gguf");
    const std::string err = error_of([&] { quantize_model(tiny("Q8_0"), out, params("Q4_0")); });
    EXPECT_NE(err.find("is already Q8_0"), std::string::npos) << err;
    EXPECT_NE(err.find("--allow-requantize"), std::string::npos) << err;
    EXPECT_FALSE(std::filesystem::exists(out));

    quantize_model(tiny("Q8_0"), out, params("Q4_0", 2, true));
    const auto model = Model::load(out);
    for (const gguf::TensorInfo& t : model->file().tensors()) {
        const Type want = t.n_dims == 1 ? Type::F32 : t.name == "token_embd.weight" ? Type::Q6_K : Type::Q4_0;
        EXPECT_EQ(t.type, want) << t.name;
    }
    Session session(model, {.n_ctx = 32, .n_threads = 1});
    session.decode(session.tokenize("Hello"));
    for (float x : session.logits()) ASSERT_TRUE(std::isfinite(x));
    std::filesystem::remove(out);
}

TEST(Quantize, BadInputsAreClearErrors) {
    const std::string out = temp_path("bad.gguf");
    std::string err = error_of([&] { quantize_model(tiny("f16"), out, params("Q3_K_M")); });
    EXPECT_NE(err.find("unknown model type 'Q3_K_M'"), std::string::npos) << err;
    EXPECT_NE(err.find("Q4_K_M"), std::string::npos) << err;  // lists the valid names

    err = error_of([&] { quantize_model("/nonexistent/in.gguf", out, params("Q8_0")); });
    EXPECT_NE(err.find("/nonexistent/in.gguf"), std::string::npos) << err;

    // A truncated copy: the reader names the file and the problem.
    const std::string truncated = temp_path("truncated.gguf");
    {
        const std::vector<uint8_t> bytes = test::read_file(stories());
        std::ofstream(truncated, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 100000);
    }
    err = error_of([&] { quantize_model(truncated, out, params("Q8_0")); });
    EXPECT_NE(err.find(truncated), std::string::npos) << err;
    EXPECT_FALSE(std::filesystem::exists(out));

    err = error_of([&] { quantize_model(stories(), stories(), params("Q8_0")); });
    EXPECT_NE(err.find("overwrite the input"), std::string::npos) << err;
    std::filesystem::remove(truncated);
}

// stories260K (dim 64, FFN 172): no row is a whole super-block, ffn_down rows are not even whole
// 32-blocks, so every fallback of §2.3 shows.
TEST(Quantize, Stories260KFallbacks) {
    const std::string out = temp_path("stories-q8.gguf");
    const QuantizeSummary s = quantize_model(stories(), out, params("Q8_0", 2));
    size_t no_fit = 0;
    for (const QuantizedTensor& t : s.tensors) no_fit += t.no_fit;
    EXPECT_EQ(no_fit, 5u);  // the five ffn_down tensors
    {
        const auto model = Model::load(out);
        for (const gguf::TensorInfo& t : model->file().tensors()) {
            const bool f32 = t.n_dims == 1 || t.name.ends_with("ffn_down.weight");
            EXPECT_EQ(t.type, f32 ? Type::F32 : Type::Q8_0) << t.name;
        }
        EXPECT_LT(s.output_bytes, s.input_bytes / 2);
        Session session(model, {.n_ctx = 32, .n_threads = 1});
        session.decode(session.tokenize("Once upon a time"));
        for (float x : session.logits()) ASSERT_TRUE(std::isfinite(x));
    }

    quantize_model(stories(), out, params("Q4_K_M", 2));
    const gguf::File f = gguf::File::open(out);
    EXPECT_EQ(f.find_tensor("output.weight")->type, Type::Q8_0);        // ne0 % 256 != 0
    EXPECT_EQ(f.find_tensor("token_embd.weight")->type, Type::Q5_0);    // Q4_K -> Q5_0
    EXPECT_EQ(f.find_tensor("blk.0.attn_v.weight")->type, Type::Q5_0);  // use_more_bits(0, 5) is false
    EXPECT_EQ(f.find_tensor("blk.2.attn_v.weight")->type, Type::Q8_0);  // (2 - 5/8) % 3 == 2: Q6_K -> Q8_0
    EXPECT_EQ(f.find_tensor("blk.4.attn_v.weight")->type, Type::Q8_0);  // 4 >= 7·5/8
    EXPECT_EQ(f.find_tensor("blk.0.ffn_down.weight")->type, Type::F16); // 172 % 32 != 0
    EXPECT_EQ(f.find_tensor("blk.0.attn_norm.weight")->type, Type::F32);
    std::filesystem::remove(out);
}

// A copy of stories260K whose 2-D weights are `type` (F32 or BF16), made from the BF16-rounded
// weights, so that both copies hold the same values.
std::string stories_as(Type type, const std::string& name) {
    const gguf::File in = gguf::File::open(stories());
    gguf::Writer w;
    for (const gguf::KeyValue& kv : in.metadata()) w.add(kv.key, kv.value);
    std::vector<std::vector<uint8_t>> blobs;
    blobs.reserve(in.tensors().size());
    for (const gguf::TensorInfo& t : in.tensors()) {
        const Type to = t.n_dims == 1 ? Type::F32 : type;
        const auto n = static_cast<size_t>(t.n_elements());
        std::vector<uint16_t> bf16(n);
        std::vector<float> f32(n);
        quant::quant_traits(Type::BF16).from_float(reinterpret_cast<const float*>(t.data), bf16.data(), t.n_elements());
        quant::quant_traits(Type::BF16).to_float(bf16.data(), f32.data(), t.n_elements());
        auto& blob = blobs.emplace_back();
        if (to == Type::BF16) {
            blob.assign(reinterpret_cast<const uint8_t*>(bf16.data()), reinterpret_cast<const uint8_t*>(bf16.data() + n));
        } else {
            const auto* f = reinterpret_cast<const uint8_t*>(t.n_dims == 1 ? reinterpret_cast<const float*>(t.data) : f32.data());
            blob.assign(f, f + n * sizeof(float));
        }
        w.add_tensor(t.name, to, std::span<const int64_t>(t.ne.data(), t.n_dims), blob.data(), blob.size());
    }
    const std::string path = temp_path(name);
    w.write(path);
    return path;
}

TEST(Quantize, Bf16InputIsConvertedExactly) {
    const std::string bf16 = stories_as(Type::BF16, "stories-bf16.gguf");
    const std::string f32 = stories_as(Type::F32, "stories-f32.gguf");
    const std::string a = temp_path("from-bf16.gguf"), b = temp_path("from-f32.gguf");
    quantize_model(bf16, a, params("Q4_0"));
    quantize_model(f32, b, params("Q4_0"));
    // BF16 -> F32 is exact, so both give the same quantized tensors; kept tensors keep their type.
    const gguf::File fa = gguf::File::open(a), fb = gguf::File::open(b);
    ASSERT_EQ(fa.tensors().size(), fb.tensors().size());
    size_t n_quantized = 0;
    for (size_t i = 0; i < fa.tensors().size(); ++i) {
        const gguf::TensorInfo& x = fa.tensors()[i];
        const gguf::TensorInfo& y = fb.tensors()[i];
        ASSERT_EQ(x.name, y.name);
        if (x.type == Type::BF16) {
            EXPECT_EQ(y.type, Type::F32) << x.name;
            continue;
        }
        EXPECT_EQ(x.type, y.type) << x.name;
        EXPECT_TRUE(std::equal(x.bytes().begin(), x.bytes().end(), y.bytes().begin(), y.bytes().end())) << x.name;
        n_quantized += is_quantized(x.type);
    }
    EXPECT_EQ(n_quantized, 32u);
    EXPECT_EQ(fa.find_tensor("blk.0.attn_q.weight")->type, Type::Q4_0);
    EXPECT_EQ(fa.find_tensor("blk.0.ffn_down.weight")->type, Type::BF16);  // 172-wide rows: kept
    EXPECT_EQ(fa.find_tensor("output.weight")->type, Type::Q8_0);          // Q6_K's fallback
    for (const auto& p : {bf16, f32, a, b}) std::filesystem::remove(p);
}

TEST(QuantMix, RulesOfTheReference) {
    const QuantMixModel dense{.n_layer = 32, .n_attn_v = 32};
    auto type = [](const char* ft, const QuantMixModel& m, std::string_view name, int64_t ne0 = 4096,
                   uint32_t i = 0, uint32_t n_dims = 2) {
        return quant_tensor_type(quant_file_type(ft), m, {name, n_dims, ne0, i, i});
    };
    EXPECT_EQ(type("Q4_0", dense, "output.weight"), Type::Q6_K);
    EXPECT_EQ(type("Q4_0", dense, "blk.0.ffn_down.weight", 11008), Type::Q4_0);
    EXPECT_EQ(type("Q6_K", dense, "blk.0.attn_q.weight"), Type::Q6_K);
    EXPECT_EQ(type("Q8_0", dense, "output.weight"), Type::Q8_0);
    EXPECT_EQ(type("Q5_K_S", dense, "blk.0.attn_v.weight"), Type::Q5_K);
    EXPECT_EQ(type("Q4_K_M", dense, "blk.0.attn_qkv.weight"), Type::Q5_K);
    EXPECT_EQ(type("Q5_K_M", dense, "blk.0.attn_qkv.weight"), Type::Q6_K);
    EXPECT_EQ(type("Q4_K_M", dense, "blk.0.attn_norm.weight", 4096, 0, 1), std::nullopt);
    EXPECT_EQ(type("Q4_K_M", dense, "blk.0.ffn_gate_inp.weight"), std::nullopt);
    EXPECT_EQ(type("Q8_0", dense, "blk.0.ffn_down.weight", 172), std::nullopt);  // the reference aborts
    // Tied embedding: the output's rule.
    const QuantMixModel tied{.n_layer = 32, .n_attn_v = 32, .has_output = false};
    EXPECT_EQ(type("Q4_K_M", tied, "token_embd.weight"), Type::Q6_K);
    EXPECT_EQ(type("Q4_K_M", dense, "token_embd.weight"), Type::Q4_K);
    // 70B: Q4_K attn_v becomes Q5_K; 8 experts: attn_v and attn_k Q8_0, Q4_K_M attn_output Q5_K.
    const QuantMixModel b70{.n_layer = 80, .n_attn_v = 80, .is_70b = true};
    EXPECT_EQ(type("Q4_K_M", b70, "blk.11.attn_v.weight", 8192, 11), Type::Q5_K);  // not use_more_bits(11, 80)
    EXPECT_EQ(type("Q4_K_M", b70, "blk.2.attn_v.weight", 8192, 2), Type::Q6_K);
    const QuantMixModel moe{.n_layer = 32, .n_attn_v = 32, .n_expert = 8};
    EXPECT_EQ(type("Q4_K_M", moe, "blk.4.attn_v.weight", 4096, 4), Type::Q8_0);
    EXPECT_EQ(type("Q4_K_M", moe, "blk.4.attn_k.weight", 4096, 4), Type::Q8_0);
    EXPECT_EQ(type("Q4_K_M", moe, "blk.4.attn_output.weight"), Type::Q5_K);
    // The running counters of QuantMix follow the layers of a dense model.
    QuantMix mix(quant_file_type("Q4_K_M"), {.n_layer = 2, .n_attn_v = 2});
    EXPECT_EQ(mix.next("token_embd.weight", 2, 256), Type::Q4_K);
    EXPECT_EQ(mix.next("blk.0.attn_v.weight", 2, 256), Type::Q4_K);
    EXPECT_EQ(mix.next("blk.0.ffn_down.weight", 2, 768), Type::Q4_K);
    EXPECT_EQ(mix.next("blk.1.attn_v.weight", 2, 256), Type::Q6_K);
    EXPECT_EQ(mix.next("blk.1.ffn_down.weight", 2, 768), Type::Q6_K);
}

}  // namespace
}  // namespace ember
