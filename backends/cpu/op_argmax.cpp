// argmax: I32 index of each F32 row's maximum; the first one wins ties. NaNs never win;
// a row with no comparable value (all NaN) gives 0.
#include "backends/cpu/cpu_ops.h"

#include <cstring>

namespace ember::cpu {

void argmax(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& a = *dst.src[0];
    const int64_t ne0 = a.ne[0];
    // dst is [rows of a]: element (i1, i2, i3) of a's row space sits at dst index (i1, i2, i3).
    const auto [r0, r1] = split_range(a.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i1, i2, i3;
        unflatten_row(a, r, i1, i2, i3);
        const char* x = row_ptr(a, i1, i2, i3);
        int32_t best = 0;
        float best_v = 0.0f;
        bool found = false;
        for (int64_t i0 = 0; i0 < ne0; ++i0) {
            const float v = load_f32(x + i0 * a.nb[0]);
            if (v != v) continue;  // NaN
            if (!found || v > best_v) {
                best_v = v;
                best = static_cast<int32_t>(i0);
                found = true;
            }
        }
        std::memcpy(elem(dst, i1, i2, i3, 0), &best, sizeof best);
    }
}

}  // namespace ember::cpu
