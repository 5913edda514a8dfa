/* Exact Shapley values of the feature groups (Captum's ShapleyValues):
 * Captum averages each group's marginal contribution over all F!
 * orderings; the same average is, group by group,
 *   phi_i = sum over coalitions S without i of
 *           |S|! (F - |S| - 1)! / F! * (v(S + i) - v(S)),
 * where v(S) is the target logit with the groups of S taken from the input
 * and the others from the baseline. So every coalition is evaluated once:
 * 2^F forwards (F! * F in Captum), --perturbations-per-eval per batch.
 *
 * The bound: at most SHAPLEY_MAX_FEATURES groups, 2^12 = 4096 forwards:
 * about 40 s on the bundled MobileNet V2 at the 10 ms per forward occlusion
 * measures on a quiet 2-core machine, 10 minutes at a load of 10 (512
 * forwards took 71 s there; docs/perturbation-and-sampling-methods.md).
 * Above it the method refuses and points to shapley_value_sampling.
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "feature_mask.h"

#define SHAPLEY_MAX_FEATURES 12

/* dst = baseline with the groups of coalition `set` (bit f = group f)
 * taken from the input. */
static void coalition_input(const hl_feature_mask *m, const float *x,
                            const float *base, unsigned set, float *dst)
{
    memcpy(dst, base, sizeof(float) * (size_t)m->numel);
    for (int f = 0; f < m->n_features; f++)
        if (set >> f & 1u)
            for (int64_t k = m->start[f]; k < m->start[f + 1]; k++)
                dst[m->element[k]] = x[m->element[k]];
}

/* v(S) for every coalition S, in batches. */
static hl_status coalition_values(hl_attr_call *c, const hl_feature_mask *m,
                                  const float *base, double *v, hl_error *err)
{
    const unsigned n_sets = 1u << m->n_features;
    const int ppe = hl_attr_eval_batch(c);   /* within the memory budget */
    float *batch = malloc(sizeof(float) * (size_t)ppe * (size_t)m->numel);
    float *logits = malloc(sizeof(float) * (size_t)ppe);
    hl_status st = HL_OK;
    if (!batch || !logits)
        st = hl_error_set(err, HL_ERR_NOMEM, "shapley_values: out of memory");
    for (unsigned first = 0; first < n_sets && st == HL_OK; first += (unsigned)ppe) {
        int nb = n_sets - first < (unsigned)ppe ? (int)(n_sets - first) : ppe;
        for (int b = 0; b < nb; b++)
            coalition_input(m, c->input->data, base, first + (unsigned)b,
                            batch + (int64_t)b * m->numel);
        st = hl_attr_target_logits(c, batch, nb, nb, logits, err);
        for (int b = 0; b < nb && st == HL_OK; b++)
            v[first + (unsigned)b] = logits[b];
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)(first + (unsigned)nb) / n_sets, err);
    }
    free(batch);
    free(logits);
    return st;
}

static int popcount(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

hl_status hl_method_shapley_values(hl_attr_call *c, hl_attr_result *out,
                                   hl_error *err)
{
    hl_feature_mask m;
    hl_array *base = NULL, *attr = NULL;
    double *v = NULL, weight[SHAPLEY_MAX_FEATURES];
    hl_status st = hl_feature_mask_for_request(c->req, c->input, c->ctx, &m, err);
    if (st != HL_OK)
        return st;
    const int F = m.n_features;
    if (F > SHAPLEY_MAX_FEATURES) {
        /* a grid of 3 x 3 squares fits: N = ceil(max(H, W) / 3) */
        const hl_shape *in = &c->input->shape;
        int64_t side = in->dims[in->ndim - 1] > in->dims[in->ndim - 2] ? in->dims[in->ndim - 1]
                                                                       : in->dims[in->ndim - 2];
        st = hl_error_set(err, HL_ERR_ARG,
                          "--feature-mask %s has %d groups; exact values "
                          "take 2^F forwards and stop at %d groups (4096 forwards): use "
                          "fewer groups (e.g. --feature-mask grid:%lld, 9 groups) or "
                          "shapley_value_sampling", c->p->feature_mask, F,
                          SHAPLEY_MAX_FEATURES, (long long)((side + 2) / 3));
        goto done;
    }
    st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    v = malloc(sizeof(double) * ((size_t)1 << F));
    attr = hl_array_new(&c->input->shape);
    if (!v || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "shapley_values: out of memory");
        goto done;
    }
    /* weight[s] = s! (F - s - 1)! / F! = 1 / (F * binomial(F - 1, s)) */
    for (int s = 0; s < F; s++) {
        double binom = 1.0;
        for (int k = 1; k <= s; k++)
            binom = binom * (F - k) / k;
        weight[s] = 1.0 / (F * binom);
    }
    st = coalition_values(c, &m, base->data, v, err);
    if (st != HL_OK)
        goto done;
    for (int f = 0; f < F; f++) {
        double phi = 0.0;
        for (unsigned set = 0; set < 1u << F; set++)
            if (!(set >> f & 1u))
                phi += weight[popcount(set)] * (v[set | 1u << f] - v[set]);
        for (int64_t k = m.start[f]; k < m.start[f + 1]; k++)
            attr->data[m.element[k]] = (float)phi;
    }
    out->attr = attr;
    attr = NULL;
done:
    hl_feature_mask_clear(&m);
    hl_array_free(base);
    hl_array_free(attr);
    free(v);
    return st;
}
