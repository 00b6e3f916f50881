// Quantizing a GGUF model file, as the reference's llama-quantize does (no importance matrix):
//
//   ember::quantize_model("model-f16.gguf", "model-Q4_K_M.gguf", {.type = "Q4_K_M"});
//
// Each tensor gets the type of the file type's mix (model/quantize/quant_mix.h, docs/FORMATS.md §2.3); its
// rows are converted to F32 and quantized with the reference quantizers (quant/), so an F16
// input gives the reference's bytes. The output keeps the input's metadata, with
// general.quantization_version = 2 and general.file_type set (both moved to the end, as the
// reference does), and its tensors in the reference's order: non-"blk." tensors first, then by
// layer, then by name. Rows are independent, so the bytes do not depend on the thread count.
#pragma once

#include "ember/type.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

struct QuantizeParams {
    std::string type = "Q4_K_M";   // a quant_file_types() name, case-insensitive
    int n_threads = 0;              // 0: all hardware threads
    // An input with quantized weights is refused (quantizing twice loses quality) unless this
    // is set; then those tensors are dequantized to F32 and quantized again.
    bool allow_requantize = false;
    // Called after each tensor: tensors done / total, input bytes done / total, the tensor's name.
    std::function<void(size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total, std::string_view name)>
        progress;
};

struct QuantizedTensor {
    std::string name;
    int64_t ne0 = 0;        // elements per row
    Type from = Type::F32;  // the input's type
    Type to = Type::F32;    // the output's type
    bool kept = false;      // copied unchanged: not a quantized weight, same type, or no block type fits its rows
    bool no_fit = false;    // the mix's type does not fit its rows (ne0 % 32 != 0 for Q8_0 / Q4_0): kept
};

struct QuantizeSummary {
    uint64_t input_bytes = 0;   // file sizes
    uint64_t output_bytes = 0;
    uint32_t ftype = 0;         // general.file_type written
    std::vector<QuantizedTensor> tensors;  // in output order
};

// Reads `in_path` (F32, F16 or BF16 weights), writes `out_path` through a temporary file that
// is renamed into place at the end. Throws ember::Error naming the file and the problem: an
// unreadable or malformed input, an unknown type, quantized input weights without
// allow_requantize, an output path that is the input.
QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeParams& params);

}  // namespace ember
