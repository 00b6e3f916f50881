// mul_mat_id: dst[:, s, t] = as[:, :, ids[s, t]] · b[:, B1 == 1 ? 0 : s, t]
//   as [K, N, E] (E experts), b F32 [K, B1, T], ids I32 [U, T] (U used per token), dst [N, U, T].
//
// The (slot, token) pairs are grouped by expert, so each expert's matrix is streamed once for
// all the tokens that chose it and a matrix no token chose is never read:
// - phase 0 (one chunk): checks every id and sorts the pairs by expert (a counting sort:
//   within an expert, pairs stay in (t, s) order) into the shared workspace;
// - phase 1: converts the input row of each pair, in grouped order, to the weight's
//   vec_dot_type, so that an expert's inputs are consecutive rows (what the gemm and gemv
//   kernels read); with B1 == 1 a token's row is converted once per slot;
// - phase 2: work items are (expert used, chunk of kRowChunk weight rows); each chunk takes
//   a contiguous run of them and multiplies its rows of the expert with all of the expert's
//   inputs through mat_rows.h (mul_mat's gemm / gemv / vec_dot loops), into per-thread
//   scratch, then scatters the outputs to their (s, t) places.
// The kernel path is chosen per expert from how many pairs chose it (mat_path), never from the
// split, so results do not depend on the thread or chunk count.
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/mat_rows.h"

#include <algorithm>
#include <cstring>

namespace ember::cpu {
namespace {

constexpr int64_t kRowChunk = 16;   // weight rows per work item (a multiple of every gemm's R)
constexpr int64_t kSubRows = 256;   // weight rows multiplied before their outputs are scattered
constexpr int64_t kColBlock = 64;   // inputs multiplied at once (the scratch is kSubRows x kColBlock)
constexpr size_t kAlign = 64;

size_t align_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

struct Dims {
    int64_t K, N, E, B1, U, T;
};

Dims dims_of(const Tensor& dst) {
    const Tensor& as = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const Tensor& ids = *dst.src[2];
    return {as.ne[0], as.ne[1], as.ne[2], b.ne[1], ids.ne[0], ids.ne[1]};
}

// The shared workspace: the converted inputs in grouped order, then the grouping (int32).
struct Groups {
    int32_t* offset;    // [E + 1]: expert e's pairs are entries[offset[e], offset[e + 1])
    int32_t* cursor;    // [E]: where the counting sort puts expert e's next pair
    int32_t* active;    // [E]: the experts some pair chose, ascending; n_active of them
    int32_t* n_active;  // [1]
    int32_t* entries;   // [U * T]: t * U + s, grouped by expert
};

size_t acts_bytes(const Tensor& dst, const CpuKernels& k) {
    const Dims d = dims_of(dst);
    return act_row_bytes(k, dst.src[0]->type, d.K) * static_cast<size_t>(d.U * d.T);
}

size_t groups_bytes(const Dims& d) { return sizeof(int32_t) * static_cast<size_t>(3 * d.E + 2 + d.U * d.T); }

Groups groups_at(std::byte* shared, const Tensor& dst, const CpuKernels& k) {
    const Dims d = dims_of(dst);
    auto* p = reinterpret_cast<int32_t*>(shared + align_up(acts_bytes(dst, k)));
    Groups g;
    g.offset = p;
    g.cursor = g.offset + d.E + 1;
    g.active = g.cursor + d.E;
    g.n_active = g.active + d.E;
    g.entries = g.n_active + 1;
    return g;
}

int32_t id_at(const Tensor& ids, int64_t s, int64_t t) {
    int32_t v;
    std::memcpy(&v, elem(ids, s, t, 0, 0), sizeof v);
    return v;
}

}  // namespace

size_t mul_mat_id_shared_size(const Tensor& dst, const CpuKernels& kernels) {
    return align_up(acts_bytes(dst, kernels)) + groups_bytes(dims_of(dst));
}

size_t mul_mat_id_local_size(const Tensor& dst) {
    const Dims d = dims_of(dst);
    const size_t gather = dst.src[1]->nb[0] == sizeof(float) ? 0 : static_cast<size_t>(d.K) * sizeof(float);
    const size_t outs = static_cast<size_t>(std::min(kSubRows, d.N) * std::min(kColBlock, d.U * d.T)) * sizeof(float);
    return std::max(gather, outs);
}

bool mul_mat_id_group(const ThreadCtx& tc, Tensor& dst, int32_t* bad_id) {
    const Tensor& ids = *dst.src[2];
    const Dims d = dims_of(dst);
    const Groups g = groups_at(tc.shared, dst, *tc.kernels);
    std::fill(g.offset, g.offset + d.E + 1, 0);
    for (int64_t t = 0; t < d.T; ++t) {
        for (int64_t s = 0; s < d.U; ++s) {
            const int32_t e = id_at(ids, s, t);
            if (e < 0 || e >= d.E) {
                *bad_id = e;
                return false;
            }
            ++g.offset[e + 1];
        }
    }
    *g.n_active = 0;
    for (int64_t e = 0; e < d.E; ++e) {
        if (g.offset[e + 1] > 0) g.active[(*g.n_active)++] = static_cast<int32_t>(e);
        g.offset[e + 1] += g.offset[e];
        g.cursor[e] = g.offset[e];
    }
    for (int64_t t = 0; t < d.T; ++t) {
        for (int64_t s = 0; s < d.U; ++s) g.entries[g.cursor[id_at(ids, s, t)]++] = static_cast<int32_t>(t * d.U + s);
    }
    return true;
}

void mul_mat_id_convert(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& b = *dst.src[1];
    const CpuKernels& k = *tc.kernels;
    const Dims d = dims_of(dst);
    const Type weight_type = dst.src[0]->type;
    const quant::FromFloatFn quantize = k.quantize_row[static_cast<uint32_t>(k.vec_dot_type[static_cast<uint32_t>(weight_type)])];
    const size_t act_row = act_row_bytes(k, weight_type, d.K);
    const Groups g = groups_at(tc.shared, dst, k);

    const auto [j0, j1] = split_range(d.U * d.T, tc.ith, tc.nth);
    for (int64_t j = j0; j < j1; ++j) {
        const int64_t s = g.entries[j] % d.U;
        const int64_t t = g.entries[j] / d.U;
        const char* row = row_ptr(b, d.B1 == 1 ? 0 : s, t, 0);
        const float* x = reinterpret_cast<const float*>(row);
        if (b.nb[0] != sizeof(float)) {  // gather a strided row (e.g. a transposed view)
            auto* tmp = reinterpret_cast<float*>(tc.local);
            for (int64_t i0 = 0; i0 < d.K; ++i0) std::memcpy(&tmp[i0], row + i0 * b.nb[0], sizeof(float));
            x = tmp;
        }
        quantize(x, tc.shared + static_cast<size_t>(j) * act_row, d.K);
    }
}

void mul_mat_id(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& as = *dst.src[0];
    const CpuKernels& k = *tc.kernels;
    const Dims d = dims_of(dst);
    const size_t act_row = act_row_bytes(k, as.type, d.K);
    const Groups g = groups_at(tc.shared, dst, k);
    auto* outs = reinterpret_cast<float*>(tc.local);

    const int64_t chunks = (d.N + kRowChunk - 1) / kRowChunk;
    const auto [t0, t1] = split_range(*g.n_active * chunks, tc.ith, tc.nth);
    for (int64_t t = t0; t < t1;) {
        // The longest run of this chunk's items inside one expert: rows [n0, n1).
        const int64_t a = t / chunks;
        const int64_t run_end = std::min(t1, (a + 1) * chunks);
        const int64_t n0 = (t % chunks) * kRowChunk;
        const int64_t n1 = std::min(d.N, (run_end - a * chunks) * kRowChunk);
        t = run_end;

        const int32_t e = g.active[a];
        const int64_t first = g.offset[e];
        const int64_t count = g.offset[e + 1] - first;
        const MatPath path = mat_path(k, as.type, count);
        for (int64_t r0 = n0; r0 < n1; r0 += kSubRows) {
            const int64_t rows = std::min(kSubRows, n1 - r0);
            for (int64_t m0 = 0; m0 < count; m0 += kColBlock) {
                MatRows p;
                p.k = d.K;
                p.w = row_ptr(as, r0, e, 0);
                p.ldw = as.nb[1];
                p.n_rows = rows;
                p.acts = tc.shared + static_cast<size_t>(first + m0) * act_row;
                p.act_row = act_row;
                p.m = std::min(kColBlock, count - m0);
                p.out = outs;
                p.ldd = static_cast<size_t>(rows);
                mat_rows(k, as.type, path, p);
                for (int64_t m = 0; m < p.m; ++m) {
                    const int32_t pair = g.entries[first + m0 + m];
                    auto* out = reinterpret_cast<float*>(elem(dst, r0, pair % d.U, pair / d.U, 0));
                    std::memcpy(out, outs + m * rows, static_cast<size_t>(rows) * sizeof(float));
                }
            }
        }
    }
}

}  // namespace ember::cpu
