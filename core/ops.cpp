#include "core/ops.h"

#include "core/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace ember::ops {
namespace {

std::string shape(const Tensor& t) { return fmt::format("{} [{}]", type_name(t.type), fmt::join(t.ne, ", ")); }

std::string label(const Tensor& t) {
    return t.name[0] != '\0' ? fmt::format("'{}' {}", t.name, shape(t)) : shape(t);
}

void require_type(const char* op, const Tensor& t, Type type) {
    if (t.type != type) fail("{}: expected {} input, got {}", op, type_name(type), label(t));
}

Tensor* result(Context& ctx, Op op, Type type, const std::array<int64_t, 4>& ne, Tensor* s0, Tensor* s1 = nullptr,
               Tensor* s2 = nullptr) {
    Tensor* t = ctx.new_tensor(type, ne);
    t->op = op;
    t->src = {s0, s1, s2};
    return t;
}

// b can be repeated to fill a: every dim of a is a multiple of b's.
bool can_repeat(const Tensor& b, const Tensor& a) {
    for (int i = 0; i < kMaxDims; ++i) {
        if (b.ne[i] == 0 || a.ne[i] % b.ne[i] != 0) return false;
    }
    return true;
}

Tensor* binary(Context& ctx, Op op, Tensor& a, Tensor& b) {
    require_type(op_name(op), a, Type::F32);
    require_type(op_name(op), b, Type::F32);
    if (!can_repeat(b, a)) fail("{}: {} cannot be broadcast to {}", op_name(op), label(b), label(a));
    return result(ctx, op, Type::F32, a.ne, &a, &b);
}

// Weight types a mat-mul can multiply (not the activation-only formats, not indices).
void require_weight_type(const char* op, const Tensor& t) {
    if (!type_traits(t.type).computable || t.type == Type::Q8_K || t.type == Type::Q8_1 || t.type == Type::I32) {
        fail("{}: unsupported weight type {}", op, label(t));
    }
}

Tensor* unary(Context& ctx, Op op, Tensor& a) {
    require_type(op_name(op), a, Type::F32);
    return result(ctx, op, Type::F32, a.ne, &a);
}

// A no-compute tensor that shares a's storage.
Tensor* make_view(Context& ctx, Op op, Tensor& a, const std::array<int64_t, 4>& ne, const std::array<size_t, 4>& nb,
                  size_t offset) {
    const std::array<size_t, 3> outer{nb[1], nb[2], nb[3]};
    Tensor* t = ctx.new_view(a, ne, outer, offset);
    t->nb[0] = nb[0];
    t->op = op;
    t->src = {&a, nullptr, nullptr};
    return t;
}

}  // namespace

Tensor* get_rows(Context& ctx, Tensor& table, Tensor& ids) {
    require_type("get_rows", ids, Type::I32);
    if (!type_traits(table.type).computable) fail("get_rows: unsupported table type {}", label(table));
    if (ids.ne[1] != table.ne[2] || ids.ne[2] != table.ne[3] || ids.ne[3] != 1) {
        fail("get_rows: ids {} do not match table {}", label(ids), label(table));
    }
    return result(ctx, Op::GetRows, Type::F32, {table.ne[0], ids.ne[0], ids.ne[1], ids.ne[2]}, &table, &ids);
}

Tensor* mul_mat(Context& ctx, Tensor& a, Tensor& b) {
    require_weight_type("mul_mat", a);
    require_type("mul_mat", b, Type::F32);
    if (a.ne[0] != b.ne[0]) fail("mul_mat: inner dimensions differ: {} x {}", label(a), label(b));
    if (b.ne[2] % a.ne[2] != 0 || b.ne[3] % a.ne[3] != 0) {
        fail("mul_mat: batches of {} cannot be broadcast to {}", label(a), label(b));
    }
    if (a.is_transposed()) fail("mul_mat: the first operand {} must not be transposed", label(a));
    return result(ctx, Op::MulMat, Type::F32, {a.ne[1], b.ne[1], b.ne[2], b.ne[3]}, &a, &b);
}

Tensor* mul_mat_id(Context& ctx, Tensor& as, Tensor& b, Tensor& ids) {
    require_weight_type("mul_mat_id", as);
    require_type("mul_mat_id", b, Type::F32);
    require_type("mul_mat_id", ids, Type::I32);
    if (as.ne[3] != 1) fail("mul_mat_id: experts {} must be 3-d [K, N, n_expert]", label(as));
    if (as.is_transposed()) fail("mul_mat_id: the experts {} must not be transposed", label(as));
    if (ids.ne[2] != 1 || ids.ne[3] != 1) fail("mul_mat_id: ids {} must be 2-d [n_used, T]", label(ids));
    if (b.ne[3] != 1) fail("mul_mat_id: input {} must be 3-d [K, 1 or n_used, T]", label(b));
    if (as.ne[0] != b.ne[0]) fail("mul_mat_id: inner dimensions differ: {} x {}", label(as), label(b));
    if (b.ne[2] != ids.ne[1]) fail("mul_mat_id: input {} and ids {} differ in tokens (dim 2 vs 1)", label(b), label(ids));
    if (b.ne[1] != 1 && b.ne[1] != ids.ne[0]) {
        fail("mul_mat_id: input {} must have 1 or n_used = {} rows per token (ids {})", label(b), ids.ne[0], label(ids));
    }
    return result(ctx, Op::MulMatId, Type::F32, {as.ne[1], ids.ne[0], ids.ne[1], 1}, &as, &b, &ids);
}

Tensor* add(Context& ctx, Tensor& a, Tensor& b) { return binary(ctx, Op::Add, a, b); }
Tensor* mul(Context& ctx, Tensor& a, Tensor& b) { return binary(ctx, Op::Mul, a, b); }
Tensor* div(Context& ctx, Tensor& a, Tensor& b) { return binary(ctx, Op::Div, a, b); }

Tensor* scale(Context& ctx, Tensor& a, float s) {
    Tensor* t = unary(ctx, Op::Scale, a);
    t->set_param(0, s);
    return t;
}

Tensor* rms_norm(Context& ctx, Tensor& a, float eps) {
    if (!(eps >= 0.0f)) fail("rms_norm: eps must be >= 0, got {}", eps);
    Tensor* t = unary(ctx, Op::RmsNorm, a);
    t->set_param(0, eps);
    return t;
}

Tensor* rope(Context& ctx, Tensor& a, Tensor& positions, const RopeParams& p, Tensor* freq_factors) {
    require_type("rope", a, Type::F32);
    require_type("rope", positions, Type::I32);
    if (positions.n_dims() != 1 || positions.ne[0] != a.ne[2]) {
        fail("rope: positions {} must be one per token of {}", label(positions), label(a));
    }
    if (p.n_dims <= 0 || p.n_dims % 2 != 0 || p.n_dims > a.ne[0]) {
        fail("rope: n_dims {} must be even and within ne[0] of {}", p.n_dims, label(a));
    }
    if (p.mode != RopeMode::Normal && p.mode != RopeMode::Neox) fail("rope: unknown mode {}", static_cast<int>(p.mode));
    if (freq_factors != nullptr) {
        require_type("rope", *freq_factors, Type::F32);
        if (freq_factors->ne[0] < p.n_dims / 2) fail("rope: freq factors {} shorter than n_dims/2", label(*freq_factors));
    }
    Tensor* t = result(ctx, Op::Rope, Type::F32, a.ne, &a, &positions, freq_factors);
    t->set_param(0, p.n_dims);
    t->set_param(1, static_cast<int32_t>(p.mode));
    t->set_param(2, p.freq_base);
    t->set_param(3, p.freq_scale);
    t->set_param(4, p.attn_factor);
    return t;
}

Tensor* soft_max(Context& ctx, Tensor& a, Tensor* mask, float scale) {
    require_type("soft_max", a, Type::F32);
    if (mask != nullptr) {
        if (mask->type != Type::F32 && mask->type != Type::F16) fail("soft_max: mask must be F32 or F16, got {}", label(*mask));
        if (mask->ne[0] != a.ne[0] || mask->ne[1] < a.ne[1] || a.ne[2] % mask->ne[2] != 0 || a.ne[3] % mask->ne[3] != 0) {
            fail("soft_max: mask {} does not cover scores {}", label(*mask), label(a));
        }
    }
    Tensor* t = result(ctx, Op::SoftMax, Type::F32, a.ne, &a, mask);
    t->set_param(0, scale);
    return t;
}

Tensor* silu(Context& ctx, Tensor& a) { return unary(ctx, Op::Silu, a); }
Tensor* gelu(Context& ctx, Tensor& a) { return unary(ctx, Op::Gelu, a); }
Tensor* tanh(Context& ctx, Tensor& a) { return unary(ctx, Op::Tanh, a); }

Tensor* swiglu(Context& ctx, Tensor& a, Tensor& b) {
    require_type("swiglu", a, Type::F32);
    require_type("swiglu", b, Type::F32);
    if (!a.same_shape(b)) fail("swiglu: shapes differ: {} and {}", label(a), label(b));
    return result(ctx, Op::Swiglu, Type::F32, a.ne, &a, &b);
}

Tensor* cpy(Context& ctx, Tensor& a, Tensor& dst) {
    auto plain = [](Type t) { return t == Type::F32 || t == Type::F16; };
    if (!(a.type == dst.type || (plain(a.type) && plain(dst.type)))) {
        fail("cpy: cannot convert {} into {}", label(a), label(dst));
    }
    if (a.nelements() != dst.nelements()) fail("cpy: element counts differ: {} into {}", label(a), label(dst));
    Tensor* t = make_view(ctx, Op::Cpy, dst, dst.ne, dst.nb, 0);
    t->src = {&a, &dst, nullptr};
    return t;
}

Tensor* cont(Context& ctx, Tensor& a) {
    if (is_quantized(a.type)) fail("cont: quantized input {} is not supported", label(a));
    return result(ctx, Op::Cont, a.type, a.ne, &a);
}

Tensor* view(Context& ctx, Tensor& a, std::array<int64_t, 4> ne, std::array<size_t, 3> nb, size_t offset) {
    return make_view(ctx, Op::View, a, ne, {a.nb[0], nb[0], nb[1], nb[2]}, offset);
}

Tensor* view_1d(Context& ctx, Tensor& a, int64_t ne0, size_t offset) {
    const size_t row = row_size(a.type, ne0);
    return view(ctx, a, {ne0, 1, 1, 1}, {row, row, row}, offset);
}

Tensor* view_2d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset) {
    return view(ctx, a, {ne0, ne1, 1, 1}, {nb1, nb1 * ne1, nb1 * ne1}, offset);
}

Tensor* view_3d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1, size_t nb2, size_t offset) {
    return view(ctx, a, {ne0, ne1, ne2, 1}, {nb1, nb2, nb2 * ne2}, offset);
}

Tensor* reshape(Context& ctx, Tensor& a, std::array<int64_t, 4> ne) {
    if (!a.is_contiguous()) fail("reshape: input {} is not contiguous", label(a));
    if (ne[0] * ne[1] * ne[2] * ne[3] != a.nelements()) {
        fail("reshape: {} has {} elements, target [{}] has a different count", label(a), a.nelements(), fmt::join(ne, ", "));
    }
    return make_view(ctx, Op::Reshape, a, ne, contiguous_strides(a.type, ne), 0);
}

Tensor* reshape_2d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1) { return reshape(ctx, a, {ne0, ne1, 1, 1}); }
Tensor* reshape_3d(Context& ctx, Tensor& a, int64_t ne0, int64_t ne1, int64_t ne2) {
    return reshape(ctx, a, {ne0, ne1, ne2, 1});
}

Tensor* permute(Context& ctx, Tensor& a, std::array<int, 4> axes) {
    std::array<bool, 4> seen{};
    for (int ax : axes) {
        if (ax < 0 || ax > 3 || seen[ax]) fail("permute: axes ({}) are not a permutation of 0..3", fmt::join(axes, ", "));
        seen[ax] = true;
    }
    if (is_quantized(a.type) && axes[0] != 0) fail("permute: cannot move dim 0 of quantized {}", label(a));
    std::array<int64_t, 4> ne{};
    std::array<size_t, 4> nb{};
    for (int i = 0; i < 4; ++i) {
        ne[axes[i]] = a.ne[i];
        nb[axes[i]] = a.nb[i];
    }
    // make_view checks the bounds with contiguous strides first; permuted bounds are the same bytes.
    const std::array<size_t, 3> outer{nb[1], nb[2], nb[3]};
    Tensor* t = ctx.new_view(a, a.ne, std::array<size_t, 3>{a.nb[1], a.nb[2], a.nb[3]}, 0);
    t->ne = ne;
    t->nb = {nb[0], outer[0], outer[1], outer[2]};
    t->op = Op::Permute;
    t->src = {&a, nullptr, nullptr};
    return t;
}

Tensor* transpose(Context& ctx, Tensor& a) {
    Tensor* t = permute(ctx, a, {1, 0, 2, 3});
    t->op = Op::Transpose;
    return t;
}

Tensor* argmax(Context& ctx, Tensor& a) {
    require_type("argmax", a, Type::F32);
    return result(ctx, Op::Argmax, Type::I32, {a.ne[1], a.ne[2], a.ne[3], 1}, &a);
}

Tensor* top_k(Context& ctx, Tensor& a, int64_t k) {
    require_type("top_k", a, Type::F32);
    if (k < 1 || k > a.ne[0]) fail("top_k: k = {} must be in [1, {}] for {}", k, a.ne[0], label(a));
    Tensor* t = result(ctx, Op::TopK, Type::I32, {k, a.ne[1], a.ne[2], a.ne[3]}, &a);
    t->set_param(0, static_cast<int32_t>(k));
    return t;
}

Tensor* sum_rows(Context& ctx, Tensor& a) {
    require_type("sum_rows", a, Type::F32);
    return result(ctx, Op::SumRows, Type::F32, {1, a.ne[1], a.ne[2], a.ne[3]}, &a);
}

}  // namespace ember::ops
