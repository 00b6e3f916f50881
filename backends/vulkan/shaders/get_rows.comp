#version 450
// get_rows: dst[i0, i, j, k] = dequant(table row ids[i, j, k] of plane (j, k))[i0].
// src0 = table [ne00, rows, ne02, ne03] (any TYPE_*), src1 = ids I32 [n, ne11, ne12], dst F32.
// One invocation per output element. Ids were range-checked by the caller (see vk_ops.cpp).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
#include "common.glsl"
#include "dequant.glsl"

void main() {
    const uint idx = group_id() * 256u + gl_LocalInvocationID.x;
    const uint total = p.ne00 * p.ne10 * p.ne11 * p.ne12;
    if (idx >= total) return;
    const uint i0 = idx % p.ne00;
    uint r = idx / p.ne00;
    const uint i = r % p.ne10;
    r /= p.ne10;
    const uint j = r % p.ne11;
    const uint k = r / p.ne11;
    const uint id = B[(p.off1 + i * p.nb10 + j * p.nb11 + k * p.nb12) >> 2];
    const uint row = p.off0 + id * p.nb01 + j * p.nb02 + k * p.nb03;
#if BLOCK_SIZE == 1
    const float v = dequant(row + i0 * p.nb00, 0u);
#else
    const float v = dequant(row, i0);
#endif
    d_f32(p.offd + i0 * 4u + i * p.nb1 + j * p.nb2 + k * p.nb3, v);
}
