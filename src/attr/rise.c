/* RISE (Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for
 * Explanation of Black-box Models", BMVC 2018, section 3):
 *   S = 1 / (N p) * sum_i f(M_i o I) M_i,
 * f = softmax probability of the target, N = --n-masks random masks M_i:
 * a grid of --mask-cells x --mask-cells cells, each 1 with probability
 * p = --mask-prob, upsampled bilinearly (align_corners=False, edges
 * clamped) to (s + 1) C_H x (s + 1) C_W with C = ceil(H / s) the cell size,
 * then cropped to H x W at a random shift in [0, C_H) x [0, C_W). With a
 * baseline other than zero the masked input is X_b + M o (I - X_b) (zero:
 * the paper's M o I). Masks come from the seeded generator and are made a
 * batch at a time (--perturbations-per-eval), so memory stays one batch.
 * The saliency map is the same for every channel of the result.
 *
 * Heatlens returns S minus the mean score of the masked inputs,
 * mean_i f(M_i o I): eq. 6 carries that mean at every pixel (on cat.png
 * with the bundled model S spans 1.78..2.22 around a mean of 1.97), so any
 * display scaled by the map's maximum, Captum's included, showed a flat,
 * washed-out map. The difference is what keeping a pixel adds to the
 * expected score (positive: evidence for the class); a constant, it
 * changes no ranking (deletion/insertion curves are the same).
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

typedef struct rise_geom {
    int h, w, cells, cell_h, cell_w, up_h, up_w;
} rise_geom;

static rise_geom geometry(int h, int w, int cells)
{
    rise_geom g = { h, w, cells, (h + cells - 1) / cells, (w + cells - 1) / cells, 0, 0 };
    g.up_h = (cells + 1) * g.cell_h;
    g.up_w = (cells + 1) * g.cell_w;
    return g;
}

/* One mask into dst[h*w]; grid[cells^2] and up[up_h*up_w] are scratch. */
static void make_mask(hl_rng *rng, const rise_geom *g, double p, float *grid,
                      float *up, float *dst)
{
    for (int i = 0; i < g->cells * g->cells; i++)
        grid[i] = hl_rng_uniform(rng) < p ? 1.0f : 0.0f;
    int dy = (int)hl_rng_below(rng, (uint64_t)g->cell_h);
    int dx = (int)hl_rng_below(rng, (uint64_t)g->cell_w);
    hl_attr_interpolate(grid, 1, g->cells, g->cells, up, g->up_h, g->up_w, HL_INTERP_BILINEAR);
    for (int y = 0; y < g->h; y++)
        memcpy(dst + (int64_t)y * g->w, up + (int64_t)(y + dy) * g->up_w + dx,
               sizeof(float) * (size_t)g->w);
}

hl_status hl_rise_masks(hl_attr_call *c, int n, int height, int width,
                        float *masks, hl_error *err)
{
    if (c->p->mask_cells < 1 || c->p->mask_cells > height || c->p->mask_cells > width)
        return hl_error_set(err, HL_ERR_ARG, "--mask-cells %d must be between 1 and the "
                            "input size %dx%d", c->p->mask_cells, height, width);
    rise_geom g = geometry(height, width, c->p->mask_cells);
    float *grid = malloc(sizeof(float) * (size_t)(g.cells * g.cells));
    float *up = malloc(sizeof(float) * (size_t)g.up_h * (size_t)g.up_w);
    if (!grid || !up) {
        free(grid);
        free(up);
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (RISE masks)");
    }
    for (int i = 0; i < n; i++)
        make_mask(c->rng, &g, c->p->mask_prob, grid, up, masks + (int64_t)i * height * width);
    free(grid);
    free(up);
    return HL_OK;
}

/* The masks of a batch: copied from `given` (replay) or drawn. */
static hl_status batch_masks(hl_attr_call *c, const float *given, int first, int nb,
                             int h, int w, float *masks, hl_error *err)
{
    if (!given)
        return hl_rise_masks(c, nb, h, w, masks, err);
    memcpy(masks, given + (int64_t)first * h * w, sizeof(float) * (size_t)nb * h * w);
    return HL_OK;
}

/* The saliency of the first `done` masks: sum / (done * mask_prob) minus
 * their mean score sum_f / done, on every channel (the running estimate,
 * and the result when done = n). */
static void rise_map(const double *sum, double sum_f, int done,
                     float mask_prob, int ch, int64_t plane, float *dst)
{
    double scale = 1.0 / ((double)done * mask_prob);
    double mean_f = sum_f / done;
    for (int k = 0; k < ch; k++)
        for (int64_t i = 0; i < plane; i++)
            dst[k * plane + i] = (float)(sum[i] * scale - mean_f);
}

static hl_status rise_run(hl_attr_call *c, int n, const float *given,
                          hl_attr_result *out, hl_error *err)
{
    const hl_shape *in = &c->input->shape;
    if (in->ndim != 4)
        return hl_error_set(err, HL_ERR_SHAPE, "rise: needs a [1,C,H,W] input");
    if (!(c->p->mask_prob > 0.0f))
        return hl_error_set(err, HL_ERR_ARG, "--mask-prob must be > 0");
    const int ch = (int)in->dims[1], h = (int)in->dims[2], w = (int)in->dims[3];
    const int64_t plane = (int64_t)h * w, numel = hl_attr_input_numel(c);
    const int ppe = hl_attr_eval_batch(c);
    const float *x = c->input->data;
    hl_array *base = NULL, *a = NULL;
    float *masks = malloc(sizeof(float) * (size_t)(ppe * plane));
    float *batch = malloc(sizeof(float) * (size_t)(ppe * numel));
    double *probs = malloc(sizeof(double) * (size_t)ppe);
    double *sum = calloc((size_t)plane, sizeof(double)), sum_f = 0.0;
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st == HL_OK && (!masks || !batch || !probs || !sum || !(a = hl_array_new(in))))
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (RISE)");
    for (int first = 0; first < n && st == HL_OK; first += ppe) {
        int nb = n - first < ppe ? n - first : ppe;
        st = batch_masks(c, given, first, nb, h, w, masks, err);
        for (int b = 0; b < nb && st == HL_OK; b++) {
            const float *m = masks + (int64_t)b * plane;
            float *dst = batch + (int64_t)b * numel;
            for (int k = 0; k < ch; k++)
                for (int64_t i = 0; i < plane; i++) {
                    int64_t o = k * plane + i;
                    dst[o] = base->data[o] + m[i] * (x[o] - base->data[o]);
                }
        }
        if (st == HL_OK)
            st = hl_attr_target_probs(c, batch, nb, probs, err);
        for (int b = 0; b < nb && st == HL_OK; b++) {
            sum_f += probs[b];
            for (int64_t i = 0; i < plane; i++)
                sum[i] += probs[b] * masks[(int64_t)b * plane + i];
        }
        if (st == HL_OK && hl_attr_partial_wanted(c)) {
            rise_map(sum, sum_f, first + nb, c->p->mask_prob, ch, plane,
                     a->data);
            hl_attr_emit(c, a, 0, first + nb, n, "samples", 0, 0.0);
        }
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + nb) / n, err);
    }
    if (st == HL_OK) {
        rise_map(sum, sum_f, n, c->p->mask_prob, ch, plane, a->data);
        out->attr = a;
        a = NULL;
    }
    hl_array_free(base);
    hl_array_free(a);
    free(masks);
    free(batch);
    free(probs);
    free(sum);
    return st;
}

hl_status hl_rise_with_masks(hl_attr_call *c, int n, const float *masks,
                             hl_attr_result *out, hl_error *err)
{
    return rise_run(c, n, masks, out, err);
}

hl_status hl_method_rise(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return rise_run(c, c->p->n_masks, NULL, out, err);
}
