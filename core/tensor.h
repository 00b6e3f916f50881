// Tensor: typed n-d array metadata (up to 4 dims) plus, for op results, the op
// that produces it. Tensors live in a Context arena; data lives in a backend
// Buffer, in the arena (allocating contexts), or is borrowed (e.g. an mmap).
//
// Conventions (as in GGUF/ggml): ne[0] is the innermost, contiguous dimension;
// nb[i] is the byte stride of dimension i. For block-quantized types nb[0] is the
// block size in bytes and nb[1] the row size. A 2-D weight with ne = [K, N] holds
// N rows of K elements.
#pragma once

#include "ember/type.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ember {

inline constexpr int kMaxDims = 4;
inline constexpr int kMaxSrc = 3;
inline constexpr size_t kMaxName = 64;
inline constexpr int kMaxOpParams = 8;

enum class Op : uint8_t {
    None,       // a leaf: weights, inputs, KV cache
    GetRows,    // rows of src0 selected by I32 ids in src1 -> F32
    MulMat,     // y[n, m] = sum_k src0[k, n] * src1[k, m], broadcast over dims 2, 3
    MulMatId,   // per token and slot, mul_mat with the expert src2 (I32 ids) selects from src0
    Add,        // src0 + src1 (src1 broadcast by repetition)
    Mul,        // src0 * src1 (src1 broadcast by repetition)
    Div,        // src0 / src1 (src1 broadcast by repetition)
    Scale,      // src0 * s
    RmsNorm,    // x / sqrt(mean(x^2) + eps), per row
    Rope,       // rotary position embedding; src1: I32 positions (ne[2] of src0)
    SoftMax,    // softmax(src0 * scale + mask) per row; src1: optional mask
    Silu,       // x / (1 + e^-x)
    Gelu,       // tanh approximation
    Tanh,       // tanh(x)
    Swiglu,     // silu(src0) * src1
    Cpy,        // converts src0 into the storage of src1; the result is a view of src1
    Cont,       // contiguous copy of src0 (same type)
    View,       // no compute: a window into view_src
    Reshape,    // no compute
    Permute,    // no compute
    Transpose,  // no compute
    Argmax,     // I32 index of the row maximum (first wins ties)
    TopK,       // I32 indices of the k largest of each row, descending (lower index first on ties)
    SumRows,    // the sum of each row
    Count,
};

const char* op_name(Op op);

// True for ops that only re-describe existing data (no kernel runs).
constexpr bool op_is_view(Op op) {
    return op == Op::View || op == Op::Reshape || op == Op::Permute || op == Op::Transpose;
}

// Rope pairing modes.
enum class RopeMode : int32_t {
    Normal = 0,  // adjacent pairs (x[2i], x[2i+1]): llama, mistral
    Neox = 2,    // pairs (x[i], x[i + n_dims/2]): qwen2 and others
};

enum TensorFlags : uint32_t {
    kFlagInput = 1u << 0,   // set by the caller before compute
    kFlagOutput = 1u << 1,  // read after compute: its memory is never reused within the graph
    kFlagWeight = 1u << 2,  // model parameter
};

class Buffer;

struct Tensor {
    Type type = Type::F32;
    std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};  // elements per dimension
    std::array<size_t, kMaxDims> nb{0, 0, 0, 0};   // byte stride per dimension

    Op op = Op::None;
    std::array<int32_t, kMaxOpParams> op_params{};
    std::array<Tensor*, kMaxSrc> src{};

    Tensor* view_src = nullptr;  // the tensor whose storage this one shares
    size_t view_offs = 0;        // byte offset into view_src's data

    void* data = nullptr;
    Buffer* buffer = nullptr;  // owning backend buffer; nullptr for plain host memory
    uint32_t flags = 0;
    char name[kMaxName] = {};

    // ---- shape ----
    int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t nrows() const { return ne[1] * ne[2] * ne[3]; }
    size_t row_bytes() const;  // bytes of one contiguous row of ne[0] elements
    size_t nbytes() const;     // bytes spanned, from the first to one past the last element
    int n_dims() const;        // dims up to the last one != 1 (at least 1)

    bool is_contiguous() const;  // densely packed in the natural order
    bool is_transposed() const { return nb[0] > nb[1]; }
    bool is_permuted() const;
    bool same_shape(const Tensor& other) const { return ne == other.ne; }

    // ---- op parameters (floats are stored bit-cast) ----
    int32_t param_i32(int i) const { return op_params[i]; }
    float param_f32(int i) const { return std::bit_cast<float>(op_params[i]); }
    void set_param(int i, int32_t v) { op_params[i] = v; }
    void set_param(int i, float v) { op_params[i] = std::bit_cast<int32_t>(v); }

    std::string_view get_name() const { return name; }
    void set_name(std::string_view n);

    // Pointer to element (i0, i1, i2, i3) of host data. For quantized types i0 must be a block start.
    void* element_ptr(int64_t i0, int64_t i1 = 0, int64_t i2 = 0, int64_t i3 = 0) const;
    Tensor* storage();  // the tensor that owns the memory (follows view_src)
};

// Strides of a densely packed tensor of `type` and shape `ne`.
std::array<size_t, kMaxDims> contiguous_strides(Type type, const std::array<int64_t, kMaxDims>& ne);

// Copies data in or out of a tensor wherever it lives (host memory or a backend buffer).
void tensor_set(Tensor& t, const void* src, size_t offset, size_t size);
void tensor_get(const Tensor& t, void* dst, size_t offset, size_t size);

}  // namespace ember
