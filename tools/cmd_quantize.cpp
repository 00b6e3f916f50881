// `ember quantize IN.gguf OUT.gguf TYPE`: writes a quantized copy of an F32/F16/BF16 model
// (model/quantize/quantize.h), with progress on stderr (tools/progress.h) and a size/time summary.
#include "core/error.h"
#include "model/quantize/quant_mix.h"
#include "model/quantize/quantize.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/session_options.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

struct QuantizeOptions {
    std::string in;
    std::string out;
    std::string type;
    int threads = 0;
    bool allow_requantize = false;
};

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

int run(const QuantizeOptions& o) {
    ember::QuantizeParams p;
    p.type = o.type;
    p.n_threads = o.threads;
    p.allow_requantize = o.allow_requantize;
    ember::cli::Progress progress("quantize");
    p.progress = [&](size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total, std::string_view name) {
        const double frac = bytes_total ? static_cast<double>(bytes_done) / static_cast<double>(bytes_total) : 1.0;
        progress.update(frac, fmt::format("{}/{} {}", done, total, name));
    };
    ember::QuantizeSummary s;
    try {
        s = ember::quantize_model(o.in, o.out, p);
    } catch (...) {
        progress.abandon();  // the error goes on a line of its own
        throw;
    }
    const double seconds = progress.elapsed_s();
    progress.finish(fmt::format("{} tensors", s.tensors.size()));

    size_t n_converted = 0;
    for (const ember::QuantizedTensor& t : s.tensors) {
        if (!t.kept) ++n_converted;
        if (t.no_fit) {
            const ember::Type base = ember::quant_file_type(o.type).base;
            fmt::print(stderr, "note: {}: rows of {} elements are not whole {} blocks of {}: kept as {}\n", t.name,
                       t.ne0, ember::type_name(base), ember::block_size(base), ember::type_name(t.from));
        }
    }
    fmt::print(stderr, "wrote {}: {} (file type {}), {} tensors, {} converted\n", o.out,
               ember::quant_file_type(o.type).name, s.ftype, s.tensors.size(), n_converted);
    fmt::print(stderr, "size {:.2f} MiB -> {:.2f} MiB ({:.1f}%), {:.2f} s\n", mib(s.input_bytes), mib(s.output_bytes),
               s.input_bytes ? 100.0 * static_cast<double>(s.output_bytes) / static_cast<double>(s.input_bytes) : 0.0,
               seconds);
    return 0;
}

ember::cli::Run setup(CLI::App& cmd) {
    auto o = std::make_shared<QuantizeOptions>();
    const std::string types = ember::quant_file_type_names();
    cmd.add_option("input", o->in, "GGUF file with F32, F16 or BF16 weights")->required();
    cmd.add_option("output", o->out, "GGUF file to write")->required();
    cmd.add_option("type", o->type, "file type: " + types)
        ->required()
        ->check(CLI::Validator(
            [types](std::string& name) -> std::string {
                try {
                    ember::quant_file_type(name);
                    return {};
                } catch (const ember::Error&) {
                    return "unknown type '" + name + "' (valid: " + types + ")";
                }
            },
            "TYPE", "file type"));
    cmd.add_option("-t,--threads", o->threads, "threads (0: all cores); the output does not depend on it")
        ->check(ember::cli::kThreadCount);
    cmd.add_flag("--allow-requantize", o->allow_requantize,
                 "accept quantized input weights: dequantize them and quantize again (loses quality)");
    return [o] { return run(*o); };
}

}  // namespace

EMBER_CLI_COMMAND(quantize, "Quantize a model (F32/F16/BF16 GGUF) to Q8_0, Q4_0, Q4_K_S/M, Q5_K_S/M or Q6_K", setup);
