/* Guided IG (Kapishnikov et al., "Guided Integrated Gradients: an
 * Adaptive Path Method for Removing Noise", CVPR 2021, algorithm 1): the
 * path from the baseline to the input is chosen step by step. At step
 * t = 1..n (n = --n-steps) the features with the smallest |gradient| (the
 * lowest 25%, the paper's fraction) move towards the input until the L1
 * distance left to the input is (1 - t/n) of the total, no feature ever
 * going beyond alpha = t/n + 0.02 of its way (the paper's max_dist) nor
 * lagging behind t/n - 0.02. Each move dx is credited with the gradient
 * at the step's start: phi += dx * grad F. Unlike IG's straight line, each
 * step's gradient depends on the last one, so the steps run one by one.
 * Positions are kept in double, as in the authors' implementation; the
 * convergence delta is sum(phi) - (F(x) - F(baseline)). Intermediates
 * (after the first step, then about HL_ATTR_EMITS times): phi so far plus
 * the rest of the way credited with the latest gradient (gig_emit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

#define GIG_FRACTION 0.25
#define GIG_MAX_DIST 0.02
#define GIG_EPS 1e-9

typedef struct gig_state {
    int64_t n;
    const float *xin, *xb;
    double *x, *x_old, *grad, *absg, *phi;
    const float *g;         /* F's gradient at the step's start */
} gig_state;

/* The k-th smallest of a[0..n-1] (quickselect; a is reordered). */
static double select_kth(double *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

static double alpha_x(const gig_state *s, int64_t i, double alpha)
{
    return s->xb[i] + ((double)s->xin[i] - s->xb[i]) * alpha;
}

static double l1_to_input(const gig_state *s)
{
    double d = 0.0;
    for (int64_t i = 0; i < s->n; i++)
        d += fabs(s->x[i] - s->xin[i]);
    return d;
}

static void credit(gig_state *s)
{
    for (int64_t i = 0; i < s->n; i++)
        s->phi[i] += (s->x[i] - s->x_old[i]) * s->g[i];
}

/* One step of the path: from the current x to L1 distance l1_target from
 * the input, with alpha within [amin, amax] of every feature's way. */
static void gig_step(gig_state *s, double amin, double amax, double l1_target)
{
    for (int64_t i = 0; i < s->n; i++)
        s->grad[i] = s->g[i];
    for (;;) {
        memcpy(s->x_old, s->x, sizeof(double) * (size_t)s->n);
        for (int64_t i = 0; i < s->n; i++) { /* catch up the laggards */
            double way = (double)s->xin[i] - s->xb[i];
            double a = way != 0.0 ? (s->x[i] - s->xb[i]) / way : amax;
            if (a < amin)
                s->x[i] = alpha_x(s, i, amin);
        }
        double l1 = l1_to_input(s);
        if (fabs(l1 - l1_target) <= fmax(GIG_EPS * fmax(fabs(l1), fabs(l1_target)), GIG_EPS)) {
            credit(s);
            return;
        }
        for (int64_t i = 0; i < s->n; i++) {
            if (s->x[i] == alpha_x(s, i, amax))
                s->grad[i] = INFINITY;
            s->absg[i] = fabs(s->grad[i]);
        }
        /* numpy's quantile with interpolation 'lower' */
        double threshold = select_kth(s->absg, s->n,
                                      (int64_t)(GIG_FRACTION * (double)(s->n - 1)));
        double l1_s = 0.0;
        for (int64_t i = 0; i < s->n; i++)
            if (fabs(s->grad[i]) <= threshold && s->grad[i] != INFINITY)
                l1_s += fabs(s->x[i] - alpha_x(s, i, amax));
        double gamma = l1_s > 0.0 ? (l1 - l1_target) / l1_s : INFINITY;
        for (int64_t i = 0; i < s->n; i++)
            if (fabs(s->grad[i]) <= threshold && s->grad[i] != INFINITY) {
                double xmax = alpha_x(s, i, amax);
                s->x[i] = gamma > 1.0 ? xmax : s->x[i] + (xmax - s->x[i]) * gamma;
            }
        credit(s);
        if (gamma <= 1.0 || l1_s == 0.0) /* reached, or nothing left to move */
            return;
    }
}

/* The estimate after t of n steps: the attribution so far, plus the rest
 * of the way to the input credited with the latest gradient (a one-step
 * completion of the path), so it sums to about F(x) - F(baseline) from
 * the first step on. The last report (t = n) is phi itself. */
static void gig_emit(hl_attr_call *c, const gig_state *s, hl_array *tmp,
                     int t, int n, double change)
{
    double sum = 0.0;
    for (int64_t i = 0; i < s->n; i++) {
        double v = t == n ? s->phi[i] : s->phi[i] + ((double)s->xin[i] - s->x[i]) * s->g[i];
        sum += tmp->data[i] = (float)v;
    }
    hl_attr_emit(c, tmp, 0, t, n, "steps", 1, sum - change);
}

hl_status hl_method_guided_ig(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    const int steps = c->p->n_steps;
    gig_state s = { hl_attr_input_numel(c), c->input->data, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    hl_array *base = NULL, *a = NULL;
    float *xf = malloc(sizeof(float) * (size_t)s.n), *g = malloc(sizeof(float) * (size_t)s.n);
    double *work = malloc(sizeof(double) * 5 * (size_t)s.n);
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st == HL_OK && (!xf || !g || !work || !(a = hl_array_new(&c->input->shape))))
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (guided IG)");
    float fx, fb;
    if (st == HL_OK)
        st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, base->data, 1, 1, &fb, err);
    if (st != HL_OK)
        goto done;
    const double change = (double)fx - fb;
    s.xb = base->data, s.g = g;
    s.x = work, s.x_old = work + s.n, s.grad = work + 2 * s.n;
    s.absg = work + 3 * s.n, s.phi = work + 4 * s.n;
    double total = 0.0;
    for (int64_t i = 0; i < s.n; i++) {
        s.x[i] = s.xb[i];
        s.phi[i] = 0.0;
        total += fabs((double)s.xin[i] - s.xb[i]);
    }
    int next_emit = 0;
    for (int t = 0; t < steps && total > 0.0 && st == HL_OK; t++) {
        for (int64_t i = 0; i < s.n; i++)
            xf[i] = (float)s.x[i];
        st = hl_attr_target_grad(c, xf, 1, HL_RULE_GRADIENT, NULL, g, NULL, err);
        if (st != HL_OK)
            break;
        double alpha = (t + 1.0) / steps;
        gig_step(&s, fmax(alpha - GIG_MAX_DIST, 0.0), fmin(alpha + GIG_MAX_DIST, 1.0),
                 total * (1.0 - alpha));
        /* the steps run one by one: report after the first, then a
         * bounded number of times */
        if (hl_attr_partial_wanted(c) && t + 1 < steps &&
            hl_attr_emit_due(t + 1, steps, 1, &next_emit))
            gig_emit(c, &s, a, t + 1, steps, change);
        st = hl_attr_tick(c, alpha, err);
    }
    if (st == HL_OK) {
        double sum = 0.0;
        for (int64_t i = 0; i < s.n; i++)
            sum += a->data[i] = (float)s.phi[i];
        if (hl_attr_partial_wanted(c))
            hl_attr_emit(c, a, 0, steps, steps, "steps", 1, sum - change);
        out->attr = a;
        a = NULL;
        out->has_delta = 1;
        out->delta_reference = change;
        out->delta = sum - out->delta_reference;
    }
done:
    hl_array_free(base);
    hl_array_free(a);
    free(xf);
    free(g);
    free(work);
    return st;
}
