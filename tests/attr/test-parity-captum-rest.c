/* The rest of Captum's methods (issue 15) against Captum 0.7's own outputs
 * (tests/data/captum/round2/<case>/, see manifest.json there), within
 * relative L2 1e-4: InternalInfluence, LayerDeepLiftShap,
 * LayerFeatureAblation, NeuronDeconvolution, NeuronDeepLift,
 * NeuronFeatureAblation, ShapleyValues (exact); LayerGradientShap and
 * NeuronGradientShap replayed with Captum's recorded draws. Captum has no
 * NeuronDeepLiftShap reference: it is checked against its definition, the
 * mean over the baselines of NeuronDeepLift (Captum's output for the zero
 * baseline, ours for the random one). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr-test-util.h"

#define REL_TOL 1e-4

typedef struct rest_case {
    const char *name;
    int target;
    const char *layer;
} rest_case;

static const rest_case *cur;

static hl_array *ref(const char *file)
{
    char rel[256];
    snprintf(rel, sizeof rel, "captum/round2/%s/%s", cur->name, file);
    return load_npy(rel);
}

static const char *ref_path(const char *file)
{
    char rel[256];
    snprintf(rel, sizeof rel, "captum/round2/%s/%s", cur->name, file);
    return data_path(rel);
}

static void compare(const hl_array *a, const char *file, const char *what)
{
    hl_array *e = ref(file);
    int shape_ok = a && e && hl_shape_numel(&a->shape) == hl_shape_numel(&e->shape) &&
                   a->shape.ndim == e->shape.ndim;
    double err = shape_ok ? tap_rel_l2(a->data, e->data, (long)hl_shape_numel(&e->shape)) : INFINITY;
    tap_ok(shape_ok && err <= REL_TOL, "%s %s == Captum %s (rel L2 %.3g <= %.0e)",
           cur->name, what, file, err, REL_TOL);
    hl_array_free(e);
}

static void check(const hl_model *m, const hl_array *x, const char *method,
                  const hl_attr_params *p, const char *file)
{
    hl_attr_result r;
    hl_array *a = run_method(m, method, x, p, &r);
    compare(a, file, method);
    hl_array_free(a);
}

/* LayerGradientShap / NeuronGradientShap with Captum's draws. */
typedef hl_status (*replay_fn)(hl_attr_call *, const hl_array *, int, const int *,
                               const double *, hl_attr_result *, hl_error *);

static void replay(const hl_model *m, const hl_array *x, const hl_attr_params *p,
                   const char *kind, replay_fn fn)
{
    char f[128];
    snprintf(f, sizeof f, "%s_alphas.npy", kind);
    hl_array *alphas = ref(f);
    snprintf(f, sizeof f, "%s_baseline_idx.npy", kind);
    hl_array *idx = ref(f);
    hl_array *set = ref("baselines_zero_random0.npy");
    if (!alphas || !idx || !set) {
        tap_ok(0, "%s %s: draws and baselines load", cur->name, kind);
    } else {
        int n = (int)hl_shape_numel(&alphas->shape);
        double *a = malloc(sizeof(double) * (size_t)n);
        int *bi = malloc(sizeof(int) * (size_t)n);
        for (int s = 0; s < n; s++)
            a[s] = alphas->data[s], bi[s] = (int)idx->data[s];
        test_call t;
        call_init(&t, m, x, p, cur->target);
        hl_attr_result r;
        memset(&r, 0, sizeof r);
        hl_error err = {0};
        hl_status st = fn(&t.c, set, n, bi, a, &r, &err);
        if (st != HL_OK)
            tap_diag("%s: %s", kind, err.msg);
        snprintf(f, sizeof f, "%s.npy", kind);
        compare(st == HL_OK ? r.attr : NULL, f, kind);
        hl_attr_result_clear(&r);
        call_done(&t);
        free(a);
        free(bi);
    }
    hl_array_free(alphas);
    hl_array_free(idx);
    hl_array_free(set);
}

/* neuron_deep_lift_shap over {zero, random} = the mean of Captum's
 * NeuronDeepLift (zero baseline) and our neuron_deep_lift on the random
 * row (a one-row file written here). */
static void neuron_deep_lift_shap_definition(const hl_model *m, const hl_array *x,
                                             hl_attr_params p)
{
    hl_array *set = ref("baselines_zero_random0.npy"), *zero_ref = ref("neuron_deep_lift.npy");
    hl_array *row = x ? hl_array_new(&x->shape) : NULL;
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/heatlens-ndls-%s-%d.npy",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", cur->name, (int)getpid());
    hl_error err = {0};
    int ok = set && zero_ref && row;
    if (ok) {
        memcpy(row->data, set->data + hl_shape_numel(&x->shape),
               sizeof(float) * (size_t)hl_shape_numel(&x->shape));
        ok = hl_npy_write(tmp, row, &err) == HL_OK;
    }
    hl_array *shap = NULL, *rnd = NULL;
    if (ok) {
        snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s", ref_path("baselines_zero_random0.npy"));
        shap = run_method(m, "neuron_deep_lift_shap", x, &p, NULL);
        p.baselines_npy[0] = '\0';
        snprintf(p.baseline, sizeof p.baseline, "%s", tmp);
        rnd = run_method(m, "neuron_deep_lift", x, &p, NULL);
    }
    remove(tmp);
    double e = INFINITY;
    if (shap && rnd) {
        long n = (long)hl_shape_numel(&x->shape);
        float *mean = malloc(sizeof(float) * (size_t)n);
        for (long i = 0; i < n; i++)
            mean[i] = (float)(0.5 * ((double)zero_ref->data[i] + rnd->data[i]));
        e = tap_rel_l2(shap->data, mean, n);
        free(mean);
    }
    tap_ok(e <= REL_TOL, "%s neuron_deep_lift_shap == mean of NeuronDeepLift over the 2 "
           "baselines (rel L2 %.3g)", cur->name, e);
    hl_array_free(set);
    hl_array_free(zero_ref);
    hl_array_free(row);
    hl_array_free(shap);
    hl_array_free(rnd);
}

/* The engine's gradient of the target at a layer and the layer's value,
 * for one input, straight through the engine API. */
static int engine_layer(const hl_model *m, const float *x, int layer, int target,
                        float *act, float *grad, long n)
{
    hl_run *r = hl_run_new(m, 1);
    hl_error err = {0};
    hl_shape os;
    int ok = r && hl_run_forward(r, x, 1, &err) == HL_OK;
    const float *y = ok ? hl_run_value(r, hl_model_output_value(m), &os) : NULL;
    float *seed = y ? calloc((size_t)hl_shape_numel(&os), sizeof(float)) : NULL;
    if (seed)
        seed[target] = 1.0f;
    ok = seed && hl_run_backward(r, hl_model_output_value(m), seed, HL_RULE_GRADIENT, NULL,
                                 &err) == HL_OK;
    const float *a = ok ? hl_run_value(r, layer, NULL) : NULL, *g = ok ? hl_run_grad(r, layer, NULL) : NULL;
    if (a && g) {
        memcpy(act, a, sizeof(float) * (size_t)n);
        memcpy(grad, g, sizeof(float) * (size_t)n);
    }
    free(seed);
    hl_run_free(r);
    return a && g;
}

/* layer_gradient_shap with input noise (--stdevs > 0, no Captum file):
 * mean_s dF/dA(alpha_s x~_s + (1 - alpha_s) b_s) * (A(x~_s) - A(b_s)),
 * with the draws made here from the same seed in the method's order
 * (baseline indices, alphas, then the noise sample by sample). */
static void layer_gradient_shap_noise(const hl_model *m, const hl_array *x, hl_attr_params p)
{
    enum { S = 4 };
    const long nx = (long)hl_shape_numel(&x->shape);
    int layer = hl_model_find_value(m, cur->layer);
    hl_shape ls;
    hl_model_value_shape(m, layer, &ls);
    ls.dims[0] = 1;
    const long na = (long)hl_shape_numel(&ls);
    hl_array *set = ref("baselines_zero_random0.npy");
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s", ref_path("baselines_zero_random0.npy"));
    p.n_samples = S;
    p.stdevs = 0.1f;
    p.internal_batch_size = 3;
    p.seed = 4242;
    hl_array *got = run_method(m, "layer_gradient_shap", x, &p, NULL);
    hl_rng rng;
    hl_rng_seed(&rng, p.seed);
    int idx[S];
    double alpha[S], *sum = calloc((size_t)na, sizeof(double));
    for (int s = 0; s < S; s++)
        idx[s] = (int)hl_rng_below(&rng, 2);
    for (int s = 0; s < S; s++)
        alpha[s] = hl_rng_uniform(&rng);
    float *xs = malloc(sizeof(float) * (size_t)nx), *pt = malloc(sizeof(float) * (size_t)nx);
    float *a_pt = malloc(sizeof(float) * (size_t)na), *g_pt = malloc(sizeof(float) * (size_t)na);
    float *a_xs = malloc(sizeof(float) * (size_t)na), *a_b = malloc(sizeof(float) * (size_t)na);
    float *g_dummy = malloc(sizeof(float) * (size_t)na);
    int ok = got && set && layer >= 0;
    for (int s = 0; ok && s < S; s++) {
        const float *b = set->data + idx[s] * nx;
        float a = (float)alpha[s];
        for (long i = 0; i < nx; i++) {
            xs[i] = x->data[i] + (float)(0.1f * hl_rng_normal(&rng));
            pt[i] = a * xs[i] + (1.0f - a) * b[i];
        }
        ok = engine_layer(m, pt, layer, cur->target, a_pt, g_pt, na) &&
             engine_layer(m, xs, layer, cur->target, a_xs, g_dummy, na) &&
             engine_layer(m, b, layer, cur->target, a_b, g_dummy, na);
        for (long i = 0; ok && i < na; i++)
            sum[i] += (double)g_pt[i] * (double)(a_xs[i] - a_b[i]) / S;
    }
    double e = INFINITY;
    if (ok) {
        float *want = malloc(sizeof(float) * (size_t)na);
        for (long i = 0; i < na; i++)
            want[i] = (float)sum[i];
        e = tap_rel_l2(got->data, want, na);
        free(want);
    }
    tap_ok(e <= REL_TOL, "%s layer_gradient_shap with --stdevs 0.1 == its definition on the "
           "same draws through the engine API (rel L2 %.3g)", cur->name, e);
    hl_array_free(got);
    hl_array_free(set);
    free(sum);
    free(xs);
    free(pt);
    free(a_pt);
    free(g_pt);
    free(a_xs);
    free(a_b);
    free(g_dummy);
}

/* Captum's layer_mask (tests/data/captum/layer_mask/make_cases.py):
 * --layer-mask channels and a file of 4x4 blocks of the plane, through
 * the incremental forward from the layer and through whole forwards with
 * the layer overridden (HL_INCREMENTAL=0). */
static void layer_mask_cases(const hl_model *m, const hl_array *x, const hl_attr_params *p)
{
    const char *files[2] = { "captum/layer_mask/tinycnn_channels.npy",
                             "captum/layer_mask/tinycnn_blocks.npy" };
    for (int whole = 0; whole < 2; whole++) {
        if (whole)
            setenv("HL_INCREMENTAL", "0", 1);
        for (int k = 0; k < 2; k++) {
            hl_attr_params q = *p;
            snprintf(q.layer_mask, sizeof q.layer_mask, "%s",
                     k == 0 ? "channels" : data_path("captum/layer_mask/layer_mask_blocks.npy"));
            hl_attr_result r;
            hl_array *a = run_method(m, "layer_feature_ablation", x, &q, &r);
            hl_array *e = load_npy(files[k]);
            int ok = a && e && hl_shape_numel(&a->shape) == hl_shape_numel(&e->shape);
            double err = ok ? tap_rel_l2(a->data, e->data, (long)hl_shape_numel(&e->shape)) : INFINITY;
            tap_ok(ok && err <= REL_TOL, "%s layer_feature_ablation --layer-mask %s (%s) == "
                   "Captum layer_mask (rel L2 %.3g <= %.0e)", cur->name,
                   k == 0 ? "channels" : "blocks.npy",
                   whole ? "whole forwards" : "incremental", err, REL_TOL);
            hl_array_free(a);
            hl_array_free(e);
        }
        unsetenv("HL_INCREMENTAL");
    }
}

static void run_case(const rest_case *rc)
{
    cur = rc;
    hl_model *m = case_model(rc->name);
    hl_array *x = case_npy(rc->name, "input");
    if (!tap_ok(m && x, "%s: model and input load", rc->name))
        goto done;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = rc->target;
    strcpy(p.layer, rc->layer);
    p.has_neuron = 1;
    p.neuron[0] = 3, p.neuron[1] = 8, p.neuron[2] = 8;

    check(m, x, "internal_influence", &p, "internal_influence.npy");
    check(m, x, "layer_feature_ablation", &p, "layer_feature_ablation.npy");
    if (strcmp(rc->name, "tinycnn") == 0)
        layer_mask_cases(m, x, &p);
    check(m, x, "neuron_deconvolution", &p, "neuron_deconvolution.npy");
    check(m, x, "neuron_deep_lift", &p, "neuron_deep_lift.npy");
    {
        hl_attr_params q = p;
        snprintf(q.baselines_npy, sizeof q.baselines_npy, "%s", ref_path("baselines_zero_random0.npy"));
        check(m, x, "layer_deep_lift_shap", &q, "layer_deep_lift_shap.npy");
        snprintf(q.feature_mask, sizeof q.feature_mask, "%s", ref_path("feature_mask_grid4.npy"));
        check(m, x, "neuron_feature_ablation", &q, "neuron_feature_ablation.npy");
        snprintf(q.feature_mask, sizeof q.feature_mask, "%s", ref_path("feature_mask_6.npy"));
        check(m, x, "shapley_values", &q, "shapley_values.npy");
    }
    replay(m, x, &p, "layer_gradient_shap", hl_layer_gradient_shap_with_draws);
    replay(m, x, &p, "neuron_gradient_shap", hl_neuron_gradient_shap_with_draws);
    neuron_deep_lift_shap_definition(m, x, p);
    layer_gradient_shap_noise(m, x, p);
done:
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    /* one engine thread, as Captum's reference run (see test-parity-captum.c) */
    const rest_case cases[] = {
        { "tinycnn", 1, "/conv2/Conv_output_0" },
        { "tinyres", 7, "/res/conv2/Conv_output_0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    return tap_done();
}
