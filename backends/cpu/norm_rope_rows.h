// Internal to the rms_norm / rope row files (norm_rope.cpp, x86/norm_rope_x86.cpp,
// arm/norm_rope_neon.cpp): the scalar loops that are the scalar level and every SIMD level's
// tail. Internal linkage, and included only by those files, all compiled with
// -ffp-contract=off (CMakeLists.txt): each file's copy rounds every product, as the scalar
// level does. Baseline code: include it before any EMBER_TARGET_BEGIN.
#pragma once

#include <cstdint>

namespace ember::cpu {
namespace {

// sum + Σ x[i]² over [begin, end), each square a float product, added in order.
inline double add_squares(const float* x, int64_t begin, int64_t end, double sum) {
    for (int64_t i = begin; i < end; ++i) sum += static_cast<double>(x[i] * x[i]);
    return sum;
}

inline void scale_row(const float* x, float* y, int64_t begin, int64_t end, float s) {
    for (int64_t i = begin; i < end; ++i) y[i] = x[i] * s;
}

// Rotates pairs [p0, p1) of a row with n_dims rotated values. Pair p is (x[2p], x[2p+1]), or
// in NeoX mode (x[p], x[p + n_dims/2]); its angle is cache[2p] = cos, cache[2p+1] = sin.
inline void rope_pairs(const float* x, float* y, const float* cache, int64_t p0, int64_t p1, int64_t n_dims, bool neox) {
    const int64_t half = n_dims / 2;
    for (int64_t p = p0; p < p1; ++p) {
        const int64_t j0 = neox ? p : 2 * p;
        const int64_t j1 = neox ? p + half : 2 * p + 1;
        const float c = cache[2 * p], s = cache[2 * p + 1];
        const float x0 = x[j0], x1 = x[j1];
        y[j0] = x0 * c - x1 * s;
        y[j1] = x0 * s + x1 * c;
    }
}

}  // namespace
}  // namespace ember::cpu
