#include "core/scheduler.h"

#include "core/error.h"

#include <cstring>
#include <unordered_set>

namespace ember {
namespace {

constexpr size_t kCopiesArena = 4 << 20;

const Tensor* storage_of(const Tensor& t) { return t.view_src != nullptr ? t.view_src : &t; }

// A leaf that must be used where it lives: weights, caches. Inputs are cheap to move.
bool is_pinned_leaf(const Tensor& t) { return t.op == Op::None && (t.flags & kFlagInput) == 0 && t.data != nullptr; }

// Where `t`'s storage will live, as a buffer type, once allocation is done.
const BufferType& location(const Tensor& storage, const std::unordered_map<const Tensor*, int>& assignment,
                                  const std::vector<Backend*>& backends) {
    if (storage.buffer != nullptr) return storage.buffer->type();
    const auto it = assignment.find(&storage);
    if (it != assignment.end()) return backends[it->second]->buffer_type();
    return HostBufferType::instance();  // plain host memory or a host-allocated input
}

}  // namespace

Scheduler::Scheduler(std::vector<Backend*> backends) : backends_(std::move(backends)) {
    if (backends_.empty()) fail("scheduler: no backends given");
    if (!backends_.back()->buffer_type().is_host()) fail("scheduler: the last backend must compute on host memory (the CPU)");
    for (Backend* b : backends_) allocators_.push_back(std::make_unique<GraphAllocator>(b->buffer_type()));
}

int Scheduler::choose_backend(const Tensor& node, int current) const {
    std::vector<const Tensor*> pinned;
    for (const Tensor* s : node.src) {
        if (s != nullptr && is_pinned_leaf(*storage_of(*s))) pinned.push_back(storage_of(*s));
    }
    auto can_read_all = [&](const Backend& b) {
        for (const Tensor* p : pinned) {
            if (!b.can_read(*p)) return false;
        }
        return true;
    };
    const int n = static_cast<int>(backends_.size());
    if (pinned.empty() && current >= 0 && backends_[current]->supports_op(node)) return current;
    for (int i = 0; i < n; ++i) {
        if (backends_[i]->supports_op(node) && can_read_all(*backends_[i])) return i;
    }
    // Nobody reads the leaves in place: one backend that supports the op gets copies of them,
    // unless the op writes into a leaf (cpy into a cache), which a copy would lose.
    if (node.op == Op::Cpy) {
        fail("cpy into '{}': no backend that supports it can write where it lives", node.src[1]->name);
    }
    for (int i = 0; i < n; ++i) {
        if (backends_[i]->supports_op(node)) return i;
    }
    fail("no backend supports {} for '{}'", op_name(node.op), node.name);
}

Backend* Scheduler::backend_of(const Tensor& node) const {
    auto it = assignment_.find(&node);
    if (it == assignment_.end()) it = assignment_.find(storage_of(node));  // a view: where its storage is
    return it == assignment_.end() ? nullptr : backends_[it->second];
}

size_t Scheduler::n_copies() const {
    size_t n = 0;
    for (const Split& s : splits_) n += s.copies.size();
    return n;
}

size_t Scheduler::peak_bytes(const Backend& backend) const {
    for (size_t i = 0; i < backends_.size(); ++i) {
        if (backends_[i] == &backend) return allocators_[i]->peak();
    }
    return 0;
}

Tensor* Scheduler::twin_for(Split& split, Tensor& src) {
    Tensor* owner = const_cast<Tensor*>(storage_of(src));
    if (split.backend->supports_buffer(location(*owner, assignment_, backends_))) return &src;

    const int backend_index = assignment_.at(split.nodes.front());
    Tensor* owner_twin = nullptr;
    for (const Copy& c : split.copies) {
        if (c.from == owner) owner_twin = c.to;
    }
    if (owner_twin == nullptr) {
        owner_twin = copies_ctx_->new_tensor(owner->type, owner->ne);
        owner_twin->set_name(fmt::format("{}#{}", owner->name, split.backend->name()));
        owner_twin->src[0] = owner;  // read at copy time
        assignment_[owner_twin] = backend_index;
        split.copies.push_back({owner, owner_twin});
    }
    if (owner == &src) return owner_twin;
    // Re-create the view on the twin (offsets are relative to the storage owner).
    Tensor* view = copies_ctx_->new_view(*owner_twin, src.ne, std::array<size_t, 3>{src.nb[1], src.nb[2], src.nb[3]},
                                         src.view_offs);
    view->nb = src.nb;
    view->set_name(src.name);
    return view;
}

void Scheduler::allocate(Graph& graph) {
    assignment_.clear();
    splits_.clear();
    copies_ctx_ = std::make_unique<Context>(kCopiesArena, /*no_alloc=*/true);
    const int host = static_cast<int>(backends_.size()) - 1;

    // Inputs without memory live on the host; the caller fills them after allocate().
    for (Tensor* leaf : graph.leafs()) {
        if (leaf->data == nullptr) {
            leaf->flags |= kFlagInput;
            assignment_[leaf] = host;
        }
    }

    // 1 + 2: assign and split. Views compute nothing and belong to no split.
    std::vector<Tensor*> views;
    int current = -1;
    for (Tensor* node : graph.nodes()) {
        if (op_is_view(node->op)) {
            views.push_back(node);
            continue;
        }
        const int b = choose_backend(*node, current);
        assignment_[node] = b;
        if (b != current || splits_.empty()) splits_.push_back(Split{backends_[b], {}, {}});
        splits_.back().nodes.push_back(node);
        current = b;
    }
    for (Split& split : splits_) {
        for (Tensor* node : split.nodes) {
            for (int i = 0; i < kMaxSrc; ++i) {
                if (node->src[i] == nullptr) continue;
                // cpy writes into its destination in place: never through a copy.
                if (node->op == Op::Cpy && i == 1) continue;
                node->src[i] = twin_for(split, *node->src[i]);
            }
        }
    }

    // 3: plan memory per backend over the whole execution order.
    std::vector<Tensor*> steps(graph.leafs().begin(), graph.leafs().end());
    for (const Split& split : splits_) {
        for (const Copy& c : split.copies) steps.push_back(c.to);
        steps.insert(steps.end(), split.nodes.begin(), split.nodes.end());
    }
    steps.insert(steps.end(), views.begin(), views.end());
    for (size_t k = 0; k < backends_.size(); ++k) {
        allocators_[k]->allocate(steps, [&](const Tensor& t) {
            const auto it = assignment_.find(&t);
            return it != assignment_.end() && it->second == static_cast<int>(k);
        });
    }
    // Views (graph views, twins of views, cpy results) point into their storage.
    resolve_views(steps);
    for (const Split& split : splits_) {
        for (Tensor* node : split.nodes) {
            for (Tensor* s : node->src) {
                if (s != nullptr && s->view_src != nullptr) resolve_views(std::span<Tensor* const>(&s, 1));
            }
        }
    }
    allocated_ = &graph;
}

void Scheduler::compute(Graph& graph) {
    if (allocated_ != &graph) allocate(graph);
    std::vector<uint8_t> staging;
    for (Split& split : splits_) {
        for (const Copy& c : split.copies) {
            const size_t n = c.from->nbytes();
            const bool from_host = c.from->buffer == nullptr || c.from->buffer->type().is_host();
            const bool to_host = c.to->buffer == nullptr || c.to->buffer->type().is_host();
            if (from_host) {
                tensor_set(*c.to, c.from->data, 0, n);
            } else if (to_host) {
                tensor_get(*c.from, c.to->data, 0, n);
            } else {
                staging.resize(n);
                tensor_get(*c.from, staging.data(), 0, n);
                tensor_set(*c.to, staging.data(), 0, n);
            }
        }
        split.backend->compute(split.nodes);
        split.backend->synchronize();
    }
}

}  // namespace ember
