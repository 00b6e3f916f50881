#include "core/tensor.h"

#include "core/backend.h"
#include "core/error.h"

#include <algorithm>
#include <cstring>

namespace ember {

const char* op_name(Op op) {
    switch (op) {
        case Op::None: return "none";
        case Op::GetRows: return "get_rows";
        case Op::MulMat: return "mul_mat";
        case Op::MulMatId: return "mul_mat_id";
        case Op::Add: return "add";
        case Op::Mul: return "mul";
        case Op::Div: return "div";
        case Op::Scale: return "scale";
        case Op::RmsNorm: return "rms_norm";
        case Op::Rope: return "rope";
        case Op::SoftMax: return "soft_max";
        case Op::Silu: return "silu";
        case Op::Gelu: return "gelu";
        case Op::Tanh: return "tanh";
        case Op::Swiglu: return "swiglu";
        case Op::Cpy: return "cpy";
        case Op::Cont: return "cont";
        case Op::View: return "view";
        case Op::Reshape: return "reshape";
        case Op::Permute: return "permute";
        case Op::Transpose: return "transpose";
        case Op::Argmax: return "argmax";
        case Op::TopK: return "top_k";
        case Op::SumRows: return "sum_rows";
        case Op::Count: break;
    }
    return "?";
}

size_t Tensor::row_bytes() const { return row_size(type, ne[0]); }

size_t Tensor::nbytes() const {
    for (int i = 0; i < kMaxDims; ++i) {
        if (ne[i] <= 0) return 0;
    }
    // Plain types: one element plus the span of every dimension.
    // Block types: the blocks of one row plus the span of the outer dimensions.
    const int64_t bs = block_size(type);
    size_t bytes = bs == 1 ? type_size(type) : static_cast<size_t>(ne[0] / bs) * nb[0];
    for (int i = (bs == 1 ? 0 : 1); i < kMaxDims; ++i) bytes += static_cast<size_t>(ne[i] - 1) * nb[i];
    return bytes;
}

int Tensor::n_dims() const {
    for (int i = kMaxDims - 1; i >= 1; --i) {
        if (ne[i] != 1) return i + 1;
    }
    return 1;
}

bool Tensor::is_contiguous() const { return nb == contiguous_strides(type, ne); }

bool Tensor::is_permuted() const { return nb[0] > nb[1] || nb[1] > nb[2] || nb[2] > nb[3]; }

void Tensor::set_name(std::string_view n) {
    const size_t len = std::min(n.size(), kMaxName - 1);
    std::memcpy(name, n.data(), len);
    name[len] = '\0';
}

void* Tensor::element_ptr(int64_t i0, int64_t i1, int64_t i2, int64_t i3) const {
    const size_t offset = static_cast<size_t>(i0 / block_size(type)) * nb[0] + static_cast<size_t>(i1) * nb[1] +
                          static_cast<size_t>(i2) * nb[2] + static_cast<size_t>(i3) * nb[3];
    return static_cast<char*>(data) + offset;
}

Tensor* Tensor::storage() {
    Tensor* t = this;
    while (t->view_src != nullptr) t = t->view_src;
    return t;
}

std::array<size_t, kMaxDims> contiguous_strides(Type type, const std::array<int64_t, kMaxDims>& ne) {
    std::array<size_t, kMaxDims> nb{};
    nb[0] = type_size(type);
    nb[1] = row_size(type, ne[0]);
    for (int i = 2; i < kMaxDims; ++i) nb[i] = nb[i - 1] * static_cast<size_t>(ne[i - 1]);
    return nb;
}

void tensor_set(Tensor& t, const void* src, size_t offset, size_t size) {
    if (t.data == nullptr) fail("tensor '{}' has no data to write into", t.name);
    if (offset + size > t.nbytes() || offset + size < offset) {
        fail("write of {} bytes at {} is outside tensor '{}' ({} bytes)", size, offset, t.name, t.nbytes());
    }
    if (t.buffer != nullptr && !t.buffer->type().is_host()) {
        t.buffer->set(t, src, offset, size);
    } else {
        std::memcpy(static_cast<char*>(t.data) + offset, src, size);
    }
}

void tensor_get(const Tensor& t, void* dst, size_t offset, size_t size) {
    if (t.data == nullptr) fail("tensor '{}' has no data to read", t.name);
    if (offset + size > t.nbytes() || offset + size < offset) {
        fail("read of {} bytes at {} is outside tensor '{}' ({} bytes)", size, offset, t.name, t.nbytes());
    }
    if (t.buffer != nullptr && !t.buffer->type().is_host()) {
        t.buffer->get(t, dst, offset, size);
    } else {
        std::memcpy(dst, static_cast<const char*>(t.data) + offset, size);
    }
}

}  // namespace ember
