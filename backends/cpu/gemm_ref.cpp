// The scalar reference gemm: one reference vec_dot per output. It is the ground truth the
// SIMD gemm kernels are tested against, and at the scalar kernel level it lets mul_mat's
// tiled path run with results identical to the vec_dot path.
#include "backends/cpu/gemm.h"

namespace ember::cpu {
namespace {

template <Type T>
void gemm_reference(int64_t k, const void* w, size_t ldw, const void* y, size_t ldy, float* dst, size_t ldd,
                    int64_t nr, int64_t nc) {
    static const quant::VecDotFn dot = quant::quant_traits(T).vec_dot;
    const auto* wb = static_cast<const char*>(w);
    const auto* yb = static_cast<const char*>(y);
    for (int64_t c = 0; c < nc; ++c) {
        for (int64_t r = 0; r < nr; ++r) {
            dst[static_cast<size_t>(c) * ldd + static_cast<size_t>(r)] =
                dot(k, wb + static_cast<size_t>(r) * ldw, yb + static_cast<size_t>(c) * ldy);
        }
    }
}

template <Type T>
void set_reference(CpuKernels& k) {
    const auto id = static_cast<uint32_t>(T);
    if (k.vec_dot[id] != nullptr) k.gemm[id] = gemm_reference<T>;
}

}  // namespace

void register_reference_gemm(CpuKernels& k) {
    set_reference<Type::F32>(k);
    set_reference<Type::F16>(k);
    set_reference<Type::BF16>(k);
    set_reference<Type::Q4_0>(k);
    set_reference<Type::Q4_1>(k);
    set_reference<Type::Q5_0>(k);
    set_reference<Type::Q5_1>(k);
    set_reference<Type::Q8_0>(k);
    set_reference<Type::Q4_K>(k);
    set_reference<Type::Q5_K>(k);
    set_reference<Type::Q6_K>(k);
}

}  // namespace ember::cpu
