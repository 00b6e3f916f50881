// Tensor metadata, the arena, views and the shape rules of every op.
#include "core/context.h"
#include "core/error.h"
#include "core/ops.h"

#include <gtest/gtest.h>

namespace ember {
namespace {

TEST(CoreTensor, ContiguousStridesAndSizes) {
    Context ctx(1 << 20);
    Tensor* f = ctx.new_tensor_3d(Type::F32, 5, 3, 2);
    EXPECT_EQ(f->nb[0], 4u);
    EXPECT_EQ(f->nb[1], 20u);
    EXPECT_EQ(f->nb[2], 60u);
    EXPECT_EQ(f->nbytes(), 120u);
    EXPECT_EQ(f->n_dims(), 3);
    EXPECT_TRUE(f->is_contiguous());
    EXPECT_NE(f->data, nullptr);

    Tensor* q = ctx.new_tensor_2d(Type::Q4_K, 512, 3);
    EXPECT_EQ(q->nb[0], 144u);
    EXPECT_EQ(q->nb[1], 288u);
    EXPECT_EQ(q->nbytes(), 864u);
    EXPECT_EQ(q->row_bytes(), 288u);
}

TEST(CoreTensor, RejectsRowsThatAreNotWholeBlocks) {
    Context ctx(1 << 16, true);
    EXPECT_THROW(ctx.new_tensor_1d(Type::Q8_0, 33), Error);
    EXPECT_THROW(ctx.new_tensor_1d(Type::F32, -1), Error);
}

TEST(CoreTensor, ArenaExhaustionIsAnError) {
    Context ctx(4096);
    EXPECT_THROW(ctx.new_tensor_1d(Type::F32, 10000), Error);
}

TEST(CoreTensor, NoAllocContextHasNoData) {
    Context ctx(1 << 16, true);
    Tensor* t = ctx.new_tensor_2d(Type::F16, 8, 8);
    EXPECT_EQ(t->data, nullptr);
    EXPECT_LT(ctx.used(), 1024u);
}

TEST(CoreTensor, TransposeAndPermuteShareData) {
    Context ctx(1 << 20);
    Tensor* a = ctx.new_tensor_3d(Type::F32, 4, 3, 2);
    auto* d = static_cast<float*>(a->data);
    for (int i = 0; i < 24; ++i) d[i] = static_cast<float>(i);

    Tensor* t = ops::transpose(ctx, *a);
    EXPECT_EQ(t->ne[0], 3);
    EXPECT_EQ(t->ne[1], 4);
    EXPECT_FALSE(t->is_contiguous());
    EXPECT_TRUE(t->is_transposed());
    EXPECT_EQ(t->view_src, a);
    // t[i0=2, i1=1] == a[1, 2]
    EXPECT_EQ(*static_cast<float*>(t->element_ptr(2, 1)), 1.0f + 2 * 4);

    Tensor* p = ops::permute(ctx, *a, {2, 0, 1, 3});  // a's dim 0 -> 2, 1 -> 0, 2 -> 1
    EXPECT_EQ(p->ne[0], 3);
    EXPECT_EQ(p->ne[1], 2);
    EXPECT_EQ(p->ne[2], 4);
    EXPECT_EQ(*static_cast<float*>(p->element_ptr(1, 1, 3)), 3.0f + 1 * 4 + 1 * 12);
    EXPECT_THROW(ops::permute(ctx, *a, {0, 0, 1, 2}), Error);
}

TEST(CoreTensor, ReshapeNeedsContiguousInputAndSameCount) {
    Context ctx(1 << 20);
    Tensor* a = ctx.new_tensor_2d(Type::F32, 6, 4);
    Tensor* r = ops::reshape_3d(ctx, *a, 3, 2, 4);
    EXPECT_TRUE(r->is_contiguous());
    EXPECT_EQ(r->data, a->data);
    EXPECT_THROW(ops::reshape_2d(ctx, *a, 5, 5), Error);
    Tensor* t = ops::transpose(ctx, *a);
    EXPECT_THROW(ops::reshape_2d(ctx, *t, 24, 1), Error);
}

TEST(CoreTensor, ViewsOfViewsPointAtTheStorage) {
    Context ctx(1 << 20);
    Tensor* a = ctx.new_tensor_2d(Type::F32, 8, 4);
    Tensor* v1 = ops::view_2d(ctx, *a, 8, 2, a->nb[1], a->nb[1]);  // rows 1..2
    Tensor* v2 = ops::view_1d(ctx, *v1, 4, v1->nb[1] + 8);           // row 2, from element 2
    EXPECT_EQ(v2->view_src, a);
    EXPECT_EQ(v2->view_offs, 2 * a->nb[1] + 8);
    EXPECT_EQ(v2->data, static_cast<char*>(a->data) + v2->view_offs);
    EXPECT_THROW(ops::view_1d(ctx, *a, 8, a->nbytes()), Error);  // past the end
}

TEST(CoreOps, ShapeRulesAreCheckedAtBuildTime) {
    Context ctx(1 << 20, true);
    Tensor* w = ctx.new_tensor_2d(Type::Q4_K, 256, 16);
    Tensor* x = ctx.new_tensor_2d(Type::F32, 256, 3);
    Tensor* y = ops::mul_mat(ctx, *w, *x);
    EXPECT_EQ(y->ne[0], 16);
    EXPECT_EQ(y->ne[1], 3);
    EXPECT_EQ(y->op, Op::MulMat);

    Tensor* bad = ctx.new_tensor_2d(Type::F32, 128, 3);
    try {
        ops::mul_mat(ctx, *w, *bad);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("mul_mat"), std::string::npos);
    }

    // GQA broadcast: 4 query heads over 2 KV heads is fine, 3 is not.
    Tensor* k = ctx.new_tensor_3d(Type::F32, 32, 10, 2);
    EXPECT_NO_THROW(ops::mul_mat(ctx, *k, *ctx.new_tensor_3d(Type::F32, 32, 1, 4)));
    EXPECT_THROW(ops::mul_mat(ctx, *k, *ctx.new_tensor_3d(Type::F32, 32, 1, 3)), Error);

    Tensor* a = ctx.new_tensor_2d(Type::F32, 8, 4);
    EXPECT_NO_THROW(ops::add(ctx, *a, *ctx.new_tensor_1d(Type::F32, 8)));
    EXPECT_THROW(ops::add(ctx, *a, *ctx.new_tensor_1d(Type::F32, 3)), Error);
    EXPECT_THROW(ops::mul(ctx, *a, *ctx.new_tensor_1d(Type::F16, 8)), Error);
    EXPECT_THROW(ops::swiglu(ctx, *a, *ctx.new_tensor_2d(Type::F32, 8, 3)), Error);

    Tensor* ids = ctx.new_tensor_1d(Type::I32, 5);
    EXPECT_EQ(ops::get_rows(ctx, *w, *ids)->ne[1], 5);
    EXPECT_THROW(ops::get_rows(ctx, *w, *x), Error);

    Tensor* q = ctx.new_tensor_3d(Type::F32, 32, 4, 6);
    Tensor* pos = ctx.new_tensor_1d(Type::I32, 6);
    EXPECT_NO_THROW(ops::rope(ctx, *q, *pos, {32, RopeMode::Neox, 10000.0f, 1.0f, 1.0f}));
    EXPECT_THROW(ops::rope(ctx, *q, *pos, {33, RopeMode::Normal, 10000.0f, 1.0f, 1.0f}), Error);
    EXPECT_THROW(ops::rope(ctx, *q, *ctx.new_tensor_1d(Type::I32, 5), {32}), Error);

    Tensor* scores = ctx.new_tensor_3d(Type::F32, 10, 3, 4);
    EXPECT_NO_THROW(ops::soft_max(ctx, *scores, ctx.new_tensor_2d(Type::F16, 10, 64), 0.5f));
    EXPECT_THROW(ops::soft_max(ctx, *scores, ctx.new_tensor_2d(Type::F32, 9, 3), 0.5f), Error);

    Tensor* cache = ctx.new_tensor_1d(Type::F16, 32);
    Tensor* c = ops::cpy(ctx, *ops::reshape_2d(ctx, *a, 32, 1), *cache);
    EXPECT_EQ(c->view_src, cache);
    EXPECT_THROW(ops::cpy(ctx, *a, *ctx.new_tensor_1d(Type::F16, 31)), Error);
    EXPECT_THROW(ops::cpy(ctx, *a, *ctx.new_tensor_1d(Type::Q8_0, 32)), Error);

    Tensor* am = ops::argmax(ctx, *a);
    EXPECT_EQ(am->type, Type::I32);
    EXPECT_EQ(am->ne[0], 4);
}

TEST(CoreType, TableMatchesTheFormatSpec) {
    EXPECT_EQ(type_size(Type::Q4_K), 144u);
    EXPECT_EQ(type_size(Type::Q5_K), 176u);
    EXPECT_EQ(type_size(Type::Q6_K), 210u);
    EXPECT_EQ(type_size(Type::Q8_K), 292u);
    EXPECT_EQ(type_size(Type::Q8_0), 34u);
    EXPECT_EQ(block_size(Type::Q5_1), 32);
    EXPECT_FALSE(type_from_id(4).has_value());
    EXPECT_FALSE(type_from_id(39).has_value());
    EXPECT_EQ(type_from_name("q4_k"), Type::Q4_K);
    EXPECT_THROW(type_traits(static_cast<Type>(31)), Error);
    EXPECT_EQ(row_size(Type::Q8_0, 64), 68u);
    EXPECT_THROW(row_size(Type::Q8_0, 48), Error);
}

}  // namespace
}  // namespace ember
