// Both architectures against an independent, naive forward pass written here in double
// precision straight from the model description (docs/FORMATS.md §4.3-4.6): llama (adjacent-pair
// RoPE, tied output, GQA) and qwen2 (NeoX RoPE, q/k/v biases, untied output). The models
// are small random F32 GGUFs made by the test, so the only approximation on ember's side is
// float arithmetic (F32 KV cache).
#include "core/error.h"
#include "ember/gguf.h"
#include "ember/session.h"
#include "model/runtime/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

namespace ember {
namespace {

struct Shape {
    int n_embd = 32, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 48, n_vocab = 64;
    int head_dim() const { return n_embd / n_head; }
    int n_kv() const { return head_dim() * n_head_kv; }
};

// Weights as row-major matrices: W[n * K + k] is output n, input k (GGUF ne = [K, N]).
struct Tensor2 {
    std::string name;
    int K, N;  // N = 1 for vectors
    std::vector<float> w;
};

struct TinyModel {
    Shape s;
    bool qwen2 = false;
    std::vector<Tensor2> tensors;
    const std::vector<float>& get(const std::string& name) const {
        for (const Tensor2& t : tensors) {
            if (t.name == name) return t.w;
        }
        throw std::runtime_error("no tensor " + name);
    }
    bool has(const std::string& name) const {
        for (const Tensor2& t : tensors) {
            if (t.name == name) return true;
        }
        return false;
    }
};

TinyModel make_model(bool qwen2, uint32_t seed) {
    TinyModel m;
    m.qwen2 = qwen2;
    const Shape& s = m.s;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    auto add = [&](const std::string& name, int K, int N, bool ones = false) {
        Tensor2 t{name, K, N, std::vector<float>(static_cast<size_t>(K) * N)};
        for (float& v : t.w) v = ones ? 1.0f + 0.1f * normal(rng) : normal(rng);
        m.tensors.push_back(std::move(t));
    };
    add("token_embd.weight", s.n_embd, s.n_vocab);
    add("output_norm.weight", s.n_embd, 1, true);
    if (qwen2) add("output.weight", s.n_embd, s.n_vocab);  // llama: tied to token_embd
    for (int il = 0; il < s.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        add(p + "attn_norm.weight", s.n_embd, 1, true);
        add(p + "attn_q.weight", s.n_embd, s.n_embd);
        add(p + "attn_k.weight", s.n_embd, s.n_kv());
        add(p + "attn_v.weight", s.n_embd, s.n_kv());
        add(p + "attn_output.weight", s.n_embd, s.n_embd);
        if (qwen2) {
            add(p + "attn_q.bias", s.n_embd, 1);
            add(p + "attn_k.bias", s.n_kv(), 1);
            add(p + "attn_v.bias", s.n_kv(), 1);
        }
        add(p + "ffn_norm.weight", s.n_embd, 1, true);
        add(p + "ffn_gate.weight", s.n_embd, s.n_ff);
        add(p + "ffn_up.weight", s.n_embd, s.n_ff);
        add(p + "ffn_down.weight", s.n_ff, s.n_embd);
    }
    return m;
}

std::string write_gguf(const TinyModel& m, const std::string& file) {
    const Shape& s = m.s;
    const std::string arch = m.qwen2 ? "qwen2" : "llama";
    gguf::Writer w;
    w.add("general.architecture", gguf::Value::string(arch));
    w.add(arch + ".context_length", gguf::Value::u32(256));
    w.add(arch + ".embedding_length", gguf::Value::u32(s.n_embd));
    w.add(arch + ".block_count", gguf::Value::u32(s.n_layer));
    w.add(arch + ".feed_forward_length", gguf::Value::u32(s.n_ff));
    w.add(arch + ".attention.head_count", gguf::Value::u32(s.n_head));
    w.add(arch + ".attention.head_count_kv", gguf::Value::u32(s.n_head_kv));
    w.add(arch + ".attention.layer_norm_rms_epsilon", gguf::Value::f32(1e-5f));
    w.add(arch + ".rope.freq_base", gguf::Value::f32(m.qwen2 ? 1000000.0f : 10000.0f));
    // A minimal SPM vocabulary: <unk>, <s>, </s>, then one-letter tokens.
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<float> scores{0, 0, 0};
    std::vector<int32_t> types{2, 3, 3};
    for (int i = 3; i < s.n_vocab; ++i) {
        tokens.push_back(std::string(1, static_cast<char>('0' + i)));
        scores.push_back(-static_cast<float>(i));
        types.push_back(1);
    }
    w.add("tokenizer.ggml.model", gguf::Value::string("llama"));
    w.add("tokenizer.ggml.tokens", gguf::Value::string_array(tokens));
    w.add("tokenizer.ggml.scores", gguf::Value::f32_array(scores));
    w.add("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
    for (const Tensor2& t : m.tensors) {
        std::vector<int64_t> ne{t.K};
        if (t.N > 1) ne.push_back(t.N);
        w.add_tensor(t.name, Type::F32, ne, t.w.data(), t.w.size() * sizeof(float));
    }
    const std::string path = (std::filesystem::temp_directory_path() / file).string();
    w.write(path);
    return path;
}

// ---- the naive forward pass, in double ------------------------------------------------------

using Vec = std::vector<double>;

Vec matvec(const std::vector<float>& W, int K, int N, const Vec& x) {
    Vec y(N, 0.0);
    for (int n = 0; n < N; ++n) {
        for (int k = 0; k < K; ++k) y[n] += double(W[static_cast<size_t>(n) * K + k]) * x[k];
    }
    return y;
}

Vec rms_norm(const Vec& x, const std::vector<float>& w) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / x.size() + 1e-5);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
    return y;
}

void add_bias(Vec& x, const std::vector<float>& b) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += b[i];
}

// Rotates each head of x (n_heads x hd) at position pos.
void rope(Vec& x, int n_heads, int hd, int pos, double base, bool neox) {
    for (int h = 0; h < n_heads; ++h) {
        double* v = x.data() + h * hd;
        for (int i = 0; i < hd / 2; ++i) {
            const double theta = pos * std::pow(base, -2.0 * i / hd);
            const int a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
            const double x0 = v[a], x1 = v[b];
            v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
            v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
        }
    }
}

std::vector<Vec> naive_forward(const TinyModel& m, const std::vector<int32_t>& tokens) {
    const Shape& s = m.s;
    const int hd = s.head_dim(), T = static_cast<int>(tokens.size());
    const double base = m.qwen2 ? 1000000.0 : 10000.0;
    const std::vector<float>& emb = m.get("token_embd.weight");
    std::vector<Vec> x(T);
    for (int t = 0; t < T; ++t) x[t] = Vec(emb.begin() + tokens[t] * s.n_embd, emb.begin() + (tokens[t] + 1) * s.n_embd);

    for (int il = 0; il < s.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        std::vector<Vec> q(T), k(T), v(T);
        for (int t = 0; t < T; ++t) {
            const Vec h = rms_norm(x[t], m.get(p + "attn_norm.weight"));
            q[t] = matvec(m.get(p + "attn_q.weight"), s.n_embd, s.n_embd, h);
            k[t] = matvec(m.get(p + "attn_k.weight"), s.n_embd, s.n_kv(), h);
            v[t] = matvec(m.get(p + "attn_v.weight"), s.n_embd, s.n_kv(), h);
            if (m.qwen2) {
                add_bias(q[t], m.get(p + "attn_q.bias"));
                add_bias(k[t], m.get(p + "attn_k.bias"));
                add_bias(v[t], m.get(p + "attn_v.bias"));
            }
            rope(q[t], s.n_head, hd, t, base, m.qwen2);
            rope(k[t], s.n_head_kv, hd, t, base, m.qwen2);
        }
        for (int t = 0; t < T; ++t) {
            Vec o(s.n_embd, 0.0);
            for (int h = 0; h < s.n_head; ++h) {
                const int kvh = h / (s.n_head / s.n_head_kv);
                Vec score(t + 1);
                double mx = -1e300;
                for (int j = 0; j <= t; ++j) {
                    double d = 0;
                    for (int e = 0; e < hd; ++e) d += q[t][h * hd + e] * k[j][kvh * hd + e];
                    score[j] = d / std::sqrt(double(hd));
                    mx = std::max(mx, score[j]);
                }
                double sum = 0;
                for (double& sc : score) sum += (sc = std::exp(sc - mx));
                for (int j = 0; j <= t; ++j) {
                    for (int e = 0; e < hd; ++e) o[h * hd + e] += score[j] / sum * v[j][kvh * hd + e];
                }
            }
            Vec r = matvec(m.get(p + "attn_output.weight"), s.n_embd, s.n_embd, o);
            for (int i = 0; i < s.n_embd; ++i) r[i] += x[t][i];
            const Vec f = rms_norm(r, m.get(p + "ffn_norm.weight"));
            const Vec g = matvec(m.get(p + "ffn_gate.weight"), s.n_embd, s.n_ff, f);
            const Vec u = matvec(m.get(p + "ffn_up.weight"), s.n_embd, s.n_ff, f);
            Vec act(s.n_ff);
            for (int i = 0; i < s.n_ff; ++i) act[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
            const Vec d = matvec(m.get(p + "ffn_down.weight"), s.n_ff, s.n_embd, act);
            for (int i = 0; i < s.n_embd; ++i) x[t][i] = r[i] + d[i];
        }
    }
    const std::vector<float>& out = m.has("output.weight") ? m.get("output.weight") : emb;
    std::vector<Vec> logits(T);
    for (int t = 0; t < T; ++t) logits[t] = matvec(out, s.n_embd, s.n_vocab, rms_norm(x[t], m.get("output_norm.weight")));
    return logits;
}

void check_architecture(bool qwen2) {
    const TinyModel m = make_model(qwen2, qwen2 ? 11 : 7);
    const std::string path = write_gguf(m, qwen2 ? "ember_arch_qwen2.gguf" : "ember_arch_llama.gguf");
    const std::vector<int32_t> tokens{1, 5, 9, 13, 2, 7, 40, 63, 3};
    const std::vector<Vec> want = naive_forward(m, tokens);

    for (uint32_t n_batch : {512u, 4u}) {
        Session session(Model::load(path), {.n_ctx = 32, .n_batch = n_batch, .n_threads = 2, .kv_type = Type::F32});
        session.decode(tokens, /*all_logits=*/true);
        double max_err = 0, max_ref = 0;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const auto got = session.logits(t);
            for (int i = 0; i < m.s.n_vocab; ++i) {
                max_err = std::max(max_err, std::fabs(got[i] - want[t][i]));
                max_ref = std::max(max_ref, std::fabs(want[t][i]));
            }
        }
        EXPECT_LT(max_err, 1e-4 * max_ref) << (qwen2 ? "qwen2" : "llama") << ", n_batch " << n_batch;
    }
}

TEST(Architecture, LlamaMatchesNaiveForwardPass) { check_architecture(false); }
TEST(Architecture, Qwen2MatchesNaiveForwardPass) { check_architecture(true); }

TEST(Architecture, Qwen2WithoutBiasesIsAnError) {
    TinyModel m = make_model(true, 3);
    std::erase_if(m.tensors, [](const Tensor2& t) { return t.name == "blk.1.attn_k.bias"; });
    const std::string path = write_gguf(m, "ember_arch_qwen2_nobias.gguf");
    try {
        Model::load(path);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("blk.1.attn_k.bias"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ember
