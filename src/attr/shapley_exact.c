/* Exact Shapley values of the feature groups (Captum's ShapleyValues):
 * Captum averages each group's marginal contribution over all F!
 * orderings; the same average is, group by group,
 *   phi_i = sum over coalitions S without i of
 *           |S|! (F - |S| - 1)! / F! * (v(S + i) - v(S)),
 * where v(S) is the target logit with the groups of S taken from the input
 * and the others from the baseline. So every coalition is evaluated once:
 * 2^F forwards (F! * F in Captum), --perturbations-per-eval per batch.
 * They go by size from both ends (0, F, 1, F - 1, ...), so that the
 * intermediates, each an average over the size classes known so far, start
 * from the leave-one-in and leave-one-out effects.
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

static int popcount(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Coalitions by size from both ends: 0, F, 1, F - 1, 2, ... (within a
 * size, ascending); size_end[j] = position after the j-th size group. */
static void coalition_order(int F, unsigned *sets, int *group_size, unsigned *group_end)
{
    unsigned k = 0;
    for (int j = 0; j <= F; j++) {
        int size = j % 2 == 0 ? j / 2 : F - j / 2;
        for (unsigned set = 0; set < 1u << F; set++)
            if (popcount(set) == size)
                sets[k++] = set;
        group_size[j] = size;
        group_end[j] = k;
    }
}

/* The estimate once the coalitions of the sizes in have[] are known: phi
 * is the mean over the size classes k = |S| of the mean marginal
 * contribution v(S + i) - v(S) (the Shapley weights, class by class);
 * the estimate takes that mean over the classes whose sizes k and k + 1
 * are both known (leave-one-in and leave-one-out first). Returns the
 * number of such classes. */
static int shapley_estimate(const hl_feature_mask *m, const double *v,
                            const unsigned char *have, float *dst)
{
    const int F = m->n_features;
    double acc[SHAPLEY_MAX_FEATURES];
    int count[SHAPLEY_MAX_FEATURES], classes = 0;
    for (int k = 0; k < F; k++)
        classes += have[k] && have[k + 1];
    if (!classes)
        return 0;
    for (int f = 0; f < F; f++) {
        memset(acc, 0, sizeof acc);
        memset(count, 0, sizeof count);
        for (unsigned set = 0; set < 1u << F; set++) {
            int k = popcount(set);
            if (!(set >> f & 1u) && have[k] && have[k + 1]) {
                acc[k] += v[set | 1u << f] - v[set];
                count[k]++;
            }
        }
        double phi = 0.0;
        for (int k = 0; k < F; k++)
            if (count[k])
                phi += acc[k] / count[k];
        phi /= classes;
        for (int64_t e = m->start[f]; e < m->start[f + 1]; e++)
            dst[m->element[e]] = (float)phi;
    }
    return classes;
}

/* v(S) for every coalition S, in batches, in coalition_order; after each
 * size group that completes a new size class, the estimate is reported
 * (attr as scratch). */
static hl_status coalition_values(hl_attr_call *c, const hl_feature_mask *m,
                                  const float *base, double *v, hl_array *attr,
                                  hl_error *err)
{
    const int F = m->n_features;
    const unsigned n_sets = 1u << F;
    const int ppe = c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
    float *batch = malloc(sizeof(float) * (size_t)ppe * (size_t)m->numel);
    float *logits = malloc(sizeof(float) * (size_t)ppe);
    unsigned *sets = malloc(sizeof(unsigned) * n_sets);
    unsigned group_end[SHAPLEY_MAX_FEATURES + 1];
    int group_size[SHAPLEY_MAX_FEATURES + 1], group = 0, shown = 0;
    unsigned char have[SHAPLEY_MAX_FEATURES + 1] = {0};
    hl_status st = HL_OK;
    if (!batch || !logits || !sets)
        st = hl_error_set(err, HL_ERR_NOMEM, "shapley_values: out of memory");
    else
        coalition_order(F, sets, group_size, group_end);
    for (unsigned first = 0; first < n_sets && st == HL_OK;) {
        unsigned left = group_end[group] - first; /* batches stay in a group */
        int nb = left < (unsigned)ppe ? (int)left : ppe;
        for (int b = 0; b < nb; b++)
            coalition_input(m, c->input->data, base, sets[first + (unsigned)b],
                            batch + (int64_t)b * m->numel);
        st = hl_attr_target_logits(c, batch, nb, nb, logits, err);
        for (int b = 0; b < nb && st == HL_OK; b++)
            v[sets[first + (unsigned)b]] = logits[b];
        first += (unsigned)nb;
        if (st == HL_OK && first == group_end[group]) {
            have[group_size[group++]] = 1;
            if (first < n_sets && hl_attr_partial_wanted(c)) {
                int classes = shapley_estimate(m, v, have, attr->data);
                if (classes > shown)
                    hl_attr_emit(c, attr, 0, (int)first, (int)n_sets, "coalitions", 0, 0.0);
                shown = classes;
            }
        }
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)first / n_sets, err);
    }
    free(batch);
    free(logits);
    free(sets);
    return st;
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
        st = hl_error_set(err, HL_ERR_ARG,
                          "--feature-mask %s has %d groups; exact values "
                          "take 2^F forwards and stop at %d groups (4096 "
                          "forwards): use fewer groups (the default "
                          "--feature-mask %s, 9 groups) or "
                          "shapley_value_sampling",
                          c->p->feature_mask, F, SHAPLEY_MAX_FEATURES,
                          hl_method_param_default("shapley_values",
                                                  "feature-mask"));
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
    st = coalition_values(c, &m, base->data, v, attr, err);
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
    hl_attr_emit(c, attr, 0, 1 << F, 1 << F, "coalitions", 0, 0.0);
    out->attr = attr;
    attr = NULL;
done:
    hl_feature_mask_clear(&m);
    hl_array_free(base);
    hl_array_free(attr);
    free(v);
    return st;
}
