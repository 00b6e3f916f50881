#version 450
// rope: rotates pairs of src0 F32 [head_dim, n_head, n_tokens, ne03] by position-dependent
// angles. src1 = I32 positions [n_tokens]; src2 = optional F32 frequency factors [n_dims / 2].
// u0 = n_dims, u1 = mode (0 normal: pairs (2i, 2i+1); 2 NeoX: pairs (i, i + n_dims/2)) | 4 when
// src2 is bound. f0 = theta_scale = base^(-2/n_dims) (computed on the host with powf),
// f1 = freq_scale, f2 = attn_factor. One invocation per pair, plus the copied tail.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

// sin and cos of a float angle that may be thousands of radians: reduce by 2π in three
// parts (Cody-Waite) so the reduction itself adds no error a driver's sin/cos would magnify.
void sincos_reduced(float x, out float s, out float c) {
    const float inv_two_pi = 0.15915494309189535;
    const float p1 = 6.28125;                  // 8 significant bits: k·p1 exact for k < 2^16
    const float p2 = 1.9354820251464844e-3;    // 12 significant bits: k·p2 exact for k < 2^12
    const float p3 = -1.7484555314695172e-7;   // 2π - p1 - p2
    precise float k = floor(x * inv_two_pi + 0.5);
    precise float r = ((x - k * p1) - k * p2) - k * p3;
    s = sin(r);
    c = cos(r);
}

void main() {
    const uint idx = group_id() * 256u + gl_LocalInvocationID.x;
    const uint half_ne0 = (p.ne00 + 1u) / 2u;
    const uint rows = p.ne01 * p.ne02 * p.ne03;
    if (idx >= half_ne0 * rows) return;
    const uint i = idx % half_ne0;
    const uint row = idx / half_ne0;
    const uint i1 = row % p.ne01, i2 = (row / p.ne01) % p.ne02, i3 = row / (p.ne01 * p.ne02);
    const uint src = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    const uint dst = p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3;
    const uint n_dims = p.u0;
    const bool neox = (p.u1 & 3u) == 2u;
    const bool has_ff = (p.u1 & 4u) != 0u;

    if (i >= n_dims / 2u) {
        // Past the rotated dimensions: copy elements 2i and 2i + 1 (normal layout of the tail).
        for (uint e = 2u * i; e < min(2u * i + 2u, p.ne00); ++e) {
            if (e >= n_dims) d_f32(dst + e * 4u, a_f32(src + e * p.nb00));
        }
        return;
    }
    // The angle exactly as the reference forms it: theta_base multiplied by theta_scale i times.
    const int pos = int(B[(p.off1 + i2 * p.nb10) >> 2]);
    precise float theta_base = float(pos);
    for (uint t = 0u; t < i; ++t) theta_base *= p.f0;
    const float factor = has_ff ? c_f32(p.off2 + i * 4u) : 1.0;
    precise float theta = p.f1 * (theta_base / factor);
    float s, c;
    sincos_reduced(theta, s, c);
    c *= p.f2;
    s *= p.f2;
    const uint j0 = neox ? i : 2u * i;
    const uint j1 = neox ? i + n_dims / 2u : 2u * i + 1u;
    const float x0 = a_f32(src + j0 * p.nb00), x1 = a_f32(src + j1 * p.nb00);
    d_f32(dst + j0 * 4u, x0 * c - x1 * s);
    d_f32(dst + j1 * 4u, x0 * s + x1 * c);
}
