#version 450
// mul_mat for few columns (token generation): dst[n, m, i2, i3] = Σ_k A[k, n, i2/r2, i3/r3] · B[k, m, i2, i3].
// One workgroup per ROWS consecutive outputs of one column; its invocations stride over K,
// read each activation once for all ROWS rows, dequantize weights in registers, and reduce
// through shared memory (independent of the subgroup size, so it runs the same on lavapipe's
// 8-wide subgroups as on 32/64-wide GPUs).
// src0 = weights (TYPE_*, dense rows), src1 = F32 activations (any strides), dst F32.
// u0 = r2 (= ne12 / ne02), u1 = r3 (= ne13 / ne03).
#extension GL_GOOGLE_include_directive : require
#define WG 64
#define ROWS 4u
layout(local_size_x = WG) in;
#include "common.glsl"
#include "dequant.glsl"

shared float partial[ROWS][WG];

void main() {
    const uint g = group_id();
    const uint N = p.ne01, M = p.ne11;
    const uint n_blocks = (N + ROWS - 1u) / ROWS;
    if (g >= n_blocks * M * p.ne12 * p.ne13) return;  // uniform per workgroup
    const uint n0 = (g % n_blocks) * ROWS;
    uint r = g / n_blocks;
    const uint m = r % M;
    r /= M;
    const uint i2 = r % p.ne12;
    const uint i3 = r / p.ne12;

    const uint a_base = p.off0 + (i2 / p.u0) * p.nb02 + (i3 / p.u1) * p.nb03;
    const uint col = p.off1 + m * p.nb11 + i2 * p.nb12 + i3 * p.nb13;
    const uint tid = gl_LocalInvocationID.x;
    const uint rows = min(ROWS, N - n0);
    float acc[ROWS];
    for (uint j = 0u; j < ROWS; ++j) acc[j] = 0.0;
    for (uint k = tid; k < p.ne00; k += WG) {
        const float x = b_f32(col + k * p.nb10);  // read once, used by every row
        for (uint j = 0u; j < rows; ++j) acc[j] += dequant(a_base + (n0 + j) * p.nb01, k) * x;
    }
    for (uint j = 0u; j < ROWS; ++j) partial[j][tid] = acc[j];
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) {
            for (uint j = 0u; j < ROWS; ++j) partial[j][tid] += partial[j][tid + s];
        }
        barrier();
    }
    if (tid < rows) d_f32(p.offd + (n0 + tid) * 4u + m * p.nb1 + i2 * p.nb2 + i3 * p.nb3, partial[tid][0]);
}
