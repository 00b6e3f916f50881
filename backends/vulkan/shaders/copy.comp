#version 450
// cpy / cont: element e of src0 (logical order over ne0x, any strides) goes to element e of
// the destination (logical order over ne1x with strides nb1x, written through binding 3).
// SRC_F32 or SRC_F16, DST_F32 or DST_F16. F32 -> F16 rounds to nearest even exactly as the
// CPU does. One invocation per element.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

void main() {
    const uint idx = group_id() * 256u + gl_LocalInvocationID.x;
    if (idx >= p.ne00 * p.ne01 * p.ne02 * p.ne03) return;
    uint r = idx;
    const uint s0 = r % p.ne00; r /= p.ne00;
    const uint s1 = r % p.ne01; r /= p.ne01;
    const uint s2 = r % p.ne02, s3 = r / p.ne02;
    r = idx;
    const uint d0 = r % p.ne10; r /= p.ne10;
    const uint d1 = r % p.ne11; r /= p.ne11;
    const uint d2 = r % p.ne12, d3 = r / p.ne12;
    const uint src = p.off0 + s0 * p.nb00 + s1 * p.nb01 + s2 * p.nb02 + s3 * p.nb03;
    const uint dst = p.offd + d0 * p.nb10 + d1 * p.nb11 + d2 * p.nb12 + d3 * p.nb13;
#if defined(SRC_F32) && defined(DST_F32)
    D[dst >> 2] = A[src >> 2];
#elif defined(SRC_F16) && defined(DST_F16)
    d_u16(dst, a_u16(src));
#elif defined(SRC_F32) && defined(DST_F16)
    d_u16(dst, f32_to_f16_bits(a_f32(src)));
#elif defined(SRC_F16) && defined(DST_F32)
    d_f32(dst, a_f16(src));
#else
#error "copy.comp: define SRC_F32/SRC_F16 and DST_F32/DST_F16"
#endif
}
