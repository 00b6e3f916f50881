// Internal to the CPU backend's gemm kernel files: the loop that walks an nr x nc output
// block in R x C micro-tiles (see gemm.h). Header-only; compiled for baseline x86-64 (the
// ISA files include it before their EMBER_TARGET_BEGIN), it calls the ISA's Tile<r, c>::run.
// Name each ISA's Tile in the ISA's own namespace: GCC gives an instantiation over a template
// template argument from an anonymous namespace vague linkage (GCC PR 70413), so two files'
// same-named tiles would otherwise be merged into one.
//
// Tile<r, c>::run(k, w, ldw, y, ldy, dst, ldd) computes r weight rows x c activation rows:
// dst[j * ldd + i] = dot(w row i, y row j). Edge tiles get Tile<r', c'> with r' < R or
// c' < C; a Tile must compute each output with the same operations whatever r and c are.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ember::cpu::gemm_detail {

// Row i of a matrix whose rows are `ld` bytes apart, as blocks of the row's format.
template <typename Block>
inline const Block* row_at(const char* base, size_t ld, int i) {
    return reinterpret_cast<const Block*>(base + static_cast<size_t>(i) * ld);
}

// Picks Tile<rr, cc> for a runtime rr <= R, cc <= C.
template <int R, int C, template <int, int> class Tile>
struct TileDispatch {
    static void run(int64_t rr, int64_t cc, int64_t k, const char* w, size_t ldw, const char* y, size_t ldy,
                    float* dst, size_t ldd) {
        if constexpr (R > 1) {
            if (rr < R) return TileDispatch<R - 1, C, Tile>::run(rr, cc, k, w, ldw, y, ldy, dst, ldd);
        }
        if constexpr (C > 1) {
            if (cc < C) return TileDispatch<R, C - 1, Tile>::run(rr, cc, k, w, ldw, y, ldy, dst, ldd);
        }
        Tile<R, C>::run(k, w, ldw, y, ldy, dst, ldd);
    }
};

// Weight micro-rows outer (their R rows stay in L1 while all nc activation rows stream past
// from L2), activation micro-columns inner.
template <int R, int C, template <int, int> class Tile>
void gemm_tiles(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                int64_t nr, int64_t nc) {
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    for (int64_t r0 = 0; r0 < nr; r0 += R) {
        const int64_t rr = nr - r0 < R ? nr - r0 : R;
        for (int64_t c0 = 0; c0 < nc; c0 += C) {
            const int64_t cc = nc - c0 < C ? nc - c0 : C;
            TileDispatch<R, C, Tile>::run(rr, cc, k, wb + static_cast<size_t>(r0) * ldw, ldw,
                                          yb + static_cast<size_t>(c0) * ldy, ldy,
                                          dst + static_cast<size_t>(c0) * ldd + r0, ldd);
        }
    }
}

}  // namespace ember::cpu::gemm_detail
