// Partial offload: device copies of the weights of the layers that compute on a device
// backend. The result is a Weights table like the model's, whose tensors for layers
// >= first_layer (and the output norm, output matrix and rope frequency factors when the
// output is offloaded too) point into device buffers; every other tensor is the model's own
// host tensor. The scheduler then runs each node where its weights live.
#pragma once

#include "core/backend.h"
#include "core/context.h"
#include "model/arch/architecture.h"
#include "model/arch/weights.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ember {

// How many layers go to the device and whether the output does: -ngl n places the last n
// layers there (n < 0: all), and the output layer too when n covers every layer.
struct OffloadPlan {
    uint32_t first_layer = 0;  // layers [first_layer, n_layer) are offloaded
    bool output = false;

    static OffloadPlan last_layers(int n_gpu_layers, uint32_t n_layer);
    uint32_t n_layers(uint32_t n_layer) const { return n_layer - first_layer; }
};

class OffloadedWeights {
public:
    // Uploads the selected tensors into buffers of `type` (one per layer). Throws, suggesting
    // a smaller -ngl, when the device memory runs out.
    OffloadedWeights(const Weights& host, const Architecture& arch, const OffloadPlan& plan, const BufferType& type);

    const Weights& weights() const { return weights_; }
    size_t bytes() const { return bytes_; }  // device memory the copies use

    // Bytes the plan would upload (for a check before anything is allocated).
    static size_t planned_bytes(const Weights& host, const Architecture& arch, const OffloadPlan& plan,
                                size_t alignment);

private:
    Context ctx_;  // metadata of the copies
    std::vector<std::unique_ptr<Buffer>> buffers_;
    Weights weights_;
    size_t bytes_ = 0;
};

}  // namespace ember
