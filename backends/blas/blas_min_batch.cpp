// The automatic threshold of the BLAS backend: per weight type, the smallest activation
// batch (mul_mat src1 ne[1]) at which dequantize + sgemm beats the CPU backend's own mul_mat,
// or kNeverBatch where it does not. These are measurements, not laws: re-tune this table with
// `ember bench --backend cpu,blas` whenever either side gets faster (README.md, "BLAS", has the
// numbers behind each row and the command).
#include "backends/blas/blas_backend.h"

namespace ember::blas {
namespace {

struct MinBatch {
    Type type;
    int64_t min_batch;
};

constexpr MinBatch kMinBatch[] = {
    // F16: against the CPU backend's F16 tile gemm, sgemm lost at pp128 (8.6 vs 11.0 t/s) and
    // won at pp512 (20.8 vs 12.1 t/s): only large batches.
    {Type::F16, 256},
    // BF16 and F32 have no CPU tile gemm (one vec_dot per output), and expanding them to F32
    // costs little: sgemm wins from small batches on (F16 before its gemm: 2.7x at pp512).
    {Type::F32, 32},
    {Type::BF16, 32},
    // The K-quants: the CPU backend's VNNI / AMX-INT8 gemm kernels read the packed blocks and
    // were as fast as or faster than dequantize + sgemm at pp512 (Q4_K_M: Q4_K and Q6_K;
    // Q5_K has the same kernel family).
    {Type::Q4_K, kNeverBatch},
    {Type::Q5_K, kNeverBatch},
    {Type::Q6_K, kNeverBatch},
    // Q8_0: sgemm was ~15% faster at pp512, but dequantizing 4 bytes per weight per batch is a
    // fixed cost that small batches cannot amortize: only large batches.
    {Type::Q8_0, 128},
    // The legacy formats have no CPU gemm kernel (the vec_dot path, slower than Q8_0's gemm):
    // not measured separately, they follow Q8_0.
    {Type::Q4_0, 128},
    {Type::Q4_1, 128},
    {Type::Q5_0, 128},
    {Type::Q5_1, 128},
};

}  // namespace

int64_t auto_min_batch(Type t) {
    for (const MinBatch& row : kMinBatch) {
        if (row.type == t) return row.min_batch;
    }
    return kNeverBatch;  // not measured: leave it to the CPU backend
}

}  // namespace ember::blas
