#version 450
// mul_mat for few columns (token generation): dst[n, m, i2, i3] = Σ_k A[k, n, i2/r2, i3/r3] · B[k, m, i2, i3].
// One workgroup per output value; its invocations stride over K, dequantizing weights in
// registers, and reduce through shared memory (independent of the subgroup size, so it
// runs the same on lavapipe's 8-wide subgroups as on 32/64-wide GPUs).
// src0 = weights (TYPE_*, dense rows), src1 = F32 activations (any strides), dst F32.
// u0 = r2 (= ne12 / ne02), u1 = r3 (= ne13 / ne03).
#extension GL_GOOGLE_include_directive : require
#define WG 64
layout(local_size_x = WG) in;
#include "common.glsl"
#include "dequant.glsl"

shared float partial[WG];

void main() {
    const uint g = group_id();
    const uint N = p.ne01, M = p.ne11;
    if (g >= N * M * p.ne12 * p.ne13) return;  // uniform per workgroup
    const uint n = g % N;
    uint r = g / N;
    const uint m = r % M;
    r /= M;
    const uint i2 = r % p.ne12;
    const uint i3 = r / p.ne12;

    const uint row = p.off0 + n * p.nb01 + (i2 / p.u0) * p.nb02 + (i3 / p.u1) * p.nb03;
    const uint col = p.off1 + m * p.nb11 + i2 * p.nb12 + i3 * p.nb13;
    const uint tid = gl_LocalInvocationID.x;
    float acc = 0.0;
    for (uint k = tid; k < p.ne00; k += WG) acc += dequant(row, k) * b_f32(col + k * p.nb10);
    partial[tid] = acc;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    if (tid == 0u) d_f32(p.offd + n * 4u + m * p.nb1 + i2 * p.nb2 + i3 * p.nb3, partial[0]);
}
