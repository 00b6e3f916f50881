// Options shared by the subcommands that run a model (generate, eval, perplexity, tokenize).
#pragma once

#include "ember/session.h"
#include "model/runtime/model.h"

#include <CLI/CLI.hpp>

#include <string>

namespace ember::cli {

// A number option that must be >= 0 (the sampler reads negatives as 0; the CLI refuses them).
inline const CLI::Validator kNonNegative(
    [](const std::string& text) -> std::string {
        try {
            if (std::stod(text) >= 0.0) return {};
        } catch (const std::exception&) {
        }
        return "must be a number >= 0, not " + text;
    },
    ">=0");

// -t: 0 (all cores) up to 1024 threads.
inline const CLI::Range kThreadCount(0, 1024);

// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n, --seed (generate, chat).
void add_sampling_options(CLI::App& cmd, SamplerParams& sampling);

struct SessionOptions {
    std::string model;  // empty: the bundled model
    int threads = 0;
    uint32_t ctx = 0;
    uint32_t batch = 512;
    std::string backend = "cpu";
    int device = 0;
    int gpu_layers = -1;
    std::string kv_type = "f16";
    bool ctx_shift = false;

    // Adds -m, -t, -c, -b, --backend, --device, -ngl, --kv-type, --ctx-shift (all but -m with_runtime).
    void add_to(CLI::App& cmd, bool with_runtime = true);
    // The model file: -m, or the bundled model (installed copy first, then the source tree's).
    std::string model_path() const;
    SessionParams params() const;
};

}  // namespace ember::cli
