#include "core/context.h"

#include "core/error.h"

#include <cstring>
#include <new>

namespace ember {
namespace {
constexpr size_t kDataAlignment = 64;  // cache line; also enough for any SIMD load

size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }
}  // namespace

Context::Context(size_t arena_bytes, bool no_alloc)
    : arena_(new std::byte[arena_bytes]), capacity_(arena_bytes), no_alloc_(no_alloc) {}

size_t Context::tensor_overhead() { return align_up(sizeof(Tensor), alignof(Tensor)) + alignof(Tensor); }

void* Context::bump(size_t bytes, size_t alignment) {
    const auto base = reinterpret_cast<uintptr_t>(arena_.get());
    const size_t start = align_up(base + used_, alignment) - base;
    if (start > capacity_ || bytes > capacity_ - start) {
        fail("context arena exhausted: {} bytes requested, {} of {} used", bytes, used_, capacity_);
    }
    used_ = start + bytes;
    return arena_.get() + start;
}

Tensor* Context::new_tensor(Type type, std::span<const int64_t> ne) {
    if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims)) fail("a tensor has 1 to 4 dimensions, not {}", ne.size());
    const TypeTraits& traits = type_traits(type);
    std::array<int64_t, kMaxDims> shape{1, 1, 1, 1};
    for (size_t i = 0; i < ne.size(); ++i) {
        if (ne[i] < 0) fail("negative dimension {} in a new {} tensor", ne[i], traits.name);
        shape[i] = ne[i];
    }
    if (shape[0] % traits.block_size != 0) {
        fail("{} tensor with ne[0] = {} is not a multiple of the block size {}", traits.name, shape[0], traits.block_size);
    }
    // Overflow-safe element count.
    int64_t count = 1;
    for (int64_t n : shape) {
        if (n != 0 && count > INT64_MAX / n) fail("tensor element count overflows");
        count *= n;
    }

    auto* t = new (bump(sizeof(Tensor), alignof(Tensor))) Tensor{};
    t->type = type;
    t->ne = shape;
    t->nb = contiguous_strides(type, shape);
    if (!no_alloc_) {
        const size_t bytes = t->nbytes();
        t->data = bump(bytes, kDataAlignment);
        std::memset(t->data, 0, bytes);
    }
    return t;
}

Tensor* Context::new_tensor_1d(Type type, int64_t ne0) {
    const int64_t ne[] = {ne0};
    return new_tensor(type, ne);
}
Tensor* Context::new_tensor_2d(Type type, int64_t ne0, int64_t ne1) {
    const int64_t ne[] = {ne0, ne1};
    return new_tensor(type, ne);
}
Tensor* Context::new_tensor_3d(Type type, int64_t ne0, int64_t ne1, int64_t ne2) {
    const int64_t ne[] = {ne0, ne1, ne2};
    return new_tensor(type, ne);
}
Tensor* Context::new_tensor_4d(Type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    const int64_t ne[] = {ne0, ne1, ne2, ne3};
    return new_tensor(type, ne);
}

Tensor* Context::new_view(Tensor& base, std::span<const int64_t> ne, std::span<const size_t> nb, size_t offset) {
    if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims) || nb.size() + 1 < ne.size()) {
        fail("view of '{}': bad dimension count", base.name);
    }
    auto* t = new (bump(sizeof(Tensor), alignof(Tensor))) Tensor{};
    t->type = base.type;
    for (size_t i = 0; i < ne.size(); ++i) t->ne[i] = ne[i];
    t->nb = contiguous_strides(base.type, t->ne);
    // nb lists strides of dims 1.. (dim 0 is always the element/block size).
    for (size_t i = 0; i < nb.size() && i + 1 < static_cast<size_t>(kMaxDims); ++i) t->nb[i + 1] = nb[i];
    for (size_t i = ne.size(); i + 1 < static_cast<size_t>(kMaxDims); ++i) {
        t->nb[i + 1] = t->nb[i] * static_cast<size_t>(t->ne[i]);
    }
    if (offset + t->nbytes() > base.nbytes() && t->nelements() > 0) {
        fail("view of '{}' ({} bytes at offset {}) is outside its {} bytes", base.name, t->nbytes(), offset, base.nbytes());
    }
    // Views of views point at the storage owner, with the offsets added up.
    t->view_src = base.view_src != nullptr ? base.view_src : &base;
    t->view_offs = base.view_offs + offset;
    t->buffer = base.buffer;
    if (base.data != nullptr) t->data = static_cast<char*>(base.data) + offset;
    t->op = Op::View;
    t->src[0] = &base;
    return t;
}

}  // namespace ember
