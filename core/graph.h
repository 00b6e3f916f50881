// Graph: the op nodes needed for a set of outputs, in topological order
// (every node after its sources). Building a graph never computes anything.
#pragma once

#include "core/tensor.h"

#include <initializer_list>
#include <span>
#include <unordered_set>
#include <vector>

namespace ember {

class Graph {
public:
    Graph() = default;
    explicit Graph(std::initializer_list<Tensor*> outputs);

    // Adds `output` and everything it depends on (once); marks it kFlagOutput.
    void expand(Tensor& output);

    // Op tensors (including no-compute views), sources first.
    std::span<Tensor* const> nodes() const { return nodes_; }
    // Tensors with no op: weights, inputs, caches.
    std::span<Tensor* const> leafs() const { return leafs_; }
    std::span<Tensor* const> outputs() const { return outputs_; }

    bool contains(const Tensor* t) const;

private:
    void visit(Tensor* t);

    std::vector<Tensor*> nodes_;
    std::vector<Tensor*> leafs_;
    std::vector<Tensor*> outputs_;
    std::unordered_set<const Tensor*> visited_;
};

}  // namespace ember
