#version 450
// Element-wise functions of src0 F32 (any strides) into dense-row dst F32:
// OP_SCALE (x * f0), OP_SILU (x / (1 + e^-x)), OP_GELU (tanh approximation),
// OP_SWIGLU (silu(x) * src1, src1 of the same shape). One invocation per element.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"

float silu(float x) { return x / (1.0 + exp(-x)); }

void main() {
    const uint idx = group_id() * 256u + gl_LocalInvocationID.x;
    if (idx >= p.ne00 * p.ne01 * p.ne02 * p.ne03) return;
    const uint i0 = idx % p.ne00;
    uint r = idx / p.ne00;
    const uint i1 = r % p.ne01;
    r /= p.ne01;
    const uint i2 = r % p.ne02, i3 = r / p.ne02;
    const float x = a_f32(p.off0 + i0 * p.nb00 + i1 * p.nb01 + i2 * p.nb02 + i3 * p.nb03);
#if defined(OP_SCALE)
    const float v = x * p.f0;
#elif defined(OP_SILU)
    const float v = silu(x);
#elif defined(OP_GELU)
    // tanh(u) = 1 - 2 / (e^{2u} + 1): well defined for large |u| (exp overflows to inf, giving 1).
    const float u = 0.7978845608028654 * x * (1.0 + 0.044715 * x * x);
    const float v = 0.5 * x * (2.0 - 2.0 / (exp(2.0 * u) + 1.0));
#elif defined(OP_SWIGLU)
    const float v = silu(x) * b_f32(p.off1 + i0 * p.nb10 + i1 * p.nb11 + i2 * p.nb12 + i3 * p.nb13);
#else
#error "unary.comp: define one OP_*"
#endif
    d_f32(p.offd + i0 * 4u + i1 * p.nb1 + i2 * p.nb2 + i3 * p.nb3, v);
}
