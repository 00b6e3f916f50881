// The scalar level of the rms_norm and rope rows (norm_rope.h); the SIMD levels are in
// x86/norm_rope_x86.cpp and arm/norm_rope_neon.cpp. Compiled with -ffp-contract=off like them:
// the SIMD rope matches these rows bit for bit.
#include "backends/cpu/norm_rope.h"
#include "backends/cpu/norm_rope_rows.h"

#include <cstdint>

namespace ember::cpu {
namespace {

void rms_norm_row_scalar(const float* x, float* y, int64_t n, float eps) {
    const float s = rms_norm_scale(add_squares(x, 0, n, 0.0), n, eps);
    scale_row(x, y, 0, n, s);
}

void rope_row_scalar(const float* x, float* y, const float* cache, int64_t n_dims, bool neox) {
    rope_pairs(x, y, cache, 0, n_dims / 2, n_dims, neox);
}

}  // namespace

void register_norm_rope(CpuKernels& k) {
    k.rms_norm_row = rms_norm_row_scalar;
    k.rope_row = rope_row_scalar;
}

}  // namespace ember::cpu
