// Shared by every ember compute shader: the bindings, the push constants, and byte-level
// loads from storage buffers declared as uint[] (so no 8/16-bit storage extension is needed;
// any conformant driver, lavapipe included, runs these).
//
// Bindings: 0 = src0, 1 = src1, 2 = src2, 3 = dst. Each is bound as a sub-range of a device
// buffer that starts at an aligned offset; p.offN is the tensor's byte offset inside it.
// Shapes and strides follow ggml: ne[0] innermost, nb[i] the byte stride of dim i.

layout(std430, binding = 0) buffer Src0 { uint A[]; };
layout(std430, binding = 1) buffer Src1 { uint B[]; };
layout(std430, binding = 2) buffer Src2 { uint C[]; };
layout(std430, binding = 3) buffer Dst { uint D[]; };

layout(push_constant) uniform Params {
    uint ne00, ne01, ne02, ne03;  // src0 shape
    uint nb00, nb01, nb02, nb03;  // src0 byte strides
    uint ne10, ne11, ne12, ne13;  // src1 shape (for cpy/cont: the destination's)
    uint nb10, nb11, nb12, nb13;  // src1 byte strides (for cpy/cont: the destination's)
    uint nb1, nb2, nb3;           // dst byte strides (nb0 is the element size: rows are dense)
    uint off0, off1, off2, offd;  // byte offsets of the tensors inside their bindings
    uint u0, u1;                  // integer op parameters
    float f0, f1, f2;             // float op parameters
} p;

// Workgroups are dispatched as a 2-D grid when one dimension would exceed the device limit.
uint group_id() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

uint a_u8(uint b) { return (A[b >> 2] >> ((b & 3u) * 8u)) & 0xFFu; }
uint a_u16(uint b) { return (A[b >> 2] >> ((b & 2u) * 8u)) & 0xFFFFu; }  // b even
int a_i8(uint b) { return int(a_u8(b) << 24) >> 24; }
float a_f16(uint b) { return unpackHalf2x16(a_u16(b)).x; }
float a_f32(uint b) { return uintBitsToFloat(A[b >> 2]); }  // b multiple of 4

float b_f32(uint b) { return uintBitsToFloat(B[b >> 2]); }
float b_f16(uint b) { return unpackHalf2x16((B[b >> 2] >> ((b & 2u) * 8u)) & 0xFFFFu).x; }
float c_f32(uint b) { return uintBitsToFloat(C[b >> 2]); }

void d_f32(uint b, float v) { D[b >> 2] = floatBitsToUint(v); }
void d_i32(uint b, int v) { D[b >> 2] = uint(v); }

// fp32 -> fp16 bits, round to nearest even, in integer arithmetic so that every driver
// rounds like the CPU reference (packHalf2x16 leaves the rounding mode to the driver).
uint f32_to_f16_bits(float f) {
    const uint x = floatBitsToUint(f);
    const uint sign = (x >> 16) & 0x8000u;
    const uint ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) return sign | (ax > 0x7F800000u ? 0x7E00u : 0x7C00u);  // NaN, Inf
    if (ax >= 0x477FF000u) return sign | 0x7C00u;                                 // rounds past 65504
    if (ax < 0x38800000u) {                                                       // subnormal or zero
        if (ax < 0x33000000u) return sign;                                        // below half the smallest
        const uint e = ax >> 23;
        const uint m = (ax & 0x7FFFFFu) | 0x800000u;
        const uint shift = 126u - e;  // 14..24
        uint h = m >> shift;
        const uint rem = m & ((1u << shift) - 1u);
        const uint half_ = 1u << (shift - 1u);
        if (rem > half_ || (rem == half_ && (h & 1u) != 0u)) h += 1u;
        return sign | h;
    }
    uint h = ((ax >> 13) - (112u << 10));
    const uint rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h += 1u;
    return sign | h;
}

// Writes 16 bits at byte b (even) of dst. Two invocations may own the halves of one word,
// so each clears and sets only its own half atomically.
void d_u16(uint b, uint bits) {
    const uint shift = (b & 2u) * 8u;
    atomicAnd(D[b >> 2], ~(0xFFFFu << shift));
    atomicOr(D[b >> 2], (bits & 0xFFFFu) << shift);
}
