// top_k: per F32 row of a [n, r1, r2, r3], the I32 indices of its k largest values in
// descending order of value -> dst [k, r1, r2, r3]. Equal values: the lower index first;
// NaN ranks below every number, NaNs among themselves by index. The order is total, so the
// result is fully determined (and std::partial_sort's instability does not show).
#include "backends/cpu/cpu_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::cpu {

size_t top_k_local_size(const Tensor& dst) { return static_cast<size_t>(dst.src[0]->ne[0]) * sizeof(int32_t); }

void top_k(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const int64_t n = a.ne[0];
    const int64_t k = dst.ne[0];
    auto* order = reinterpret_cast<int32_t*>(tc.local);  // [n]: the row's indices
    const auto [r0, r1] = split_range(a.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(a, r, i1, i2, i3);
        const char* x = row_ptr(a, i1, i2, i3);
        const auto at = [&](int32_t i) { return load_f32(x + i * static_cast<int64_t>(a.nb[0])); };
        // i before j: larger value; NaN after every number; then the lower index.
        const auto before = [&](int32_t i, int32_t j) {
            const float vi = at(i);
            const float vj = at(j);
            const bool nan_i = std::isnan(vi);
            const bool nan_j = std::isnan(vj);
            if (nan_i != nan_j) return nan_j;
            if (!nan_i && vi != vj) return vi > vj;
            return i < j;
        };
        for (int64_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
        std::partial_sort(order, order + k, order + n, before);
        for (int64_t i = 0; i < k; ++i) std::memcpy(elem(dst, i, i1, i2, i3), &order[i], sizeof(int32_t));
    }
}

}  // namespace ember::cpu
