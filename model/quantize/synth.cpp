// Synthetic model writer. The GGUF header is encoded by gguf::Writer (the tensors declared) and the
// data section streamed through gguf::StreamWriter one tensor at a time, in the canonical layout
// (docs/FORMATS.md §1.5), so the file reads back exactly and peak memory is one tensor.
#include "model/quantize/synth.h"

#include "core/error.h"
#include "model/gguf/stream_writer.h"
#include "quant/quant.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <unistd.h>

namespace ember {

const std::vector<SynthShape>& synth_shapes() {
    // name, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx, rope base, rms eps, tied
    static const std::vector<SynthShape> kShapes = {
        // TinyLlama-1.1B: 1.10 B parameters.
        {"tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f, false},
        // A ~0.5B llama (0.53 B parameters): head dim 64, no GQA, Qwen2-0.5B's FFN width.
        {"llama-0.5b", 1024, 24, 16, 16, 4864, 32000, 2048, 10000.0f, 1e-5f, false},
        // For tests: rows of 256 and 512, so the K-quant rules apply without the ne0 fallbacks.
        {"test-tiny", 256, 2, 4, 2, 512, 32000, 512, 10000.0f, 1e-5f, false},
    };
    return kShapes;
}

const SynthShape& synth_shape(std::string_view name) {
    std::string known;
    for (const SynthShape& s : synth_shapes()) {
        if (s.name == name) return s;
        known += known.empty() ? s.name : ", " + s.name;
    }
    fail("unknown synthetic model shape '{}' (known: {})", name, known);
}

Type synth_tensor_type(const SynthFileType& ft, std::string_view name, uint32_t n_dims, int64_t ne0,
                       uint32_t n_layer, bool has_output) {
    // In a dense llama the running attn_v / ffn_down indices are the layer index.
    uint32_t layer = 0;
    if (name.starts_with("blk.")) {
        for (size_t i = 4; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) {
            layer = layer * 10 + static_cast<uint32_t>(name[i] - '0');
        }
    }
    const QuantMixModel model{.n_layer = n_layer, .n_attn_v = n_layer, .has_output = has_output};
    return quant_tensor_type(ft, model, {name, n_dims, ne0, layer, layer}).value_or(Type::F32);
}

namespace {

// ---- deterministic random numbers ------------------------------------------------------

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One row of approximately normal values with standard deviation `stddev`: each value is the
// centred sum of four 16-bit uniforms (Irwin-Hall, variance 1/3 before scaling), cheap and
// bounded (|x| < 3.47 std), which is all a speed benchmark needs from a weight init.
void fill_row(float* dst, int64_t n, uint64_t seed, uint64_t tensor, uint64_t row, float stddev) {
    uint64_t state = seed;
    state = splitmix64(state) ^ (tensor * 0xD1B54A32D192ED03ull);
    state = splitmix64(state) ^ (row * 0xABC98388FB8FAC03ull);
    const float scale = stddev * std::sqrt(3.0f) / 65536.0f;
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = splitmix64(state);
        const uint32_t sum = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                             static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
        dst[i] = (static_cast<float>(sum) - 2.0f * 65535.0f) * scale;
    }
}

// ---- block pools ------------------------------------------------------------------------
//
// Quantizing every row of a 1.1B model with the reference quantizers costs ~100 ns per weight
// for the K-quants (two minutes of CPU). Instead, each quantized type gets a pool of random
// weights quantized once by the reference quantizer (1/16 of the model, at most 2^24 weights:
// 65536 blocks of Q4_K, 524288 of Q8_0), and every block of every tensor is a pool block picked by a seeded random index.
// Each block is a genuine reference-quantized block of random data; tensors share no rows.
// SynthParams::exact quantizes every row instead.

constexpr int64_t kPoolRow = 4096;                  // the pool is quantized in rows of 4096 weights
constexpr int64_t kMaxPoolElements = int64_t{1} << 24;

// A sixteenth of the model, between 2^16 and 2^24 weights: small models stay cheap to write.
int64_t pool_elements(uint64_t n_params) {
    const int64_t want = static_cast<int64_t>(std::min<uint64_t>(n_params / 16, kMaxPoolElements));
    return std::max<int64_t>(int64_t{1} << 16, want / kPoolRow * kPoolRow);
}

struct BlockPool {
    std::vector<uint8_t> bytes;
    size_t block_bytes = 0;
    int64_t n_blocks = 0;
};

BlockPool make_pool(Type type, int64_t n_elements, uint64_t seed, int n_threads) {
    BlockPool pool;
    const int64_t bs = block_size(type);
    pool.block_bytes = type_size(type);
    pool.n_blocks = n_elements / bs;
    pool.bytes.resize(static_cast<size_t>(pool.n_blocks) * pool.block_bytes);
    const quant::FromFloatFn from_float = quant::quant_traits(type).from_float;
    constexpr int64_t kRow = kPoolRow;
    const int64_t n_rows = n_elements / kRow;
    const size_t row_bytes = row_size(type, kRow);
#pragma omp parallel num_threads(n_threads)
    {
        std::vector<float> row(kRow);
#pragma omp for schedule(dynamic, 8)
        for (int64_t r = 0; r < n_rows; ++r) {
            fill_row(row.data(), kRow, seed, 0xB10C'0000ull + static_cast<uint32_t>(type), static_cast<uint64_t>(r), 0.02f);
            from_float(row.data(), pool.bytes.data() + static_cast<size_t>(r) * row_bytes, kRow);
        }
    }
    return pool;
}

// Fills one row of `n_blocks` blocks from the pool, in a random order determined by the arguments.
void fill_row_from_pool(uint8_t* dst, int64_t n_blocks, const BlockPool& pool, uint64_t seed, uint64_t tensor,
                        uint64_t row) {
    uint64_t state = seed ^ 0x5EED'B10Cull;
    state = splitmix64(state) ^ (tensor * 0xD1B54A32D192ED03ull);
    state = splitmix64(state) ^ (row * 0xABC98388FB8FAC03ull);
    for (int64_t b = 0; b < n_blocks; ++b) {
        const uint64_t pick = splitmix64(state) % static_cast<uint64_t>(pool.n_blocks);
        std::memcpy(dst + static_cast<size_t>(b) * pool.block_bytes, pool.bytes.data() + pick * pool.block_bytes,
                    pool.block_bytes);
    }
}

// ---- the tensor list -------------------------------------------------------------------

struct SynthTensor {
    std::string name;
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    uint32_t n_dims = 1;
    Type type = Type::F32;
    size_t nbytes = 0;
    bool ones = false;  // norms start at 1
};

std::vector<SynthTensor> tensor_list(const SynthShape& s, const SynthFileType& ft) {
    const int64_t head_dim = s.n_embd / s.n_head;
    const int64_t n_embd = s.n_embd, n_q = head_dim * s.n_head, n_kv = head_dim * s.n_head_kv, n_ff = s.n_ff;
    std::vector<SynthTensor> list;
    auto add = [&](std::string name, int64_t ne0, int64_t ne1) {
        SynthTensor t;
        t.name = std::move(name);
        t.ne = {ne0, ne1, 1, 1};
        t.n_dims = ne1 > 0 ? 2 : 1;
        if (ne1 <= 0) t.ne[1] = 1;
        t.ones = t.n_dims == 1;
        t.type = synth_tensor_type(ft, t.name, t.n_dims, ne0, s.n_layer, !s.tied_output);
        t.nbytes = row_size(t.type, ne0) * static_cast<size_t>(t.ne[1]);
        list.push_back(std::move(t));
    };
    // Non-block tensors first, then each layer's tensors by name (llama-quantize's output order).
    add("token_embd.weight", n_embd, s.n_vocab);
    add("output_norm.weight", n_embd, 0);
    if (!s.tied_output) add("output.weight", n_embd, s.n_vocab);
    for (uint32_t il = 0; il < s.n_layer; ++il) {
        const std::string p = fmt::format("blk.{}.", il);
        add(p + "attn_k.weight", n_embd, n_kv);
        add(p + "attn_norm.weight", n_embd, 0);
        add(p + "attn_output.weight", n_q, n_embd);
        add(p + "attn_q.weight", n_embd, n_q);
        add(p + "attn_v.weight", n_embd, n_kv);
        add(p + "ffn_down.weight", n_ff, n_embd);
        add(p + "ffn_gate.weight", n_embd, n_ff);
        add(p + "ffn_norm.weight", n_embd, 0);
        add(p + "ffn_up.weight", n_embd, n_ff);
    }
    return list;
}

}  // namespace

SynthSummary write_synthetic_model(const std::string& path, const SynthParams& params) {
    SynthShape shape = synth_shape(params.shape);
    const SynthFileType& ft = synth_file_type(params.type);
    if (params.vocab_path.empty()) fail("synthetic model: no vocabulary file given");
    const gguf::File vocab = gguf::File::open(params.vocab_path);
    {
        const gguf::Value* tokens = vocab.get_array_opt("tokenizer.ggml.tokens", gguf::ValueType::STRING);
        if (tokens == nullptr) fail("{}: no tokenizer.ggml.tokens: not a vocabulary file", params.vocab_path);
        if (tokens->array_size() < 2 || tokens->array_size() > (1u << 24)) {
            fail("{}: a vocabulary of {} tokens", params.vocab_path, tokens->array_size());
        }
        // The embedding and output matrices take the vocabulary's size (the shape names the
        // Llama one's): any real tokenizer, with its chat template, on a random-weight model.
        shape.n_vocab = static_cast<uint32_t>(tokens->array_size());
    }

    // ---- header: metadata records through gguf::Writer --------------------------------------
    gguf::Writer w(3);
    w.add("general.architecture", gguf::Value::string("llama"));
    w.add("general.name", gguf::Value::string("synthetic " + shape.name));
    w.add("general.file_type", gguf::Value::u32(ft.ftype));
    w.add("general.quantization_version", gguf::Value::u32(2));
    w.add("llama.vocab_size", gguf::Value::u32(shape.n_vocab));
    w.add("llama.context_length", gguf::Value::u32(shape.n_ctx));
    w.add("llama.embedding_length", gguf::Value::u32(shape.n_embd));
    w.add("llama.block_count", gguf::Value::u32(shape.n_layer));
    w.add("llama.feed_forward_length", gguf::Value::u32(shape.n_ff));
    w.add("llama.attention.head_count", gguf::Value::u32(shape.n_head));
    w.add("llama.attention.head_count_kv", gguf::Value::u32(shape.n_head_kv));
    w.add("llama.attention.layer_norm_rms_epsilon", gguf::Value::f32(shape.rms_eps));
    w.add("llama.rope.dimension_count", gguf::Value::u32(shape.n_embd / shape.n_head));
    w.add("llama.rope.freq_base", gguf::Value::f32(shape.rope_freq_base));
    for (const gguf::KeyValue& kv : vocab.metadata()) {
        if (kv.key.starts_with("tokenizer.")) w.add(kv.key, kv.value);
    }
    const std::vector<SynthTensor> tensors = tensor_list(shape, ft);
    uint64_t data_bytes = 0;
    SynthSummary summary;
    for (const SynthTensor& t : tensors) {
        w.declare_tensor(t.name, t.type, std::span<const int64_t>(t.ne.data(), t.n_dims));
        data_bytes += t.nbytes;
        summary.n_params += static_cast<uint64_t>(t.ne[0] * t.ne[1]);
    }
    summary.n_tensors = tensors.size();

    // ---- data: one tensor at a time ------------------------------------------------------
    {
        gguf::StreamWriter out(w, path);  // a temporary file, renamed into place by finish()
        const int n_threads = params.n_threads > 0 ? params.n_threads
                                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        uint64_t bytes_done = 0;
        std::vector<uint8_t> data;
        std::map<Type, BlockPool> pools;  // built on first use of each quantized type
        for (size_t ti = 0; ti < tensors.size(); ++ti) {
            const SynthTensor& t = tensors[ti];
            data.assign(t.nbytes, 0);  // reuses the largest allocation so far
            const int64_t ne0 = t.ne[0], n_rows = t.ne[1];
            const size_t row_bytes = row_size(t.type, ne0);
            const quant::FromFloatFn from_float =
                t.type == Type::F32 ? nullptr : quant::quant_traits(t.type).from_float;
            if (t.type != Type::F32 && from_float == nullptr) fail("synthetic model: no quantizer for {}", type_name(t.type));
            const BlockPool* pool = nullptr;
            if (!params.exact && !t.ones && is_quantized(t.type)) {
                auto it = pools.find(t.type);
                if (it == pools.end()) it = pools.emplace(t.type, make_pool(t.type, pool_elements(summary.n_params), params.seed, n_threads)).first;
                pool = &it->second;
            }
#pragma omp parallel num_threads(n_threads) if (n_rows > 1)
            {
                std::vector<float> row(pool ? 0 : static_cast<size_t>(ne0));
#pragma omp for schedule(dynamic, 16)
                for (int64_t r = 0; r < n_rows; ++r) {
                    uint8_t* dst = data.data() + static_cast<size_t>(r) * row_bytes;
                    if (pool != nullptr) {
                        fill_row_from_pool(dst, ne0 / block_size(t.type), *pool, params.seed, ti, static_cast<uint64_t>(r));
                        continue;
                    }
                    if (t.ones) {
                        std::fill(row.begin(), row.end(), 1.0f);
                    } else {
                        fill_row(row.data(), ne0, params.seed, ti, static_cast<uint64_t>(r), 0.02f);
                    }
                    if (from_float == nullptr) {
                        std::memcpy(dst, row.data(), row_bytes);
                    } else {
                        from_float(row.data(), dst, ne0);
                    }
                }
            }
            out.write_tensor(data);
            bytes_done += t.nbytes;
            if (params.progress) params.progress(ti + 1, tensors.size(), bytes_done, data_bytes, t.name);
        }
        summary.file_bytes = out.finish();
    }
    return summary;
}

}  // namespace ember
