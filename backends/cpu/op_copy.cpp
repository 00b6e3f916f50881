// cpy and cont: element i of src (in row-major order of its own shape) goes to element i
// of the destination (in row-major order of the destination's shape), converting
// between F32, F16 and BF16 or copying the same type. Both sides may have any strides;
// block-quantized types (same type only) are copied block by block.
#include "backends/cpu/cpu_ops.h"

#include "quant/bf16.h"
#include "quant/f16.h"

#include <algorithm>
#include <cstring>

namespace ember::cpu {
namespace {

bool plain_float(Type t) { return t == Type::F32 || t == Type::F16 || t == Type::BF16; }

// A position in a tensor walked unit by unit (unit = element, or block for quantized types).
struct Cursor {
    const Tensor* t;
    int64_t n[4];  // units per dimension
    int64_t i[4] = {0, 0, 0, 0};

    explicit Cursor(const Tensor& tensor, int64_t flat) : t(&tensor) {
        n[0] = tensor.ne[0] / block_size(tensor.type);
        for (int d = 1; d < 4; ++d) n[d] = tensor.ne[d];
        for (int d = 0; d < 4; ++d) {
            i[d] = flat % n[d];
            flat /= n[d];
        }
    }
    char* ptr() const {
        return static_cast<char*>(t->data) + i[0] * static_cast<int64_t>(t->nb[0]) +
               i[1] * static_cast<int64_t>(t->nb[1]) + i[2] * static_cast<int64_t>(t->nb[2]) +
               i[3] * static_cast<int64_t>(t->nb[3]);
    }
    int64_t left_in_row() const { return n[0] - i[0]; }
    // Moves k units on; k never crosses the end of the current row.
    void advance(int64_t k) {
        i[0] += k;
        if (i[0] < n[0]) return;
        i[0] = 0;
        for (int d = 1; d < 4; ++d) {
            if (++i[d] < n[d]) return;
            i[d] = 0;
        }
    }
};

float to_f32(Type t, const char* p) {
    uint16_t h;
    switch (t) {
        case Type::F16: std::memcpy(&h, p, 2); return quant::fp16_to_fp32(h);
        case Type::BF16: std::memcpy(&h, p, 2); return quant::bf16_to_fp32(h);
        default: return load_f32(p);
    }
}

void from_f32(Type t, char* p, float v) {
    uint16_t h;
    switch (t) {
        case Type::F16: h = quant::fp32_to_fp16(v); std::memcpy(p, &h, 2); break;
        case Type::BF16: h = quant::fp32_to_bf16(v); std::memcpy(p, &h, 2); break;
        default: store_f32(p, v); break;
    }
}

// Copies n units from src to dst, each side with its own unit stride.
void copy_run(Type from, Type to, const char* src, size_t src_stride, char* dst, size_t dst_stride, int64_t n) {
    const size_t unit = type_size(from);
    if (from == to) {
        if (src_stride == unit && dst_stride == unit) {
            std::memcpy(dst, src, static_cast<size_t>(n) * unit);
        } else {
            for (int64_t k = 0; k < n; ++k) std::memcpy(dst + k * dst_stride, src + k * src_stride, unit);
        }
        return;
    }
    const bool dense = src_stride == unit && dst_stride == type_size(to);
    if (dense && from == Type::F32 && to == Type::F16) {
        quant::fp32_to_fp16_row(reinterpret_cast<const float*>(src), reinterpret_cast<uint16_t*>(dst), n);
    } else if (dense && from == Type::F16 && to == Type::F32) {
        quant::fp16_to_fp32_row(reinterpret_cast<const uint16_t*>(src), reinterpret_cast<float*>(dst), n);
    } else {
        for (int64_t k = 0; k < n; ++k) from_f32(to, dst + k * dst_stride, to_f32(from, src + k * src_stride));
    }
}

void copy_tensor(const ThreadCtx& tc, const Tensor& src, const Tensor& dst) {
    const int64_t units = src.nelements() / block_size(src.type);
    const auto [f0, f1] = split_range(units, tc.ith, tc.nth);
    if (f0 >= f1) return;
    Cursor s(src, f0);
    Cursor d(dst, f0);
    for (int64_t f = f0; f < f1;) {
        const int64_t run = std::min({s.left_in_row(), d.left_in_row(), f1 - f});
        copy_run(src.type, dst.type, s.ptr(), src.nb[0], d.ptr(), dst.nb[0], run);
        s.advance(run);
        d.advance(run);
        f += run;
    }
}

}  // namespace

bool copy_supported(Type from, Type to) { return from == to || (plain_float(from) && plain_float(to)); }

// The node is a view of src1 with src1's shape and strides; write through src1 itself.
void cpy(const ThreadCtx& tc, Tensor& dst) { copy_tensor(tc, *dst.src[0], *dst.src[1]); }
void cont(const ThreadCtx& tc, Tensor& dst) { copy_tensor(tc, *dst.src[0], dst); }

}  // namespace ember::cpu
