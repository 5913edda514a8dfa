/* Perturbation methods: occlusion, feature_ablation and
 * shapley_value_sampling (Captum's Occlusion, FeatureAblation and
 * ShapleyValueSampling). They only run forwards; perturbed copies of the
 * input go through the engine perturbations_per_eval at a time (that only
 * changes speed and memory, never the result; hl_attr_eval_batch caps it
 * to a memory budget). Occlusion and feature ablation change one window
 * or one feature of the input at a time: their forwards are the engine's
 * exact incremental ones (boxed.c), which recompute only what the
 * window's box (the feature's bounding box) reaches.
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "feature_mask.h"

/* Input geometry of a call: [1,C,H,W]. */
typedef struct input_dims {
    int64_t d[3];      /* C, H, W */
    int64_t numel;
} input_dims;

static hl_status get_dims(const hl_attr_call *c, input_dims *g, hl_error *err)
{
    const hl_shape *s = &c->input->shape;
    if (s->ndim != 4 || s->dims[0] != 1)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "perturbation methods need a [1,C,H,W] input");
    for (int i = 0; i < 3; i++)
        g->d[i] = s->dims[i + 1];
    g->numel = g->d[0] * g->d[1] * g->d[2];
    return HL_OK;
}

static int per_eval(const hl_attr_call *c)
{
    return hl_attr_eval_batch(c);
}

/* ------------------------------------------------------------ occlusion */

/* Element ranges [a, e) along C, H, W of window number idx (row-major over
 * the per-dimension positions, as Captum enumerates them). */
static void window_bounds(int64_t idx, const int64_t count[3],
                          const int64_t stride[3], const int64_t win[3],
                          const int64_t dim[3], int64_t a[3], int64_t e[3])
{
    int64_t pos[3];
    pos[2] = idx % count[2];
    pos[1] = (idx / count[2]) % count[1];
    pos[0] = idx / (count[2] * count[1]);
    for (int i = 0; i < 3; i++) {
        a[i] = pos[i] * stride[i];
        e[i] = a[i] + win[i] < dim[i] ? a[i] + win[i] : dim[i];
    }
}

/* Windows coarse to fine (hl_attr_grid_order over their H, W positions):
 * the first ones tile the whole image at a larger stride. */
static hl_status window_order(const int64_t count[3], int64_t n, int *order,
                              int *first, hl_error *err)
{
    if (n < 1 || n > (1 << 30))
        return hl_error_set(err, HL_ERR_ARG, "occlusion: %lld windows",
                            (long long)n);
    int *gy = malloc(sizeof(int) * 2 * (size_t)n);
    if (!gy)
        return hl_error_set(err, HL_ERR_NOMEM, "occlusion: out of memory");
    int *gx = gy + n;
    for (int64_t i = 0; i < n; i++) {
        gx[i] = (int)(i % count[2]);
        gy[i] = (int)((i / count[2]) % count[1]);
    }
    hl_status st = hl_attr_grid_order((int)n, gy, gx, (int)count[1],
                                      (int)count[2], order, first, err);
    free(gy);
    return st;
}

/* The occlusion map of the windows so far: mean change over the windows
 * covering each element; before the last window (done < total) elements
 * no window covered yet take the nearest covered one's value. */
static hl_status occlusion_map(const input_dims *g,
                               const double *sum, const int32_t *covered,
                               int64_t done, int64_t total, float *dst,
                               hl_error *err)
{
    for (int64_t i = 0; i < g->numel; i++)
        dst[i] = covered[i] ? (float)(sum[i] / covered[i]) : 0.0f;
    if (done == total || g->numel < 1)
        return HL_OK;
    unsigned char *have = malloc((size_t)g->numel);
    if (!have)
        return hl_error_set(err, HL_ERR_NOMEM, "occlusion: out of memory");
    for (int64_t i = 0; i < g->numel; i++)
        have[i] = covered[i] != 0;
    hl_status st = hl_attr_fill_nearest(dst, have, (int)g->d[0], (int)g->d[1],
                                        (int)g->d[2], err);
    free(have);
    return st;
}

hl_status hl_method_occlusion(hl_attr_call *c, hl_attr_result *out,
                              hl_error *err)
{
    static const char *const dim_name[3] = {"C", "H", "W"};
    input_dims g = {{0, 0, 0}, 0};
    hl_status st = get_dims(c, &g, err);
    if (st != HL_OK)
        return st;

    /* Windows along each dimension start at 0, s, 2s, ... for
     * ceil((D - w) / s) + 1 positions; the last one is cut at the border. */
    int64_t stride[3], win[3], count[3];
    for (int i = 0; i < 3; i++) {
        stride[i] = c->p->strides[i];
        win[i] = c->p->window[i];
        /* Along C a window or stride past the channels means "all of
         * them": Captum's RGB defaults (3,15,15 / 3,8,8) then also work
         * on a grey (1-channel) input. */
        if (i == 0 && win[0] > g.d[0])
            win[0] = g.d[0];
        if (i == 0 && stride[0] > g.d[0])
            stride[0] = g.d[0];
        if (stride[i] < 1 || win[i] < 1 || win[i] > g.d[i])
            return hl_error_set(err, HL_ERR_ARG,
                                "occlusion: --strides %d,%d,%d / --window "
                                "%d,%d,%d do not fit the input %s size %lld "
                                "(need stride >= 1 and 1 <= window <= size)",
                                c->p->strides[0], c->p->strides[1],
                                c->p->strides[2], c->p->window[0],
                                c->p->window[1], c->p->window[2], dim_name[i],
                                (long long)g.d[i]);
        count[i] = (g.d[i] - win[i] + stride[i] - 1) / stride[i] + 1;
    }
    const int64_t n_windows = count[0] * count[1] * count[2];
    const int64_t HW = g.d[1] * g.d[2], W = g.d[2];

    hl_array *base = NULL;
    st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        return st;

    hl_attr_boxed boxed;
    {
        int64_t a[3], e[3];   /* the window inside the map, for sizing */
        window_bounds(n_windows / 2, count, stride, win, g.d, a, e);
        hl_box typical = {a[1], e[1], a[2], e[2]};
        st = hl_attr_boxed_new(c, &boxed, &typical, err);
    }
    if (st != HL_OK) {
        hl_attr_boxed_free(&boxed);
        hl_array_free(base);
        return st;
    }
    const int ppe = boxed.rows;
    float *batch = malloc((size_t)ppe * g.numel * sizeof *batch);
    float *logits = malloc((size_t)ppe * sizeof *logits);
    hl_box *boxes = malloc((size_t)ppe * sizeof *boxes);
    double *sum = calloc((size_t)g.numel, sizeof *sum);
    int32_t *covered = calloc((size_t)g.numel, sizeof *covered);
    int *order = n_windows > 0 && n_windows <= (1 << 30)
                     ? malloc((size_t)n_windows * sizeof *order) : NULL;
    hl_array *attr = hl_array_new(&c->input->shape);
    int first_level = 0;
    if (!batch || !logits || !boxes || !sum || !covered || !order || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "occlusion: out of memory");
        goto done;
    }
    st = window_order(count, n_windows, order, &first_level, err);
    if (st != HL_OK)
        goto done;

    float fx;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st != HL_OK)
        goto done;

    for (int64_t first = 0; first < n_windows;) {
        int nb = (int)(n_windows - first < ppe ? n_windows - first : ppe);
        if (first < first_level && first + nb > first_level)
            nb = (int)(first_level - first);
        for (int b = 0; b < nb; b++) {
            int64_t a[3], e[3];
            window_bounds(order[first + b], count, stride, win, g.d, a, e);
            boxes[b] = (hl_box){a[1], e[1], a[2], e[2]};
            float *dst = batch + (int64_t)b * g.numel;
            memcpy(dst, c->input->data, (size_t)g.numel * sizeof *dst);
            for (int64_t ch = a[0]; ch < e[0]; ch++)
                for (int64_t y = a[1]; y < e[1]; y++) {
                    int64_t o = ch * HW + y * W + a[2];
                    memcpy(dst + o, base->data + o,
                           (size_t)(e[2] - a[2]) * sizeof *dst);
                }
        }
        st = hl_attr_boxed_logits(c, &boxed, batch, boxes, nb, logits, err);
        if (st != HL_OK)
            goto done;
        for (int b = 0; b < nb; b++) {
            int64_t a[3], e[3];
            window_bounds(order[first + b], count, stride, win, g.d, a, e);
            double diff = (double)fx - (double)logits[b];
            for (int64_t ch = a[0]; ch < e[0]; ch++)
                for (int64_t y = a[1]; y < e[1]; y++)
                    for (int64_t x = a[2]; x < e[2]; x++) {
                        int64_t o = ch * HW + y * W + x;
                        sum[o] += diff;
                        covered[o]++;
                    }
        }
        first += nb;
        if (hl_attr_partial_wanted(c) && first >= first_level) {
            st = occlusion_map(&g, sum, covered, first, n_windows, attr->data, err);
            if (st != HL_OK)
                goto done;
            hl_attr_emit(c, attr, 0, (int)first, (int)n_windows, "windows", 0, 0.0);
        }
        st = hl_attr_tick(c, (double)first / (double)n_windows, err);
        if (st != HL_OK)
            goto done;
    }
    st = occlusion_map(&g, sum, covered, n_windows, n_windows, attr->data, err);
    if (st != HL_OK)
        goto done;
    out->attr = attr;
    attr = NULL;

done:
    hl_attr_boxed_free(&boxed);
    hl_array_free(attr);
    hl_array_free(base);
    free(batch);
    free(logits);
    free(boxes);
    free(sum);
    free(covered);
    free(order);
    return st;
}

/* ----------------------------------------------------- feature ablation */

/* dst = input with the elements of feature f set to the baseline. */
static void ablate_feature(const hl_feature_mask *m, int f, const float *base,
                           float *dst)
{
    for (int64_t k = m->start[f]; k < m->start[f + 1]; k++) {
        int64_t e = m->element[k];
        dst[e] = base[e];
    }
}

/* Report the features done so far (have[e] set for their elements); the
 * others take the nearest done element's value. */
static hl_status ablation_emit(hl_attr_call *c, const input_dims *g,
                               const hl_array *attr, const unsigned char *have,
                               int done, int total, hl_error *err)
{
    if (done == total) {
        hl_attr_emit(c, attr, 0, done, total, "features", 0, 0.0);
        return HL_OK;
    }
    hl_array *tmp = hl_array_copy(attr);
    if (!tmp)
        return hl_error_set(err, HL_ERR_NOMEM, "feature_ablation: out of memory");
    hl_status st = hl_attr_fill_nearest(tmp->data, have, (int)g->d[0],
                                        (int)g->d[1], (int)g->d[2], err);
    if (st == HL_OK)
        hl_attr_emit(c, tmp, 0, done, total, "features", 0, 0.0);
    hl_array_free(tmp);
    return st;
}

hl_status hl_method_feature_ablation(hl_attr_call *c, hl_attr_result *out,
                                     hl_error *err)
{
    input_dims g = {{0, 0, 0}, 0};
    hl_status st = get_dims(c, &g, err);
    if (st != HL_OK)
        return st;
    hl_feature_mask m;
    st = hl_feature_mask_for_request(c->req, c->input, c->ctx, &m, err);
    if (st != HL_OK)
        return st;
    hl_array *base = NULL;
    st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK) {
        hl_feature_mask_clear(&m);
        return st;
    }
    hl_box largest;
    hl_box *fbox = hl_feature_mask_boxes(&m, g.d[1], g.d[2], &largest);
    hl_attr_boxed boxed;
    st = fbox ? hl_attr_boxed_new(c, &boxed, &largest, err)
              : hl_error_set(err, HL_ERR_NOMEM, "feature_ablation: out of memory");
    if (st != HL_OK) {
        if (fbox)
            hl_attr_boxed_free(&boxed);
        free(fbox);
        hl_array_free(base);
        hl_feature_mask_clear(&m);
        return st;
    }
    const int ppe = boxed.rows;
    float *batch = malloc((size_t)ppe * g.numel * sizeof *batch);
    float *logits = malloc((size_t)ppe * sizeof *logits);
    hl_box *boxes = malloc((size_t)ppe * sizeof *boxes);
    int *order = malloc((size_t)m.n_features * sizeof *order);
    unsigned char *have = calloc((size_t)g.numel, 1);
    hl_array *attr = hl_array_new(&c->input->shape);
    int first_level = 0;
    if (!batch || !logits || !boxes || !order || !have || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "feature_ablation: out of memory");
        goto done;
    }
    memset(attr->data, 0, (size_t)g.numel * sizeof *attr->data);
    float fx;
    st = hl_attr_feature_order(&m, g.d[1], g.d[2], order, &first_level, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st != HL_OK)
        goto done;
    for (int first = 0; first < m.n_features;) {
        int nb = m.n_features - first < ppe ? m.n_features - first : ppe;
        if (first < first_level && first + nb > first_level)
            nb = first_level - first;
        for (int b = 0; b < nb; b++) {
            float *dst = batch + (int64_t)b * g.numel;
            memcpy(dst, c->input->data, (size_t)g.numel * sizeof *dst);
            ablate_feature(&m, order[first + b], base->data, dst);
            boxes[b] = fbox[order[first + b]];
        }
        st = hl_attr_boxed_logits(c, &boxed, batch, boxes, nb, logits, err);
        if (st != HL_OK)
            goto done;
        for (int b = 0; b < nb; b++) {
            int f = order[first + b];
            float diff = fx - logits[b];
            for (int64_t k = m.start[f]; k < m.start[f + 1]; k++) {
                attr->data[m.element[k]] = diff;
                have[m.element[k]] = 1;
            }
        }
        first += nb;
        if (hl_attr_partial_wanted(c) && first >= first_level) {
            st = ablation_emit(c, &g, attr, have, first, m.n_features, err);
            if (st != HL_OK)
                goto done;
        }
        st = hl_attr_tick(c, (double)first / m.n_features, err);
        if (st != HL_OK)
            goto done;
    }
    out->attr = attr;
    attr = NULL;

done:
    hl_attr_boxed_free(&boxed);
    free(fbox);
    hl_array_free(attr);
    hl_array_free(base);
    hl_feature_mask_clear(&m);
    free(batch);
    free(logits);
    free(boxes);
    free(order);
    free(have);
    return st;
}

/* ----------------------------------------------- shapley value sampling */

/* Captum's ShapleyValueSampling: for each of n_samples random permutations
 * of the features, start from the baseline and switch the features to the
 * input one by one in permutation order; each feature gets the change of
 * the target logit its switch caused. Contributions are averaged over the
 * permutations. n_samples * n_features + 1 forwards in total. */
static void shapley_map(const hl_feature_mask *m, const double *contrib,
                        int samples, float *dst)
{
    for (int f = 0; f < m->n_features; f++) {
        float v = (float)(contrib[f] / samples);
        for (int64_t k = m->start[f]; k < m->start[f + 1]; k++)
            dst[m->element[k]] = v;
    }
}

hl_status hl_method_shapley_value_sampling(hl_attr_call *c,
                                           hl_attr_result *out, hl_error *err)
{
    input_dims g = {{0, 0, 0}, 0};
    hl_status st = get_dims(c, &g, err);
    if (st != HL_OK)
        return st;
    /* 0 = Captum's default of ShapleyValueSampling.attribute. */
    const int n_samples = c->p->n_samples > 0 ? c->p->n_samples : 25;
    hl_feature_mask m;
    st = hl_feature_mask_for_request(c->req, c->input, c->ctx, &m, err);
    if (st != HL_OK)
        return st;
    hl_array *base = NULL;
    st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK) {
        hl_feature_mask_clear(&m);
        return st;
    }
    const int F = m.n_features;
    const int ppe = per_eval(c);
    float *batch = malloc((size_t)ppe * g.numel * sizeof *batch);
    float *current = malloc((size_t)g.numel * sizeof *current);
    float *logits = malloc((size_t)ppe * sizeof *logits);
    int *perm = malloc((size_t)F * sizeof *perm);
    double *contrib = calloc((size_t)F, sizeof *contrib);
    hl_array *attr = hl_array_new(&c->input->shape);
    if (!batch || !current || !logits || !perm || !contrib || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM,
                          "shapley_value_sampling: out of memory");
        goto done;
    }
    float f_base;
    st = hl_attr_target_logits(c, base->data, 1, 1, &f_base, err);
    if (st != HL_OK)
        goto done;

    const double total = (double)n_samples * F;
    for (int s = 0; s < n_samples; s++) {
        for (int i = 0; i < F; i++)
            perm[i] = i;
        for (int i = F - 1; i > 0; i--) {   /* Fisher-Yates */
            int j = (int)hl_rng_below(c->rng, (uint64_t)i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        memcpy(current, base->data, (size_t)g.numel * sizeof *current);
        double prev = f_base;
        for (int first = 0; first < F; first += ppe) {
            int nb = F - first < ppe ? F - first : ppe;
            for (int b = 0; b < nb; b++) {
                int f = perm[first + b];
                for (int64_t k = m.start[f]; k < m.start[f + 1]; k++) {
                    int64_t e = m.element[k];
                    current[e] = c->input->data[e];
                }
                memcpy(batch + (int64_t)b * g.numel, current,
                       (size_t)g.numel * sizeof *current);
            }
            st = hl_attr_target_logits(c, batch, nb, nb, logits, err);
            if (st != HL_OK)
                goto done;
            for (int b = 0; b < nb; b++) {
                contrib[perm[first + b]] += (double)logits[b] - prev;
                prev = logits[b];
            }
            st = hl_attr_tick(c, ((double)s * F + first + nb) / total, err);
            if (st != HL_OK)
                goto done;
        }
        /* The mean over the permutations so far. */
        shapley_map(&m, contrib, s + 1, attr->data);
        hl_attr_emit(c, attr, 0, s + 1, n_samples, "samples", 0, 0.0);
    }
    out->attr = attr;
    attr = NULL;

done:
    hl_array_free(attr);
    hl_array_free(base);
    hl_feature_mask_clear(&m);
    free(batch);
    free(current);
    free(logits);
    free(perm);
    free(contrib);
    return st;
}
