#include "quant/k_common.h"

#include "quant/f16.h"

#include <algorithm>
#include <cmath>

namespace ember::quant {

void set_scales_mins_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t scales[12]) {
    for (int k = 0; k < 4; ++k) {
        scales[k] = static_cast<uint8_t>((sc[k] & 63) | ((sc[4 + k] >> 4) << 6));
        scales[4 + k] = static_cast<uint8_t>((m[k] & 63) | ((m[4 + k] >> 4) << 6));
        scales[8 + k] = static_cast<uint8_t>((sc[4 + k] & 0x0F) | ((m[4 + k] & 0x0F) << 4));
    }
}

// All sums below are sequential float sums in element order, and every expression keeps
// the reference's operand order: that is what makes the output byte-identical.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep) {
    float min = x[0];
    float max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;  // the offset only ever moves values down
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.0f;
    }

    // Starting point: spread [min, max] over 0..nmax.
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_err = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * (x[i] - min));
        L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        const float diff = scale * L[i] + min - x[i];
        best_err += weights[i] * (diff * diff);
    }

    // Grid search; each candidate gets its own least-squares scale and min. `min` here is
    // the best one so far (the reference updates it in place).
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0;
        float sum_l2 = 0;
        float sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = static_cast<uint8_t>(l);
            const float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0;
            for (int i = 0; i < n; ++i) {
                const float diff = this_scale * Laux[i] + this_min - x[i];
                err += weights[i] * (diff * diff);
            }
            if (err < best_err) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_err = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

float make_qx_quants(int n, int nmax, const float* x, uint8_t* L) {
    float amax = 0;
    const float max = signed_absmax(x, n, &amax);
    if (amax < 1e-15f) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.0f;
    }

    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<uint8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;

    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = 0;
        suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearest_int(iscale * x[i]);
                L[i] = static_cast<uint8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

void quantize_k_scale_min_superblock(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* d,
                                     uint16_t* dmin, uint8_t scales[12], uint8_t L[QK_K]) {
    float sub_scales[8];
    float sub_mins[8];
    float weights[32];
    uint8_t Laux[32];

    // 1-2: per sub-block search, weighting each element by rms(sub-block) + |x|.
    float max_scale = 0;
    float max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
        sub_scales[j] = make_qkx2_quants(32, nmax, xs, weights, L + 32 * j, &sub_mins[j], Laux, rmin, rdelta, nstep);
        if (sub_scales[j] > max_scale) max_scale = sub_scales[j];
        if (sub_mins[j] > max_min) max_min = sub_mins[j];
    }

    // 3: 6-bit scales and mins relative to the largest of each. The rounded value is
    // truncated to 8 bits before clamping to 63, as the reference stores it in a uint8_t.
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8];
    uint8_t lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * sub_scales[j])));
        lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * sub_mins[j])));
    }
    set_scales_mins_k4(ls, lm, scales);
    *d = fp32_to_fp16(max_scale / 63.f);
    *dmin = fp32_to_fp16(max_min / 63.f);

    // 4: re-quantize against what a reader will actually see (fp16 d/dmin, 6-bit sc/m).
    // A sub-block whose effective scale is 0 keeps the values from the search.
    const float df = fp16_to_fp32(*d);
    const float dminf = fp16_to_fp32(*dmin);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc = 0;
        uint8_t m = 0;
        get_scale_min_k4(j, scales, &sc, &m);
        const float dj = df * sc;
        if (dj == 0.0f) continue;
        const float dm = dminf * m;
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / dj);
            L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        }
    }
}

}  // namespace ember::quant
