#include "tools/session_options.h"

#include "core/error.h"

#include <filesystem>

namespace ember::cli {

void SessionOptions::add_to(CLI::App& cmd, bool with_runtime) {
    cmd.add_option("-m,--model", model, "GGUF model file (default: the bundled stories260K)");
    if (!with_runtime) return;
    cmd.add_option("-t,--threads", threads, "threads (0: all cores)")->check(kThreadCount);
    cmd.add_option("-c,--ctx-size", ctx, "context length in tokens (0: the model's, at most 4096)");
    cmd.add_option("-b,--batch-size", batch, "tokens per step when processing the prompt");
    cmd.add_option("--backend", backend, "compute backend (see `ember devices`)");
    cmd.add_option("--device", device, "device of the backend (see `ember devices`)");
    // `-ngl N` (as llama.cpp spells it) is rewritten to --n-gpu-layers by main.cpp.
    cmd.add_option("--n-gpu-layers,--gpu-layers", gpu_layers,
                   "layers on the device, counted from the last (-1: all; all also places the output)");
    cmd.add_option("--kv-type", kv_type, "KV cache type: f16 or f32");
    cmd.add_flag("--ctx-shift", ctx_shift, "at a full context drop the older half instead of failing");
}

void add_sampling_options(CLI::App& cmd, SamplerParams& sampling) {
    cmd.add_option("--temp", sampling.temperature, "temperature (0: greedy)")->check(kNonNegative);
    cmd.add_option("--top-k", sampling.top_k, "top-k (0: off)")->check(kNonNegative);
    cmd.add_option("--top-p", sampling.top_p, "top-p (1: off)");
    cmd.add_option("--min-p", sampling.min_p, "min-p (0: off)");
    cmd.add_option("--repeat-penalty", sampling.repeat_penalty, "repetition penalty (1: off)");
    cmd.add_option("--repeat-last-n", sampling.repeat_last_n, "tokens the repetition penalty looks back over");
    cmd.add_option("--seed", sampling.seed, "random seed (default: random)");
}

std::string SessionOptions::model_path() const {
    if (!model.empty()) return model;
    for (const char* candidate : {EMBER_BUNDLED_MODEL_INSTALLED, EMBER_BUNDLED_MODEL_SOURCE}) {
        if (std::filesystem::exists(candidate)) return candidate;
    }
    fail("no model given (-m) and the bundled model is missing (looked in {} and {})", EMBER_BUNDLED_MODEL_INSTALLED,
         EMBER_BUNDLED_MODEL_SOURCE);
}

SessionParams SessionOptions::params() const {
    SessionParams p;
    p.n_ctx = ctx;
    p.n_batch = batch;
    p.n_threads = threads;
    p.backend = backend;
    p.device = device;
    p.n_gpu_layers = gpu_layers;
    p.ctx_shift = ctx_shift;
    if (kv_type == "f16") {
        p.kv_type = Type::F16;
    } else if (kv_type == "f32") {
        p.kv_type = Type::F32;
    } else {
        fail("--kv-type must be f16 or f32, not '{}'", kv_type);
    }
    return p;
}

}  // namespace ember::cli
