#version 450
// mul_mat for batches (prompt processing): each 16x16 workgroup computes a 32 (rows n) x
// 32 (columns m) tile of dst, stepping through K in slices of 32 that are dequantized into
// shared memory once and reused by all 256 invocations; each invocation owns 2x2 outputs.
// Same operands and push constants as mul_mat_vec.comp. One workgroup per (tile, batch),
// flattened as tile + tiles * (i2 + ne12 * i3).
#extension GL_GOOGLE_include_directive : require
#define TN 32
#define TM 32
#define TK 32
layout(local_size_x = 16, local_size_y = 16) in;
#include "common.glsl"
#include "dequant.glsl"

shared float As[TN][TK + 1];  // As[n][k]
shared float Bs[TM][TK + 1];  // Bs[m][k]

void main() {
    const uint N = p.ne01, M = p.ne11, K = p.ne00;
    const uint tiles_n = (N + TN - 1u) / TN;
    const uint tiles = tiles_n * ((M + TM - 1u) / TM);
    const uint g = group_id();
    if (g >= tiles * p.ne12 * p.ne13) return;  // uniform per workgroup
    const uint tile = g % tiles;
    const uint n0 = (tile % tiles_n) * TN;
    const uint m0 = (tile / tiles_n) * TM;
    const uint batch = g / tiles;
    const uint i2 = batch % p.ne12;
    const uint i3 = batch / p.ne12;
    const uint a_base = p.off0 + (i2 / p.u0) * p.nb02 + (i3 / p.u1) * p.nb03;
    const uint b_base = p.off1 + i2 * p.nb12 + i3 * p.nb13;

    const uint tx = gl_LocalInvocationID.x;  // columns m0 + tx, m0 + tx + 16
    const uint ty = gl_LocalInvocationID.y;  // rows n0 + ty, n0 + ty + 16
    const uint lid = ty * 16u + tx;
    float acc00 = 0.0, acc01 = 0.0, acc10 = 0.0, acc11 = 0.0;

    for (uint k0 = 0u; k0 < K; k0 += TK) {
        // 1024 values of each tile, 4 per invocation; zeros outside the matrices.
        for (uint e = lid; e < TN * TK; e += 256u) {
            const uint rr = e / TK, kk = e % TK;
            const uint n = n0 + rr, k = k0 + kk;
            As[rr][kk] = (n < N && k < K) ? dequant(a_base + n * p.nb01, k) : 0.0;
            const uint m = m0 + rr;
            Bs[rr][kk] = (m < M && k < K) ? b_f32(b_base + m * p.nb11 + k * p.nb10) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < TK; ++kk) {
            const float a0 = As[ty][kk], a1 = As[ty + 16u][kk];
            const float b0 = Bs[tx][kk], b1 = Bs[tx + 16u][kk];
            acc00 += a0 * b0;
            acc01 += a0 * b1;
            acc10 += a1 * b0;
            acc11 += a1 * b1;
        }
        barrier();
    }
    const uint out_base = p.offd + i2 * p.nb2 + i3 * p.nb3;
    const uint na = n0 + ty, nb_ = n0 + ty + 16u, ma = m0 + tx, mb = m0 + tx + 16u;
    if (na < N && ma < M) d_f32(out_base + na * 4u + ma * p.nb1, acc00);
    if (na < N && mb < M) d_f32(out_base + na * 4u + mb * p.nb1, acc01);
    if (nb_ < N && ma < M) d_f32(out_base + nb_ * 4u + ma * p.nb1, acc10);
    if (nb_ < N && mb < M) d_f32(out_base + nb_ * 4u + mb * p.nb1, acc11);
}
