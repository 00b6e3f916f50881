// On a processor without the x86/ folder (AArch64 and the rest): the x86 kernels that gemm.h
// names as test hooks, so the tests link everywhere. No level registers them here
// (kernel_level_supported says no to Avx2 and Avx512), so they are never called.
#include "backends/cpu/gemm.h"

#if !defined(__x86_64__)

namespace ember::cpu {

void gemm_q8_0_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemm_q4_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemm_q5_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemm_q6_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemv_q4_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemv_q5_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
void gemv_q6_k_vnni(int64_t, const void*, size_t, const void*, size_t, float*, size_t, int64_t, int64_t) {}
bool amx_int8_usable() { return false; }
GemmFn amx_gemm(Type) { return nullptr; }

}  // namespace ember::cpu

#endif
