// quantize_model: read a GGUF, pick each tensor's type with the §2.3 mix, convert row by row
// (OpenMP over rows), and stream the result through gguf::StreamWriter (one tensor in memory).
#include "model/quantize/quantize.h"

#include "core/error.h"
#include "model/gguf/stream_writer.h"
#include "model/runtime/model.h"
#include "model/quantize/quant_mix.h"
#include "quant/quant.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <thread>

namespace ember {

namespace {

// The layer of "blk.N.…", or -1 (the reference sorts by sscanf("blk.%d.")).
int layer_of(std::string_view name) {
    if (!name.starts_with("blk.") || name.size() < 5 || name[4] < '0' || name[4] > '9') return -1;
    int n = 0;
    for (size_t i = 4; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) n = n * 10 + (name[i] - '0');
    return n;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool is_float_type(Type t) { return t == Type::F32 || t == Type::F16 || t == Type::BF16; }

// Metadata keys the output sets itself (or drops: a quantized file is not one shard of a split).
bool replaced_key(std::string_view key) {
    return key == "general.quantization_version" || key == "general.file_type" || key == "split.no" ||
           key == "split.count" || key == "split.tensors.count";
}

// What the rules need to know about the whole model.
QuantMixModel mix_model(const gguf::File& in) {
    QuantMixModel m;
    const std::string arch = in.get_string_opt("general.architecture").value_or("");
    uint32_t max_layer_plus_1 = 0;
    for (const gguf::TensorInfo& t : in.tensors()) {
        const std::string_view name = t.name;
        if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight")) {
            ++m.n_attn_v;
        }
        const int il = layer_of(name);
        if (il >= 0) max_layer_plus_1 = std::max(max_layer_plus_1, static_cast<uint32_t>(il) + 1);
    }
    m.has_output = in.find_tensor("output.weight") != nullptr;
    m.n_layer = arch.empty() ? max_layer_plus_1 : in.get_u32_opt(arch + ".block_count").value_or(max_layer_plus_1);
    if (!arch.empty()) {
        m.n_expert = in.get_u32_opt(arch + ".expert_count").value_or(0);
        // The reference's LLM_TYPE_70B for llama: 80 layers with grouped-query attention.
        const uint32_t n_head = in.get_u32_opt(arch + ".attention.head_count").value_or(0);
        const uint32_t n_head_kv = in.get_u32_opt(arch + ".attention.head_count_kv").value_or(n_head);
        m.is_70b = arch == "llama" && m.n_layer == 80 && n_head != n_head_kv;
    }
    return m;
}

// Tensor indices in the reference's output order: non-"blk." tensors first, then by layer, then by name.
std::vector<size_t> output_order(const std::vector<gguf::TensorInfo>& tensors) {
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const int la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
        if (la != lb) return la < lb;
        return tensors[a].name < tensors[b].name;
    });
    return order;
}

// Converts the rows of `src` (type `from`) to `to`, into dst. Rows are independent: the
// result is the same for any thread count.
void convert_rows(const gguf::TensorInfo& src, Type to, std::vector<uint8_t>& dst, int n_threads) {
    const int64_t ne0 = src.ne[0];
    const int64_t n_rows = ne0 == 0 ? 0 : src.n_elements() / ne0;
    const size_t src_row = row_size(src.type, ne0), dst_row = row_size(to, ne0);
    const quant::ToFloatFn to_float = quant::quant_traits(src.type).to_float;
    const quant::FromFloatFn from_float = quant::quant_traits(to).from_float;
    if (to_float == nullptr) fail("tensor '{}': cannot dequantize {}", src.name, type_name(src.type));
    if (from_float == nullptr) fail("tensor '{}': no quantizer for {}", src.name, type_name(to));
    dst.resize(dst_row * static_cast<size_t>(n_rows));
    // A few rows per task keeps the scheduling cost small next to a K-quant row (~100 ns / weight).
    const int64_t rows_per_task = std::max<int64_t>(1, 16384 / std::max<int64_t>(ne0, 1));
    const int64_t n_tasks = (n_rows + rows_per_task - 1) / rows_per_task;
#pragma omp parallel num_threads(n_threads) if (n_tasks > 1)
    {
        std::vector<float> row(static_cast<size_t>(ne0));
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < n_tasks; ++task) {
            const int64_t end = std::min(n_rows, (task + 1) * rows_per_task);
            for (int64_t r = task * rows_per_task; r < end; ++r) {
                to_float(src.data + static_cast<size_t>(r) * src_row, row.data(), ne0);
                from_float(row.data(), dst.data() + static_cast<size_t>(r) * dst_row, ne0);
            }
        }
    }
}

}  // namespace

QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeParams& params) {
    const QuantFileType& ft = quant_file_type(params.type);
    {
        std::error_code ec;
        if (std::filesystem::equivalent(in_path, out_path, ec)) {
            fail("{}: the output would overwrite the input: choose another output file", out_path);
        }
    }
    const gguf::File in = gguf::File::open(in_path);
    const std::vector<gguf::TensorInfo>& tensors = in.tensors();
    if (tensors.empty()) fail("{}: no tensors: nothing to quantize", in_path);
    if (const gguf::Value* split = in.find("split.count");
        split != nullptr && !split->is_array() && std::holds_alternative<uint64_t>(split->scalar) &&
        std::get<uint64_t>(split->scalar) > 1) {
        fail("{}: one shard of a split model: merge the shards first", in_path);
    }
    // The output must load wherever the input would: an input that ember rejects as a model (say
    // a vocabulary of 10 tokens for 512 embedding rows) is refused before anything is written.
    try {
        (void)Model::load(in_path);
    } catch (const Error& e) {
        fail("cannot quantize: {}", e.what());
    }
    for (const gguf::TensorInfo& t : tensors) {
        if (!quant_tensor_is_quantized(t.name, t.n_dims) || is_float_type(t.type)) continue;
        if (!params.allow_requantize) {
            fail("{}: tensor '{}' is already {}: quantizing a quantized model again loses quality; "
                 "pass --allow-requantize to dequantize and quantize it anyway",
                 in_path, t.name, type_name(t.type));
        }
        if (!type_traits(t.type).computable) {
            fail("{}: tensor '{}' is {}, which ember cannot dequantize", in_path, t.name, type_name(t.type));
        }
    }

    QuantizeSummary summary;
    summary.input_bytes = in.file_size();
    summary.ftype = ft.ftype;

    // ---- choose every tensor's type, in output order ----------------------------------------
    const std::vector<size_t> order = output_order(tensors);
    QuantMix mix(ft, mix_model(in));
    gguf::Writer w(3);
    for (const gguf::KeyValue& kv : in.metadata()) {
        if (!replaced_key(kv.key)) w.add(kv.key, kv.value);
    }
    w.add("general.quantization_version", gguf::Value::u32(2));
    w.add("general.file_type", gguf::Value::u32(ft.ftype));
    uint64_t bytes_total = 0;
    for (size_t i : order) {
        const gguf::TensorInfo& t = tensors[i];
        const std::optional<Type> want = mix.next(t.name, t.n_dims, t.ne[0]);
        QuantizedTensor q{t.name, t.ne[0], t.type, want.value_or(t.type), !want || *want == t.type, false};
        q.no_fit = !want && quant_tensor_is_quantized(t.name, t.n_dims) && is_quantized(ft.base);
        w.declare_tensor(t.name, q.to, std::span<const int64_t>(t.ne.data(), t.n_dims));
        summary.tensors.push_back(std::move(q));
        bytes_total += t.nbytes;
    }

    // ---- convert and write, one tensor at a time ----------------------------------------------
    const int n_threads = params.n_threads > 0 ? params.n_threads
                                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    gguf::StreamWriter out(w, out_path);
    std::vector<uint8_t> data;
    uint64_t bytes_done = 0;
    for (size_t k = 0; k < order.size(); ++k) {
        const gguf::TensorInfo& t = tensors[order[k]];
        const QuantizedTensor& q = summary.tensors[k];
        if (q.kept) {
            out.write_tensor(t.bytes());
        } else {
            convert_rows(t, q.to, data, n_threads);
            out.write_tensor(data);
        }
        bytes_done += t.nbytes;
        if (params.progress) params.progress(k + 1, order.size(), bytes_done, bytes_total, t.name);
    }
    summary.output_bytes = out.finish();
    return summary;
}

}  // namespace ember
