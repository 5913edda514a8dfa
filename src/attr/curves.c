/* Deletion and insertion curves (Petsiuk, Das and Saenko, "RISE:
 * Randomized Input Sampling for Explanation of Black-box Models", BMVC
 * 2018): a faithful map ranks first the pixels whose removal makes the
 * target probability fall fastest (deletion: low area under the curve is
 * good) and whose insertion into an uninformative image makes it rise
 * fastest (insertion: high area is good). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trust-private.h"

void hl_curve_clear(hl_curve *c)
{
    if (!c)
        return;
    free(c->fraction);
    free(c->prob);
    memset(c, 0, sizeof *c);
}

hl_status hl_metric_curve_baseline(const hl_metric_input *in, const char *spec,
                                   hl_array **out, hl_error *err)
{
    hl_metric_call mc;
    hl_status st = hl_metric_call_open(in, 0x5eed, &mc, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(&mc.c, spec, out, err);
    hl_metric_call_close(&mc);
    return st;
}

/* Per-pixel score h x w of the input: the map laid on the input grid
 * as everywhere else (hl_attr_on_input_grid), summed over its channels. */
static hl_status pixel_scores(const hl_array *attr, int h, int w,
                              float **out, hl_error *err)
{
    hl_array *grid = hl_attr_on_input_grid(attr, h, w);
    float *score = calloc((size_t)h * w, sizeof *score);
    if (!grid || !score) {
        hl_array_free(grid);
        free(score);
        return hl_error_set(err, HL_ERR_SHAPE, "curve: the map cannot be laid on the %dx%d input (not spatial, or out of memory)",
                            h, w);
    }
    int64_t hw = (int64_t)h * w, ch = hl_shape_numel(&grid->shape) / hw;
    for (int64_t c = 0; c < ch; c++)
        for (int64_t i = 0; i < hw; i++)
            score[i] += grid->data[c * hw + i];
    hl_array_free(grid);
    *out = score;
    return HL_OK;
}

typedef struct ranked_pixel {
    float score;
    int index;
} ranked_pixel;

/* Decreasing score; ties by position, so the order is reproducible. */
static int by_score(const void *a, const void *b)
{
    const ranked_pixel *p = a, *q = b;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    return (p->index > q->index) - (p->index < q->index);
}

/* Pixel positions by decreasing score (NaN scores last). */
static int *rank_pixels(const float *score, int64_t hw)
{
    ranked_pixel *r = malloc((size_t)hw * sizeof *r);
    int *order = malloc((size_t)hw * sizeof *order);
    if (r && order) {
        for (int64_t i = 0; i < hw; i++)
            r[i] = (ranked_pixel){ isnan(score[i]) ? -INFINITY : score[i], (int)i };
        qsort(r, (size_t)hw, sizeof *r, by_score);
        for (int64_t i = 0; i < hw; i++)
            order[i] = r[i].index;
    } else {
        free(order);
        order = NULL;
    }
    free(r);
    return order;
}

/* The image after switching the first m pixels of `order`. */
static void fill_step(const hl_array *x, const hl_array *base,
                      hl_curve_kind kind, const int *order, int64_t m,
                      int64_t hw, int64_t ch, float *dst)
{
    const float *from = kind == HL_CURVE_DELETION ? x->data : base->data;
    const float *to = kind == HL_CURVE_DELETION ? base->data : x->data;
    memcpy(dst, from, (size_t)(hw * ch) * sizeof *dst);
    for (int64_t k = 0; k < m; k++)
        for (int64_t c = 0; c < ch; c++)
            dst[c * hw + order[k]] = to[c * hw + order[k]];
}

/* Probability of the target for each row of the run's output, by the
 * model's output rule (hl_class_probabilities: softmax of logits, ...). */
static hl_status target_probs(hl_metric_call *mc, int rows, double *prob,
                              hl_error *err)
{
    hl_shape s;
    const float *out = hl_run_value(mc->c.run, mc->c.output_value, &s);
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "%s: no model output", hl_model_name(mc->c.model));
    int64_t k = hl_shape_numel(&s) / rows;
    if (mc->c.target >= k)
        return hl_error_set(err, HL_ERR_ARG, "curve: target %d out of range (%lld classes)",
                            mc->c.target, (long long)k);
    double *p = malloc((size_t)k * sizeof *p);
    if (!p)
        return hl_error_set(err, HL_ERR_NOMEM, "curve: out of memory");
    hl_status st = HL_OK;
    for (int r = 0; st == HL_OK && r < rows; r++) {
        st = hl_class_probabilities(mc->c.model, out + r * k, (int)k, p, err);
        prob[r] = p[mc->c.target];
    }
    free(p);
    return st;
}

hl_status hl_metric_curve(const hl_metric_input *in, const hl_array *attr,
                          const hl_array *baseline, hl_curve_kind kind,
                          int n_steps, hl_curve *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_steps < 1 || n_steps > 10000)
        return hl_error_set(err, HL_ERR_ARG, "curve: steps %d out of range [1, 10000]", n_steps);
    if (!in || !in->input || in->input->shape.ndim != 4 || !attr || !baseline ||
        !hl_shape_equal(&baseline->shape, &in->input->shape))
        return hl_error_set(err, HL_ERR_SHAPE, "curve: needs a [1,C,H,W] input, a map and a baseline of the input's shape");
    int h = (int)in->input->shape.dims[2], w = (int)in->input->shape.dims[3];
    int64_t hw = (int64_t)h * w, ch = in->input->shape.dims[1];
    float *score = NULL;
    hl_status st = pixel_scores(attr, h, w, &score, err);
    if (st != HL_OK)
        return st;
    hl_metric_call mc;
    st = hl_metric_call_open(in, 0x5eed, &mc, err);
    int *order = rank_pixels(score, hw);
    float *batch = malloc((size_t)(HL_METRIC_BATCH * hw * ch) * sizeof *batch);
    out->kind = kind;
    out->n = n_steps + 1;
    out->fraction = malloc((size_t)out->n * sizeof *out->fraction);
    out->prob = malloc((size_t)out->n * sizeof *out->prob);
    if (st == HL_OK && (!order || !batch || !out->fraction || !out->prob))
        st = hl_error_set(err, HL_ERR_NOMEM, "curve: out of memory");
    for (int s0 = 0; st == HL_OK && s0 < out->n; s0 += HL_METRIC_BATCH) {
        int rows = out->n - s0 < HL_METRIC_BATCH ? out->n - s0 : HL_METRIC_BATCH;
        for (int r = 0; r < rows; r++) {
            int step = s0 + r;
            int64_t m = (int64_t)llround((double)step * (double)hw / n_steps);
            out->fraction[step] = (double)m / (double)hw;
            fill_step(in->input, baseline, kind, order, m, hw, ch, batch + r * hw * ch);
        }
        st = hl_run_forward(mc.c.run, batch, rows, err);
        if (st == HL_OK)
            st = target_probs(&mc, rows, out->prob + s0, err);
        if (st == HL_OK)
            out->n_done = s0 + rows;
        if (st == HL_OK)
            st = hl_attr_tick(&mc.c, (double)(s0 + rows) / out->n, err);
    }
    if (st == HL_OK)
        for (int i = 1; i < out->n; i++)
            out->auc += 0.5 * (out->prob[i] + out->prob[i - 1]) *
                        (out->fraction[i] - out->fraction[i - 1]);
    hl_metric_call_close(&mc);
    free(order);
    free(batch);
    free(score);
    if (st != HL_OK)
        hl_curve_clear(out);
    return st;
}
