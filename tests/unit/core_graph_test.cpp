// Graph order and the activation-memory planner.
#include "core/context.h"
#include "core/graph.h"
#include "core/graph_alloc.h"
#include "core/ops.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ember {
namespace {

size_t index_of(std::span<Tensor* const> v, const Tensor* t) {
    return static_cast<size_t>(std::find(v.begin(), v.end(), t) - v.begin());
}

TEST(CoreGraph, NodesComeAfterTheirSources) {
    Context ctx(1 << 20, true);
    Tensor* x = ctx.new_tensor_1d(Type::F32, 16);
    Tensor* w = ctx.new_tensor_1d(Type::F32, 16);
    Tensor* n = ops::rms_norm(ctx, *x, 1e-5f);
    Tensor* m = ops::mul(ctx, *n, *w);
    Tensor* s = ops::silu(ctx, *m);
    Tensor* out = ops::add(ctx, *s, *n);  // n is used twice: listed once
    Graph g{out};
    ASSERT_EQ(g.nodes().size(), 4u);
    EXPECT_EQ(g.leafs().size(), 2u);
    EXPECT_LT(index_of(g.nodes(), n), index_of(g.nodes(), m));
    EXPECT_LT(index_of(g.nodes(), m), index_of(g.nodes(), s));
    EXPECT_EQ(g.nodes().back(), out);
    EXPECT_TRUE(out->flags & kFlagOutput);
}

TEST(CoreGraph, DeepChainsDoNotRecurse) {
    Context ctx(64 << 20, true);
    Tensor* t = ctx.new_tensor_1d(Type::F32, 4);
    for (int i = 0; i < 100000; ++i) t = ops::scale(ctx, *t, 0.5f);
    Graph g{t};
    EXPECT_EQ(g.nodes().size(), 100000u);
}

TEST(CoreGraphAlloc, OffsetAllocatorReusesAndMerges) {
    OffsetAllocator a(16);
    const size_t x = a.allocate(100);  // 112
    const size_t y = a.allocate(50);   // 64
    const size_t z = a.allocate(10);   // 16
    EXPECT_EQ(x, 0u);
    EXPECT_EQ(y, 112u);
    EXPECT_EQ(z, 176u);
    a.release(x, 100);
    a.release(y, 50);  // merges with x into [0, 176)
    EXPECT_EQ(a.allocate(170), 0u);
    EXPECT_EQ(a.peak(), 192u);
}

TEST(CoreGraphAlloc, ChainReusesMemoryAndKeepsOutputs) {
    Context ctx(1 << 20, true);
    Tensor* x = ctx.new_tensor_1d(Type::F32, 1024);  // 4 KiB each
    x->flags |= kFlagInput;
    Tensor* t = x;
    std::vector<Tensor*> chain;
    for (int i = 0; i < 10; ++i) {
        t = ops::scale(ctx, *t, 2.0f);
        chain.push_back(t);
    }
    Graph g{t};
    GraphAllocator alloc(HostBufferType::instance());
    allocate_graph(alloc, g.leafs(), g.nodes());
    // The input, plus two live activations at a time, instead of 11 tensors.
    EXPECT_EQ(alloc.peak(), 3u * 4096u);
    for (Tensor* n : g.nodes()) ASSERT_NE(n->data, nullptr);
    // A node never shares memory with its own source.
    for (Tensor* n : chain) EXPECT_NE(n->data, n->src[0]->data);
    // The input is never overwritten: nothing after it got its address.
    for (Tensor* n : chain) EXPECT_NE(n->data, x->data);
}

TEST(CoreGraphAlloc, ViewsKeepTheirStorageAlive) {
    Context ctx(1 << 20, true);
    Tensor* x = ctx.new_tensor_1d(Type::F32, 256);
    x->flags |= kFlagInput;
    Tensor* a = ops::scale(ctx, *x, 2.0f);
    Tensor* v = ops::view_1d(ctx, *a, 128, 512);  // upper half of a, read only by d
    Tensor* b = ops::scale(ctx, *x, 3.0f);
    Tensor* bb = ops::scale(ctx, *ops::view_1d(ctx, *b, 128, 0), 1.0f);
    Tensor* d = ops::add(ctx, *v, *bb);  // order: a, v, b, view, bb, d
    Graph g{d};
    GraphAllocator alloc(HostBufferType::instance());
    allocate_graph(alloc, g.leafs(), g.nodes());
    EXPECT_EQ(v->data, static_cast<char*>(a->data) + 512);
    auto overlaps = [](const Tensor* p, const Tensor* q) {
        const char* p0 = static_cast<const char*>(p->data);
        const char* q0 = static_cast<const char*>(q->data);
        return p0 < q0 + q->nbytes() && q0 < p0 + p->nbytes();
    };
    // a stays alive until d reads it through v.
    EXPECT_FALSE(overlaps(a, b));
    EXPECT_FALSE(overlaps(a, bb));
    EXPECT_FALSE(overlaps(a, d));
    // b is dead once bb is computed, so d may reuse it.
    EXPECT_LE(alloc.peak(), 1024u + 1024u + 512u + 1024u);
}

}  // namespace
}  // namespace ember
