#include "core/graph_alloc.h"

#include "core/error.h"

#include <algorithm>
#include <unordered_map>

namespace ember {

size_t OffsetAllocator::allocate(size_t size) {
    size = aligned(std::max<size_t>(size, 1));
    // First fit among freed blocks.
    for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].size >= size) {
            const size_t offset = free_[i].offset;
            free_[i].offset += size;
            free_[i].size -= size;
            if (free_[i].size == 0) free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
            return offset;
        }
    }
    // A free block that ends at the top can grow in place.
    if (!free_.empty() && free_.back().offset + free_.back().size == top_) {
        const size_t offset = free_.back().offset;
        free_.pop_back();
        top_ = offset + size;
        peak_ = std::max(peak_, top_);
        return offset;
    }
    const size_t offset = top_;
    top_ += size;
    peak_ = std::max(peak_, top_);
    return offset;
}

void OffsetAllocator::release(size_t offset, size_t size) {
    size = aligned(std::max<size_t>(size, 1));
    auto it = std::lower_bound(free_.begin(), free_.end(), offset, [](const Block& b, size_t o) { return b.offset < o; });
    it = free_.insert(it, Block{offset, size});
    // Merge with the next, then with the previous block.
    if (it + 1 != free_.end() && it->offset + it->size == (it + 1)->offset) {
        it->size += (it + 1)->size;
        free_.erase(it + 1);
    }
    if (it != free_.begin() && (it - 1)->offset + (it - 1)->size == it->offset) {
        (it - 1)->size += it->size;
        free_.erase(it);
    }
}

namespace {

bool needs_memory(const Tensor& t) { return t.data == nullptr && t.view_src == nullptr; }

// The tensor whose memory `t` uses.
const Tensor* owner_of(const Tensor* t) { return t->view_src != nullptr ? t->view_src : t; }

}  // namespace

void GraphAllocator::allocate(std::span<Tensor* const> steps, const std::function<bool(const Tensor&)>& mine) {
    // Last step at which each storage is read.
    std::unordered_map<const Tensor*, size_t> last_read;
    for (size_t i = 0; i < steps.size(); ++i) {
        const Tensor* t = steps[i];
        for (const Tensor* s : t->src) {
            if (s != nullptr) last_read[owner_of(s)] = i;
        }
        if (t->view_src != nullptr) last_read[t->view_src] = i;
    }

    // Dry run: offsets in a virtual range.
    OffsetAllocator offsets(type_.alignment());
    std::unordered_map<const Tensor*, size_t> offset_of;
    std::vector<std::vector<const Tensor*>> release_after(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
        Tensor* t = steps[i];
        if (needs_memory(*t) && mine(*t) && !offset_of.contains(t)) {
            offset_of[t] = offsets.allocate(t->nbytes());
            const bool keep = (t->flags & (kFlagOutput | kFlagInput)) != 0;
            const auto it = last_read.find(t);
            const size_t last = it == last_read.end() ? i : std::max(i, it->second);
            if (!keep) release_after[last].push_back(t);
        }
        for (const Tensor* done : release_after[i]) offsets.release(offset_of.at(done), done->nbytes());
    }
    peak_ = offsets.peak();

    if (offset_of.empty()) return;
    if (!buffer_ || buffer_->size() < peak_) {
        buffer_.reset();  // release the old one first: peak memory, not the sum
        buffer_ = type_.allocate(peak_);
    }
    auto* base = static_cast<char*>(buffer_->base());
    for (const auto& [t, offset] : offset_of) {
        auto* mt = const_cast<Tensor*>(t);
        mt->data = base + offset;
        mt->buffer = buffer_.get();
    }
}

void resolve_views(std::span<Tensor* const> steps) {
    for (Tensor* t : steps) {
        if (t->view_src == nullptr) continue;
        if (t->view_src->data == nullptr) fail("view '{}' of '{}' has no storage allocated", t->name, t->view_src->name);
        t->data = static_cast<char*>(t->view_src->data) + t->view_offs;
        t->buffer = t->view_src->buffer;
    }
}

void allocate_graph(GraphAllocator& allocator, std::span<Tensor* const> leafs, std::span<Tensor* const> nodes) {
    std::vector<Tensor*> steps(leafs.begin(), leafs.end());
    steps.insert(steps.end(), nodes.begin(), nodes.end());
    allocator.allocate(steps, [](const Tensor&) { return true; });
    resolve_views(steps);
}

}  // namespace ember
