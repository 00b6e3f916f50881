#include "model/runtime/offload.h"

#include "core/error.h"

#include <algorithm>

namespace ember {
namespace {

size_t aligned(size_t n, size_t a) { return (n + a - 1) / a * a; }

// The tensors one group (a layer, or the output group) moves: slots of `w` for the specs
// of that kind. Group UINT32_MAX is the output group (output norm, output, rope factors).
std::vector<Tensor**> group_slots(Weights& w, const Architecture& arch, uint32_t layer) {
    std::vector<Tensor**> slots;
    for (const TensorSpec& spec : arch.tensors) {
        if (spec.per_layer && layer != UINT32_MAX) {
            Tensor** slot = &(w.layers[layer].*spec.layer_slot);
            if (*slot != nullptr) slots.push_back(slot);
        } else if (!spec.per_layer && layer == UINT32_MAX && spec.global_slot != &Weights::tok_embd) {
            // The token embedding stays on the host: get_rows reads a few rows of it.
            Tensor** slot = &(w.*spec.global_slot);
            if (*slot != nullptr) slots.push_back(slot);
        }
    }
    // Tied embeddings: `output` is tok_embd itself and is not in the spec list as its own tensor.
    if (layer == UINT32_MAX && w.output != nullptr &&
        std::find(slots.begin(), slots.end(), &w.output) == slots.end()) {
        slots.push_back(&w.output);
    }
    return slots;
}

std::vector<uint32_t> groups_of(const OffloadPlan& plan, uint32_t n_layer) {
    std::vector<uint32_t> groups;
    for (uint32_t il = plan.first_layer; il < n_layer; ++il) groups.push_back(il);
    if (plan.output) groups.push_back(UINT32_MAX);
    return groups;
}

}  // namespace

OffloadPlan OffloadPlan::last_layers(int n_gpu_layers, uint32_t n_layer) {
    OffloadPlan p;
    const uint32_t n = n_gpu_layers < 0 ? n_layer : std::min<uint32_t>(static_cast<uint32_t>(n_gpu_layers), n_layer);
    p.first_layer = n_layer - n;
    p.output = n == n_layer;
    return p;
}

size_t OffloadedWeights::planned_bytes(const Weights& host, const Architecture& arch, const OffloadPlan& plan,
                                       size_t alignment) {
    Weights w = host;
    size_t total = 0;
    for (uint32_t g : groups_of(plan, static_cast<uint32_t>(w.layers.size()))) {
        for (Tensor** slot : group_slots(w, arch, g)) total += aligned((*slot)->nbytes(), alignment);
    }
    return total;
}

OffloadedWeights::OffloadedWeights(const Weights& host, const Architecture& arch, const OffloadPlan& plan,
                                   const BufferType& type)
    : ctx_(Context::tensor_overhead() * (arch.tensors.size() * (host.layers.size() + 1) + 8), /*no_alloc=*/true),
      weights_(host) {
    const size_t align = type.alignment();
    for (uint32_t g : groups_of(plan, static_cast<uint32_t>(host.layers.size()))) {
        const std::vector<Tensor**> slots = group_slots(weights_, arch, g);
        size_t total = 0;
        for (Tensor** slot : slots) total += aligned((*slot)->nbytes(), align);
        if (total == 0) continue;
        std::unique_ptr<Buffer> buffer = type.allocate(total);
        auto* base = static_cast<char*>(buffer->base());
        size_t offset = 0;
        for (Tensor** slot : slots) {
            const Tensor& src = **slot;
            if (!src.is_contiguous()) fail("offload: weight '{}' is not contiguous", src.name);
            Tensor* copy = ctx_.new_tensor(src.type, src.ne);
            copy->set_name(src.name);
            copy->flags = src.flags | kFlagWeight;
            copy->data = base + offset;
            copy->buffer = buffer.get();
            tensor_set(*copy, src.data, 0, src.nbytes());
            offset += aligned(src.nbytes(), align);
            *slot = copy;
        }
        bytes_ += total;
        buffers_.push_back(std::move(buffer));
    }
}

}  // namespace ember
