// AVX-512 kernel set: nothing of its own yet (the avx512 level runs the AVX2 kernels).
#include "backends/cpu/kernels_x86.h"
namespace ember::cpu {
void register_avx512_kernels(CpuKernels&, bool) {}
}  // namespace ember::cpu
