#include "model/arch/hparams.h"

#include "core/error.h"
#include "ember/gguf.h"

#include <cmath>

namespace ember {
namespace {

// A per-layer count may be stored as one u32 or as an INT32 array with one entry per layer.
// ember runs models whose layers all agree.
uint32_t per_layer_u32(const gguf::File& f, const std::string& key, uint32_t n_layer, std::optional<uint32_t> fallback) {
    if (const gguf::Value* v = f.find(key); v != nullptr && v->type == gguf::ValueType::ARRAY) {
        const std::vector<int32_t> values = f.get_i32_array(key);
        if (values.size() != n_layer) fail("{}: {} has {} entries for {} layers", f.path(), key, values.size(), n_layer);
        for (int32_t x : values) {
            if (x != values[0]) fail("{}: {} differs between layers, which ember does not support", f.path(), key);
        }
        if (values.empty() || values[0] <= 0) fail("{}: {} must be positive", f.path(), key);
        return static_cast<uint32_t>(values[0]);
    }
    if (auto x = f.get_u32_opt(key)) return *x;
    if (fallback) return *fallback;
    fail("{}: missing metadata key {}", f.path(), key);
}

}  // namespace

HParams HParams::from_gguf(const gguf::File& f, RopeMode rope_mode) {
    HParams hp;
    hp.arch = f.get_string("general.architecture");
    const std::string a = hp.arch + ".";
    hp.rope_mode = rope_mode;
    hp.n_ctx_train = f.get_u32(a + "context_length");
    hp.n_embd = f.get_u32(a + "embedding_length");
    hp.n_layer = f.get_u32(a + "block_count");
    if (hp.n_layer == 0 || hp.n_layer > 512) fail("{}: block_count {} is out of range 1..512", f.path(), hp.n_layer);
    if (hp.n_embd == 0) fail("{}: embedding_length is 0", f.path());
    hp.n_ff = per_layer_u32(f, a + "feed_forward_length", hp.n_layer, std::nullopt);
    hp.n_head = per_layer_u32(f, a + "attention.head_count", hp.n_layer, std::nullopt);
    hp.n_head_kv = per_layer_u32(f, a + "attention.head_count_kv", hp.n_layer, hp.n_head);
    if (hp.n_head == 0 || hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0) {
        fail("{}: head_count {} is not a multiple of head_count_kv {}", f.path(), hp.n_head, hp.n_head_kv);
    }
    hp.head_dim = f.get_u32_opt(a + "attention.key_length").value_or(hp.n_embd / hp.n_head);
    const uint32_t value_length = f.get_u32_opt(a + "attention.value_length").value_or(hp.head_dim);
    if (value_length != hp.head_dim) fail("{}: key_length {} != value_length {} is not supported", f.path(), hp.head_dim, value_length);
    if (hp.head_dim == 0 || hp.head_dim % 2 != 0) fail("{}: head dimension {} must be even and positive", f.path(), hp.head_dim);
    hp.n_rot = f.get_u32_opt(a + "rope.dimension_count").value_or(hp.head_dim);
    if (hp.n_rot == 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
        fail("{}: rope.dimension_count {} must be even and at most the head dimension {}", f.path(), hp.n_rot, hp.head_dim);
    }
    hp.rms_eps = f.get_f32(a + "attention.layer_norm_rms_epsilon");
    if (!(hp.rms_eps >= 0.0f) || !std::isfinite(hp.rms_eps)) {
        fail("{}: attention.layer_norm_rms_epsilon {} must be finite and >= 0", f.path(), hp.rms_eps);
    }
    hp.rope_freq_base = f.get_f32_opt(a + "rope.freq_base").value_or(10000.0f);
    if (!(hp.rope_freq_base > 0.0f) || !std::isfinite(hp.rope_freq_base)) fail("{}: rope.freq_base must be positive", f.path());

    const std::string scaling = f.get_string_opt(a + "rope.scaling.type").value_or("linear");
    if (scaling != "none" && scaling != "linear") {
        fail("{}: rope scaling type '{}' is not supported (none, linear)", f.path(), scaling);
    }
    float factor = f.get_f32_opt(a + "rope.scaling.factor").value_or(f.get_f32_opt(a + "rope.scale_linear").value_or(0.0f));
    if (scaling == "none" || factor == 0.0f) factor = 1.0f;
    if (!(factor > 0.0f) || !std::isfinite(factor)) fail("{}: rope scaling factor {} must be positive", f.path(), factor);
    hp.rope_freq_scale = 1.0f / factor;
    hp.attn_scale = f.get_f32_opt(a + "attention.scale").value_or(0.0f);

    if (auto v = f.get_u32_opt(a + "vocab_size")) {
        hp.n_vocab = *v;
    } else if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"); tokens != nullptr) {
        hp.n_vocab = static_cast<uint32_t>(tokens->array_size());
    }
    hp.n_swa = f.get_u32_opt(a + "attention.sliding_window").value_or(0);

    hp.n_expert = f.get_u32_opt(a + "expert_count").value_or(0);
    if (hp.n_expert > 0) {
        if (hp.n_expert > 1024) fail("{}: expert_count {} is out of range 1..1024", f.path(), hp.n_expert);
        hp.n_expert_used = f.get_u32(a + "expert_used_count");
        if (hp.n_expert_used == 0 || hp.n_expert_used > hp.n_expert) {
            fail("{}: expert_used_count {} must be 1..expert_count ({})", f.path(), hp.n_expert_used, hp.n_expert);
        }
        hp.n_ff_exp = f.get_u32_opt(a + "expert_feed_forward_length").value_or(hp.n_ff);
        if (hp.n_ff_exp == 0) fail("{}: expert_feed_forward_length is 0", f.path());
    }
    return hp;
}

}  // namespace ember
