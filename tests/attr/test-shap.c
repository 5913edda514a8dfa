/* Part-2 SHAP methods: gradient_shap replayed with Captum's own random
 * draws against Captum's outputs, its completeness in expectation, and
 * deep_lift_shap against Captum's DeepLift and our deep_lift. */
#include "attr-test-util.h"

static void gradient_shap_replay(const char *cas, int target, const char *kind)
{
    char rel[256];
    hl_model *m = case_model(cas);
    hl_array *x = case_npy(cas, "input");
    snprintf(rel, sizeof rel, "captum/%s/gradient_shap_%s.npy", cas, kind);
    hl_array *ref = load_npy(rel);
    snprintf(rel, sizeof rel, "captum/%s/gradient_shap_%s_alphas.npy", cas, kind);
    hl_array *alphas = load_npy(rel);
    snprintf(rel, sizeof rel, "captum/%s/gradient_shap_%s_baseline_idx.npy", cas, kind);
    hl_array *idx = load_npy(rel);
    hl_array *set = NULL;
    if (strcmp(kind, "random") == 0) {
        snprintf(rel, sizeof rel, "captum/%s/baselines_random.npy", cas);
        set = load_npy(rel);
    } else if (x) {
        set = hl_array_new(&x->shape);
    }
    if (!m || !x || !ref || !alphas || !idx || !set) {
        tap_ok(0, "%s: gradient_shap_%s reference data loads", cas, kind);
        goto out;
    }
    int n = (int)hl_shape_numel(&alphas->shape);
    double *a = malloc((size_t)n * sizeof *a);
    int *bi = malloc((size_t)n * sizeof *bi);
    for (int s = 0; s < n; s++) {
        a[s] = alphas->data[s];
        bi[s] = (int)idx->data[s];
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    test_call t;
    call_init(&t, m, x, &p, target);
    hl_attr_result r;
    memset(&r, 0, sizeof r);
    hl_error err = {0};
    hl_status st = hl_gradient_shap_with_draws(&t.c, set, n, bi, a, NULL, &r, &err);
    double e = st == HL_OK ? tap_rel_l2(r.attr->data, ref->data,
                                        hl_shape_numel(&ref->shape)) : 1;
    tap_ok(st == HL_OK && e < 1e-4, "%s: gradient_shap (%s baselines) replayed "
           "with Captum's draws matches Captum (rel L2 %.1e)%s%s", cas, kind, e,
           st == HL_OK ? "" : ": ", st == HL_OK ? "" : err.msg);
    hl_attr_result_clear(&r);
    call_done(&t);
    free(a);
    free(bi);
out:
    hl_array_free(x);
    hl_array_free(ref);
    hl_array_free(alphas);
    hl_array_free(idx);
    hl_array_free(set);
    hl_model_free(m);
}

/* E[sum attr] = F(x) - E_b[F(b)] (alpha uniform, fundamental theorem of
 * calculus): the sample mean gets there as n_samples grows. */
static void gradient_shap_completeness(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    hl_array *set = load_npy("captum/tinycnn/baselines_random.npy");
    if (!m || !x || !set) {
        tap_ok(0, "tinycnn and its random baselines load");
        goto out;
    }
    double fx, fb[4];
    int ok = engine_logits(m, x->data, 1, 1, &fx) &&
             engine_logits(m, set->data, 4, 1, fb);
    double want = fx - (fb[0] + fb[1] + fb[2] + fb[3]) / 4;

    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s",
             data_path("captum/tinycnn/baselines_random.npy"));
    double err_n[2];
    const int ns[2] = {8, 4000};
    for (int k = 0; k < 2; k++) {
        p.n_samples = ns[k];
        hl_array *a = run_method(m, "gradient_shap", x, &p, NULL);
        double sum = 0;
        for (int i = 0; a && i < 3072; i++)
            sum += a->data[i];
        err_n[k] = a ? fabs(sum - want) : 1e9;
        tap_diag("n_samples %d: sum %.5f, F(x) - E[F(b)] %.5f", ns[k], sum, want);
        hl_array_free(a);
    }
    tap_ok(ok && err_n[1] < 0.03 * fabs(want),
           "gradient_shap: with 4000 samples the sum is within 3%% of "
           "F(x) - E[F(baseline)] (error %.4f, 8 samples: %.4f)",
           err_n[1], err_n[0]);

    p.n_samples = 5;
    hl_array *a = run_method(m, "gradient_shap", x, &p, NULL);
    hl_array *b = run_method(m, "gradient_shap", x, &p, NULL);
    p.seed = 99;
    hl_array *c = run_method(m, "gradient_shap", x, &p, NULL);
    tap_ok(a && arrays_equal(a, b), "gradient_shap: same seed, same result");
    tap_ok(a && c && !arrays_equal(a, c), "gradient_shap: another seed, another result");
    /* stdevs > 0 adds noise: again seeded. */
    p.stdevs = 0.1f;
    hl_array *d = run_method(m, "gradient_shap", x, &p, NULL);
    hl_array *e = run_method(m, "gradient_shap", x, &p, NULL);
    tap_ok(d && arrays_equal(d, e) && !arrays_equal(c, d),
           "gradient_shap with stdevs 0.1: reproducible, and differs from stdevs 0");
    hl_array_free(a);
    hl_array_free(b);
    hl_array_free(c);
    hl_array_free(d);
    hl_array_free(e);
out:
    hl_array_free(x);
    hl_array_free(set);
    hl_model_free(m);
}

static void deep_lift_shap_checks(const char *cas, int target)
{
    char rel[256];
    hl_model *m = case_model(cas);
    hl_array *x = case_npy(cas, "input");
    hl_array *ref = case_npy(cas, "deeplift");
    hl_array *set = case_npy(cas, "baselines_random");
    if (!m || !x || !ref || !set) {
        tap_ok(0, "%s: deeplift reference data loads", cas);
        goto out;
    }
    /* One zero baseline: DeepLiftShap = DeepLift(baseline 0) = Captum's. */
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    strcpy(p.baseline, "zero");
    hl_array *a = run_method(m, "deep_lift_shap", x, &p, NULL);
    double e = a ? tap_rel_l2(a->data, ref->data, 3072) : 1;
    tap_ok(a && e < 1e-4, "%s: deep_lift_shap with the zero baseline matches "
           "Captum's DeepLift (rel L2 %.1e)", cas, e);

    /* Four baselines: the mean of deep_lift against each. */
    snprintf(rel, sizeof rel, "captum/%s/baselines_random.npy", cas);
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s", data_path(rel));
    hl_attr_result rs;
    hl_array *s = run_method(m, "deep_lift_shap", x, &p, &rs);
    float *mean = calloc(3072, sizeof *mean);
    int ok = s != NULL;
    for (int k = 0; ok && k < 4; k++) {
        hl_shape one = x->shape;
        hl_array *b = hl_array_new(&one);
        memcpy(b->data, set->data + k * 3072, 3072 * sizeof(float));
        char path[128];
        snprintf(path, sizeof path, "/tmp/hl-test-dls-baseline-%d.npy", k);
        hl_error err = {0};
        ok = hl_npy_write(path, b, &err) == HL_OK;
        hl_array_free(b);
        hl_attr_params q;
        hl_attr_params_init(&q);
        q.target = target;
        snprintf(q.baseline, sizeof q.baseline, "%s", path);
        hl_array *d = ok ? run_method(m, "deep_lift", x, &q, NULL) : NULL;
        remove(path);
        ok = d != NULL;
        for (int i = 0; ok && i < 3072; i++)
            mean[i] += d->data[i] / 4;
        hl_array_free(d);
    }
    double es = ok ? tap_rel_l2(s->data, mean, 3072) : 1;
    tap_ok(ok && es < 1e-5, "%s: deep_lift_shap over 4 baselines = mean of "
           "deep_lift against each (rel L2 %.1e)", cas, es);
    tap_ok(s && rs.has_delta, "%s: deep_lift_shap reports a convergence delta "
           "(%.2e)", cas, s ? rs.delta : 0.0);
    free(mean);
    hl_array_free(a);
    hl_array_free(s);
out:
    hl_array_free(x);
    hl_array_free(ref);
    hl_array_free(set);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    gradient_shap_replay("tinycnn", 1, "zeros");
    gradient_shap_replay("tinycnn", 1, "random");
    gradient_shap_replay("tinyres", 7, "zeros");
    gradient_shap_replay("tinyres", 7, "random");
    gradient_shap_completeness();
    deep_lift_shap_checks("tinycnn", 1);
    deep_lift_shap_checks("tinyres", 7);
    return tap_done();
}
