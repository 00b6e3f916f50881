// A backend-independent op-test harness.
//
// An OpCase builds a small graph in an allocating Context (random inputs, host memory)
// and says what the output should be: one or more Checks, each a reference computed
// directly from the host inputs (plain loops, in double where sensible, indexing through
// nb so views are honoured) and an NMSE threshold. run_case() evaluates the references,
// runs the graph on any Backend, reads the output back and compares by normalized mean
// squared error, NMSE = Σ(got - want)² / Σ want².
//
// Backends that cannot read host memory (Vulkan) get every tensor of the graph placed in
// one buffer of their buffer type first; the CPU backend can be forced down that path too.
// The case lists themselves live in op_cases.h, so every backend runs the same cases.
#pragma once

#include "core/backend.h"
#include "core/context.h"
#include "core/tensor.h"

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ember::test {

class Rng {
public:
    explicit Rng(uint64_t seed) : gen_(seed) {}
    float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen_); }
    int32_t integer(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(gen_); }  // [lo, hi]

private:
    std::mt19937_64 gen_;
};

// ---- building inputs ----

// A new contiguous tensor filled with uniform random values in [lo, hi]: plain float types
// directly, I32 as integers, quantized types by quantizing random floats row by row.
Tensor* random_tensor(Context& ctx, Rng& rng, Type type, std::array<int64_t, 4> ne, float lo = -1.0f, float hi = 1.0f);

// Writes v into element (i0, i1, i2, i3) of a host tensor of a plain type (F32, F16, BF16, I32).
void set_value(Tensor& t, double v, int64_t i0, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0);

// ---- reading host data for references (through nb) ----

// Element (i0, i1, i2, i3) of a plain-type host tensor (F32, F16, BF16, I32).
double value(const Tensor& t, int64_t i0, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0);

// Row (i1, i2, i3) as floats: dequantized for block types, element by element for plain ones.
std::vector<float> row_values(const Tensor& t, int64_t i1, int64_t i2 = 0, int64_t i3 = 0);

// Every element of a host tensor in logical order (i0 fastest), as double.
std::vector<double> all_values(const Tensor& t);

// x rounded through `type` and back: quantize with the reference from_float, then to_float.
// n must be a multiple of the type's block size.
std::vector<float> round_trip(Type type, const std::vector<float>& x);

double nmse(const std::vector<double>& got, const std::vector<double>& want);

// ---- cases ----

struct Check {
    std::string what;                                // "vs dequantized reference", ...
    std::function<std::vector<double>()> reference;  // expected output, logical order of the output node
    double max_nmse = 1e-10;                         // 0: must match exactly
};

struct Built {
    Tensor* out = nullptr;
    std::vector<Check> checks;
};

struct OpCase {
    std::string name;
    std::function<Built(Context& ctx, Rng& rng)> build;
    size_t ctx_bytes = 64u << 20;
};

struct RunOptions {
    uint64_t seed = 1234;
    // Place all tensors in a buffer of backend.buffer_type() even if it can read host memory.
    bool force_buffer = false;
    // Skip (rather than fail) a case whose graph has a node the backend does not support.
    bool skip_unsupported = false;
    // Multiplies every non-zero threshold (a backend with coarser arithmetic may ask for more);
    // exact checks stay exact.
    double nmse_scale = 1.0;
};

// What one run produced: the output (logical order) and the NMSE of each check.
struct CaseResult {
    bool skipped = false;  // skip_unsupported and some node was not supported
    std::vector<double> got;
    std::vector<double> nmse;
    std::vector<std::pair<Op, const Backend*>> placed;  // run_case_scheduled: each compute node's backend
};

// Builds, runs and checks one case; reports failures with ADD_FAILURE naming the case and
// check (so it works inside any test). Exceptions from the backend propagate.
CaseResult run_case(Backend& backend, const OpCase& c, const RunOptions& options = {});

// The same through a Scheduler over `backends` (priority order, the CPU last), as a model
// runs: nodes a backend does not support go to a later one. With options.force_buffer the
// leaves whose every user backends[0] supports are first moved into buffers of its type, as
// a model offloads its weights; the others stay in host memory.
CaseResult run_case_scheduled(const std::vector<Backend*>& backends, const OpCase& c, const RunOptions& options = {});

// Runs every case, each under its own trace. Returns how many were skipped.
int run_cases(Backend& backend, const std::vector<OpCase>& cases, const RunOptions& options = {});

}  // namespace ember::test
