// get_rows: dst[:, i, j, k] = table[:, ids[i, j, k], j, k] dequantized to F32.
#include "backends/cpu/cpu_ops.h"

#include "quant/bf16.h"
#include "quant/f16.h"

#include <cstring>

namespace ember::cpu {
namespace {

int32_t id_at(const Tensor& ids, int64_t i, int64_t j, int64_t k) {
    int32_t v;
    std::memcpy(&v, elem(ids, i, j, k, 0), sizeof v);
    return v;
}

// One table row to F32 when its elements are not densely packed (plain types only).
void strided_row_to_f32(const Tensor& table, const char* row, float* out) {
    const size_t step = table.nb[0];
    for (int64_t i0 = 0; i0 < table.ne[0]; ++i0) {
        const char* p = row + i0 * step;
        switch (table.type) {
            case Type::F32: std::memcpy(&out[i0], p, sizeof(float)); break;
            case Type::F16: {
                uint16_t h;
                std::memcpy(&h, p, sizeof h);
                out[i0] = quant::fp16_to_fp32(h);
                break;
            }
            case Type::BF16: {
                uint16_t h;
                std::memcpy(&h, p, sizeof h);
                out[i0] = quant::bf16_to_fp32(h);
                break;
            }
            case Type::I32: {
                int32_t v;
                std::memcpy(&v, p, sizeof v);
                out[i0] = static_cast<float>(v);
                break;
            }
            default: out[i0] = 0.0f; break;  // excluded by supports_op
        }
    }
}

}  // namespace

bool get_rows_check(const Tensor& dst, int32_t* bad_id) {
    const Tensor& table = *dst.src[0];
    const Tensor& ids = *dst.src[1];
    for (int64_t k = 0; k < ids.ne[2]; ++k) {
        for (int64_t j = 0; j < ids.ne[1]; ++j) {
            for (int64_t i = 0; i < ids.ne[0]; ++i) {
                const int32_t id = id_at(ids, i, j, k);
                if (id < 0 || id >= table.ne[1]) {
                    *bad_id = id;
                    return false;
                }
            }
        }
    }
    return true;
}

void get_rows(const ThreadCtx& tc, Tensor& dst) {
    const Tensor& table = *dst.src[0];
    const Tensor& ids = *dst.src[1];
    const int64_t ne0 = table.ne[0];
    const quant::ToFloatFn to_float = tc.kernels->to_float[static_cast<uint32_t>(table.type)];
    // Whole rows can go through the row kernel when the row is densely packed (always so for blocks).
    const bool dense = table.nb[0] == type_size(table.type) && to_float != nullptr;

    const auto [r0, r1] = split_range(dst.nrows(), tc.ith, tc.nth);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t i, j, k;
        unflatten_row(dst, r, i, j, k);
        const int32_t id = id_at(ids, i, j, k);  // range-checked by get_rows_check
        const char* src = row_ptr(table, id, j, k);
        auto* out = reinterpret_cast<float*>(row_ptr(dst, i, j, k));
        if (dense) {
            to_float(src, out, ne0);
        } else {
            strided_row_to_f32(table, src, out);
        }
    }
}

}  // namespace ember::cpu
