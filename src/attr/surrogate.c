/* Surrogate-model methods: lime and kernel_shap (Captum's Lime and
 * KernelShap, Captum 0.7 defaults).
 *
 * Both sample binary coalition vectors z over the features of the feature
 * mask (z_f = 1: the feature keeps the input, 0: it takes the baseline), run
 * the model on the perturbed inputs, and fit a weighted linear model
 * y ~ c + z . beta whose coefficients beta are the attributions (every
 * element of a feature gets that feature's coefficient, Captum's
 * return_input_shape=True).
 *
 * lime, as Captum's Lime() with no arguments:
 *   - perturb_func: each feature on with probability 0.5 independently
 *     (default_perturb_func, torch.bernoulli(0.5));
 *   - similarity_func: get_exp_kernel_similarity_function("cosine", 1.0):
 *     w = exp(-d^2 / (2 * 1.0^2)), d = 1 - cos(x, x_perturbed) over the
 *     flattened model inputs (torch CosineSimilarity, eps 1e-8);
 *   - interpretable_model: SkLearnLasso(alpha=0.01) = sklearn Lasso with
 *     fit_intercept=True and sample_weight: minimise
 *     1/(2 sum w) sum_i w_i (y_i - c - z_i.beta)^2 + 0.01 |beta|_1.
 *     We solve it by coordinate descent on the weighted, centred problem
 *     to convergence (|change| < 1e-12, at most 100000 sweeps; dot products
 *     through CBLAS), where sklearn stops at a duality gap of 1e-4, so the
 *     two agree to about that tolerance.
 * kernel_shap, as Captum's KernelShap():
 *   - the first two samples are all-on and all-off, with weight 1e6
 *     (Captum's inf_weight); every other sample picks a size k in
 *     1..M-1 with probability proportional to (M-1) / (k (M-k)), then a
 *     uniformly random set of k features (Captum thresholds torch.randn at
 *     its k-th largest value: the same distribution), weight 1;
 *   - interpretable_model: SkLearnLinearRegression() = weighted least
 *     squares with an intercept; we centre with the weighted means, scale
 *     rows by sqrt(w) and solve with LAPACKE_dgelsd (minimum-norm solution
 *     when there are fewer samples than features, like scipy's lstsq that
 *     sklearn calls).
 *   - extension: when n_samples >= 2^M (M <= 20) we do not sample but
 *     enumerate every coalition once with its Shapley-kernel weight
 *     (M-1) / (C(M,k) k (M-k)) (end points 1e6): the limit Captum's sampler
 *     converges to, which gives the exact Shapley values.
 * Randomness comes from the call's seeded generator, so results are
 * reproducible but not bit-identical to Captum's torch draws.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>

#include "attr-private.h"
#include "feature_mask.h"

#define KERNEL_SHAP_INF_WEIGHT 1000000.0
#define LIME_LASSO_ALPHA 0.01
#define LIME_KERNEL_WIDTH 1.0

/* Samples of one fit: z [n x F] (0/1 as double), y [n], w [n]. */
typedef struct coalitions {
    int n, F;
    double *z, *y, *w;
} coalitions;

static void coalitions_free(coalitions *s)
{
    free(s->z);
    free(s->y);
    free(s->w);
    memset(s, 0, sizeof *s);
}

static hl_status coalitions_alloc(coalitions *s, int n, int F, hl_error *err)
{
    s->n = n;
    s->F = F;
    s->z = calloc((size_t)n * F, sizeof *s->z);
    s->y = calloc((size_t)n, sizeof *s->y);
    s->w = calloc((size_t)n, sizeof *s->w);
    if (!s->z || !s->y || !s->w) {
        coalitions_free(s);
        return hl_error_set(err, HL_ERR_NOMEM, "surrogate: out of memory");
    }
    return HL_OK;
}

/* Model outputs for every coalition (y), batched perturbations_per_eval at
 * a time; with `cosine_weights` also LIME's similarity weights (w). */
static hl_status evaluate_coalitions(hl_attr_call *c, const hl_feature_mask *m,
                                     const float *base, coalitions *s,
                                     int cosine_weights, hl_error *err)
{
    const int64_t numel = m->numel;
    const float *x = c->input->data;
    int ppe = c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
    float *batch = malloc((size_t)ppe * numel * sizeof *batch);
    float *logits = malloc((size_t)ppe * sizeof *logits);
    if (!batch || !logits) {
        free(batch);
        free(logits);
        return hl_error_set(err, HL_ERR_NOMEM, "surrogate: out of memory");
    }
    double xx = 0;
    for (int64_t i = 0; i < numel; i++)
        xx += (double)x[i] * x[i];
    hl_status st = HL_OK;
    for (int first = 0; first < s->n; first += ppe) {
        int nb = s->n - first < ppe ? s->n - first : ppe;
        for (int b = 0; b < nb; b++) {
            const double *z = s->z + (int64_t)(first + b) * s->F;
            float *dst = batch + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                dst[i] = z[m->id[i]] != 0.0 ? x[i] : base[i];
            if (cosine_weights) {
                double xp = 0, pp = 0;
                for (int64_t i = 0; i < numel; i++) {
                    xp += (double)x[i] * dst[i];
                    pp += (double)dst[i] * dst[i];
                }
                /* torch CosineSimilarity: x.y / sqrt(max(|x|^2 |y|^2, eps^2)) */
                double den = xx * pp;
                den = sqrt(den > 1e-16 ? den : 1e-16);
                double d = 1.0 - xp / den;
                s->w[first + b] = exp(-d * d /
                                      (2.0 * LIME_KERNEL_WIDTH * LIME_KERNEL_WIDTH));
            }
        }
        st = hl_attr_target_logits(c, batch, nb, nb, logits, err);
        if (st != HL_OK)
            break;
        for (int b = 0; b < nb; b++)
            s->y[first + b] = logits[b];
        st = hl_attr_tick(c, 0.98 * (first + nb) / s->n, err);
        if (st != HL_OK)
            break;
    }
    free(batch);
    free(logits);
    return st;
}

/* Weighted centring shared by both fits: xc[F x n] column-major-by-feature
 * (row j = feature j over the samples) and yc[n], both multiplied by
 * sqrt(w_i / sum w); means in zbar[F], *ybar. */
static hl_status weighted_centre(const coalitions *s, double *xc, double *yc,
                                 double *zbar, double *ybar, hl_error *err)
{
    double sw = 0;
    for (int i = 0; i < s->n; i++)
        sw += s->w[i];
    if (!(sw > 0))
        return hl_error_set(err, HL_ERR_ARG,
                            "surrogate: all sample weights are zero");
    for (int j = 0; j < s->F; j++) {
        double a = 0;
        for (int i = 0; i < s->n; i++)
            a += s->w[i] * s->z[(int64_t)i * s->F + j];
        zbar[j] = a / sw;
    }
    double a = 0;
    for (int i = 0; i < s->n; i++)
        a += s->w[i] * s->y[i];
    *ybar = a / sw;
    for (int i = 0; i < s->n; i++) {
        double r = sqrt(s->w[i] / sw);
        yc[i] = r * (s->y[i] - *ybar);
        for (int j = 0; j < s->F; j++)
            xc[(int64_t)j * s->n + i] = r * (s->z[(int64_t)i * s->F + j] - zbar[j]);
    }
    return HL_OK;
}

/* Lasso by cyclic coordinate descent on 1/2 |yc - Xc beta|^2 + alpha |beta|_1
 * (the weighted, centred form of sklearn's objective). */
static hl_status fit_lasso(const coalitions *s, double alpha, double *beta,
                           double *intercept, hl_error *err)
{
    const int n = s->n, F = s->F;
    double *xc = malloc((size_t)n * F * sizeof *xc);
    double *r = malloc((size_t)n * sizeof *r);
    double *zbar = malloc((size_t)F * sizeof *zbar);
    double *norm2 = malloc((size_t)F * sizeof *norm2);
    if (!xc || !r || !zbar || !norm2) {
        free(xc); free(r); free(zbar); free(norm2);
        return hl_error_set(err, HL_ERR_NOMEM, "lime: out of memory");
    }
    double ybar;
    hl_status st = weighted_centre(s, xc, r, zbar, &ybar, err);
    if (st == HL_OK) {
        for (int j = 0; j < F; j++) {
            beta[j] = 0;
            norm2[j] = cblas_ddot(n, xc + (int64_t)j * n, 1, xc + (int64_t)j * n, 1);
        }
        /* r = yc - Xc beta, kept up to date. */
        for (int sweep = 0; sweep < 100000; sweep++) {
            double max_change = 0, max_beta = 0;
            for (int j = 0; j < F; j++) {
                if (norm2[j] <= 0)
                    continue;
                const double *col = xc + (int64_t)j * n;
                double rho = cblas_ddot(n, col, 1, r, 1) + norm2[j] * beta[j];
                double nb = rho > alpha ? (rho - alpha) / norm2[j]
                          : rho < -alpha ? (rho + alpha) / norm2[j] : 0.0;
                double delta = nb - beta[j];
                if (delta != 0.0) {
                    cblas_daxpy(n, -delta, col, 1, r, 1);
                    beta[j] = nb;
                }
                if (fabs(delta) > max_change)
                    max_change = fabs(delta);
                if (fabs(nb) > max_beta)
                    max_beta = fabs(nb);
            }
            if (max_change <= 1e-12 * (max_beta > 1 ? max_beta : 1))
                break;
        }
        *intercept = ybar - cblas_ddot(F, zbar, 1, beta, 1);
    }
    free(xc); free(r); free(zbar); free(norm2);
    return st;
}

/* Weighted least squares with an intercept, minimum-norm (LAPACKE_dgelsd). */
static hl_status fit_linear(const coalitions *s, double *beta,
                            double *intercept, hl_error *err)
{
    const int n = s->n, F = s->F;
    const int rows = n > F ? n : F;
    double *xc = malloc((size_t)n * F * sizeof *xc);
    double *a = malloc((size_t)n * F * sizeof *a);
    double *b = calloc((size_t)rows, sizeof *b);
    double *zbar = malloc((size_t)F * sizeof *zbar);
    double *sv = malloc((size_t)(n < F ? n : F) * sizeof *sv + sizeof(double));
    if (!xc || !a || !b || !zbar || !sv) {
        free(xc); free(a); free(b); free(zbar); free(sv);
        return hl_error_set(err, HL_ERR_NOMEM, "kernel_shap: out of memory");
    }
    double ybar;
    hl_status st = weighted_centre(s, xc, b, zbar, &ybar, err);
    if (st == HL_OK) {
        /* xc is feature-major, i.e. column-major n x F. */
        memcpy(a, xc, (size_t)n * F * sizeof *a);
        lapack_int rank;
        lapack_int info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, n, F, 1, a, n, b,
                                         rows, sv, 1e-10, &rank);
        if (info != 0)
            st = hl_error_set(err, HL_ERR_ARG,
                              "kernel_shap: least-squares fit failed "
                              "(LAPACKE_dgelsd info %d)", (int)info);
        else {
            memcpy(beta, b, (size_t)F * sizeof *beta);
            *intercept = ybar - cblas_ddot(F, zbar, 1, beta, 1);
        }
    }
    free(xc); free(a); free(b); free(zbar); free(sv);
    return st;
}

hl_status hl_attr_fit_surrogate(int n, int F, const double *z,
                                const double *y, const double *w,
                                double alpha, double *beta, double *intercept,
                                hl_error *err)
{
    if (n < 1 || F < 1)
        return hl_error_set(err, HL_ERR_ARG, "surrogate fit: no samples or features");
    coalitions s = {n, F, (double *)z, (double *)y, (double *)w};
    return alpha > 0 ? fit_lasso(&s, alpha, beta, intercept, err)
                     : fit_linear(&s, beta, intercept, err);
}

/* Shared front: mask, baseline, sampling, evaluation, fit, broadcast. */
typedef enum { SURROGATE_LIME, SURROGATE_KERNEL_SHAP } surrogate_kind;

static double binomial(int n, int k)
{
    double r = 1;
    for (int i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

/* Uniformly random k-subset of F features into z (0/1). */
static void random_subset(hl_rng *rng, int F, int k, int *scratch, double *z)
{
    for (int i = 0; i < F; i++) {
        scratch[i] = i;
        z[i] = 0;
    }
    for (int i = 0; i < k; i++) {
        int j = i + (int)hl_rng_below(rng, (uint64_t)(F - i));
        int t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        z[scratch[i]] = 1;
    }
}

static hl_status kernel_shap_samples(hl_attr_call *c, int F, int n_samples,
                                     coalitions *s, hl_error *err)
{
    hl_status st;
    if (F <= 20 && (double)n_samples >= ldexp(1.0, F)) {
        /* Every coalition once, Shapley-kernel weights. */
        int n = 1 << F;
        st = coalitions_alloc(s, n, F, err);
        if (st != HL_OK)
            return st;
        for (int i = 0; i < n; i++) {
            int k = 0;
            for (int j = 0; j < F; j++) {
                s->z[(int64_t)i * F + j] = (i >> j) & 1;
                k += (i >> j) & 1;
            }
            s->w[i] = (k == 0 || k == F) ? KERNEL_SHAP_INF_WEIGHT
                    : (F - 1) / (binomial(F, k) * k * (F - k));
        }
        return HL_OK;
    }
    int n = n_samples < 2 ? 2 : n_samples;
    st = coalitions_alloc(s, n, F, err);
    if (st != HL_OK)
        return st;
    double *cdf = malloc((size_t)F * sizeof *cdf);
    int *scratch = malloc((size_t)F * sizeof *scratch);
    if (!cdf || !scratch) {
        free(cdf);
        free(scratch);
        coalitions_free(s);
        return hl_error_set(err, HL_ERR_NOMEM, "kernel_shap: out of memory");
    }
    /* P(k) proportional to (M-1) / (k (M-k)), k = 1..M-1 (Captum's
     * num_select_distribution); cdf[k] = P(size <= k). */
    double total = 0;
    for (int k = 1; k < F; k++)
        total += (double)(F - 1) / ((double)k * (F - k));
    double acc = 0;
    for (int k = 1; k < F; k++) {
        acc += (double)(F - 1) / ((double)k * (F - k)) / total;
        cdf[k] = acc;
    }
    for (int j = 0; j < F; j++)
        s->z[j] = 1;                        /* sample 0: all on */
    s->w[0] = KERNEL_SHAP_INF_WEIGHT;       /* sample 1: all off */
    s->w[1] = KERNEL_SHAP_INF_WEIGHT;
    for (int i = 2; i < n; i++) {
        double *z = s->z + (int64_t)i * F;
        s->w[i] = 1.0;
        if (F < 2) {
            /* Captum cannot draw a size for one feature; alternate ends. */
            z[0] = i & 1;
            continue;
        }
        double u = hl_rng_uniform(c->rng);
        int k = 1;
        while (k < F - 1 && u >= cdf[k])
            k++;
        random_subset(c->rng, F, k, scratch, z);
    }
    free(cdf);
    free(scratch);
    return HL_OK;
}

static hl_status surrogate_run(hl_attr_call *c, surrogate_kind kind,
                               hl_attr_result *out, hl_error *err)
{
    const char *name = kind == SURROGATE_LIME ? "lime" : "kernel_shap";
    /* 0 = Captum 0.7's defaults: Lime.attribute and KernelShap.attribute
     * both have n_samples=25 in their signatures (Lime's docstring says 50;
     * the code wins). */
    const int n_samples = c->p->n_samples > 0 ? c->p->n_samples : 25;
    hl_feature_mask m;
    hl_status st = hl_feature_mask_for_request(c->req, c->input, c->ctx,
                                         &m, err);
    if (st != HL_OK)
        return st;
    hl_array *base = NULL;
    coalitions s = {0};
    double *beta = NULL;
    hl_array *attr = NULL;
    st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;

    if (kind == SURROGATE_LIME) {
        st = coalitions_alloc(&s, n_samples, m.n_features, err);
        if (st != HL_OK)
            goto done;
        /* Each feature on with probability 1/2: one random bit each. */
        for (int i = 0; i < s.n; i++) {
            uint64_t bits = 0;
            for (int j = 0; j < s.F; j++) {
                if (j % 64 == 0)
                    bits = hl_rng_u64(c->rng);
                s.z[(int64_t)i * s.F + j] = (double)(bits & 1);
                bits >>= 1;
            }
        }
    } else {
        st = kernel_shap_samples(c, m.n_features, n_samples, &s, err);
        if (st != HL_OK)
            goto done;
    }
    st = evaluate_coalitions(c, &m, base->data, &s, kind == SURROGATE_LIME, err);
    if (st != HL_OK)
        goto done;

    beta = calloc((size_t)m.n_features, sizeof *beta);
    attr = hl_array_new(&c->input->shape);
    if (!beta || !attr) {
        st = hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    double intercept;
    st = kind == SURROGATE_LIME
       ? fit_lasso(&s, LIME_LASSO_ALPHA, beta, &intercept, err)
       : fit_linear(&s, beta, &intercept, err);
    if (st != HL_OK)
        goto done;
    st = hl_attr_tick(c, 1.0, err);
    if (st != HL_OK)
        goto done;
    for (int64_t i = 0; i < m.numel; i++)
        attr->data[i] = (float)beta[m.id[i]];
    out->attr = attr;
    attr = NULL;

done:
    hl_array_free(attr);
    hl_array_free(base);
    free(beta);
    coalitions_free(&s);
    hl_feature_mask_clear(&m);
    return st;
}

hl_status hl_method_lime(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return surrogate_run(c, SURROGATE_LIME, out, err);
}

hl_status hl_method_kernel_shap(hl_attr_call *c, hl_attr_result *out,
                                hl_error *err)
{
    return surrogate_run(c, SURROGATE_KERNEL_SHAP, out, err);
}
