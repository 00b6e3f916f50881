#include "backend/op_cases.h"

#include "core/error.h"
#include "core/ops.h"
#include "quant/f16.h"
#include "quant/quant.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace ember::test {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Ne = std::array<int64_t, 4>;

// How a source is laid out in memory.
enum class Layout {
    Dense,       // contiguous
    RowStride,   // the second half of each row of a tensor twice as wide (nb[1] > row bytes)
    Permuted,    // stored with dims 1 and 2 swapped, then permuted back
    Transposed,  // stored with dims 0 and 1 swapped, then transposed back (plain types only)
};

const char* layout_name(Layout l) {
    switch (l) {
        case Layout::Dense: return "dense";
        case Layout::RowStride: return "rowstride";
        case Layout::Permuted: return "permuted";
        case Layout::Transposed: return "transposed";
    }
    return "?";
}

// A random source of shape ne with the given layout.
Tensor* make_src(Context& ctx, Rng& rng, Type type, Ne ne, Layout layout, float lo = -1.0f, float hi = 1.0f) {
    switch (layout) {
        case Layout::Dense: return random_tensor(ctx, rng, type, ne, lo, hi);
        case Layout::RowStride: {
            Tensor* wide = random_tensor(ctx, rng, type, {2 * ne[0], ne[1], ne[2], ne[3]}, lo, hi);
            return ops::view(ctx, *wide, ne, {wide->nb[1], wide->nb[2], wide->nb[3]}, row_size(type, ne[0]));
        }
        case Layout::Permuted: {
            Tensor* s = random_tensor(ctx, rng, type, {ne[0], ne[2], ne[1], ne[3]}, lo, hi);
            return ops::permute(ctx, *s, {0, 2, 1, 3});
        }
        case Layout::Transposed: {
            Tensor* s = random_tensor(ctx, rng, type, {ne[1], ne[0], ne[2], ne[3]}, lo, hi);
            return ops::transpose(ctx, *s);
        }
    }
    return nullptr;
}

std::string shape_str(Ne ne) { return fmt::format("{}x{}x{}x{}", ne[0], ne[1], ne[2], ne[3]); }

// Loops over a 4-d shape in logical order.
template <typename F>
void for_each(Ne ne, F f) {
    for (int64_t i3 = 0; i3 < ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < ne[1]; ++i1)
                for (int64_t i0 = 0; i0 < ne[0]; ++i0) f(i0, i1, i2, i3);
}

// Per row of a plain tensor, a function of the row's values.
template <typename F>
std::vector<double> per_row(const Tensor& a, F f) {
    std::vector<double> out;
    for (int64_t i3 = 0; i3 < a.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < a.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < a.ne[1]; ++i1) {
                std::vector<double> row(static_cast<size_t>(a.ne[0]));
                for (int64_t i0 = 0; i0 < a.ne[0]; ++i0) row[i0] = value(a, i0, i1, i2, i3);
                f(row, i1, i2, i3);
                out.insert(out.end(), row.begin(), row.end());
            }
    return out;
}

// ---- get_rows ----

std::vector<double> get_rows_ref(const Tensor& table, const Tensor& ids) {
    std::vector<double> out;
    for (int64_t k = 0; k < ids.ne[2]; ++k)
        for (int64_t j = 0; j < ids.ne[1]; ++j)
            for (int64_t i = 0; i < ids.ne[0]; ++i) {
                const auto id = static_cast<int64_t>(value(ids, i, j, k));
                for (float v : row_values(table, id, j, k)) out.push_back(v);
            }
    return out;
}

OpCase get_rows_case(Type type, Ne table_ne, std::vector<int32_t> ids, int64_t ids_ne1, Layout layout) {
    OpCase c;
    c.name = fmt::format("get_rows {} table {} {} ids {}", type_name(type), shape_str(table_ne), layout_name(layout),
                         ids.size());
    c.build = [=](Context& ctx, Rng& rng) {
        const float lo = type == Type::I32 ? -1000.0f : -2.0f;
        const float hi = type == Type::I32 ? 1000.0f : 2.0f;
        Tensor* table = make_src(ctx, rng, type, table_ne, layout, lo, hi);
        const auto n = static_cast<int64_t>(ids.size()) / ids_ne1;
        Tensor* id = ctx.new_tensor_2d(Type::I32, n, ids_ne1);
        for (int64_t j = 0; j < ids_ne1; ++j)
            for (int64_t i = 0; i < n; ++i) set_value(*id, ids[j * n + i], i, j);
        Tensor* out = ops::get_rows(ctx, *table, *id);
        return Built{out, {{"exact", [=] { return get_rows_ref(*table, *id); }, 0.0}}};
    };
    return c;
}

// ---- mul_mat ----

struct MatShape {
    int64_t K, N, M;
    int64_t a2 = 1, a3 = 1, b2 = 1, b3 = 1;
};

// Reference y[n, m, i2, i3] = Σ_k a[k, n, i2 / r2, i3 / r3] · b[k, m, i2, i3] in double, with
// a's rows dequantized and b's rows first rounded through act_type when given.
std::vector<double> mul_mat_ref(const Tensor& a, const Tensor& b, std::optional<Type> act_type) {
    const int64_t K = a.ne[0], N = a.ne[1], M = b.ne[1];
    const int64_t r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
    std::vector<double> out;
    for (int64_t i3 = 0; i3 < b.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < b.ne[2]; ++i2) {
            std::vector<std::vector<float>> w(static_cast<size_t>(N));
            for (int64_t n = 0; n < N; ++n) w[n] = row_values(a, n, i2 / r2, i3 / r3);
            for (int64_t m = 0; m < M; ++m) {
                std::vector<float> x(static_cast<size_t>(K));
                for (int64_t k = 0; k < K; ++k) x[k] = static_cast<float>(value(b, k, m, i2, i3));
                if (act_type) x = round_trip(*act_type, x);
                for (int64_t n = 0; n < N; ++n) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < K; ++k) sum += static_cast<double>(w[n][k]) * static_cast<double>(x[k]);
                    out.push_back(sum);
                }
            }
        }
    return out;
}

// Dequantized weights times F32 activations, accumulated in float by the backend: the
// reference is exact up to float rounding of K products.
constexpr double kF32ActivationsNmse = 1e-9;

OpCase mul_mat_case(Type type, MatShape s, Layout la, Layout lb, double tight, double loose,
                    Activations acts = Activations::VecDotType) {
    OpCase c;
    c.name = fmt::format("mul_mat {} K={} N={} M={} a[{},{}] b[{},{}] a:{} b:{}", type_name(type), s.K, s.N, s.M, s.a2,
                         s.a3, s.b2, s.b3, layout_name(la), layout_name(lb));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, type, {s.K, s.N, s.a2, s.a3}, la);
        Tensor* b = make_src(ctx, rng, Type::F32, {s.K, s.M, s.b2, s.b3}, lb);
        Tensor* out = ops::mul_mat(ctx, *a, *b);
        const Type vdt = quant::quant_traits(type).vec_dot_type;
        Built built{out, {}};
        if (acts == Activations::F32) {
            built.checks.push_back({"vs F32 activations", [=] { return mul_mat_ref(*a, *b, std::nullopt); },
                                    kF32ActivationsNmse});
            return built;
        }
        built.checks.push_back({fmt::format("vs activations rounded to {}", type_name(vdt)),
                                [=] { return mul_mat_ref(*a, *b, vdt == Type::F32 ? std::nullopt : std::optional(vdt)); },
                                tight});
        if (vdt != Type::F32) {
            built.checks.push_back({"vs F32 activations", [=] { return mul_mat_ref(*a, *b, std::nullopt); }, loose});
        }
        return built;
    };
    return c;
}

// ---- rope ----

struct RopeCase {
    int64_t hd, n_head, n_tok, ne3 = 1;
    int32_t n_dims;
    RopeMode mode;
    float base = 10000.0f, freq_scale = 1.0f, attn_factor = 1.0f;
    bool freq_factors = false;
    std::vector<int32_t> pos = {};
};

std::vector<double> rope_ref(const Tensor& a, const Tensor& pos, const Tensor* ff, const RopeCase& rc) {
    // The angle is computed in float exactly as specified (iterative theta, powf); the
    // rotation itself in double.
    const float theta_scale = std::pow(rc.base, -2.0f / static_cast<float>(rc.n_dims));
    return per_row(a, [&](std::vector<double>& row, int64_t, int64_t i2, int64_t) {
        const std::vector<double> x = row;
        float theta_base = static_cast<float>(value(pos, i2));
        const int64_t half = rc.n_dims / 2;
        for (int64_t i = 0; i < half; ++i) {
            const float factor = ff != nullptr ? static_cast<float>(value(*ff, i)) : 1.0f;
            const float theta = rc.freq_scale * (theta_base / factor);
            theta_base *= theta_scale;
            const double c = std::cos(static_cast<double>(theta)) * rc.attn_factor;
            const double s = std::sin(static_cast<double>(theta)) * rc.attn_factor;
            const int64_t j0 = rc.mode == RopeMode::Neox ? i : 2 * i;
            const int64_t j1 = rc.mode == RopeMode::Neox ? i + half : 2 * i + 1;
            row[j0] = x[j0] * c - x[j1] * s;
            row[j1] = x[j0] * s + x[j1] * c;
        }
    });
}

OpCase rope_case(const RopeCase& rc, Layout layout) {
    OpCase c;
    c.name = fmt::format("rope {} hd={} n_dims={} heads={} tokens={} base={} fs={} af={} ff={} {}",
                         rc.mode == RopeMode::Neox ? "neox" : "normal", rc.hd, rc.n_dims, rc.n_head, rc.n_tok, rc.base,
                         rc.freq_scale, rc.attn_factor, rc.freq_factors, layout_name(layout));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, {rc.hd, rc.n_head, rc.n_tok, rc.ne3}, layout);
        Tensor* pos = ctx.new_tensor_1d(Type::I32, rc.n_tok);
        for (int64_t i = 0; i < rc.n_tok; ++i) set_value(*pos, rc.pos[i], i);
        Tensor* ff = rc.freq_factors ? random_tensor(ctx, rng, Type::F32, {rc.n_dims / 2, 1, 1, 1}, 0.5f, 4.0f) : nullptr;
        ops::RopeParams p;
        p.n_dims = rc.n_dims;
        p.mode = rc.mode;
        p.freq_base = rc.base;
        p.freq_scale = rc.freq_scale;
        p.attn_factor = rc.attn_factor;
        Tensor* out = ops::rope(ctx, *a, *pos, p, ff);
        return Built{out, {{"double reference", [=] { return rope_ref(*a, *pos, ff, rc); }, 1e-10}}};
    };
    return c;
}

// ---- soft_max ----

enum class MaskKind { None, Causal, Random };

struct SoftMaxCase {
    Ne a_ne;
    float scale = 1.0f;
    MaskKind mask = MaskKind::None;
    Type mask_type = Type::F32;
    Ne mask_ne{};                // when masked
    int64_t fully_masked_row = -1;  // a query row whose mask is all -inf
    Layout layout = Layout::Dense;
};

std::vector<double> soft_max_ref(const Tensor& a, const Tensor* mask, float scale) {
    return per_row(a, [&](std::vector<double>& row, int64_t i1, int64_t i2, int64_t i3) {
        double max = -kInf;
        for (size_t i = 0; i < row.size(); ++i) {
            row[i] *= scale;
            if (mask != nullptr) row[i] += value(*mask, static_cast<int64_t>(i), i1, i2 % mask->ne[2], i3 % mask->ne[3]);
            max = std::max(max, row[i]);
        }
        if (max == -kInf) {
            for (double& v : row) v = 0.0;
            return;
        }
        double sum = 0.0;
        for (double& v : row) sum += v = std::exp(v - max);
        for (double& v : row) v /= sum;
    });
}

OpCase soft_max_case(const SoftMaxCase& sc) {
    OpCase c;
    c.name = fmt::format("soft_max {} scale={} mask={} {} {} fully_masked={} {}", shape_str(sc.a_ne), sc.scale,
                         static_cast<int>(sc.mask), type_name(sc.mask_type), shape_str(sc.mask_ne), sc.fully_masked_row,
                         layout_name(sc.layout));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, sc.a_ne, sc.layout, -5.0f, 5.0f);
        Tensor* mask = nullptr;
        if (sc.mask != MaskKind::None) {
            mask = ctx.new_tensor(sc.mask_type, sc.mask_ne);
            for_each(sc.mask_ne, [&](int64_t kv, int64_t q, int64_t i2, int64_t i3) {
                double v = 0.0;
                if (sc.mask == MaskKind::Causal) {
                    // Query q sits at position q + (n_kv - n_q); padding rows past n_q are fully masked.
                    const int64_t qpos = q + (sc.a_ne[0] - sc.a_ne[1]);
                    v = (q < sc.a_ne[1] && kv <= qpos) ? 0.0 : -kInf;
                } else {
                    v = rng.integer(0, 3) == 0 ? -kInf : rng.uniform(-2.0f, 2.0f);
                }
                if (q == sc.fully_masked_row) v = -kInf;
                set_value(*mask, v, kv, q, i2, i3);
            });
        }
        Tensor* out = ops::soft_max(ctx, *a, mask, sc.scale);
        return Built{out, {{"double reference", [=] { return soft_max_ref(*a, mask, sc.scale); }, 1e-10}}};
    };
    return c;
}

// ---- element-wise ----

double silu_d(double x) { return x / (1.0 + std::exp(-x)); }
double gelu_d(double x) {
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * x * (1.0 + 0.044715 * x * x)));
}

OpCase binary_case(Op op, Ne a_ne, Ne b_ne, Layout la, Layout lb) {
    OpCase c;
    c.name = fmt::format("{} a {} {} b {} {}", op_name(op), shape_str(a_ne), layout_name(la), shape_str(b_ne),
                         layout_name(lb));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, a_ne, la);
        // Divisors away from zero, so float and double quotients stay close.
        Tensor* b = op == Op::Div ? make_src(ctx, rng, Type::F32, b_ne, lb, 0.5f, 2.0f) : make_src(ctx, rng, Type::F32, b_ne, lb);
        Tensor* out = op == Op::Add ? ops::add(ctx, *a, *b) : op == Op::Mul ? ops::mul(ctx, *a, *b) : ops::div(ctx, *a, *b);
        auto ref = [=] {
            std::vector<double> v;
            for_each(a->ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
                const double x = value(*a, i0, i1, i2, i3);
                const double y = value(*b, i0 % b->ne[0], i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]);
                v.push_back(op == Op::Add ? x + y : op == Op::Mul ? x * y : x / y);
            });
            return v;
        };
        return Built{out, {{"double reference", ref, 1e-10}}};
    };
    return c;
}

OpCase unary_case(Op op, Ne ne, Layout la, Layout lb = Layout::Dense) {
    OpCase c;
    c.name = fmt::format("{} {} {} {}", op_name(op), shape_str(ne), layout_name(la), layout_name(lb));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, ne, la, -6.0f, 6.0f);
        Tensor* b = op == Op::Swiglu ? make_src(ctx, rng, Type::F32, ne, lb, -2.0f, 2.0f) : nullptr;
        Tensor* out = nullptr;
        switch (op) {
            case Op::Silu: out = ops::silu(ctx, *a); break;
            case Op::Gelu: out = ops::gelu(ctx, *a); break;
            case Op::Tanh: out = ops::tanh(ctx, *a); break;
            case Op::Scale: out = ops::scale(ctx, *a, 0.37f); break;
            default: out = ops::swiglu(ctx, *a, *b); break;
        }
        auto ref = [=] {
            std::vector<double> v;
            for_each(a->ne, [&](int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
                const double x = value(*a, i0, i1, i2, i3);
                switch (op) {
                    case Op::Silu: v.push_back(silu_d(x)); break;
                    case Op::Gelu: v.push_back(gelu_d(x)); break;
                    case Op::Tanh: v.push_back(std::tanh(x)); break;
                    case Op::Scale: v.push_back(x * static_cast<double>(0.37f)); break;
                    default: v.push_back(silu_d(x) * value(*b, i0, i1, i2, i3)); break;
                }
            });
            return v;
        };
        return Built{out, {{"double reference", ref, 1e-10}}};
    };
    return c;
}

OpCase rms_norm_case(Ne ne, Layout layout, float eps) {
    OpCase c;
    c.name = fmt::format("rms_norm {} {} eps={}", shape_str(ne), layout_name(layout), eps);
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, ne, layout, -3.0f, 3.0f);
        Tensor* out = ops::rms_norm(ctx, *a, eps);
        auto ref = [=] {
            return per_row(*a, [&](std::vector<double>& row, int64_t, int64_t, int64_t) {
                double sum = 0.0;
                for (double v : row) sum += v * v;
                const double s = 1.0 / std::sqrt(sum / static_cast<double>(row.size()) + eps);
                for (double& v : row) v *= s;
            });
        };
        return Built{out, {{"double reference", ref, 1e-10}}};
    };
    return c;
}

// The values of `a` (logical order) rounded through `type` as a cpy would store them.
std::vector<double> rounded_values(const Tensor& a, Type type) {
    std::vector<double> v = all_values(a);
    if (type == Type::F16) {
        for (double& x : v) x = quant::fp16_to_fp32(quant::fp32_to_fp16(static_cast<float>(x)));
    }
    return v;
}


// ---- mul_mat_id ----

struct MoeShape {
    int64_t K, N, E, U, B1, T;
};

// Reference out[n, s, t] = Σ_k as[k, n, ids[s, t]] · b[k, B1 == 1 ? 0 : s, t] in double, with
// the experts' rows dequantized and b's rows first rounded through act_type when given. It
// reads only the experts the ids name.
std::vector<double> mul_mat_id_ref(const Tensor& as, const Tensor& b, const Tensor& ids, std::optional<Type> act_type) {
    const int64_t K = as.ne[0], N = as.ne[1];
    std::vector<double> out;
    for (int64_t t = 0; t < ids.ne[1]; ++t)
        for (int64_t s = 0; s < ids.ne[0]; ++s) {
            const auto e = static_cast<int64_t>(value(ids, s, t));
            std::vector<float> x(static_cast<size_t>(K));
            for (int64_t k = 0; k < K; ++k) x[k] = static_cast<float>(value(b, k, b.ne[1] == 1 ? 0 : s, t));
            if (act_type) x = round_trip(*act_type, x);
            for (int64_t n = 0; n < N; ++n) {
                const std::vector<float> w = row_values(as, n, e);
                double sum = 0.0;
                for (int64_t k = 0; k < K; ++k) sum += static_cast<double>(w[k]) * static_cast<double>(x[k]);
                out.push_back(sum);
            }
        }
    return out;
}

// ids [U, T] (t * U + s): per token U experts drawn from `allowed`, distinct unless `repeats`.
std::vector<int32_t> moe_ids(int64_t U, int64_t T, const std::vector<int32_t>& allowed, bool repeats, uint64_t seed) {
    Rng rng(seed);
    std::vector<int32_t> ids;
    for (int64_t t = 0; t < T; ++t) {
        std::vector<int32_t> pool = allowed;
        for (int64_t s = 0; s < U; ++s) {
            const auto i = static_cast<size_t>(rng.integer(0, static_cast<int32_t>(pool.size()) - 1));
            ids.push_back(pool[i]);
            if (!repeats) pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    return ids;
}

// Every byte of the experts no id names set to 0xFF: NaN in every format's scale (F32, F16,
// BF16 values; the fp16 d of every block type), so an output that read any of them is NaN
// and fails the check. The build fails if a poisoned expert does not dequantize to NaN.
void poison_unused_experts(Tensor& as, const std::vector<int32_t>& ids) {
    for (int64_t e = 0; e < as.ne[2]; ++e) {
        if (std::find(ids.begin(), ids.end(), e) != ids.end()) continue;
        std::memset(static_cast<char*>(as.data) + e * as.nb[2], 0xFF, as.nb[2]);
        if (!std::isnan(row_values(as, 0, e)[0])) fail("mul_mat_id case: poisoned {} expert is not NaN", type_name(as.type));
    }
}

OpCase mul_mat_id_case(Type type, MoeShape m, std::vector<int32_t> ids_v, Layout lb = Layout::Dense) {
    OpCase c;
    c.name = fmt::format("mul_mat_id {} K={} N={} E={} U={} B1={} T={} b:{}", type_name(type), m.K, m.N, m.E, m.U, m.B1,
                         m.T, layout_name(lb));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* as = random_tensor(ctx, rng, type, {m.K, m.N, m.E, 1});
        poison_unused_experts(*as, ids_v);
        Tensor* b = make_src(ctx, rng, Type::F32, {m.K, m.B1, m.T, 1}, lb);
        Tensor* ids = ctx.new_tensor_2d(Type::I32, m.U, m.T);
        for (int64_t t = 0; t < m.T; ++t)
            for (int64_t s = 0; s < m.U; ++s) set_value(*ids, ids_v[t * m.U + s], s, t);
        Tensor* out = ops::mul_mat_id(ctx, *as, *b, *ids);
        const Type vdt = quant::quant_traits(type).vec_dot_type;
        const bool plain = type == Type::F32 || type == Type::F16;
        // As mul_mat_plain_cases / mul_mat_quant_cases (Q8_1's fp16 block sums: see there).
        const double tight = plain ? 1e-10 : vdt == Type::Q8_1 ? 1e-5 : 1e-8;
        const double loose = plain ? 1e-5 : 1e-3;
        Built built{out, {}};
        built.checks.push_back({fmt::format("vs activations rounded to {}", type_name(vdt)),
                                [=] {
                                    return mul_mat_id_ref(*as, *b, *ids,
                                                          vdt == Type::F32 ? std::nullopt : std::optional(vdt));
                                },
                                tight});
        if (vdt != Type::F32) {
            built.checks.push_back({"vs F32 activations", [=] { return mul_mat_id_ref(*as, *b, *ids, std::nullopt); }, loose});
        }
        return built;
    };
    return c;
}

// ---- top_k ----

// i before j in a top_k row: the larger value, NaN after every number, then the lower index.
bool top_k_before(const std::vector<double>& row, size_t i, size_t j) {
    const bool nan_i = std::isnan(row[i]), nan_j = std::isnan(row[j]);
    if (nan_i != nan_j) return nan_j;
    if (!nan_i && row[i] != row[j]) return row[i] > row[j];
    return i < j;
}

std::vector<double> top_k_ref(const Tensor& a, int64_t k) {
    std::vector<double> out;
    per_row(a, [&](std::vector<double>& row, int64_t, int64_t, int64_t) {
        std::vector<size_t> order(row.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return top_k_before(row, i, j); });
        for (int64_t i = 0; i < k; ++i) out.push_back(static_cast<double>(order[i]));
    });
    return out;
}

OpCase top_k_case(Ne ne, int64_t k, Layout layout) {
    OpCase c;
    c.name = fmt::format("top_k {} k={} {}", shape_str(ne), k, layout_name(layout));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, ne, layout);
        Tensor* out = ops::top_k(ctx, *a, k);
        return Built{out, {{"exact", [=] { return top_k_ref(*a, k); }, 0.0}}};
    };
    return c;
}

OpCase sum_rows_case(Ne ne, Layout layout) {
    OpCase c;
    c.name = fmt::format("sum_rows {} {}", shape_str(ne), layout_name(layout));
    c.build = [=](Context& ctx, Rng& rng) {
        Tensor* a = make_src(ctx, rng, Type::F32, ne, layout);
        Tensor* out = ops::sum_rows(ctx, *a);
        auto ref = [=] {
            std::vector<double> v;
            per_row(*a, [&](std::vector<double>& row, int64_t, int64_t, int64_t) {
                double sum = 0.0;
                for (double x : row) sum += x;
                v.push_back(sum);
            });
            return v;
        };
        return Built{out, {{"double reference", ref, 1e-10}}};
    };
    return c;
}

}  // namespace

std::vector<Type> mul_mat_weight_types() {
    std::vector<Type> out;
    for (uint32_t id = 0; id < kTypeIdCount; ++id) {
        const auto t = type_from_id(id);
        if (!t || !type_traits(*t).computable) continue;
        try {
            if (quant::quant_traits(*t).vec_dot != nullptr) out.push_back(*t);
        } catch (const Error&) {
        }
    }
    return out;
}

std::vector<Type> get_rows_table_types() {
    std::vector<Type> out;
    for (uint32_t id = 0; id < kTypeIdCount; ++id) {
        const auto t = type_from_id(id);
        if (!t || !type_traits(*t).computable) continue;
        if (*t == Type::I32) {
            out.push_back(*t);
            continue;
        }
        try {
            if (quant::quant_traits(*t).to_float != nullptr) out.push_back(*t);
        } catch (const Error&) {
        }
    }
    return out;
}

std::vector<OpCase> get_rows_cases() {
    std::vector<OpCase> cases;
    for (Type t : get_rows_table_types()) {
        const int64_t bs = block_size(t);
        const int64_t ne0 = bs == 1 ? 33 : 2 * bs;
        cases.push_back(get_rows_case(t, {ne0, 10, 1, 1}, {3, 0, 9, 3, 7, 1}, 1, Layout::Dense));
        cases.push_back(get_rows_case(t, {ne0, 1, 1, 1}, {0}, 1, Layout::Dense));
        // Batched ids: ids [4, 3] pick rows of table plane j.
        cases.push_back(get_rows_case(t, {bs == 1 ? 7 : bs, 5, 3, 1}, {4, 0, 2, 2, 1, 1, 3, 0, 0, 4, 4, 3}, 3,
                                      Layout::Dense));
        cases.push_back(get_rows_case(t, {ne0, 6, 1, 1}, {5, 2, 2}, 1, Layout::RowStride));
        if (!is_quantized(t)) {
            cases.push_back(get_rows_case(t, {9, 6, 2, 1}, {5, 0, 1, 4}, 2, Layout::Permuted));
            cases.push_back(get_rows_case(t, {5, 6, 1, 1}, {5, 0, 3}, 1, Layout::Transposed));
        }
    }
    return cases;
}

std::vector<OpCase> mul_mat_plain_cases(Activations acts) {
    std::vector<OpCase> cases;
    for (Type t : {Type::F32, Type::F16}) {
        const double tight = 1e-10;
        const double loose = 1e-5;  // F16-rounded activations vs F32
        for (MatShape s : {MatShape{33, 7, 5}, MatShape{1, 3, 1}, MatShape{7, 1, 4}, MatShape{64, 19, 17},
                           MatShape{33, 40, 1}, MatShape{128, 5, 33}}) {
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Dense, tight, loose, acts));
        }
        // Grouped-query broadcast over dims 2 and 3.
        for (MatShape s : {MatShape{33, 5, 3, 1, 1, 4, 1}, MatShape{16, 6, 2, 2, 1, 4, 1}, MatShape{8, 4, 3, 1, 1, 2, 2},
                           MatShape{8, 4, 3, 2, 2, 4, 2}, MatShape{9, 17, 1, 2, 1, 8, 1}}) {
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Dense, tight, loose, acts));
        }
        // Non-contiguous sources.
        const MatShape batched{33, 6, 4, 2, 1, 4, 1};
        const MatShape flat{17, 9, 18};
        for (MatShape s : {batched, flat}) {
            cases.push_back(mul_mat_case(t, s, Layout::RowStride, Layout::Dense, tight, loose, acts));
            cases.push_back(mul_mat_case(t, s, Layout::Permuted, Layout::Dense, tight, loose, acts));
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Transposed, tight, loose, acts));
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Permuted, tight, loose, acts));
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::RowStride, tight, loose, acts));
            cases.push_back(mul_mat_case(t, s, Layout::Permuted, Layout::Transposed, tight, loose, acts));
        }
    }
    return cases;
}

std::vector<OpCase> mul_mat_quant_cases(Activations acts) {
    std::vector<OpCase> cases;
    for (Type t : mul_mat_weight_types()) {
        if (t == Type::F32 || t == Type::F16) continue;  // mul_mat_plain_cases
        const int64_t bs = block_size(t);
        // Q4_1/Q5_1 dot with Q8_1, whose per-block sum s is stored as fp16 (docs/FORMATS.md §3.5): the
        // min term mx * s then differs from the dequantized-activation reference by up to 2^-11
        // relative, so their tight threshold is looser.
        const double tight = quant::quant_traits(t).vec_dot_type == Type::Q8_1 ? 1e-5 : 1e-8;
        // 8-bit (or bf16) activations vs F32: typically 1e-5, but a single output value is a
        // noisy estimate, so leave a margin; a wrong kernel gives NMSE near 1.
        const double loose = 1e-3;
        const int64_t k1 = bs == 1 ? 33 : bs;
        const int64_t k3 = bs == 1 ? 96 : 3 * bs;
        for (MatShape s : {MatShape{k1, 5, 1}, MatShape{k3, 19, 17}, MatShape{k1, 1, 1}, MatShape{k3, 33, 2},
                           MatShape{k1, 4, 3, 2, 1, 4, 1}, MatShape{k1, 3, 2, 1, 1, 2, 2}}) {
            cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Dense, tight, loose, acts));
        }
        const MatShape s{2 * k1, 6, 5, 2, 1, 4, 1};
        cases.push_back(mul_mat_case(t, s, Layout::RowStride, Layout::Dense, tight, loose, acts));
        cases.push_back(mul_mat_case(t, s, Layout::Permuted, Layout::Transposed, tight, loose, acts));
        cases.push_back(mul_mat_case(t, s, Layout::Dense, Layout::Permuted, tight, loose, acts));
    }
    return cases;
}

std::vector<OpCase> binary_cases() {
    std::vector<OpCase> cases;
    for (Op op : {Op::Add, Op::Mul}) {
        const Ne a{7, 5, 3, 2};
        for (Ne b : {Ne{7, 5, 3, 2}, Ne{7, 1, 1, 1}, Ne{1, 5, 1, 1}, Ne{7, 1, 3, 1}, Ne{1, 1, 1, 1}, Ne{7, 5, 1, 2}}) {
            cases.push_back(binary_case(op, a, b, Layout::Dense, Layout::Dense));
        }
        cases.push_back(binary_case(op, {33, 1, 1, 1}, {33, 1, 1, 1}, Layout::Dense, Layout::Dense));
        cases.push_back(binary_case(op, {6, 4, 3, 1}, {6, 1, 1, 1}, Layout::Permuted, Layout::RowStride));
        cases.push_back(binary_case(op, {6, 4, 3, 1}, {6, 4, 3, 1}, Layout::Transposed, Layout::Permuted));
        cases.push_back(binary_case(op, {6, 4, 1, 1}, {3, 2, 1, 1}, Layout::RowStride, Layout::Transposed));
    }
    cases.push_back(unary_case(Op::Scale, {33, 4, 2, 1}, Layout::Dense));
    cases.push_back(unary_case(Op::Scale, {5, 4, 3, 1}, Layout::Permuted));
    cases.push_back(unary_case(Op::Scale, {5, 4, 1, 1}, Layout::Transposed));
    return cases;
}

std::vector<OpCase> rms_norm_cases() {
    std::vector<OpCase> cases;
    cases.push_back(rms_norm_case({33, 4, 1, 1}, Layout::Dense, 1e-5f));
    cases.push_back(rms_norm_case({1, 1, 1, 1}, Layout::Dense, 1e-6f));
    cases.push_back(rms_norm_case({1000, 3, 1, 1}, Layout::Dense, 1e-5f));
    cases.push_back(rms_norm_case({16, 5, 3, 2}, Layout::Permuted, 1e-5f));
    cases.push_back(rms_norm_case({16, 5, 3, 1}, Layout::RowStride, 0.0f));
    cases.push_back(rms_norm_case({6, 7, 1, 1}, Layout::Transposed, 1e-5f));
    return cases;
}

std::vector<OpCase> rope_cases() {
    std::vector<OpCase> cases;
    const std::vector<int32_t> pos4{7, 0, 3, 12};
    for (RopeMode mode : {RopeMode::Normal, RopeMode::Neox}) {
        RopeCase full{16, 3, 4, 1, 16, mode};
        full.pos = pos4;
        cases.push_back(rope_case(full, Layout::Dense));
        cases.push_back(rope_case(full, Layout::Permuted));  // heads and tokens swapped in memory (a K/Q view)
        cases.push_back(rope_case(full, Layout::RowStride));

        RopeCase partial{16, 2, 4, 1, 8, mode, 10000.0f, 0.25f, 0.8f};  // n_dims < head_dim: the rest is copied
        partial.pos = {3, 1, 2, 0};
        cases.push_back(rope_case(partial, Layout::Dense));

        RopeCase ff{14, 2, 3, 1, 10, mode, 1000000.0f, 0.5f, 1.0f, true};  // odd pair count, freq factors
        ff.pos = {100, 5, 2000};
        cases.push_back(rope_case(ff, Layout::Dense));

        RopeCase batched{8, 2, 3, 2, 8, mode};  // ne3 > 1
        batched.pos = {2, 9, 4};
        cases.push_back(rope_case(batched, Layout::Dense));

        RopeCase one{2, 1, 1, 1, 2, mode};
        one.pos = {5};
        cases.push_back(rope_case(one, Layout::Dense));

        RopeCase big{128, 4, 5, 1, 128, mode, 500000.0f};
        big.pos = {4095, 17, 0, 1024, 33};
        cases.push_back(rope_case(big, Layout::Dense));
    }
    return cases;
}

std::vector<OpCase> soft_max_cases() {
    std::vector<OpCase> cases;
    cases.push_back(soft_max_case({{10, 4, 1, 1}, 1.0f}));
    cases.push_back(soft_max_case({{1, 1, 1, 1}, 1.0f}));
    cases.push_back(soft_max_case({{33, 3, 2, 1}, 0.125f}));
    cases.push_back(soft_max_case({{1000, 2, 1, 1}, 0.5f}));
    for (Type mt : {Type::F32, Type::F16}) {
        // Causal mask padded to 8 rows, shared by every head.
        cases.push_back(soft_max_case({{10, 4, 3, 1}, 0.25f, MaskKind::Causal, mt, {10, 8, 1, 1}}));
        // Random finite values and -inf; one query row entirely masked.
        cases.push_back(soft_max_case({{12, 3, 4, 2}, 0.7f, MaskKind::Random, mt, {12, 3, 1, 1}, 1}));
        // Per-head mask broadcast over dim 3.
        cases.push_back(soft_max_case({{12, 3, 4, 2}, 1.0f, MaskKind::Random, mt, {12, 3, 4, 1}}));
        // Scores read through a permuted view.
        cases.push_back(
            soft_max_case({{9, 5, 3, 1}, 0.5f, MaskKind::Causal, mt, {9, 5, 1, 1}, -1, Layout::Permuted}));
    }
    return cases;
}

std::vector<OpCase> unary_cases() {
    std::vector<OpCase> cases;
    for (Op op : {Op::Silu, Op::Gelu, Op::Swiglu}) {
        cases.push_back(unary_case(op, {33, 3, 2, 1}, Layout::Dense));
        cases.push_back(unary_case(op, {1, 1, 1, 1}, Layout::Dense));
        cases.push_back(unary_case(op, {7, 4, 3, 1}, Layout::Permuted, Layout::Transposed));
        cases.push_back(unary_case(op, {7, 4, 1, 1}, Layout::RowStride, Layout::Permuted));
    }
    return cases;
}

std::vector<OpCase> copy_cases() {
    std::vector<OpCase> cases;
    {
        // F32 -> F16 into a strided view of a bigger F16 tensor (as into a KV cache), then back to F32.
        OpCase c;
        c.name = "cpy F32 -> F16 strided view -> F32";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = random_tensor(ctx, rng, Type::F32, {8, 6, 1, 1}, -100.0f, 100.0f);
            Tensor* cache = ctx.new_tensor_2d(Type::F16, 16, 7);
            Tensor* slot = ops::view_2d(ctx, *cache, 8, 6, cache->nb[1], cache->nb[1] + 4 * sizeof(uint16_t));
            Tensor* stored = ops::cpy(ctx, *a, *slot);
            Tensor* back = ctx.new_tensor_2d(Type::F32, 8, 6);
            Tensor* out = ops::cpy(ctx, *stored, *back);
            return Built{out, {{"exact", [=] { return rounded_values(*a, Type::F16); }, 0.0}}};
        };
        cases.push_back(c);
    }
    {
        // The F16 view itself is the output: check the strided destination directly.
        OpCase c;
        c.name = "cpy F32 transposed -> F16 strided view";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = make_src(ctx, rng, Type::F32, {5, 7, 1, 1}, Layout::Transposed);
            Tensor* cache = ctx.new_tensor_2d(Type::F16, 9, 8);
            Tensor* slot = ops::view_2d(ctx, *cache, 5, 7, cache->nb[1], 3 * sizeof(uint16_t));
            Tensor* out = ops::cpy(ctx, *a, *slot);
            return Built{out, {{"exact", [=] { return rounded_values(*a, Type::F16); }, 0.0}}};
        };
        cases.push_back(c);
    }
    {
        OpCase c;
        c.name = "cpy F16 permuted -> F32 row-strided view";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = make_src(ctx, rng, Type::F16, {6, 4, 3, 1}, Layout::Permuted);
            Tensor* dst = make_src(ctx, rng, Type::F32, {6, 4, 3, 1}, Layout::RowStride);
            Tensor* out = ops::cpy(ctx, *a, *dst);
            return Built{out, {{"exact", [=] { return all_values(*a); }, 0.0}}};
        };
        cases.push_back(c);
    }
    {
        // Different shapes, same element count: row-major order on both sides.
        OpCase c;
        c.name = "cpy F32 [12,4] -> F32 [6,8]";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = random_tensor(ctx, rng, Type::F32, {12, 4, 1, 1});
            Tensor* dst = ctx.new_tensor_2d(Type::F32, 6, 8);
            Tensor* out = ops::cpy(ctx, *a, *dst);
            return Built{out, {{"exact", [=] { return all_values(*a); }, 0.0}}};
        };
        cases.push_back(c);
    }
    {
        OpCase c;
        c.name = "cpy F16 [3,4,2] -> F16 transposed view";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = random_tensor(ctx, rng, Type::F16, {3, 4, 2, 1});
            Tensor* dst = make_src(ctx, rng, Type::F16, {3, 4, 2, 1}, Layout::Transposed);
            Tensor* out = ops::cpy(ctx, *a, *dst);
            return Built{out, {{"exact", [=] { return all_values(*a); }, 0.0}}};
        };
        cases.push_back(c);
    }
    for (Type t : {Type::Q8_0, Type::Q4_K}) {
        OpCase c;
        c.name = fmt::format("cpy {} -> {} row-strided view", type_name(t), type_name(t));
        c.build = [t](Context& ctx, Rng& rng) {
            const int64_t bs = block_size(t);
            Tensor* a = random_tensor(ctx, rng, t, {2 * bs, 3, 1, 1});
            Tensor* dst = make_src(ctx, rng, t, {2 * bs, 3, 1, 1}, Layout::RowStride);
            Tensor* out = ops::cpy(ctx, *a, *dst);
            return Built{out, {{"exact", [=] { return all_values(*a); }, 0.0}}};
        };
        cases.push_back(c);
    }
    for (Type t : {Type::F32, Type::F16}) {
        for (Layout l : {Layout::Permuted, Layout::Transposed, Layout::RowStride, Layout::Dense}) {
            OpCase c;
            c.name = fmt::format("cont {} {}", type_name(t), layout_name(l));
            c.build = [t, l](Context& ctx, Rng& rng) {
                Tensor* a = make_src(ctx, rng, t, {6, 5, 4, 1}, l);
                Tensor* out = ops::cont(ctx, *a);
                return Built{out, {{"exact", [=] { return all_values(*a); }, 0.0}}};
            };
            cases.push_back(c);
        }
    }
    return cases;
}

std::vector<OpCase> argmax_cases() {
    std::vector<OpCase> cases;
    {
        OpCase c;
        c.name = "argmax ties and -inf";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = random_tensor(ctx, rng, Type::F32, {10, 5, 1, 1});
            set_value(*a, 3.0, 3, 0);  // tie: the first wins
            set_value(*a, 3.0, 7, 0);
            for (int64_t i = 0; i < 10; ++i) set_value(*a, 0.5, i, 1);  // all equal: 0
            for (int64_t i = 0; i < 10; ++i) set_value(*a, -kInf, i, 2);
            set_value(*a, -7.0, 6, 2);  // the only finite value
            for (int64_t i = 0; i < 10; ++i) set_value(*a, -kInf, i, 3);  // all -inf: 0
            set_value(*a, 2.0, 9, 4);   // maximum in the last place
            set_value(*a, 1.5, 0, 4);
            Tensor* out = ops::argmax(ctx, *a);
            return Built{out, {{"exact", [] { return std::vector<double>{3, 0, 6, 0, 9}; }, 0.0}}};
        };
        cases.push_back(c);
    }
    for (Layout l : {Layout::Dense, Layout::Permuted, Layout::Transposed}) {
        OpCase c;
        c.name = fmt::format("argmax random {}", layout_name(l));
        c.build = [l](Context& ctx, Rng& rng) {
            Tensor* a = make_src(ctx, rng, Type::F32, {37, 4, 3, 1}, l);
            Tensor* out = ops::argmax(ctx, *a);
            auto ref = [=] {
                std::vector<double> v;
                per_row(*a, [&](std::vector<double>& row, int64_t, int64_t, int64_t) {
                    size_t best = 0;
                    for (size_t i = 1; i < row.size(); ++i) {
                        if (row[i] > row[best]) best = i;
                    }
                    v.push_back(static_cast<double>(best));
                });
                return v;
            };
            return Built{out, {{"exact", ref, 0.0}}};
        };
        cases.push_back(c);
    }
    return cases;
}


std::vector<double> mul_mat_id_reference(const Tensor& as, const Tensor& b, const Tensor& ids,
                                         std::optional<Type> act_type) {
    return mul_mat_id_ref(as, b, ids, act_type);
}

std::vector<OpCase> mul_mat_id_cases() {
    std::vector<OpCase> cases;
    // Experts 1 and 4 of 6 are never chosen (and poisoned).
    const std::vector<int32_t> allowed{0, 2, 3, 5};
    for (Type t : mul_mat_weight_types()) {
        const int64_t bs = block_size(t);
        const int64_t K = bs == 1 ? 33 : 2 * bs;
        for (int64_t T : {1, 7}) {
            for (int64_t B1 : {1, 2}) {
                const auto ids = moe_ids(2, T, allowed, false, 100 + static_cast<uint64_t>(T));
                cases.push_back(mul_mat_id_case(t, {K, 5, 6, 2, B1, T}, ids));
            }
        }
    }
    for (Type t : {Type::F32, Type::F16, Type::Q8_0, Type::Q4_K}) {
        const int64_t K = block_size(t) == 1 ? 64 : block_size(t);
        // Most experts chosen by 4 pairs or more: the gemm path, beside experts on the gemv path.
        cases.push_back(mul_mat_id_case(t, {K, 20, 8, 4, 4, 40}, moe_ids(4, 40, {1, 2, 3, 4, 6, 7}, false, 7)));
        cases.push_back(mul_mat_id_case(t, {K, 20, 8, 4, 1, 40}, moe_ids(4, 40, {1, 2, 3, 4, 6, 7}, false, 8)));
        // One expert for 70 tokens: more inputs than a column block, more rows than a sub-run.
        cases.push_back(mul_mat_id_case(t, {K, 300, 3, 1, 1, 70}, std::vector<int32_t>(70, 1)));
        // A token naming one expert in two slots (a router would not, the op allows it).
        cases.push_back(mul_mat_id_case(t, {K, 9, 5, 3, 3, 5}, moe_ids(3, 5, {0, 4}, true, 9)));
        // Inputs through strides: one input row per slot, stored transposed.
        cases.push_back(mul_mat_id_case(t, {K, 6, 4, 2, 2, 7}, moe_ids(2, 7, {0, 1, 3}, false, 10), Layout::Transposed));
        cases.push_back(mul_mat_id_case(t, {K, 6, 4, 2, 1, 3}, moe_ids(2, 3, {0, 1, 3}, false, 11), Layout::Permuted));
    }
    return cases;
}

std::vector<OpCase> top_k_cases() {
    std::vector<OpCase> cases;
    {
        OpCase c;
        c.name = "top_k ties, NaN and -inf";
        c.build = [](Context& ctx, Rng& rng) {
            Tensor* a = random_tensor(ctx, rng, Type::F32, {6, 5, 1, 1});
            const double nan = std::numeric_limits<double>::quiet_NaN();
            const std::vector<std::vector<double>> rows{
                {1, 3, 2, 3, 0, 3},           // ties: lower index first
                {0.5, 0.5, 0.5, 0.5, 0.5, 0.5},  // all equal
                {nan, -kInf, 2, nan, -1, -kInf},  // NaN below -inf
                {nan, nan, nan, nan, nan, nan},  // all NaN: by index
                {-0.0, 0.0, -kInf, kInf, 1, -0.0},  // zeros of both signs are equal
            };
            for (int64_t r = 0; r < 5; ++r)
                for (int64_t i = 0; i < 6; ++i) set_value(*a, rows[r][i], i, r);
            Tensor* out = ops::top_k(ctx, *a, 4);
            const std::vector<double> want{1, 3, 5, 2, 0, 1, 2, 3, 2, 4, 1, 5, 0, 1, 2, 3, 3, 4, 0, 1};
            return Built{out, {{"exact", [=] { return want; }, 0.0}}};
        };
        cases.push_back(c);
    }
    for (Layout l : {Layout::Dense, Layout::Permuted, Layout::Transposed, Layout::RowStride}) {
        for (int64_t k : {1, 8, 37}) cases.push_back(top_k_case({37, 4, 3, 1}, k, l));
    }
    cases.push_back(top_k_case({128, 7, 1, 1}, 8, Layout::Dense));  // a router: 128 experts, 8 used
    cases.push_back(top_k_case({1, 3, 1, 1}, 1, Layout::Dense));
    return cases;
}

std::vector<OpCase> sum_rows_cases() {
    std::vector<OpCase> cases;
    cases.push_back(sum_rows_case({33, 4, 2, 1}, Layout::Dense));
    cases.push_back(sum_rows_case({1, 3, 1, 1}, Layout::Dense));
    cases.push_back(sum_rows_case({1000, 3, 1, 1}, Layout::Dense));
    cases.push_back(sum_rows_case({16, 5, 3, 2}, Layout::Permuted));
    cases.push_back(sum_rows_case({16, 5, 3, 1}, Layout::RowStride));
    cases.push_back(sum_rows_case({6, 7, 1, 1}, Layout::Transposed));
    return cases;
}

std::vector<OpCase> div_tanh_cases() {
    std::vector<OpCase> cases;
    const Ne a{7, 5, 3, 2};
    for (Ne b : {Ne{7, 5, 3, 2}, Ne{7, 1, 1, 1}, Ne{1, 5, 1, 1}, Ne{1, 1, 1, 1}, Ne{1, 5, 3, 2}}) {
        cases.push_back(binary_case(Op::Div, a, b, Layout::Dense, Layout::Dense));
    }
    cases.push_back(binary_case(Op::Div, {6, 4, 3, 1}, {1, 4, 3, 1}, Layout::Permuted, Layout::Transposed));
    cases.push_back(binary_case(Op::Div, {6, 4, 1, 1}, {3, 2, 1, 1}, Layout::RowStride, Layout::Transposed));
    for (Layout l : {Layout::Dense, Layout::Permuted, Layout::Transposed, Layout::RowStride}) {
        cases.push_back(unary_case(Op::Tanh, {33, 4, 3, 1}, l));
    }
    return cases;
}

// A mixture-of-experts block in one graph, built as qwen3moe and mixtral build it: the
// router's probabilities p = soft_max(router · x), the top U of them renormalised
// (w = p / Σ p, get_rows picks the chosen ones), the chosen experts on x, weighted by w and
// summed over the slots, then soft-capped (gemma2's cap · tanh(y / cap)).
std::vector<OpCase> moe_chain_cases() {
    std::vector<OpCase> cases;
    for (Type wt : {Type::F32, Type::Q8_0}) {
        OpCase c;
        c.name = fmt::format("moe chain: router, top_k, renormalise, mul_mat_id {}, weighted sum, tanh cap", type_name(wt));
        c.build = [wt](Context& ctx, Rng& rng) {
            constexpr int64_t K = 64, N = 24, E = 8, U = 3, T = 5;
            constexpr float cap = 0.5f;
            Tensor* x = random_tensor(ctx, rng, Type::F32, {K, T, 1, 1});
            Tensor* router = random_tensor(ctx, rng, Type::F32, {K, E, 1, 1});
            Tensor* experts = random_tensor(ctx, rng, wt, {K, N, E, 1});
            Tensor* probs = ops::soft_max(ctx, *ops::mul_mat(ctx, *router, *x), nullptr, 1.0f);  // [E, T]
            Tensor* sel = ops::top_k(ctx, *probs, U);                                               // [U, T]
            Tensor* w = ops::get_rows(ctx, *ops::reshape_3d(ctx, *probs, 1, E, T), *sel);        // [1, U, T]
            Tensor* w2 = ops::reshape_2d(ctx, *w, U, T);
            w = ops::reshape_3d(ctx, *ops::div(ctx, *w2, *ops::sum_rows(ctx, *w2)), 1, U, T);
            Tensor* y = ops::mul_mat_id(ctx, *experts, *ops::reshape_3d(ctx, *x, K, 1, T), *sel);  // [N, U, T]
            y = ops::mul(ctx, *y, *w);
            Tensor* sum = ops::view_2d(ctx, *y, N, T, y->nb[2], 0);
            for (int64_t s = 1; s < U; ++s) sum = ops::add(ctx, *sum, *ops::view_2d(ctx, *y, N, T, y->nb[2], s * y->nb[1]));
            Tensor* out = ops::scale(ctx, *ops::tanh(ctx, *ops::scale(ctx, *sum, 1.0f / cap)), cap);
            auto ref = [=] {
                std::vector<double> v;
                for (int64_t t = 0; t < T; ++t) {
                    std::vector<double> p(E);
                    double max = -kInf, total = 0.0;
                    for (int64_t e = 0; e < E; ++e) {
                        for (int64_t k = 0; k < K; ++k) p[e] += value(*router, k, e) * value(*x, k, t);
                        max = std::max(max, p[e]);
                    }
                    for (double& q : p) total += q = std::exp(q - max);
                    std::vector<size_t> order(E);
                    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
                    std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return top_k_before(p, i, j); });
                    double chosen = 0.0;
                    for (int64_t s = 0; s < U; ++s) chosen += p[order[s]];
                    std::vector<double> acc(N, 0.0);
                    for (int64_t s = 0; s < U; ++s) {
                        const auto e = static_cast<int64_t>(order[s]);
                        for (int64_t n = 0; n < N; ++n) {
                            const std::vector<float> row = row_values(*experts, n, e);
                            double d = 0.0;
                            for (int64_t k = 0; k < K; ++k) d += static_cast<double>(row[k]) * value(*x, k, t);
                            acc[n] += d * p[e] / chosen;
                        }
                    }
                    for (double a : acc) v.push_back(cap * std::tanh(a / cap));
                }
                return v;
            };
            // Q8_0 experts multiply Q8_0-rounded inputs.
            return Built{out, {{"double reference", ref, wt == Type::F32 ? 1e-9 : 1e-3}}};
        };
        cases.push_back(c);
    }
    return cases;
}

std::vector<OpCase> chain_cases() {
    std::vector<OpCase> cases;
    OpCase c;
    c.name = "chain rms_norm * w -> mul_mat -> + bias -> silu -> soft_max -> argmax";
    c.build = [](Context& ctx, Rng& rng) {
        const int64_t K = 40, N = 21, M = 6;
        Tensor* x = random_tensor(ctx, rng, Type::F32, {K, M, 1, 1});
        Tensor* norm_w = random_tensor(ctx, rng, Type::F32, {K, 1, 1, 1}, 0.5f, 1.5f);
        Tensor* w = random_tensor(ctx, rng, Type::F32, {K, N, 1, 1});
        Tensor* bias = random_tensor(ctx, rng, Type::F32, {N, 1, 1, 1});
        Tensor* h = ops::mul(ctx, *ops::rms_norm(ctx, *x, 1e-5f), *norm_w);
        Tensor* y = ops::silu(ctx, *ops::add(ctx, *ops::mul_mat(ctx, *w, *h), *bias));
        Tensor* p = ops::soft_max(ctx, *y, nullptr, 3.0f);
        Tensor* out = ops::argmax(ctx, *p);
        auto ref = [=] {
            std::vector<double> v;
            for (int64_t m = 0; m < M; ++m) {
                double ss = 0.0;
                for (int64_t k = 0; k < K; ++k) ss += value(*x, k, m) * value(*x, k, m);
                const double s = 1.0 / std::sqrt(ss / K + 1e-5);
                std::vector<double> logits(static_cast<size_t>(N));
                for (int64_t n = 0; n < N; ++n) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < K; ++k) sum += value(*w, k, n) * value(*x, k, m) * s * value(*norm_w, k);
                    logits[n] = silu_d(sum + value(*bias, n));
                }
                size_t best = 0;
                for (size_t n = 1; n < logits.size(); ++n) {
                    if (logits[n] > logits[best]) best = n;
                }
                v.push_back(static_cast<double>(best));
            }
            return v;
        };
        return Built{out, {{"exact", ref, 0.0}}};
    };
    cases.push_back(c);
    return cases;
}

std::vector<OpCase> determinism_cases() {
    std::vector<OpCase> cases;
    for (Type t : {Type::F32, Type::F16, Type::Q8_0, Type::Q4_K}) {
        const int64_t K = block_size(t) == 1 ? 257 : 2 * block_size(t);
        cases.push_back(mul_mat_case(t, MatShape{K, 37, 9, 2, 1, 4, 1}, Layout::Dense, Layout::Dense, 1e-8, 1e-4));
        cases.push_back(mul_mat_case(t, MatShape{K, 70, 1}, Layout::Permuted, Layout::Transposed, 1e-8, 1e-4));
    }
    cases.push_back(soft_max_case({{67, 13, 3, 1}, 0.3f, MaskKind::Random, Type::F16, {67, 13, 1, 1}, 2}));
    cases.push_back(rms_norm_case({513, 11, 2, 1}, Layout::Permuted, 1e-5f));
    RopeCase r{64, 5, 7, 1, 48, RopeMode::Neox, 10000.0f, 0.5f, 1.0f, true};
    r.pos = {9, 3, 0, 88, 1, 1, 40};
    cases.push_back(rope_case(r, Layout::Permuted));
    return cases;
}

}  // namespace ember::test
