/* Intermediate results (hl_attr_partial): reporting them, and the
 * coarse-to-fine orders that make every prefix of a method's work a valid
 * estimate. */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "feature_mask.h"

int hl_attr_partial_wanted(const hl_attr_call *c)
{
    return c->ctx->intermediate != NULL;
}

void hl_attr_emit(hl_attr_call *c, const hl_array *attr, int is_layer,
                  int done, int total, const char *unit, int has_delta,
                  double delta)
{
    if (!c->ctx->intermediate || !attr)
        return;
    hl_attr_partial p = {attr, is_layer, c->target, done, total, unit,
                         has_delta, delta};
    c->ctx->intermediate(c->ctx->progress_user, &p);
}

double hl_attr_sums_to_map(const double *sum, double div, const float *x,
                           const float *b, int64_t numel, float *dst)
{
    double total = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        double v = sum[i] / div;
        dst[i] = (float)(x ? v * ((double)x[i] - b[i]) : v);
        total += dst[i];
    }
    return total;
}

hl_status hl_attr_emit_sums(hl_attr_call *c, const double *sum, double div,
                            const float *x, const float *b, int done,
                            int total, const char *unit, int has_delta,
                            double change, hl_error *err)
{
    if (!hl_attr_partial_wanted(c))
        return HL_OK;
    hl_array *a = hl_array_new(&c->input->shape);
    if (!a)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (intermediate result)");
    double s = hl_attr_sums_to_map(sum, div, x, b, hl_shape_numel(&a->shape), a->data);
    hl_attr_emit(c, a, 0, done, total, unit, has_delta, s - change);
    hl_array_free(a);
    return HL_OK;
}

hl_status hl_attr_emit_layer(hl_attr_call *c, const float *map,
                             const hl_shape *shape, int done, int total,
                             const char *unit, int has_delta, double delta,
                             hl_error *err)
{
    if (!hl_attr_partial_wanted(c))
        return HL_OK;
    hl_attr_result r;
    memset(&r, 0, sizeof r);
    hl_status st = hl_attr_store_layer_map(c, map, shape, &r, err);
    if (st == HL_OK)
        hl_attr_emit(c, r.attr, r.is_layer, done, total, unit, has_delta, delta);
    hl_attr_result_clear(&r);
    return st;
}

int hl_attr_coarse_levels(int count, int keep)
{
    /* The coarsest level keeps at least `keep` multiples of 2^L. */
    int l = 0;
    while (count > keep && ((count - 1) >> (l + 1)) + 1 >= keep)
        l++;
    return l;
}

int hl_attr_coarse_level(int pos, int count, int levels)
{
    if (pos == 0 || pos == count - 1)
        return levels;
    int l = 0;
    while (l < levels && (pos & (1 << l)) == 0)
        l++;
    return l;
}

/* Stable counting sort of n items by descending level (0..levels). */
static void order_by_level(const int *level, int n, int levels, int *order)
{
    int k = 0;
    for (int l = levels; l >= 0; l--)
        for (int i = 0; i < n; i++)
            if (level[i] == l)
                order[k++] = i;
}

hl_status hl_attr_nested_order(int n, int *order, int *first, hl_error *err)
{
    int *level = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!level)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (%d steps)", n);
    const int levels = hl_attr_coarse_levels(n, 4);
    *first = 0;
    /* Multiples of 2^L only (no special last point): the coarsest level
     * of a Riemann rule of n points is then the same rule of n / 2^L. */
    for (int i = 0; i < n; i++) {
        int l = 0;
        while (l < levels && (i & (1 << l)) == 0)
            l++;
        level[i] = l;
        *first += level[i] == levels;
    }
    order_by_level(level, n, levels, order);
    free(level);
    return HL_OK;
}

hl_status hl_attr_grid_order(int n, const int *gy, const int *gx, int rows,
                             int cols, int *order, int *first, hl_error *err)
{
    int *level = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!level)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (%d windows)", n);
    /* 2 multiples of 2^L and the last position per axis: the first
     * picture of the seed occlusion (27 x 27 windows) costs 9 forwards */
    int ly = hl_attr_coarse_levels(rows, 2), lx = hl_attr_coarse_levels(cols, 2);
    const int levels = ly < lx ? ly : lx;
    *first = 0;
    for (int i = 0; i < n; i++) {
        int a = hl_attr_coarse_level(gy[i], rows, levels);
        int b = hl_attr_coarse_level(gx[i], cols, levels);
        level[i] = a < b ? a : b;
        *first += level[i] == levels;
    }
    order_by_level(level, n, levels, order);
    free(level);
    return HL_OK;
}

/* One line of `len` values (v[i * vstep], set when have[i * hstep]):
 * every unset value takes the nearest set one's (ties: the earlier);
 * returns 0 when none is set. */
static int fill_line(float *v, int64_t vstep, const unsigned char *have,
                     int64_t hstep, int len)
{
    int last = -1;
    for (int i = 0; i < len; i++) {
        if (!have[i * hstep])
            continue;
        for (int j = last + 1; j < i; j++) {
            int s = last < 0 || i - j < j - last ? i : last;
            v[j * vstep] = v[(int64_t)s * vstep];
        }
        last = i;
    }
    if (last < 0)
        return 0;
    for (int j = last + 1; j < len; j++)
        v[j * vstep] = v[(int64_t)last * vstep];
    return 1;
}

hl_status hl_attr_fill_nearest(float *v, const unsigned char *have, int planes,
                               int h, int w, hl_error *err)
{
    const int64_t hw = (int64_t)h * w;
    unsigned char *row_set = malloc((size_t)(h > 0 ? h : 1));
    if (!row_set)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (intermediate result)");
    for (int p = 0; p < planes; p++) {
        float *pv = v + p * hw;
        const unsigned char *ph = have + p * hw;
        /* Along each row, then down each column from the rows that had
         * any value. */
        for (int y = 0; y < h; y++)
            row_set[y] = (unsigned char)fill_line(pv + (int64_t)y * w, 1,
                                                  ph + (int64_t)y * w, 1, w);
        for (int x = 0; x < w; x++)
            fill_line(pv + x, w, row_set, 1, h);
    }
    free(row_set);
    return HL_OK;
}

int hl_attr_batch_size(int done, int n, int chunk, int first)
{
    int nb = n - done < chunk ? n - done : chunk;
    if (done < first && done + nb > first)
        nb = first - done;
    return nb;
}

int hl_attr_emit_due(int done, int total, int first, int *next)
{
    if (done >= total)
        return 1;
    if (done < first || done < *next)
        return 0;
    int step = total / HL_ATTR_EMITS > 0 ? total / HL_ATTR_EMITS : 1;
    *next = done + step;
    return 1;
}

hl_status hl_attr_feature_order(const hl_feature_mask *m, int64_t H, int64_t W,
                                int *order, int *first, hl_error *err)
{
    const int F = m->n_features;
    int G = 1;
    while ((int64_t)G * G < F)
        G++;
    int *gy = malloc(sizeof(int) * 2 * (size_t)(F > 0 ? F : 1));
    if (!gy)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (feature order)");
    int *gx = gy + F;
    const int64_t plane = H * W;
    for (int f = 0; f < F; f++) {
        double sy = 0.0, sx = 0.0;
        int64_t n = m->start[f + 1] - m->start[f];
        for (int64_t k = m->start[f]; k < m->start[f + 1]; k++) {
            int64_t e = m->element[k] % plane;
            sy += (double)(e / W);
            sx += (double)(e % W);
        }
        gy[f] = n ? (int)(sy / n * G / H) : 0;
        gx[f] = n ? (int)(sx / n * G / W) : 0;
    }
    hl_status st = hl_attr_grid_order(F, gy, gx, G, G, order, first, err);
    free(gy);
    return st;
}
