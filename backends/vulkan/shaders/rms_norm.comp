#version 450
// rms_norm: per row of src0 F32 [ne00, ne01, ne02, ne03] (any strides): x / sqrt(mean(x²) + eps).
// One workgroup per row; shared-memory reduction. f0 = eps.
#extension GL_GOOGLE_include_directive : require
#define WG 256
layout(local_size_x = WG) in;
#include "common.glsl"

shared float partial[WG];

void main() {
    const uint g = group_id();
    if (g >= p.ne01 * p.ne02 * p.ne03) return;
    const uint i1 = g % p.ne01, i2 = (g / p.ne01) % p.ne02, i3 = g / (p.ne01 * p.ne02);
    const uint src = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    const uint dst = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
    const uint tid = gl_LocalInvocationID.x;
    float sum = 0.0;
    for (uint i = tid; i < p.ne00; i += WG) {
        const float v = a_f32(src + i * p.nb00);
        sum += v * v;
    }
    partial[tid] = sum;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    const float scale = 1.0 / sqrt(partial[0] / float(p.ne00) + p.f0);
    for (uint i = tid; i < p.ne00; i += WG) d_f32(dst + i * 4u, a_f32(src + i * p.nb00) * scale);
}
