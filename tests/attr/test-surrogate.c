/* Part-2 surrogate methods: lime and kernel_shap. The fits are checked
 * against their optimality conditions, KernelSHAP against brute-force
 * Shapley values computed here through the engine. */
#include "attr-test-util.h"

static double uniform01(hl_rng *r)
{
    return hl_rng_uniform(r);
}

/* Lasso: KKT conditions of 1/(2 sum w) sum w r^2 + alpha |beta|_1. */
static void lasso_kkt(void)
{
    enum { N = 300, F = 8 };
    static double z[N * F], y[N], w[N];
    const double truth[F] = {1.5, -0.8, 0.0, 0.3, 0.0, 2.0, -0.02, 0.005};
    hl_rng r;
    hl_rng_seed(&r, 99);
    for (int i = 0; i < N; i++) {
        y[i] = 0.7;
        for (int j = 0; j < F; j++) {
            z[i * F + j] = hl_rng_u64(&r) & 1;
            y[i] += truth[j] * z[i * F + j];
        }
        y[i] += 0.05 * hl_rng_normal(&r);
        w[i] = 0.1 + uniform01(&r);
    }
    double beta[F], c;
    hl_error err = {0};
    const double alpha = 0.01;
    hl_status st = hl_attr_fit_surrogate(N, F, z, y, w, alpha, beta, &c, &err);
    double sw = 0, sr = 0, worst = 0;
    double res[N];
    for (int i = 0; i < N; i++) {
        res[i] = y[i] - c;
        for (int j = 0; j < F; j++)
            res[i] -= z[i * F + j] * beta[j];
        sw += w[i];
        sr += w[i] * res[i];
    }
    int zeros = 0;
    for (int j = 0; j < F; j++) {
        double g = 0;
        for (int i = 0; i < N; i++)
            g -= w[i] * z[i * F + j] * res[i];
        g /= sw;
        double viol = beta[j] != 0 ? fabs(g + alpha * (beta[j] > 0 ? 1 : -1))
                                   : fmax(0, fabs(g) - alpha);
        if (viol > worst)
            worst = viol;
        zeros += beta[j] == 0;
    }
    tap_ok(st == HL_OK && worst < 1e-8 && fabs(sr / sw) < 1e-10,
           "lasso fit satisfies the KKT conditions (worst violation %.1e)", worst);
    tap_ok(zeros >= 1 && fabs(beta[0] - 1.5) < 0.1 && fabs(beta[5] - 2.0) < 0.1,
           "lasso zeroes small coefficients (%d zero) and keeps the large ones "
           "(%.3f, %.3f)", zeros, beta[0], beta[5]);

    st = hl_attr_fit_surrogate(N, F, z, y, w, 100.0, beta, &c, &err);
    double wy = 0;
    for (int i = 0; i < N; i++)
        wy += w[i] * y[i];
    int all_zero = 1;
    for (int j = 0; j < F; j++)
        all_zero &= beta[j] == 0;
    tap_ok(st == HL_OK && all_zero && fabs(c - wy / sw) < 1e-12,
           "lasso with a huge alpha: beta = 0, intercept = weighted mean of y");

    /* alpha 0: weighted least squares recovers an exact linear model. */
    for (int i = 0; i < N; i++) {
        y[i] = 0.7;
        for (int j = 0; j < F; j++)
            y[i] += truth[j] * z[i * F + j];
    }
    st = hl_attr_fit_surrogate(N, F, z, y, w, 0.0, beta, &c, &err);
    double maxd = fabs(c - 0.7);
    for (int j = 0; j < F; j++)
        maxd = fmax(maxd, fabs(beta[j] - truth[j]));
    tap_ok(st == HL_OK && maxd < 1e-10,
           "weighted least squares (LAPACKE) recovers an exact linear model "
           "(max err %.1e)", maxd);
}

static void kernel_shap_exact(const char *model_rel, const char *input_rel,
                              int C, int H, int W, int grid, int target)
{
    hl_model *m = load_model(model_rel);
    hl_array *x = load_npy(input_rel);
    if (!m || !x) {
        tap_ok(0, "%s loads", model_rel);
        goto out;
    }
    int *ids = grid_ids(C, H, W, grid);
    int F = ((H + grid - 1) / grid) * ((W + grid - 1) / grid);
    float *zero = calloc((size_t)C * H * W, sizeof *zero);
    double *phi = malloc((size_t)F * sizeof *phi);
    int ok = brute_force_shapley(m, x, zero, ids, F, target, phi);

    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    snprintf(p.feature_mask, sizeof p.feature_mask, "grid:%d", grid);
    p.n_samples = 1 << F;     /* every coalition */
    p.perturbations_per_eval = 64;
    hl_array *a = run_method(m, "kernel_shap", x, &p, NULL);
    double e = ok && a ? rel_l2_features(a, ids, phi) : 1;
    tap_ok(ok && a && e < 1e-4, "%s: kernel_shap with every coalition of %d "
           "features = brute-force Shapley values (rel L2 %.1e)",
           model_rel, F, e);

    if (F >= 8) {
        /* Sampled coalitions (Captum's scheme) approach the same values;
         * the end points keep the sum exact. */
        p.n_samples = 3000;
        hl_array *s = run_method(m, "kernel_shap", x, &p, NULL);
        double es = ok && s ? rel_l2_features(s, ids, phi) : 1;
        double sum = 0, want = 0;
        for (int f = 0; f < F; f++)
            want += phi[f];
        for (int f = 0; s && f < F; f++)
            for (int64_t i = 0; i < (int64_t)C * H * W; i++)
                if (ids[i] == f) {
                    sum += s->data[i];
                    break;
                }
        tap_ok(s && es < 0.1, "%s: kernel_shap with 3000 sampled coalitions "
               "is near the exact values (rel L2 %.3f)", model_rel, es);
        tap_ok(s && fabs(sum - want) < 1e-3 * fmax(1, fabs(want)),
               "%s: sampled kernel_shap values add up to F(x) - F(0) "
               "(%.5f vs %.5f)", model_rel, sum, want);
        hl_array *s2 = run_method(m, "kernel_shap", x, &p, NULL);
        p.seed = 7;
        hl_array *s3 = run_method(m, "kernel_shap", x, &p, NULL);
        tap_ok(arrays_equal(s, s2), "kernel_shap: same seed, same result");
        tap_ok(s && s3 && !arrays_equal(s, s3),
               "kernel_shap: another seed, another result");
        hl_array_free(s);
        hl_array_free(s2);
        hl_array_free(s3);
    }
    hl_array_free(a);
    free(ids);
    free(zero);
    free(phi);
out:
    hl_array_free(x);
    hl_model_free(m);
}

static void lime_runs(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    if (!m || !x) {
        tap_ok(0, "tinycnn loads");
        goto out;
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.feature_mask, "grid:8");
    p.n_samples = 200;
    hl_array *a = run_method(m, "lime", x, &p, NULL);
    hl_array *b = run_method(m, "lime", x, &p, NULL);
    p.seed = 4242;
    hl_array *c = run_method(m, "lime", x, &p, NULL);
    tap_ok(a && arrays_equal(a, b), "lime: same seed, same result");
    tap_ok(a && c && !arrays_equal(a, c), "lime: another seed, another result");
    int *ids = grid_ids(3, 32, 32, 8);
    int constant = a != NULL, nonzero = 0;
    float val[16] = {0};
    int seen[16] = {0};
    for (int i = 0; a && i < 3072; i++)
        if (!seen[ids[i]]) {
            seen[ids[i]] = 1;
            val[ids[i]] = a->data[i];
        }
    for (int i = 0; a && i < 3072; i++) {
        constant &= a->data[i] == val[ids[i]];
        nonzero += a->data[i] != 0;
    }
    tap_ok(constant && nonzero > 0, "lime: one coefficient per grid:8 square, "
           "not all zero (%d non-zero elements)", nonzero);
    free(ids);
    hl_array_free(a);
    hl_array_free(b);
    hl_array_free(c);
out:
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    lasso_kkt();
    kernel_shap_exact("captum/tinycnn/model.onnx", "captum/tinycnn/input.npy",
                      3, 32, 32, 16, 1);
    kernel_shap_exact("blind-cnn/blind.onnx", "blind-cnn/blind_input.npy", 3, 8, 8, 2, 0);
    lime_runs();
    return tap_done();
}
