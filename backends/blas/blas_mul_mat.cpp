#include "backends/blas/blas_mul_mat.h"

#include "backends/blas/blas_backend.h"
#include "backends/cpu/kernel_levels.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

namespace ember::blas {
namespace {

// Bytes of dequantized weights per sgemm call: large enough that sgemm runs at full speed
// (hundreds of rows for K up to ~8k), small enough not to hold a whole F32 copy of a big
// matrix (the 32000 x 2048 output matrix would be 262 MB).
constexpr size_t kChunkBytes = size_t{16} << 20;

// A dequantization worth starting threads for (elements).
constexpr int64_t kParallelElements = int64_t{1} << 16;

std::atomic<uint64_t> g_sgemm_calls{0};

bool float_aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) == 0; }

// Rows of `t` are dense floats that BLAS can read in place with leading dimension nb[1]/4
// (every plane too): F32, unit element stride, float-aligned strides and data, and rows
// that do not overlap.
bool usable_in_place(const Tensor& t) {
    if (t.type != Type::F32 || t.nb[0] != sizeof(float) || !float_aligned(t.data)) return false;
    for (int d = 1; d < 4; ++d) {
        if (t.nb[d] % sizeof(float) != 0) return false;
    }
    return t.ne[1] == 1 || t.nb[1] >= static_cast<size_t>(t.ne[0]) * sizeof(float);
}

// Leading dimension BLAS gets for a matrix whose rows are nb1 bytes apart (any value >= the
// row length is valid when there is a single row).
int64_t leading_dim(const Tensor& t) {
    return t.ne[1] == 1 ? t.ne[0] : static_cast<int64_t>(t.nb[1] / sizeof(float));
}

const char* plane(const Tensor& t, int64_t i2, int64_t i3) {
    return static_cast<const char*>(t.data) + i2 * static_cast<int64_t>(t.nb[2]) + i3 * static_cast<int64_t>(t.nb[3]);
}

}  // namespace

uint64_t sgemm_calls() { return g_sgemm_calls.load(std::memory_order_relaxed); }

bool SgemmMulMat::supports(const Tensor& node) {
    const Tensor* a = node.src[0];
    const Tensor* b = node.src[1];
    if (node.op != Op::MulMat || a == nullptr || b == nullptr) return false;
    if (node.type != Type::F32 || b->type != Type::F32) return false;
    // Weights: a row dequantizer (the CPU backend's, SIMD where available) and rows whose
    // blocks are packed densely.
    if (!cpu::cpu_kernels().can_dequantize(a->type) || a->nb[0] != type_size(a->type)) return false;
    if (a->ne[0] % block_size(a->type) != 0) return false;
    // BLAS dimensions and leading dimensions are 32-bit ints.
    constexpr int64_t kMaxDim = std::numeric_limits<blasint>::max();
    for (const Tensor* t : {a, b, &node}) {
        if (t->ne[0] > kMaxDim || t->ne[1] > kMaxDim || static_cast<int64_t>(t->nb[1] / sizeof(float)) > kMaxDim) return false;
    }
    // Results: sgemm writes rows of N floats with leading dimension nb[1]/4.
    const Tensor& c = node;
    if (c.nb[0] != sizeof(float)) return false;
    for (int d = 1; d < 4; ++d) {
        if (c.nb[d] % sizeof(float) != 0) return false;
    }
    return c.ne[1] == 1 || c.nb[1] >= static_cast<size_t>(c.ne[0]) * sizeof(float);
}

// The hot path of the BLAS backend. Shapes: a [K, N, A2, A3], b [K, M, B2, B3], dst [N, M, B2, B3]
// with B2 = r2 * A2 and B3 = r3 * A3 (grouped-query attention broadcasts a over b).
void SgemmMulMat::compute(Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const Tensor& b = *dst.src[1];
    const int64_t K = a.ne[0];
    const int64_t N = a.ne[1];
    const int64_t M = b.ne[1];
    const int64_t B2 = b.ne[2];
    const int64_t B3 = b.ne[3];
    const int64_t r2 = B2 / a.ne[2];
    const int64_t r3 = B3 / a.ne[3];
    if (K == 0 || N == 0 || M == 0 || B2 == 0 || B3 == 0) return;

    // Activations: in place, or gathered once into acts_ as (B3, B2, M, K) dense floats.
    const bool b_in_place = usable_in_place(b);
    int64_t ldb = b_in_place ? leading_dim(b) : K;
    if (!b_in_place) {
        const size_t need = static_cast<size_t>(K * M * B2 * B3);
        if (acts_.size() < need) acts_.resize(need);
        float* out = acts_.data();
#pragma omp parallel for collapse(2) num_threads(n_threads_) if (static_cast<int64_t>(need) >= kParallelElements)
        for (int64_t i3 = 0; i3 < B3; ++i3)
            for (int64_t i2 = 0; i2 < B2; ++i2)
                for (int64_t m = 0; m < M; ++m) {
                    const char* row = plane(b, i2, i3) + m * static_cast<int64_t>(b.nb[1]);
                    float* o = out + ((i3 * B2 + i2) * M + m) * K;
                    for (int64_t k = 0; k < K; ++k) std::memcpy(&o[k], row + k * static_cast<int64_t>(b.nb[0]), sizeof(float));
                }
    }
    auto b_plane = [&](int64_t i2, int64_t i3) -> const float* {
        if (b_in_place) return reinterpret_cast<const float*>(plane(b, i2, i3));
        return acts_.data() + (i3 * B2 + i2) * M * K;
    };

    // Weights: F32 rows in place, anything else dequantized chunk by chunk.
    const bool a_in_place = usable_in_place(a);
    const quant::ToFloatFn to_float = cpu::cpu_kernels().to_float[static_cast<uint32_t>(a.type)];
    const int64_t chunk = a_in_place ? N : std::clamp<int64_t>(static_cast<int64_t>(kChunkBytes / (K * sizeof(float))), 1, N);
    if (!a_in_place && weights_.size() < static_cast<size_t>(chunk * K)) weights_.resize(static_cast<size_t>(chunk * K));
    const int64_t ldc = dst.ne[1] == 1 ? N : static_cast<int64_t>(dst.nb[1] / sizeof(float));

    // OpenBLAS's pool gets exactly our thread count: the CPU backend's threads are idle while
    // sgemm runs (the scheduler runs one split at a time), so the cores are shared by one pool
    // at a time. Set before every call: another session may have set a different one.
    openblas_set_num_threads(n_threads_);

    for (int64_t j3 = 0; j3 < a.ne[3]; ++j3)
        for (int64_t j2 = 0; j2 < a.ne[2]; ++j2)
            for (int64_t n0 = 0; n0 < N; n0 += chunk) {
                const int64_t rows = std::min(chunk, N - n0);
                const float* w;
                int64_t lda;
                if (a_in_place) {
                    w = reinterpret_cast<const float*>(plane(a, j2, j3));
                    lda = leading_dim(a);
                } else {
                    float* out = weights_.data();
                    const char* src = plane(a, j2, j3) + n0 * static_cast<int64_t>(a.nb[1]);
                    const auto nb1 = static_cast<int64_t>(a.nb[1]);
#pragma omp parallel for num_threads(n_threads_) schedule(static) if (rows * K >= kParallelElements)
                    for (int64_t r = 0; r < rows; ++r) to_float(src + r * nb1, out + r * K, K);
                    w = out;
                    lda = K;
                }
                // The weight chunk serves every b plane broadcast onto it.
                for (int64_t t3 = 0; t3 < r3; ++t3)
                    for (int64_t t2 = 0; t2 < r2; ++t2) {
                        const int64_t i2 = j2 * r2 + t2;
                        const int64_t i3 = j3 * r3 + t3;
                        float* c = reinterpret_cast<float*>(static_cast<char*>(dst.data) + i2 * static_cast<int64_t>(dst.nb[2]) +
                                                            i3 * static_cast<int64_t>(dst.nb[3])) + n0;
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(M), static_cast<blasint>(rows),
                                    static_cast<blasint>(K), 1.0f, b_plane(i2, i3), static_cast<blasint>(ldb), w,
                                    static_cast<blasint>(lda), 0.0f, c, static_cast<blasint>(ldc));
                        g_sgemm_calls.fetch_add(1, std::memory_order_relaxed);
                    }
            }
}

}  // namespace ember::blas
