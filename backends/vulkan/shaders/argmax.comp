#version 450
// argmax: per row of src0 F32 [n, rows...] (any strides), the I32 index of the maximum; the
// first wins ties, and a row of -inf gives 0. One workgroup per row.
#extension GL_GOOGLE_include_directive : require
#define WG 256
layout(local_size_x = WG) in;
#include "common.glsl"

shared float best_v[WG];
shared uint best_i[WG];

void main() {
    const uint g = group_id();
    if (g >= p.ne01 * p.ne02 * p.ne03) return;
    const uint i1 = g % p.ne01, i2 = (g / p.ne01) % p.ne02, i3 = g / (p.ne01 * p.ne02);
    const uint src = p.off0 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03;
    const uint tid = gl_LocalInvocationID.x;
    float bv = uintBitsToFloat(0xFF800000u);
    uint bi = 0xFFFFFFFFu;
    for (uint i = tid; i < p.ne00; i += WG) {
        const float v = a_f32(src + i * p.nb00);
        if (bi == 0xFFFFFFFFu || v > bv) {  // strided ascending: the first of equals stays
            bv = v;
            bi = i;
        }
    }
    best_v[tid] = bv;
    best_i[tid] = bi;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) {
            const float ov = best_v[tid + s];
            const uint oi = best_i[tid + s];
            const bool take = oi != 0xFFFFFFFFu &&
                              (best_i[tid] == 0xFFFFFFFFu || ov > best_v[tid] || (ov == best_v[tid] && oi < best_i[tid]));
            if (take) {
                best_v[tid] = ov;
                best_i[tid] = oi;
            }
        }
        barrier();
    }
    if (tid == 0u) d_i32(p.offd + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, int(best_i[0] == 0xFFFFFFFFu ? 0u : best_i[0]));
}
