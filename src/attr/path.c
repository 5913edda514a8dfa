/* Integrated gradients (Captum's IntegratedGradients) and the path
 * integral it shares with the neuron path methods. */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* One pass of the path sum over n points in `order`, in batches of at most
 * chunk that never straddle the end of the coarsest level (`first`): after
 * each batch the weighted sum so far, rescaled by the weight it covers,
 * is an estimate of the whole integral (on a nested coarser grid). */
typedef struct path_pass {
    const double *alphas, *weights;
    const int *order;
    int n, first;
    int done_before, total_units;  /* for progress over both passes */
} path_pass;

static hl_status path_sum(hl_attr_call *c, const path_pass *pp,
                          const float *baseline, const float *x, int64_t numel,
                          hl_path_grad_fn grad_fn, hl_path_emit_fn emit_fn,
                          void *user, int chunk, float *points, float *grads,
                          double *total, hl_error *err)
{
    double w_all = 0.0, w_done = 0.0;
    for (int k = 0; k < pp->n; k++)
        w_all += (double)(float)pp->weights[k];
    memset(total, 0, sizeof(double) * (size_t)numel);
    hl_status st = HL_OK;
    for (int k0 = 0; k0 < pp->n && st == HL_OK;) {
        int nb = pp->n - k0 < chunk ? pp->n - k0 : chunk;
        if (k0 < pp->first && k0 + nb > pp->first)
            nb = pp->first - k0;
        /* baseline + alpha * (input - baseline), in float like PyTorch
         * (the Python float alpha becomes a float32 scalar). */
        for (int b = 0; b < nb; b++) {
            float a = (float)pp->alphas[pp->order[k0 + b]];
            float *pt = points + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                pt[i] = baseline[i] + a * (x[i] - baseline[i]);
        }
        st = grad_fn(c, points, nb, grads, user, err);
        if (st != HL_OK)
            break;
        for (int b = 0; b < nb; b++) {
            /* Captum scales the gradients by float32 step sizes. */
            double w = (double)(float)pp->weights[pp->order[k0 + b]];
            const float *g = grads + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                total[i] += w * g[i];
            w_done += w;
        }
        k0 += nb;
        if (emit_fn && hl_attr_partial_wanted(c) && w_done > 0.0)
            st = emit_fn(c, total, k0 == pp->n ? 1.0 : w_done / w_all,
                         pp->done_before + k0, pp->total_units, user, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(pp->done_before + k0) / pp->total_units, err);
    }
    return st;
}

/* Points of the small Gauss-Legendre rule shown first (intermediates
 * only): 2, exact for cubics, so the first picture costs two gradients
 * (the next one, the nested first level of the whole rule, comes soon
 * after). */
#define SMALL_RULE_POINTS 2

static int small_rule_points(const hl_attr_call *c, int n)
{
    if (c->p->ig_method != HL_IG_GAUSSLEGENDRE || !hl_attr_partial_wanted(c))
        return 0;
    return SMALL_RULE_POINTS < n ? SMALL_RULE_POINTS : 0;
}

hl_status hl_attr_path_integral(hl_attr_call *c, const float *start,
                                const float *end, int64_t numel,
                                hl_path_grad_fn grad_fn, hl_path_emit_fn emit_fn,
                                void *user, double *total, hl_error *err)
{
    const int n = c->p->n_steps, m = small_rule_points(c, n);
    const int cap = n > m ? n : m;
    double *alphas = malloc(sizeof(double) * 2 * (size_t)(cap > 0 ? cap : 1));
    int *order = malloc(sizeof(int) * (size_t)(cap > 0 ? cap : 1));
    const int chunk = hl_attr_step_batch(c, n);
    float *points = malloc(sizeof(float) * (size_t)(chunk * numel));
    float *grads = malloc(sizeof(float) * (size_t)(chunk * numel));
    hl_status st = HL_OK;
    if (!alphas || !order || !points || !grads) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (batch of %d steps)", chunk);
        goto done;
    }
    path_pass pp = {alphas, alphas + cap, order, 0, 0, 0, n + m};
    if (m > 0) { /* the small rule, reported on its own */
        st = hl_attr_quadrature(c->p->ig_method, m, alphas, alphas + cap, err);
        if (st == HL_OK)
            st = hl_attr_nested_order(m, order, &pp.first, err);
        pp.n = m;
        if (st == HL_OK)
            st = path_sum(c, &pp, start, end, numel, grad_fn, emit_fn, user,
                          chunk, points, grads, total, err);
        pp.done_before = m;
    }
    if (st == HL_OK)
        st = hl_attr_quadrature(c->p->ig_method, n, alphas, alphas + cap, err);
    if (st == HL_OK)
        st = hl_attr_nested_order(n, order, &pp.first, err);
    pp.n = n;
    if (st == HL_OK)
        st = path_sum(c, &pp, start, end, numel, grad_fn, emit_fn, user, chunk,
                      points, grads, total, err);
done:
    free(points);
    free(grads);
    free(alphas);
    free(order);
    return st;
}

static hl_status target_grad_fn(hl_attr_call *c, const float *points, int batch,
                                float *grads, void *user, hl_error *err)
{
    (void)user;
    return hl_attr_target_grad(c, points, batch, HL_RULE_GRADIENT, NULL,
                               grads, NULL, err);
}

typedef struct ig_state {
    const float *base;
    double change;      /* F(x) - F(baseline) */
} ig_state;

static hl_status ig_emit(hl_attr_call *c, const double *total, double div,
                         int done, int units, void *user, hl_error *err)
{
    const ig_state *s = user;
    return hl_attr_emit_sums(c, total, div, c->input->data, s->base, done,
                             units, "steps", 1, s->change, err);
}

hl_status hl_method_integrated_gradients(hl_attr_call *c, hl_attr_result *out,
                                         hl_error *err)
{
    const int64_t numel = hl_attr_input_numel(c);
    hl_array *base = NULL, *a = NULL;
    double *total = NULL;
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        return st;
    a = hl_array_new(&c->input->shape);
    total = malloc(sizeof(double) * (size_t)numel);
    if (!a || !total) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
        goto done;
    }
    /* Convergence delta = sum(attr) - (F(x) - F(baseline)). */
    float fx, fb;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, base->data, 1, 1, &fb, err);
    if (st != HL_OK)
        goto done;
    ig_state s = {base->data, (double)fx - (double)fb};
    st = hl_attr_path_integral(c, base->data, c->input->data, numel,
                               target_grad_fn, ig_emit, &s, total, err);
    if (st != HL_OK)
        goto done;
    double sum = hl_attr_sums_to_map(total, 1.0, c->input->data, base->data,
                                     numel, a->data);
    out->has_delta = 1;
    out->delta_reference = s.change;
    out->delta = sum - out->delta_reference;
    out->attr = a;
    a = NULL;
done:
    hl_array_free(a);
    hl_array_free(base);
    free(total);
    return st;
}
