#version 450
// soft_max: per row of src0 F32 [n_kv, n_q, H, B] (any strides): softmax(x * scale + mask).
// src1 = optional mask [n_kv, >= n_q, H or 1, B or 1], F32 or F16, broadcast over dims 2, 3.
// u0 = 0 no mask, 1 F32 mask, 2 F16 mask; f0 = scale. A row whose values are all -inf gives
// zeros. One workgroup per row; max and sum reduced through shared memory.
#extension GL_GOOGLE_include_directive : require
#define WG 256
layout(local_size_x = WG) in;
#include "common.glsl"

shared float partial[WG];

float score(uint src, uint msk, uint i) {
    float v = a_f32(src + i * p.nb00) * p.f0;
    if (p.u0 == 1u) v += b_f32(msk + i * p.nb10);
    else if (p.u0 == 2u) v += b_f16(msk + i * p.nb10);
    return v;
}

void main() {
    const uint g = group_id();
    if (g >= p.ne01 * p.ne02 * p.ne03) return;
    const uint i1 = g % p.ne01, i2 = (g / p.ne01) % p.ne02, i3 = g / (p.ne01 * p.ne02);
    const uint src = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    const uint msk = p.off1 + i1 * p.nb11 + (i2 % p.ne12) * p.nb12 + (i3 % p.ne13) * p.nb13;
    const uint dst = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
    const uint tid = gl_LocalInvocationID.x;

    float mx = uintBitsToFloat(0xFF800000u);  // -inf
    for (uint i = tid; i < p.ne00; i += WG) mx = max(mx, score(src, msk, i));
    partial[tid] = mx;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) partial[tid] = max(partial[tid], partial[tid + s]);
        barrier();
    }
    mx = partial[0];
    barrier();
    if (isinf(mx) && mx < 0.0) {
        for (uint i = tid; i < p.ne00; i += WG) d_f32(dst + i * 4u, 0.0);
        return;
    }
    float sum = 0.0;
    for (uint i = tid; i < p.ne00; i += WG) {
        const float e = exp(score(src, msk, i) - mx);
        d_f32(dst + i * 4u, e);
        sum += e;
    }
    partial[tid] = sum;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    const float inv = 1.0 / partial[0];
    // Each invocation rescales the values it wrote itself: no barrier needed for dst.
    for (uint i = tid; i < p.ne00; i += WG) d_f32(dst + i * 4u, uintBitsToFloat(D[(dst + i * 4u) >> 2]) * inv);
}
