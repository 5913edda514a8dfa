/* How alike two maps are: Spearman rank correlation and SSIM, as the
 * randomisation check (Adebayo et al., NeurIPS 2018) measures them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"

typedef struct ranked {
    float v;
    int64_t i;
} ranked;

static int by_value(const void *a, const void *b)
{
    const ranked *p = a, *q = b;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Ranks 1..n, ties get the mean of their ranks (scipy's "average"). */
static double *average_ranks(const float *a, int64_t n)
{
    ranked *r = malloc((size_t)n * sizeof *r);
    double *rank = malloc((size_t)n * sizeof *rank);
    if (!r || !rank) {
        free(r);
        free(rank);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        r[i] = (ranked){ a[i], i };
    qsort(r, (size_t)n, sizeof *r, by_value);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double mean = 0.5 * (double)(i + j) + 1.0;
        for (int64_t k = i; k <= j; k++)
            rank[r[k].i] = mean;
        i = j + 1;
    }
    free(r);
    return rank;
}

double hl_spearman(const float *a, const float *b, int64_t n)
{
    if (!a || !b || n < 2)
        return NAN;
    double *ra = average_ranks(a, n), *rb = average_ranks(b, n);
    double r = NAN;
    if (ra && rb) {
        double mean = 0.5 * (double)(n + 1), sab = 0.0, saa = 0.0, sbb = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double x = ra[i] - mean, y = rb[i] - mean;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        if (saa > 0.0 && sbb > 0.0)
            r = sab / sqrt(saa * sbb);
    }
    free(ra);
    free(rb);
    return r;
}

#define SSIM_WIN 7

double hl_ssim(const float *a, const float *b, int h, int w, double range)
{
    if (!a || !b || h < SSIM_WIN || w < SSIM_WIN || !(range > 0.0))
        return NAN;
    const double np = SSIM_WIN * SSIM_WIN, cov_norm = np / (np - 1.0);
    const double c1 = (0.01 * range) * (0.01 * range);
    const double c2 = (0.03 * range) * (0.03 * range);
    const int pad = SSIM_WIN / 2;
    double total = 0.0;
    long count = 0;
    for (int y = pad; y < h - pad; y++) {
        for (int x = pad; x < w - pad; x++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int dy = -pad; dy <= pad; dy++) {
                for (int dx = -pad; dx <= pad; dx++) {
                    double p = a[(y + dy) * w + x + dx], q = b[(y + dy) * w + x + dx];
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            double ua = sa / np, ub = sb / np;
            double va = cov_norm * (saa / np - ua * ua);
            double vb = cov_norm * (sbb / np - ub * ub);
            double vab = cov_norm * (sab / np - ua * ub);
            total += ((2 * ua * ub + c1) * (2 * vab + c2)) /
                     ((ua * ua + ub * ub + c1) * (va + vb + c2));
            count++;
        }
    }
    return total / (double)count;
}

float *hl_map_magnitude(const hl_array *attr, int *h, int *w)
{
    if (!attr || attr->shape.ndim < 2 || attr->shape.ndim > 4)
        return NULL;
    const hl_shape *s = &attr->shape;
    int mh = (int)s->dims[s->ndim - 2], mw = (int)s->dims[s->ndim - 1];
    int64_t hw = (int64_t)mh * mw, ch = hl_shape_numel(s) / (hw ? hw : 1);
    float *m = calloc((size_t)(hw ? hw : 1), sizeof *m);
    if (!m)
        return NULL;
    for (int64_t c = 0; c < ch; c++)
        for (int64_t i = 0; i < hw; i++)
            m[i] += fabsf(attr->data[c * hw + i]);
    *h = mh;
    *w = mw;
    return m;
}
