// The op cases every backend is tested with (see op_harness.h). Each family covers odd
// shapes (one row, K not a multiple of anything, several blocks), non-contiguous sources
// (permuted, transposed, row-strided views) and broadcasting, with references written
// here as plain loops over the host inputs.
#pragma once

#include "backend/op_harness.h"

#include <optional>
#include <vector>

namespace ember::test {

// Every type mul_mat accepts as weights (has a vec_dot), and every get_rows table type.
std::vector<Type> mul_mat_weight_types();
std::vector<Type> get_rows_table_types();

// What a backend's mul_mat multiplies the weights with: the F32 activations rounded to the
// weight type's vec_dot_type first (the CPU kernels: Q8_0, Q8_1, Q8_K, F16, BF16), or the F32
// activations as they are (GPU shaders). The references and thresholds follow.
enum class Activations { VecDotType, F32 };

std::vector<OpCase> get_rows_cases();
// F32 and F16 weights: odd K, views, GQA broadcast.
std::vector<OpCase> mul_mat_plain_cases(Activations acts = Activations::VecDotType);
// Every weight type, vs dequantized weights with rounded (and with F32) activations.
std::vector<OpCase> mul_mat_quant_cases(Activations acts = Activations::VecDotType);
std::vector<OpCase> binary_cases();          // add, mul (broadcast by repetition), scale
std::vector<OpCase> rms_norm_cases();
std::vector<OpCase> rope_cases();            // normal and NeoX, n_dims < ne0, freq_scale, freq_factors
std::vector<OpCase> soft_max_cases();        // no mask, F32 and F16 masks, broadcast, fully masked rows
std::vector<OpCase> unary_cases();           // silu, gelu, swiglu
std::vector<OpCase> copy_cases();            // cpy F32 <-> F16 through strided views, same-type, cont
std::vector<OpCase> argmax_cases();          // ties, -inf, views
std::vector<OpCase> chain_cases();           // several ops in one graph

// The ops of mixture-of-experts and gemma2 models (the CPU's; other backends leave them to it).
// mul_mat_id for every weight type, B1 == 1 and B1 == n_used, T = 1 and 7, the gemm and gemv
// paths, strided inputs; the experts no id names are filled with NaN, so a kernel that read
// them fails the check.
std::vector<OpCase> mul_mat_id_cases();
// mul_mat_id's reference in double (logical order of its output), reading only the experts
// the ids name; b's rows rounded through act_type first when given.
std::vector<double> mul_mat_id_reference(const Tensor& as, const Tensor& b, const Tensor& ids,
                                         std::optional<Type> act_type);
std::vector<OpCase> top_k_cases();      // ties, NaN, -inf, signed zeros, k = 1 and n, views
std::vector<OpCase> sum_rows_cases();
std::vector<OpCase> div_tanh_cases();   // div with broadcasting, tanh, views
std::vector<OpCase> moe_chain_cases();  // router -> top_k -> renormalise -> mul_mat_id -> weighted sum -> cap

// Cases whose result must not depend on the thread count (mul_mat, soft_max, rms_norm, rope).
std::vector<OpCase> determinism_cases();

}  // namespace ember::test
