#include "backends/vulkan/vk_ops.h"

#include "core/error.h"

#include <cmath>
#include <limits>

namespace ember::vulkan {
namespace {

constexpr uint32_t kElementwiseGroup = 256;  // local size of the per-element shaders

bool is_f32(const Tensor* t) { return t != nullptr && t->type == Type::F32; }
bool is_f16_or_f32(const Tensor* t) { return t != nullptr && (t->type == Type::F32 || t->type == Type::F16); }

// Types with a get_rows / mul_mat variant (shaders/variants.cmake).
bool weight_type_supported(Type t) {
    switch (t) {
        case Type::F32:
        case Type::F16:
        case Type::BF16:
        case Type::Q4_0:
        case Type::Q4_1:
        case Type::Q5_0:
        case Type::Q5_1:
        case Type::Q8_0:
        case Type::Q4_K:
        case Type::Q5_K:
        case Type::Q6_K: return true;
        default: return false;
    }
}
bool table_type_supported(Type t) {
    return weight_type_supported(t) || t == Type::Q8_1 || t == Type::Q8_K || t == Type::I32;
}

// Shapes, strides and byte extents must fit the shaders' 32-bit arithmetic and one binding.
bool fits(const Tensor* t, const DeviceCaps& caps) {
    if (t == nullptr) return true;
    constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
    if (static_cast<uint64_t>(t->nelements()) > kMax) return false;
    for (int i = 0; i < kMaxDims; ++i) {
        if (t->nb[i] > kMax) return false;
    }
    return t->nbytes() + caps.storage_align <= caps.max_storage_range;
}

void set_src0(PushConstants& pc, const Tensor& t) {
    for (int i = 0; i < 4; ++i) {
        pc.ne0[i] = static_cast<uint32_t>(t.ne[i]);
        pc.nb0[i] = static_cast<uint32_t>(t.nb[i]);
    }
}
void set_src1(PushConstants& pc, const Tensor& t) {
    for (int i = 0; i < 4; ++i) {
        pc.ne1[i] = static_cast<uint32_t>(t.ne[i]);
        pc.nb1[i] = static_cast<uint32_t>(t.nb[i]);
    }
}
void set_dst(PushConstants& pc, const Tensor& t) {
    for (int i = 0; i < 3; ++i) pc.nbd[i] = static_cast<uint32_t>(t.nb[i + 1]);
}

uint64_t per_element_groups(const Tensor& t) {
    return (static_cast<uint64_t>(t.nelements()) + kElementwiseGroup - 1) / kElementwiseGroup;
}

}  // namespace

bool op_supported(const Tensor& node, const DeviceCaps& caps) {
    const Tensor* s0 = node.src[0];
    const Tensor* s1 = node.src[1];
    const Tensor* s2 = node.src[2];
    if (op_is_view(node.op)) return true;
    if (!fits(&node, caps) || !fits(s0, caps) || !fits(s1, caps) || !fits(s2, caps)) return false;
    // Results are written densely along dim 0 (cpy writes through its destination's strides).
    if (node.op != Op::Cpy && node.nb[0] != type_size(node.type)) return false;
    switch (node.op) {
        case Op::GetRows:
            if (s0 == nullptr || s1 == nullptr || s1->type != Type::I32 || !is_f32(&node)) return false;
            if (!table_type_supported(s0->type)) return false;
            return !is_quantized(s0->type) || s0->nb[0] == type_size(s0->type);
        case Op::MulMat:
            return s0 != nullptr && weight_type_supported(s0->type) && s0->nb[0] == type_size(s0->type) && is_f32(s1) &&
                   is_f32(&node) && s0->ne[0] % block_size(s0->type) == 0;
        case Op::Add:
        case Op::Mul: return is_f32(s0) && is_f32(s1) && is_f32(&node);
        case Op::Swiglu: return is_f32(s0) && is_f32(s1) && is_f32(&node) && s0->same_shape(*s1);
        case Op::Scale:
        case Op::RmsNorm:
        case Op::Silu:
        case Op::Gelu: return is_f32(s0) && is_f32(&node);
        case Op::Rope: {
            if (!is_f32(s0) || s1 == nullptr || s1->type != Type::I32 || !is_f32(&node)) return false;
            if (s2 != nullptr && (!is_f32(s2) || !s2->is_contiguous())) return false;
            const int32_t n_dims = node.param_i32(0);
            const int32_t mode = node.param_i32(1);
            return n_dims > 0 && n_dims % 2 == 0 && n_dims <= s0->ne[0] &&
                   (mode == static_cast<int32_t>(RopeMode::Normal) || mode == static_cast<int32_t>(RopeMode::Neox));
        }
        case Op::SoftMax: return is_f32(s0) && is_f32(&node) && (s1 == nullptr || is_f16_or_f32(s1));
        case Op::Cpy:
        case Op::Cont: {
            const Tensor* to = node.op == Op::Cpy ? s1 : &node;
            return is_f16_or_f32(s0) && is_f16_or_f32(to) && s0->nelements() == to->nelements();
        }
        case Op::Argmax: return is_f32(s0) && node.type == Type::I32;
        default: return false;
    }
}

Dispatch plan_dispatch(const Tensor& node) {
    const Tensor* s0 = node.src[0];
    const Tensor* s1 = node.src[1];
    const Tensor* s2 = node.src[2];
    Dispatch d;
    d.bind = {s0, nullptr, nullptr, &node};
    set_src0(d.pc, *s0);
    set_dst(d.pc, node);
    const uint64_t rows = static_cast<uint64_t>(s0->nrows());
    switch (node.op) {
        case Op::GetRows:
            d.shader = fmt::format("get_rows_{}", type_name(s0->type));
            d.bind[1] = s1;
            set_src1(d.pc, *s1);
            d.groups = per_element_groups(node);
            break;
        case Op::MulMat: {
            d.bind[1] = s1;
            set_src1(d.pc, *s1);
            d.pc.u0 = static_cast<uint32_t>(s1->ne[2] / s0->ne[2]);
            d.pc.u1 = static_cast<uint32_t>(s1->ne[3] / s0->ne[3]);
            const uint64_t N = s0->ne[1], M = s1->ne[1], batches = s1->ne[2] * s1->ne[3];
            // Few columns: one workgroup per 4 outputs, weights streamed once per column.
            // More: 32x32 tiles that reuse each dequantized weight across 32 columns.
            if (M <= 4) {
                d.shader = fmt::format("mul_mat_vec_{}", type_name(s0->type));
                d.groups = (N + 3) / 4 * M * batches;  // ROWS = 4 in mul_mat_vec.comp
            } else {
                d.shader = fmt::format("mul_mat_tiled_{}", type_name(s0->type));
                d.groups = ((N + 31) / 32) * ((M + 31) / 32) * batches;
            }
            break;
        }
        case Op::Add:
        case Op::Mul:
            d.shader = node.op == Op::Add ? "add" : "mul";
            d.bind[1] = s1;
            set_src1(d.pc, *s1);
            d.groups = per_element_groups(node);
            break;
        case Op::Swiglu:
        case Op::Scale:
        case Op::Silu:
        case Op::Gelu:
            d.shader = node.op == Op::Swiglu ? "swiglu" : node.op == Op::Scale ? "scale" : node.op == Op::Silu ? "silu" : "gelu";
            if (node.op == Op::Swiglu) {
                d.bind[1] = s1;
                set_src1(d.pc, *s1);
            }
            d.pc.f0 = node.op == Op::Scale ? node.param_f32(0) : 0.0f;
            d.groups = per_element_groups(node);
            break;
        case Op::RmsNorm:
            d.shader = "rms_norm";
            d.pc.f0 = node.param_f32(0);
            d.groups = rows;
            break;
        case Op::Rope: {
            d.shader = "rope";
            d.bind[1] = s1;
            set_src1(d.pc, *s1);
            const int32_t n_dims = node.param_i32(0);
            d.pc.u0 = static_cast<uint32_t>(n_dims);
            d.pc.u1 = static_cast<uint32_t>(node.param_i32(1)) | (s2 != nullptr ? 4u : 0u);
            if (s2 != nullptr) d.bind[2] = s2;
            // As the reference forms it: powf(base, -2 / n_dims) in float.
            d.pc.f0 = std::pow(node.param_f32(2), -2.0f / static_cast<float>(n_dims));
            d.pc.f1 = node.param_f32(3);
            d.pc.f2 = node.param_f32(4);
            d.groups = ((static_cast<uint64_t>(s0->ne[0]) + 1) / 2 * rows + kElementwiseGroup - 1) / kElementwiseGroup;
            break;
        }
        case Op::SoftMax:
            d.shader = "soft_max";
            d.pc.f0 = node.param_f32(0);
            if (s1 != nullptr) {
                d.bind[1] = s1;
                set_src1(d.pc, *s1);
                d.pc.u0 = s1->type == Type::F32 ? 1u : 2u;
            }
            d.groups = rows;
            break;
        case Op::Cpy:
        case Op::Cont:
            // The destination is the node itself: for cpy a view of src1 with its strides.
            d.shader = fmt::format("copy_{}_{}", type_name(s0->type), type_name(node.type));
            set_src1(d.pc, node);
            d.groups = per_element_groups(*s0);
            break;
        case Op::Argmax:
            d.shader = "argmax";
            // The result [ne01, ne02, ne03] is indexed (i1, i2, i3) by the shader.
            for (int i = 0; i < 3; ++i) d.pc.nbd[i] = static_cast<uint32_t>(node.nb[i]);
            d.groups = rows;
            break;
        default: fail("vulkan: no shader for {}", op_name(node.op));
    }
    return d;
}

}  // namespace ember::vulkan
