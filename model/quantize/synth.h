// Synthetic models: random-weight llama GGUF files of a named shape, quantized with the
// project's reference quantizers into the tensor-type mixes llama-quantize emits
// (docs/FORMATS.md §2.3). They exist to measure speed (`ember bench --synth`) and to test the
// runtime on realistic shapes without downloading anything; their output is noise.
//
//   ember::write_synthetic_model("/tmp/t.gguf", {.shape = "tinyllama-1.1b", .type = "Q4_K_M",
//                                                .vocab_path = "models/vocab/llama-spm.gguf"});
//
// The vocabulary (tokenizer.* keys) is copied from a vocab-only GGUF: the 32000-token Llama SPM
// vocab that ships in models/vocab. Weights are deterministic in the seed (independent of the
// thread count), so the same parameters always give the same bytes. Unquantized weights are
// approximately normal with std 0.02, norms are 1; quantized tensors are made of blocks of such
// weights quantized by the reference quantizers (see SynthParams::exact).
#pragma once

#include "ember/type.h"
#include "model/quantize/quant_mix.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

struct SynthShape {
    std::string name;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t n_ff = 0;
    uint32_t n_vocab = 0;  // of the Llama SPM vocabulary; a synthetic model takes its vocabulary file's size
    uint32_t n_ctx = 0;    // llama.context_length
    float rope_freq_base = 10000.0f;
    float rms_eps = 1e-5f;
    bool tied_output = false;  // no output.weight: token_embd is reused
};

// The built-in shapes: tinyllama-1.1b, llama-0.5b, test-tiny.
const std::vector<SynthShape>& synth_shapes();
// The shape called `name`; throws ember::Error listing the known names.
const SynthShape& synth_shape(std::string_view name);

// The file types and their per-tensor type mixes are model/quantize/quant_mix.h's, shared with
// `ember quantize`; these names remain for the synth and bench code.
using SynthFileType = QuantFileType;
inline const std::vector<SynthFileType>& synth_file_types() { return quant_file_types(); }
// Case-insensitive lookup ("q4_k_m" works); throws ember::Error listing the known names.
inline const SynthFileType& synth_file_type(std::string_view name) { return quant_file_type(name); }

// The type llama-quantize gives tensor `name` (e.g. "blk.3.ffn_down.weight") of a dense llama
// with n_layer layers in file type `ftype`, for a tensor whose rows have ne0 elements and which
// has n_dims dimensions (quant_tensor_type with the layer index as the running indices).
// Tensors the rules leave alone, and rows no block type fits, are F32 (synthetic weights start as F32).
Type synth_tensor_type(const SynthFileType& ftype, std::string_view name, uint32_t n_dims, int64_t ne0,
                       uint32_t n_layer, bool has_output = true);

// use_more_bits(i, n) from §2.3: i < n/8, or i >= 7n/8, or (i - n/8) % 3 == 2.
inline bool synth_use_more_bits(uint32_t i, uint32_t n) { return quant_use_more_bits(i, n); }

// Called after each tensor is written: tensors done / total, bytes done / total, the name.
using SynthProgressFn =
    std::function<void(size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total, std::string_view name)>;

struct SynthParams {
    std::string shape = "test-tiny";
    std::string type = "Q4_K_M";
    uint64_t seed = 42;
    std::string vocab_path;  // a vocab-only GGUF with n_vocab tokens (models/vocab/llama-spm.gguf)
    int n_threads = 0;       // 0: all hardware threads
    // false (default): quantized blocks are drawn at random from a per-type pool of 2^24
    // reference-quantized random weights (seconds for a 1.1B model); true: every row is
    // generated and quantized with the reference quantizer (minutes for a 1.1B model).
    bool exact = false;
    // Called after each tensor is written.
    SynthProgressFn progress;
};

struct SynthSummary {
    uint64_t file_bytes = 0;
    uint64_t n_params = 0;
    size_t n_tensors = 0;
};

// Writes the model to `path` (through a temporary file renamed into place at the end, so a
// reader never sees a half-written file). Memory stays near one tensor's size: each tensor is
// generated, quantized (OpenMP over rows), written and freed before the next.
SynthSummary write_synthetic_model(const std::string& path, const SynthParams& params);

}  // namespace ember
