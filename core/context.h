// Context: a fixed-size arena for tensor metadata and, unless created no-alloc,
// tensor data. Nothing in it is freed individually; the whole arena goes at once.
//
// No-alloc contexts are for graph building: they hold only metadata, and the
// graph allocator or a backend buffer supplies data later.
#pragma once

#include "core/tensor.h"

#include <cstddef>
#include <memory>
#include <span>

namespace ember {

class Context {
public:
    // `arena_bytes` caps metadata plus (allocating contexts) data.
    explicit Context(size_t arena_bytes, bool no_alloc = false);
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // A new tensor. In an allocating context its data is in the arena, zero-filled.
    Tensor* new_tensor(Type type, std::span<const int64_t> ne);
    Tensor* new_tensor_1d(Type type, int64_t ne0);
    Tensor* new_tensor_2d(Type type, int64_t ne0, int64_t ne1);
    Tensor* new_tensor_3d(Type type, int64_t ne0, int64_t ne1, int64_t ne2);
    Tensor* new_tensor_4d(Type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3);

    // A tensor sharing `base`'s storage with its own shape, strides and byte offset.
    // No data is allocated; bounds are checked against the storage.
    Tensor* new_view(Tensor& base, std::span<const int64_t> ne, std::span<const size_t> nb, size_t offset);

    bool no_alloc() const { return no_alloc_; }
    size_t used() const { return used_; }
    size_t capacity() const { return capacity_; }

    // Metadata bytes a context needs per tensor (for sizing no-alloc contexts).
    static size_t tensor_overhead();

private:
    void* bump(size_t bytes, size_t alignment);

    std::unique_ptr<std::byte[]> arena_;
    size_t capacity_ = 0;
    size_t used_ = 0;
    bool no_alloc_ = false;
};

}  // namespace ember
