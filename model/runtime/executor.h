// Executor: where and how a model's graphs run. It creates the chosen backend (and the CPU as
// the fallback for what that backend does not support), the scheduler that assigns each node to
// one of them, and, for a device that cannot read host memory, device copies of the layers it
// computes (after checking they fit, with the KV cache, in the device's memory). A Session owns
// one; the KV cache it creates puts each layer's cells where that layer computes.
#pragma once

#include "ember/type.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ember {

class Backend;
class BufferType;
class Graph;
class KvCache;
class Model;
class OffloadedWeights;
class Scheduler;
struct Weights;

struct ExecutorParams {
    std::string backend = "cpu";
    int device = 0;         // which device of `backend`
    int n_threads = 0;      // 0: all hardware threads
    int n_gpu_layers = -1;  // device backends: the last n layers (and the output when n covers all); -1: all
};

class Executor {
public:
    // kv_bytes_per_layer: one layer's KV cache bytes, counted in the device memory check.
    // Throws ember::Error for an unknown backend or device, or when the offloaded layers do not
    // fit in the device's memory (suggesting a smaller -ngl or -c).
    Executor(const Model& model, const ExecutorParams& params, size_t kv_bytes_per_layer);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // What graphs read: the model's weights, with device copies for the offloaded layers.
    const Weights& weights() const { return *weights_; }

    // A cache of n_ctx cells of `type` whose offloaded layers live in device memory.
    std::unique_ptr<KvCache> create_kv_cache(uint32_t n_ctx, Type type) const;

    // Assigns the graph's nodes to backends and allocates its intermediates (inputs can then
    // be set), then runs it.
    void allocate(Graph& graph);
    void compute(Graph& graph);

private:
    const Model& model_;
    std::vector<std::unique_ptr<Backend>> backends_;  // priority order, the CPU last
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<OffloadedWeights> offloaded_;  // nullptr when the device reads host memory
    const Weights* weights_ = nullptr;
    const BufferType* device_type_ = nullptr;  // the offload target (nullptr: none)
    uint32_t first_device_layer_ = UINT32_MAX;
};

}  // namespace ember
