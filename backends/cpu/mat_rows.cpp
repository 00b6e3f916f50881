// A run of weight rows times a block of converted activation rows (mat_rows.h).
#include "backends/cpu/mat_rows.h"

#include <algorithm>

namespace ember::cpu {
namespace {

constexpr size_t kActBlockBytes = 512 << 10;  // activation rows per gemm block: half of a typical L2
constexpr int64_t kGemvStreams = 8;           // row stretches walked at once (gemv path)

}  // namespace

size_t act_row_bytes(const CpuKernels& k, Type weight_type, int64_t k_elems) {
    const TypeTraits& vt = type_traits(k.vec_dot_type[static_cast<uint32_t>(weight_type)]);
    return static_cast<size_t>(k_elems / vt.block_size) * vt.type_size;
}

MatPath mat_path(const CpuKernels& k, Type weight_type, int64_t m_total) {
    if (k.gemm[static_cast<uint32_t>(weight_type)] != nullptr && m_total >= kGemmMinRows) return MatPath::Gemm;
    if (m_total < kGemmMinRows) return MatPath::Gemv;
    return MatPath::VecDot;
}

void gemm_rows(GemmFn gemm, const MatRows& p) {
    const int64_t block_m = std::max<int64_t>(16, static_cast<int64_t>(kActBlockBytes / p.act_row));
    for (int64_t m0 = 0; m0 < p.m; m0 += block_m) {
        const int64_t m1 = std::min(p.m, m0 + block_m);
        gemm(p.k, p.w, p.ldw, p.acts + static_cast<size_t>(m0) * p.act_row, p.act_row, p.out + m0 * p.ldd, p.ldd,
             p.n_rows, m1 - m0);
    }
}

// The run [0, n_rows) is cut into kGemvStreams stretches of `stretch` rows, and step i
// computes row i of each stretch.
void gemv_rows(GemmFn gemv, quant::VecDotFn vec_dot, const MatRows& p) {
    const int64_t stretch = (p.n_rows + kGemvStreams - 1) / kGemvStreams;
    const size_t ldw = static_cast<size_t>(stretch) * p.ldw;
    float out[kGemmMinRows * kGemvStreams];  // [m][stream]
    for (int64_t i = 0; i < stretch; ++i) {
        // the stretches that have a row i: a prefix, since only the last one can be short
        const int64_t nr = std::min(kGemvStreams, (p.n_rows - i + stretch - 1) / stretch);
        const char* wi = p.w + i * p.ldw;
        if (gemv != nullptr) {
            gemv(p.k, wi, ldw, p.acts, p.act_row, out, kGemvStreams, nr, p.m);
        } else {
            for (int64_t s = 0; s < nr; ++s) {
                for (int64_t m = 0; m < p.m; ++m) {
                    out[m * kGemvStreams + s] = vec_dot(p.k, wi + s * ldw, p.acts + static_cast<size_t>(m) * p.act_row);
                }
            }
        }
        for (int64_t m = 0; m < p.m; ++m) {
            for (int64_t s = 0; s < nr; ++s) p.out[m * p.ldd + s * stretch + i] = out[m * kGemvStreams + s];
        }
    }
}

void vec_dot_rows(quant::VecDotFn vec_dot, const MatRows& p) {
    for (int64_t r = 0; r < p.n_rows; ++r) {
        const char* w = p.w + r * p.ldw;
        for (int64_t m = 0; m < p.m; ++m) {
            p.out[m * p.ldd + r] = vec_dot(p.k, w, p.acts + static_cast<size_t>(m) * p.act_row);
        }
    }
}

void mat_rows(const CpuKernels& k, Type weight_type, MatPath path, const MatRows& p) {
    const auto id = static_cast<uint32_t>(weight_type);
    switch (path) {
        case MatPath::Gemm: gemm_rows(k.gemm[id], p); return;
        case MatPath::Gemv: gemv_rows(k.gemv[id], k.vec_dot[id], p); return;
        case MatPath::VecDot: break;
    }
    for (int64_t n0 = 0; n0 < p.n_rows; n0 += kTileN) {
        for (int64_t m0 = 0; m0 < p.m; m0 += kTileM) {
            MatRows tile = p;
            tile.w = p.w + n0 * p.ldw;
            tile.n_rows = std::min(kTileN, p.n_rows - n0);
            tile.acts = p.acts + static_cast<size_t>(m0) * p.act_row;
            tile.m = std::min(kTileM, p.m - m0);
            tile.out = p.out + m0 * p.ldd + n0;
            vec_dot_rows(k.vec_dot[id], tile);
        }
    }
}

}  // namespace ember::cpu
