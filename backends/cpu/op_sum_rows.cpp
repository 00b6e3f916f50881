// sum_rows: dst[0, i1, i2, i3] = Σ_i0 a[i0, i1, i2, i3], F32 rows through their strides,
// summed in double in index order (so the result does not depend on the split either).
#include "backends/cpu/cpu_ops.h"

namespace ember::cpu {

void sum_rows(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const auto [r0, r1] = split_range(a.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(a, r, i1, i2, i3);
        const char* x = row_ptr(a, i1, i2, i3);
        double sum = 0.0;
        for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) sum += load_f32(x + i0 * static_cast<int64_t>(a.nb[0]));
        store_f32(elem(dst, 0, i1, i2, i3), static_cast<float>(sum));
    }
}

}  // namespace ember::cpu
