// The automatic threshold of the BLAS backend: per weight type, the smallest activation
// batch (mul_mat src1 ne[1]) for which dequantize + sgemm beats the CPU backend's own
// mul_mat. Measured with `ember bench --backend cpu,blas` (see README.md, "BLAS"); re-tune
// this table when either side gets faster. kNeverBatch: BLAS never takes that type.
#include "backends/blas/blas_backend.h"

namespace ember::blas {
namespace {

struct MinBatch {
    Type type;
    int64_t min_batch;
};

constexpr MinBatch kMinBatch[] = {
    {Type::F32, 32},
    {Type::F16, 32},
    {Type::BF16, 32},
    {Type::Q8_0, 32},
    {Type::Q4_0, 32},
    {Type::Q4_1, 32},
    {Type::Q5_0, 32},
    {Type::Q5_1, 32},
    {Type::Q4_K, 32},
    {Type::Q5_K, 32},
    {Type::Q6_K, 32},
};

}  // namespace

int64_t auto_min_batch(Type t) {
    for (const MinBatch& row : kMinBatch) {
        if (row.type == t) return row.min_batch;
    }
    return kNeverBatch;  // not measured: leave it to the CPU backend
}

}  // namespace ember::blas
