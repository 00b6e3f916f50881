// F32, the plain format: row "conversions" are copies; the dot follows ggml's scalar
// ggml_vec_dot_f32 accumulation (each product in float, the sum in double).
#pragma once

#include <cstdint>

namespace ember::quant {

void copy_f32_row(const float* src, float* dst, int64_t n);
float vec_dot_f32(int64_t n, const float* x, const float* y);

}  // namespace ember::quant
