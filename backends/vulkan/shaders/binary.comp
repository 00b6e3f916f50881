#version 450
// Element-wise a (op) b with b repeated to a's shape: dst[i] = a[i] op b[i0 % ne10, ...].
// OP_ADD or OP_MUL. src0, src1 F32 (any strides), dst F32. One invocation per element.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

void main() {
    const uint idx = group_id() * 256u + gl_LocalInvocationID.x;
    if (idx >= p.ne00 * p.ne01 * p.ne02 * p.ne03) return;
    const uint i0 = idx % p.ne00;
    uint r = idx / p.ne00;
    const uint i1 = r % p.ne01;
    r /= p.ne01;
    const uint i2 = r % p.ne02, i3 = r / p.ne02;
    const float a = a_f32(p.off0 + i0 * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03);
    const float b = b_f32(p.off1 + (i0 % p.ne10) * p.nb10 + (i1 % p.ne11) * p.nb11 + (i2 % p.ne12) * p.nb12 +
                          (i3 % p.ne13) * p.nb13);
#if defined(OP_ADD)
    const float v = a + b;
#elif defined(OP_MUL)
    const float v = a * b;
#else
#error "binary.comp: define OP_ADD or OP_MUL"
#endif
    d_f32(p.offd + i0 * 4u + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, v);
}
