#include "core/graph.h"

#include <algorithm>

namespace ember {

Graph::Graph(std::initializer_list<Tensor*> outputs) {
    for (Tensor* t : outputs) expand(*t);
}

bool Graph::contains(const Tensor* t) const { return visited_.contains(t); }

void Graph::expand(Tensor& output) {
    output.flags |= kFlagOutput;
    visit(&output);
    if (std::find(outputs_.begin(), outputs_.end(), &output) == outputs_.end()) outputs_.push_back(&output);
}

// Iterative post-order DFS: graphs of deep models are thousands of nodes long.
void Graph::visit(Tensor* root) {
    struct Frame {
        Tensor* t;
        int next_src;
    };
    if (contains(root)) return;
    std::vector<Frame> stack{{root, 0}};
    auto mark = [this](const Tensor* t) { visited_.insert(t); };
    mark(root);
    while (!stack.empty()) {
        Frame& f = stack.back();
        // Sources first, then the storage a view reads from.
        Tensor* next = nullptr;
        while (f.next_src <= kMaxSrc && next == nullptr) {
            Tensor* s = f.next_src < kMaxSrc ? f.t->src[f.next_src] : f.t->view_src;
            ++f.next_src;
            if (s != nullptr && !contains(s)) next = s;
        }
        if (next != nullptr) {
            mark(next);
            stack.push_back({next, 0});
            continue;
        }
        Tensor* done = f.t;
        stack.pop_back();
        (done->op == Op::None ? leafs_ : nodes_).push_back(done);
    }
}

}  // namespace ember
