// Graph allocator: plans where activations live inside one backend buffer, so that
// a tensor's memory is reused once its last reader has run. Planning is a dry run
// over the execution order (offsets only); the buffer is then allocated once at the
// peak size and kept for later graphs that fit.
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace ember {

// First-fit free-list over a virtual address range; tracks the high-water mark.
class OffsetAllocator {
public:
    explicit OffsetAllocator(size_t alignment) : alignment_(alignment) {}
    size_t allocate(size_t size);
    void release(size_t offset, size_t size);
    size_t peak() const { return peak_; }

private:
    struct Block {
        size_t offset;
        size_t size;
    };
    size_t aligned(size_t size) const { return (size + alignment_ - 1) / alignment_ * alignment_; }
    size_t alignment_;
    std::vector<Block> free_;  // sorted by offset, adjacent blocks merged
    size_t top_ = 0;
    size_t peak_ = 0;
};

class GraphAllocator {
public:
    explicit GraphAllocator(const BufferType& type) : type_(type) {}

    // `steps` are tensors in execution order; a step reads its src[] and view_src.
    // Each step tensor that has no data, is not a view, and satisfies `mine` gets memory
    // in this allocator's buffer. Outputs and inputs (flags) are never reused.
    void allocate(std::span<Tensor* const> steps, const std::function<bool(const Tensor&)>& mine);

    size_t peak() const { return peak_; }  // bytes the last plan needed
    size_t buffer_size() const { return buffer_ ? buffer_->size() : 0; }

private:
    const BufferType& type_;
    std::unique_ptr<Buffer> buffer_;
    size_t peak_ = 0;
};

// Points every view at its storage: data = view_src->data + view_offs. Run after allocation.
void resolve_views(std::span<Tensor* const> steps);

// Convenience for a single backend: allocates every leaf and node of `graph` that lacks data.
void allocate_graph(GraphAllocator& allocator, std::span<Tensor* const> leafs, std::span<Tensor* const> nodes);

}  // namespace ember
