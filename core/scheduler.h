// Scheduler: runs one graph across several backends.
//
// 1. Assign: each node goes to the first backend (in priority order) that supports
//    it and can read the leaves it uses in place (weights, caches), so weights never
//    move; nodes that read no such leaf stay on the previous node's backend when it
//    supports them. The last backend (the CPU) supports everything.
// 2. Split: consecutive nodes on one backend form a split. A source stored where
//    the split's backend cannot read it is copied into that backend first.
// 3. Allocate: each backend's activations are planned with buffer reuse.
// 4. Compute: per split, copy the inputs in, then run the backend.
#pragma once

#include "core/backend.h"
#include "core/context.h"
#include "core/graph.h"
#include "core/graph_alloc.h"

#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace ember {

class Scheduler {
public:
    struct Copy {
        Tensor* from;  // storage in another backend's buffer
        Tensor* to;    // its twin in this split's backend
    };
    struct Split {
        Backend* backend = nullptr;
        std::vector<Tensor*> nodes;
        std::vector<Copy> copies;  // made before the nodes run
    };

    // `backends` in priority order; the last one must support every op on host memory.
    explicit Scheduler(std::vector<Backend*> backends);

    // Assigns, splits and allocates `graph`. Input leaves without data get host memory,
    // which the caller fills (tensor_set) before compute(). Sources of nodes may be re-pointed
    // at copies, so build a new graph for each step.
    void allocate(Graph& graph);
    // allocate() when `graph` is not the last one allocated, then copies and computes.
    void compute(Graph& graph);

    std::span<const Split> splits() const { return splits_; }
    Backend* backend_of(const Tensor& node) const;
    size_t n_copies() const;
    // Activation bytes the last plan needed on `backend`.
    size_t peak_bytes(const Backend& backend) const;

private:
    int choose_backend(const Tensor& node, int current) const;
    Tensor* twin_for(Split& split, Tensor& src);

    std::vector<Backend*> backends_;
    std::vector<std::unique_ptr<GraphAllocator>> allocators_;  // one per backend
    std::unique_ptr<Context> copies_ctx_;                      // metadata of copies, per allocate()
    std::unordered_map<const Tensor*, int> assignment_;
    std::vector<Split> splits_;
    const Graph* allocated_ = nullptr;
};

}  // namespace ember
