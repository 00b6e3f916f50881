// mul_mat through cblas_sgemm: dst[n, m, i2, i3] = Σ_k a[k, n, i2 / r2, i3 / r3] · b[k, m, i2, i3].
//
// The weights a (any type the CPU backend can dequantize) are expanded to F32 a chunk of
// rows at a time into a scratch buffer that is reused across calls; each chunk then goes to
// one sgemm against the whole activation plane. With row-major storage (ember's rows are
// GGUF's innermost dimension) one plane is
//     C (M x N, ldc) = B (M x K, ldb) · A_chunkᵀ (K x rows),
// so sgemm is called as RowMajor, NoTrans, Trans. Activations are F32 and used in place
// when their rows are dense floats (any row stride: permuted views); otherwise each plane
// is gathered into a second scratch buffer first.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <vector>

namespace ember::blas {

class SgemmMulMat {
public:
    explicit SgemmMulMat(int n_threads) : n_threads_(n_threads) {}

    // True when compute() can run this mul_mat node (types and layouts; no batch threshold).
    static bool supports(const Tensor& node);

    // Computes `dst` (a mul_mat node that supports() accepts, sources in host memory).
    void compute(Tensor& dst);

private:
    int n_threads_;               // OpenMP threads for dequantizing, OpenBLAS threads for sgemm
    std::vector<float> weights_;  // (rows, K): one chunk of dequantized weight rows
    std::vector<float> acts_;     // (B3, B2, M, K): b gathered, when its rows are not dense floats
};

}  // namespace ember::blas
