// mul_mat: dst[n, m, i2, i3] = dot(a[:, n, i2 / r2, i3 / r3], b[:, m, i2, i3]).
//
// Phase 1 converts every activation row of b (F32, any strides) to the weight's
// vec_dot_type in the shared workspace: F16 weights get F16 activations, Q4_0/Q5_0/Q8_0
// get Q8_0, Q4_1/Q5_1 get Q8_1, K-quants get Q8_K, F32 stays F32 (docs/FORMATS.md §3.12).
// Phase 2 computes each output with one kernel call over the whole of K (a vec_dot, or one
// output of a tile kernel), so an output does not depend on how the work was split.
//
// This is the hot function of the whole runtime. Three paths:
// - prompt processing (M >= kGemmMinRows activation rows) with a gemm kernel for the type:
//   the register-tiled gemm kernel (gemm.h); each thread takes its own run of weight rows
//   (so it streams its share of the weights once per activation block) and walks the
//   activations in blocks of about kActBlockBytes, which stay in L2 while all of its weight
//   rows pass by;
// - token generation (M < kGemmMinRows): each thread cuts its run of weight rows into
//   kGemvStreams equal stretches and walks them in lockstep, one row of each per step, with
//   the type's gemv kernel (CpuKernels::gemv: a dedicated multi-row mat-vec kernel, or a
//   gemm tile kernel run with one activation column) or else its vec_dot. A mat-vec is
//   bound by how fast the weights stream in, and one sequential stream per core leaves the
//   memory system idle part of the time (the figures: README.md, "Measurements");
// - prompt processing without a gemm kernel: one vec_dot per output, over tiles of kTileN
//   weight rows x kTileM activation rows so that both stay in cache while they are reused.
// Every path computes each output with one kernel call's fixed arithmetic over the whole of
// K, so it does not depend on the thread count or on where the work was split. The loops
// over a run of rows are mat_rows.cpp's (mul_mat_id shares them); the split is here.
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/mat_rows.h"

#include <algorithm>
#include <cstring>

namespace ember::cpu {
namespace {

constexpr int64_t kGemmRowChunk = 16;  // weight rows per work item (a multiple of every gemm's R)

size_t vdt_row_bytes(const Tensor& dst, const CpuKernels& kernels) {
    const Tensor& a = *dst.src[0];
    return act_row_bytes(kernels, a.type, a.ne[0]);
}

}  // namespace

size_t mul_mat_shared_size(const Tensor& dst, const CpuKernels& kernels) {
    const Tensor& b = *dst.src[1];
    return vdt_row_bytes(dst, kernels) * static_cast<size_t>(b.nrows());
}

size_t mul_mat_local_size(const Tensor& dst) {
    const Tensor& b = *dst.src[1];
    return b.nb[0] == sizeof(float) ? 0 : static_cast<size_t>(b.ne[0]) * sizeof(float);
}

void mul_mat_convert(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const CpuKernels& k = *tc.kernels;
    const Type vdt = k.vec_dot_type[static_cast<uint32_t>(a.type)];
    const quant::FromFloatFn quantize = k.quantize_row[static_cast<uint32_t>(vdt)];
    const size_t out_row = vdt_row_bytes(dst, k);
    const int64_t K = b.ne[0];

    const auto [r0, r1] = split_range(b.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(b, r, i1, i2, i3);
        const char* row = row_ptr(b, i1, i2, i3);
        const float* x = reinterpret_cast<const float*>(row);
        if (b.nb[0] != sizeof(float)) {  // gather a strided row (e.g. a transposed view)
            auto* tmp = reinterpret_cast<float*>(tc.local);
            for (int64_t i0 = 0; i0 < K; ++i0) std::memcpy(&tmp[i0], row + i0 * b.nb[0], sizeof(float));
            x = tmp;
        }
        quantize(x, tc.shared + static_cast<size_t>(r) * out_row, K);
    }
}

namespace {

// One contiguous run of weight rows [n0, n1) of batch (i2, i3), with where its rows and the
// batch's converted activation rows (in the shared workspace) start.
struct RowRun {
    int64_t n0, n1, i2, i3;
    const char* w;
    const std::byte* acts;
};

// The work split of the gemm and gemv paths: items are (batch, chunk of kGemmRowChunk weight
// rows); each thread takes a contiguous run of them and gets fn(RowRun) for the longest runs
// of its items inside one batch.
template <typename Fn>
void for_each_row_run(const ThreadCtx& tc, const Tensor& dst, size_t act_row, Fn&& fn) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const int64_t N = a.ne[1];
    const int64_t M = b.ne[1];
    const int64_t B2 = b.ne[2];
    const int64_t B3 = b.ne[3];
    const int64_t r2 = B2 / a.ne[2];  // b batches per a batch (grouped-query attention)
    const int64_t r3 = B3 / a.ne[3];
    const int64_t chunks = (N + kGemmRowChunk - 1) / kGemmRowChunk;
    const auto [t0, t1] = split_range(chunks * B2 * B3, tc.ith, tc.nth);
    for (int64_t t = t0; t < t1;) {
        const int64_t batch = t / chunks;
        const int64_t run_end = std::min(t1, (batch + 1) * chunks);
        RowRun run;
        run.n0 = (t % chunks) * kGemmRowChunk;
        run.n1 = std::min(N, (run_end - batch * chunks) * kGemmRowChunk);
        run.i2 = batch % B2;
        run.i3 = batch / B2;
        run.w = row_ptr(a, run.n0, run.i2 / r2, run.i3 / r3);
        run.acts = tc.shared + static_cast<size_t>((run.i3 * B2 + run.i2) * M) * act_row;
        t = run_end;
        fn(run);
    }
}

// A run of rows of batch (i2, i3) times all of that batch's activation rows, into dst.
MatRows run_rows(const Tensor& dst, const RowRun& run, size_t act_row) {
    const Tensor& a = *dst.src[0];
    MatRows p;
    p.k = a.ne[0];
    p.w = run.w;
    p.ldw = a.nb[1];
    p.n_rows = run.n1 - run.n0;
    p.acts = run.acts;
    p.act_row = act_row;
    p.m = dst.src[1]->ne[1];
    p.out = reinterpret_cast<float*>(elem(dst, run.n0, 0, run.i2, run.i3));
    p.ldd = dst.nb[1] / sizeof(float);  // dst is contiguous: nb[0] == sizeof(float)
    return p;
}

}  // namespace

void mul_mat(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const CpuKernels& k = *tc.kernels;
    const quant::VecDotFn vec_dot = k.vec_dot[static_cast<uint32_t>(a.type)];
    const size_t act_row = vdt_row_bytes(dst, k);
    const MatPath path = mat_path(k, a.type, b.ne[1]);
    if (path == MatPath::Gemm) {
        const GemmFn gemm = k.gemm[static_cast<uint32_t>(a.type)];
        for_each_row_run(tc, dst, act_row, [&](const RowRun& run) { gemm_rows(gemm, run_rows(dst, run, act_row)); });
        return;
    }
    if (path == MatPath::Gemv) {
        const GemmFn gemv = k.gemv[static_cast<uint32_t>(a.type)];
        for_each_row_run(tc, dst, act_row,
                         [&](const RowRun& run) { gemv_rows(gemv, vec_dot, run_rows(dst, run, act_row)); });
        return;
    }

    const int64_t K = a.ne[0];
    const int64_t N = a.ne[1];
    const int64_t M = b.ne[1];
    const int64_t B2 = b.ne[2];
    const int64_t B3 = b.ne[3];
    const int64_t r2 = B2 / a.ne[2];  // b batches per a batch (grouped-query attention)
    const int64_t r3 = B3 / a.ne[3];

    // Tiles ordered (batch, n tile, m tile); each thread takes a contiguous run of them.
    const int64_t tiles_n = (N + kTileN - 1) / kTileN;
    const int64_t tiles_m = (M + kTileM - 1) / kTileM;
    const int64_t tiles_per_batch = tiles_n * tiles_m;
    const auto [t0, t1] = split_range(tiles_per_batch * B2 * B3, tc.ith, tc.nth);

    for (int64_t t = t0; t < t1; ++t) {
        const int64_t batch = t / tiles_per_batch;
        const int64_t in_batch = t % tiles_per_batch;
        const int64_t i2 = batch % B2;
        const int64_t i3 = batch / B2;
        const int64_t n0 = (in_batch / tiles_m) * kTileN;
        const int64_t m0 = (in_batch % tiles_m) * kTileM;
        const int64_t n1 = std::min(N, n0 + kTileN);
        const int64_t m1 = std::min(M, m0 + kTileM);

        MatRows p;
        p.k = K;
        p.w = row_ptr(a, n0, i2 / r2, i3 / r3);
        p.ldw = a.nb[1];
        p.n_rows = n1 - n0;
        p.acts = tc.shared + static_cast<size_t>((i3 * B2 + i2) * M + m0) * act_row;
        p.act_row = act_row;
        p.m = m1 - m0;
        p.out = reinterpret_cast<float*>(elem(dst, n0, m0, i2, i3));
        p.ldd = dst.nb[1] / sizeof(float);
        vec_dot_rows(vec_dot, p);
    }
}

}  // namespace ember::cpu
