/* Depthwise 2-D Conv (groups == channels): a direct kernel, forward and
 * backward w.r.t. the input, split over planes (conv.h). */
#include "conv.h"

/* Depthwise planes that fit DW_BUF floats go through a zero-padded copy
 * of the input plane (padded geometry Hp x Wp, no bounds checks). With
 * stride 1 the output is computed "full width" (Wp columns, the extra ones
 * discarded), so each tap is one long contiguous multiply-add over
 * OH * Wp elements; small planes (7x7, 14x14) stay vectorised. */
#define DW_BUF 16384
#define DW_BLOCK 512

/* The depthwise loops are plain multiply-adds that the compiler
 * vectorises; built for the baseline x86-64 they run 4 floats wide. On a
 * CPU with AVX2 an 8-wide clone is picked at load time. "avx2" without
 * "fma": the same separate multiply and add, so bit-identical results. */
/* gcc only: clang 14 emits no resolver for a clone declared without the
 * attribute in conv.h, and the fuzz build (clang) failed to link. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__clang__)
#if __has_attribute(target_clones)
#define DW_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef DW_CLONES
#define DW_CLONES
#endif

typedef struct {
    int64_t Hp, Wp;
    int64_t Wq;   /* columns per phase when the column stride is > 1 */
} dw_pad_geom;

static int dw_pad_fits(const conv_geom *g, dw_pad_geom *pg)
{
    pg->Hp = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
    pg->Wp = (g->out[2] - 1) * g->s[2] + (g->k[2] - 1) * g->d[2] + 1;
    /* strided planes are split into s column phases of Wq columns */
    pg->Wq = (pg->Wp + g->s[2] - 1) / g->s[2];
    return pg->Hp * pg->Wq * g->s[2] <= DW_BUF && g->out[1] * pg->Wp <= DW_BUF;
}

/* pad[r][c] = x[r - pb1][c - pb2] inside the input, 0 elsewhere */
static void dw_pad_plane(const conv_geom *g, const dw_pad_geom *pg,
                         const float *x, float *pad)
{
    int64_t H = g->in[1], W = g->in[2];
    for (int64_t r = 0; r < pg->Hp; r++) {
        float *row = pad + r * pg->Wp;
        int64_t ih = r - g->pb[1];
        if (ih < 0 || ih >= H) {
            memset(row, 0, sizeof(float) * (size_t)pg->Wp);
            continue;
        }
        for (int64_t c = 0; c < pg->Wp; c++) {
            int64_t iw = c - g->pb[2];
            row[c] = iw >= 0 && iw < W ? x[ih * W + iw] : 0.0f;
        }
    }
}

DW_CLONES static void dw_fwd_plane(const conv_geom *g, const dw_pad_geom *pg,
                         const float *x, const float *wk, float bias,
                         float *y)
{
    float pad[DW_BUF], acc[DW_BUF];
    int64_t OH = g->out[1], OW = g->out[2], Wp = pg->Wp;
    if (g->s[1] == 1 && g->s[2] == 1) {
        dw_pad_plane(g, pg, x, pad);
        int64_t n = OH * Wp - (Wp - OW); /* last row needs only OW */
        for (int64_t t = 0; t < n; t++)
            acc[t] = bias;
        /* taps column-major, the order of the direct kernel below: a
         * different order rounds differently, which can move ties in a
         * following max pool (seen against Captum at IG's alpha = 0) */
        /* in blocks of DW_BLOCK outputs so that the accumulators stay in
         * L1 across the taps (a whole 112x112 plane does not): each
         * output still gets the same additions in the same order */
        for (int64_t t0 = 0; t0 < n; t0 += DW_BLOCK) {
            int64_t nb = n - t0 < DW_BLOCK ? n - t0 : DW_BLOCK;
            for (int64_t kw = 0; kw < g->k[2]; kw++)
                for (int64_t kh = 0; kh < g->k[1]; kh++) {
                    const float wv = wk[kh * g->k[2] + kw];
                    const float *restrict src =
                        pad + kh * g->d[1] * Wp + kw * g->d[2] + t0;
                    float *restrict a = acc + t0;
                    for (int64_t t = 0; t < nb; t++)
                        a[t] += wv * src[t];
                }
        }
        for (int64_t oh = 0; oh < OH; oh++)
            memcpy(y + oh * OW, acc + oh * Wp, sizeof(float) * (size_t)OW);
        return;
    }
    /* column stride s: phase q holds the padded columns c = c' s + q, so
     * tap column ow s + t reads phase t % s at c' = ow + t / s, contiguous
     * in ow */
    int64_t st = g->s[2], Hp = pg->Hp, Wq = pg->Wq, H = g->in[1], W = g->in[2];
    float *ph = pad;
    for (int64_t q = 0; q < st; q++)
        for (int64_t r = 0; r < Hp; r++) {
            float *qrow = ph + (q * Hp + r) * Wq;
            int64_t ih = r - g->pb[1];
            if (ih < 0 || ih >= H) {
                memset(qrow, 0, sizeof(float) * (size_t)Wq);
                continue;
            }
            const float *xr = x + ih * W;
            for (int64_t c = 0; c < Wq; c++) {
                int64_t iw = c * st + q - g->pb[2];
                qrow[c] = iw >= 0 && iw < W ? xr[iw] : 0.0f;
            }
        }
    for (int64_t oh = 0; oh < OH; oh++) {
        float *restrict yr = y + oh * OW;
        for (int64_t ow = 0; ow < OW; ow++)
            yr[ow] = bias;
        for (int64_t kw = 0; kw < g->k[2]; kw++) {
            for (int64_t kh = 0; kh < g->k[1]; kh++) {
                int64_t row = oh * g->s[1] + kh * g->d[1];
                const float wv = wk[kh * g->k[2] + kw];
                int64_t t = kw * g->d[2];
                const float *restrict src = ph + ((t % st) * Hp + row) * Wq + t / st;
                for (int64_t ow = 0; ow < OW; ow++)
                    yr[ow] += wv * src[ow];
            }
        }
    }
}

/* gx += the part of the padded-plane gradient that lies on the input */
static void dw_unpad_add(const conv_geom *g, const dw_pad_geom *pg,
                         const float *gpad, float *gx)
{
    int64_t H = g->in[1], W = g->in[2];
    for (int64_t ih = 0; ih < H; ih++) {
        int64_t r = ih + g->pb[1];
        if (r >= pg->Hp)
            break;
        const float *row = gpad + r * pg->Wp;
        for (int64_t iw = 0; iw < W; iw++) {
            int64_t c = iw + g->pb[2];
            if (c >= pg->Wp)
                break;
            gx[ih * W + iw] += row[c];
        }
    }
}

/* Gradient of one input plane from the OCg output planes it feeds. */
DW_CLONES static void dw_bwd_plane(const conv_geom *g, const dw_pad_geom *pg,
                         const float *gy_first, const float *wk_first,
                         float *gx)
{
    float gpad[DW_BUF], gyw[2 * DW_BUF];
    int64_t OH = g->out[1], OW = g->out[2], Wp = pg->Wp;
    /* stride 1 as a gather: gyw holds gy full width after `lead` zeros
     * and before zero rows up to Hp x Wp, so padded position p reads
     * tap (kh, kw) at gyw[lead + p - kh d1 Wp - kw d2] without bounds */
    int64_t lead = (g->k[1] - 1) * g->d[1] * Wp + (g->k[2] - 1) * g->d[2];
    int gather = g->s[1] == 1 && g->s[2] == 1 &&
                 lead + pg->Hp * Wp <= 2 * DW_BUF;
    memset(gpad, 0, sizeof(float) * (size_t)(pg->Hp * pg->Wq * g->s[2]));
    if (gather) {
        int64_t np = pg->Hp * Wp;
        memset(gyw, 0, sizeof(float) * (size_t)(lead + np));
        for (int64_t m = 0; m < g->OCg; m++) {
            const float *gy = gy_first + m * g->P;
            const float *wk = wk_first + m * g->KK;
            for (int64_t oh = 0; oh < OH; oh++)
                memcpy(gyw + lead + oh * Wp, gy + oh * OW,
                       sizeof(float) * (size_t)OW);
            /* per position the taps come in the scatter loop's order
             * (kh, then kw), in L1-sized blocks of positions */
            for (int64_t p0 = 0; p0 < np; p0 += DW_BLOCK) {
                int64_t nb = np - p0 < DW_BLOCK ? np - p0 : DW_BLOCK;
                for (int64_t kh = 0; kh < g->k[1]; kh++)
                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                        const float wv = wk[kh * g->k[2] + kw];
                        const float *restrict src = gyw + lead + p0 -
                                                    kh * g->d[1] * Wp -
                                                    kw * g->d[2];
                        float *restrict dst = gpad + p0;
                        for (int64_t t = 0; t < nb; t++)
                            dst[t] += wv * src[t];
                    }
            }
        }
        dw_unpad_add(g, pg, gpad, gx);
        return;
    }
    for (int64_t m = 0; m < g->OCg; m++) {
        const float *gy = gy_first + m * g->P;
        const float *wk = wk_first + m * g->KK;
        if (g->s[1] == 1 && g->s[2] == 1) {
            /* full-width copy of gy with zero columns, then one long
             * multiply-add per tap */
            int64_t n = OH * Wp;
            for (int64_t oh = 0; oh < OH; oh++) {
                memcpy(gyw + oh * Wp, gy + oh * OW, sizeof(float) * (size_t)OW);
                for (int64_t c = OW; c < Wp; c++)
                    gyw[oh * Wp + c] = 0.0f;
            }
            n -= Wp - OW;
            for (int64_t kh = 0; kh < g->k[1]; kh++)
                for (int64_t kw = 0; kw < g->k[2]; kw++) {
                    const float wv = wk[kh * g->k[2] + kw];
                    float *restrict dst = gpad + kh * g->d[1] * Wp + kw * g->d[2];
                    const float *restrict src = gyw;
                    for (int64_t t = 0; t < n; t++)
                        dst[t] += wv * src[t];
                }
            continue;
        }
        /* strided: accumulate in column phases (see dw_fwd_plane) */
        int64_t st = g->s[2], Hp = pg->Hp, Wq = pg->Wq;
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *restrict gr = gy + oh * OW;
            for (int64_t kh = 0; kh < g->k[1]; kh++) {
                int64_t row = oh * g->s[1] + kh * g->d[1];
                for (int64_t kw = 0; kw < g->k[2]; kw++) {
                    const float wv = wk[kh * g->k[2] + kw];
                    int64_t t = kw * g->d[2];
                    float *restrict dst = gpad + ((t % st) * Hp + row) * Wq + t / st;
                    for (int64_t ow = 0; ow < OW; ow++)
                        dst[ow] += wv * gr[ow];
                }
            }
        }
    }
    if (g->s[1] == 1 && g->s[2] == 1) {
        dw_unpad_add(g, pg, gpad, gx);
        return;
    }
    int64_t st = g->s[2], Hp = pg->Hp, Wq = pg->Wq, H = g->in[1], W = g->in[2];
    for (int64_t ih = 0; ih < H; ih++) {
        int64_t r = ih + g->pb[1];
        if (r >= Hp)
            break;
        for (int64_t q = 0; q < st; q++) {
            const float *qrow = gpad + (q * Hp + r) * Wq;
            /* padded column c = c' st + q is input column c - pb2 */
            for (int64_t c1 = 0; c1 < Wq; c1++) {
                int64_t iw = c1 * st + q - g->pb[2];
                if (iw >= 0 && iw < W)
                    gx[ih * W + iw] += qrow[c1];
            }
        }
    }
}

DW_CLONES void hl_conv_dw_forward(void *arg, long begin, long end)
{
    dw_job *j = arg;
    const conv_geom *g = j->g;
    int64_t OH = g->out[1], OW = g->out[2], H = g->in[1], W = g->in[2];
    int64_t sh = g->s[1], sw = g->s[2];
    dw_pad_geom pg;
    if (dw_pad_fits(g, &pg)) {
        for (long u = begin; u < end; u++) {
            int64_t b = u / g->OC, oc = u % g->OC, ic = oc / g->OCg;
            dw_fwd_plane(g, &pg, j->x + (b * g->C + ic) * g->X,
                         j->w + oc * g->KK, j->bias ? j->bias[oc] : 0.0f,
                         j->y + u * g->P);
        }
        return;
    }
    for (long u = begin; u < end; u++) {
        int64_t b = u / g->OC, oc = u % g->OC, ic = oc / g->OCg;
        const float *xp = j->x + (b * g->C + ic) * g->X;
        const float *wk = j->w + oc * g->KK;
        float *yp = j->y + u * g->P;
        float bv = j->bias ? j->bias[oc] : 0.0f;
        for (int64_t i = 0; i < g->P; i++)
            yp[i] = bv;
        for (int64_t kw = 0; kw < g->k[2]; kw++) {
            int64_t off = kw * g->d[2] - g->pb[2], lo, hi;
            conv_valid_range(off, sw, W, OW, &lo, &hi);
            for (int64_t oh = 0; oh < OH; oh++) {
                float *yr = yp + oh * OW;
                for (int64_t kh = 0; kh < g->k[1]; kh++) {
                    int64_t ih = oh * sh - g->pb[1] + kh * g->d[1];
                    if (ih < 0 || ih >= H)
                        continue;
                    float wv = wk[kh * g->k[2] + kw];
                    const float *xr = xp + ih * W + off;
                    if (sw == 1)
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xr[ow];
                    else
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xr[ow * sw];
                }
            }
        }
    }
}

DW_CLONES void hl_conv_dw_backward(void *arg, long begin, long end)
{
    dw_job *j = arg;
    const conv_geom *g = j->g;
    int64_t OH = g->out[1], OW = g->out[2], H = g->in[1], W = g->in[2];
    int64_t sh = g->s[1], sw = g->s[2];
    dw_pad_geom pg;
    if (dw_pad_fits(g, &pg)) {
        for (long u = begin; u < end; u++) {
            int64_t b = u / g->C, ic = u % g->C;
            dw_bwd_plane(g, &pg, j->gy + (b * g->OC + ic * g->OCg) * g->P,
                         j->w + ic * g->OCg * g->KK, j->gx + u * g->X);
        }
        return;
    }
    for (long u = begin; u < end; u++) {
        int64_t b = u / g->C, ic = u % g->C;
        float *gxp = j->gx + u * g->X;
        for (int64_t m = 0; m < g->OCg; m++) {
            int64_t oc = ic * g->OCg + m;
            const float *wk = j->w + oc * g->KK;
            const float *gyp = j->gy + (b * g->OC + oc) * g->P;
            for (int64_t kw = 0; kw < g->k[2]; kw++) {
                int64_t off = kw * g->d[2] - g->pb[2], lo, hi;
                conv_valid_range(off, sw, W, OW, &lo, &hi);
                for (int64_t oh = 0; oh < OH; oh++) {
                    const float *gr = gyp + oh * OW;
                    for (int64_t kh = 0; kh < g->k[1]; kh++) {
                        int64_t ih = oh * sh - g->pb[1] + kh * g->d[1];
                        if (ih < 0 || ih >= H)
                            continue;
                        float wv = wk[kh * g->k[2] + kw];
                        float *xr = gxp + ih * W + off;
                        if (sw == 1)
                            for (int64_t ow = lo; ow < hi; ow++)
                                xr[ow] += wv * gr[ow];
                        else
                            for (int64_t ow = lo; ow < hi; ow++)
                                xr[ow * sw] += wv * gr[ow];
                    }
                }
            }
        }
    }
}

