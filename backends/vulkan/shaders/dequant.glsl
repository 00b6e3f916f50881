// Element k of a weight row that starts at byte `row` of binding 0, as float, for the
// type selected by one TYPE_* define. Bit-exact with the reference dequantizers in
// quant/ (`precise` keeps the driver from fusing the multiply-adds they do not fuse).
//
// BLOCK_SIZE is the number of elements per block (1 for plain types).

#if defined(TYPE_F32)
#define BLOCK_SIZE 1
float dequant(uint row, uint k) { return a_f32(row + 4u * k); }
#elif defined(TYPE_F16)
#define BLOCK_SIZE 1
float dequant(uint row, uint k) { return a_f16(row + 2u * k); }
#elif defined(TYPE_BF16)
#define BLOCK_SIZE 1
float dequant(uint row, uint k) { return uintBitsToFloat(a_u16(row + 2u * k) << 16); }
#elif defined(TYPE_I32)
#define BLOCK_SIZE 1
float dequant(uint row, uint k) { return float(int(A[(row + 4u * k) >> 2])); }
#elif defined(TYPE_Q4_0)
#define BLOCK_SIZE 32
// 18 bytes: fp16 d, 16 bytes of nibbles (element j in the low nibble of byte j, j + 16 in the high).
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 18u;
    const uint j = k % 32u;
    const uint q = a_u8(blk + 2u + (j & 15u));
    const int v = int(j < 16u ? (q & 15u) : (q >> 4)) - 8;
    precise float r = float(v) * a_f16(blk);
    return r;
}
#elif defined(TYPE_Q4_1)
#define BLOCK_SIZE 32
// 20 bytes: fp16 d, fp16 m, 16 bytes of nibbles.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 20u;
    const uint j = k % 32u;
    const uint q = a_u8(blk + 4u + (j & 15u));
    const uint v = j < 16u ? (q & 15u) : (q >> 4);
    precise float r = float(v) * a_f16(blk) + a_f16(blk + 2u);
    return r;
}
#elif defined(TYPE_Q5_0)
#define BLOCK_SIZE 32
// 22 bytes: fp16 d, 4 bytes of 5th bits (bit j of the little-endian u32), 16 bytes of nibbles.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 22u;
    const uint j = k % 32u;
    const uint q = a_u8(blk + 6u + (j & 15u));
    const uint hi = (a_u8(blk + 2u + j / 8u) >> (j % 8u)) & 1u;
    const int v = int((j < 16u ? (q & 15u) : (q >> 4)) | (hi << 4)) - 16;
    precise float r = float(v) * a_f16(blk);
    return r;
}
#elif defined(TYPE_Q5_1)
#define BLOCK_SIZE 32
// 24 bytes: fp16 d, fp16 m, 4 bytes of 5th bits, 16 bytes of nibbles.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 24u;
    const uint j = k % 32u;
    const uint q = a_u8(blk + 8u + (j & 15u));
    const uint hi = (a_u8(blk + 4u + j / 8u) >> (j % 8u)) & 1u;
    const uint v = (j < 16u ? (q & 15u) : (q >> 4)) | (hi << 4);
    precise float r = float(v) * a_f16(blk) + a_f16(blk + 2u);
    return r;
}
#elif defined(TYPE_Q8_0)
#define BLOCK_SIZE 32
// 34 bytes: fp16 d, 32 signed bytes.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 34u;
    precise float r = float(a_i8(blk + 2u + k % 32u)) * a_f16(blk);
    return r;
}
#elif defined(TYPE_Q8_1)
#define BLOCK_SIZE 32
// 36 bytes: fp16 d, fp16 s, 32 signed bytes.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 32u) * 36u;
    precise float r = float(a_i8(blk + 4u + k % 32u)) * a_f16(blk);
    return r;
}
#elif defined(TYPE_Q8_K)
#define BLOCK_SIZE 256
// 292 bytes: f32 d, 256 signed bytes, 16 int16 block sums.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 256u) * 292u;
    precise float r = a_f32(blk) * float(a_i8(blk + 4u + k % 256u));
    return r;
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
#define BLOCK_SIZE 256
// Eight 32-element sub-blocks with 6-bit scales and mins packed in 12 bytes at byte 4.
void scale_min_k4(uint scales, uint s, out uint sc, out uint m) {
    if (s < 4u) {
        sc = a_u8(scales + s) & 63u;
        m = a_u8(scales + s + 4u) & 63u;
    } else {
        sc = (a_u8(scales + s + 4u) & 15u) | ((a_u8(scales + s - 4u) >> 6) << 4);
        m = (a_u8(scales + s + 4u) >> 4) | ((a_u8(scales + s) >> 6) << 4);
    }
}
#if defined(TYPE_Q4_K)
// 144 bytes: fp16 d, fp16 dmin, 12 bytes of scales, 128 bytes of nibbles.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 256u) * 144u;
    const uint e = k % 256u;
    const uint s = e / 32u, l = e % 32u;
    uint sc, m;
    scale_min_k4(blk + 4u, s, sc, m);
    const uint q = (a_u8(blk + 16u + 32u * (s / 2u) + l) >> ((s % 2u) * 4u)) & 15u;
    precise float ds = a_f16(blk) * float(sc);
    precise float ms = a_f16(blk + 2u) * float(m);
    precise float r = ds * float(q) - ms;
    return r;
}
#else
// 176 bytes: fp16 d, fp16 dmin, 12 bytes of scales, 32 bytes of 5th bits, 128 bytes of nibbles.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 256u) * 176u;
    const uint e = k % 256u;
    const uint s = e / 32u, l = e % 32u;
    uint sc, m;
    scale_min_k4(blk + 4u, s, sc, m);
    const uint low = (a_u8(blk + 48u + 32u * (s / 2u) + l) >> ((s % 2u) * 4u)) & 15u;
    const uint high = (a_u8(blk + 16u + l) >> s) & 1u;
    precise float ds = a_f16(blk) * float(sc);
    precise float ms = a_f16(blk + 2u) * float(m);
    precise float r = ds * float(low | (high << 4)) - ms;
    return r;
}
#endif
#elif defined(TYPE_Q6_K)
#define BLOCK_SIZE 256
// 210 bytes: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 signed scales, fp16 d last.
float dequant(uint row, uint k) {
    const uint blk = row + (k / 256u) * 210u;
    const uint e = k % 256u;
    const uint h = e / 128u, pp = e % 128u, t = pp / 32u, l = pp % 32u;
    const uint low = (a_u8(blk + 64u * h + l + 32u * (t % 2u)) >> (t < 2u ? 0u : 4u)) & 15u;
    const uint high = (a_u8(blk + 128u + 32u * h + l) >> (2u * t)) & 3u;
    const int q = int(low | (high << 4)) - 32;
    precise float ds = a_f16(blk + 208u) * float(a_i8(blk + 192u + e / 16u));
    precise float r = ds * float(q);
    return r;
}
#else
#error "dequant.glsl: define one TYPE_*"
#endif
