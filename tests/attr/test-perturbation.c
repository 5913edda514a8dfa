/* Part-2 perturbation methods: occlusion, feature_ablation and
 * shapley_value_sampling against Captum 0.7's outputs (tests/data/captum),
 * brute-force Shapley values, a model that ignores a channel, and
 * occlusion through the incremental forward against plain forwards. */
#include "attr-test-util.h"

static void occlusion_parity(const char *cas, int target)
{
    hl_model *m = case_model(cas);
    hl_array *x = case_npy(cas, "input");
    hl_array *ref = case_npy(cas, "occlusion");
    if (!m || !x || !ref) {
        tap_ok(0, "%s: occlusion reference data loads", cas);
        goto out;
    }
    /* Captum: Occlusion(model).attribute(x, strides=(3,2,2),
     * sliding_window_shapes=(3,5,5), baselines=0, target, ppe=64) */
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    int st[3] = {3, 2, 2}, win[3] = {3, 5, 5};
    memcpy(p.strides, st, sizeof st);
    memcpy(p.window, win, sizeof win);
    strcpy(p.baseline, "0");
    p.perturbations_per_eval = 64;
    hl_attr_result r;
    hl_array *a = run_method(m, "occlusion", x, &p, &r);
    double e = a ? tap_rel_l2(a->data, ref->data, hl_shape_numel(&ref->shape)) : 1;
    tap_ok(a && hl_shape_equal(&a->shape, &ref->shape) && e < 1e-4,
           "%s: occlusion matches Captum (rel L2 %.2e)", cas, e);
    tap_ok(a && r.target == target, "%s: occlusion explains target %d", cas, target);

    /* perturbations_per_eval changes batching only. */
    p.perturbations_per_eval = 1;
    hl_array *a1 = run_method(m, "occlusion", x, &p, NULL);
    double e1 = a && a1 ? tap_rel_l2(a1->data, a->data, hl_shape_numel(&a->shape)) : 1;
    tap_ok(e1 < 1e-5, "%s: occlusion with 1 vs 64 perturbations per eval agree "
           "(rel L2 %.2e)", cas, e1);
    hl_array_free(a);
    hl_array_free(a1);
out:
    hl_array_free(x);
    hl_array_free(ref);
    hl_model_free(m);
}

static void ablation_parity(const char *cas, int target)
{
    char rel[256];
    hl_model *m = case_model(cas);
    hl_array *x = case_npy(cas, "input");
    hl_array *ref = case_npy(cas, "feature_ablation");
    if (!m || !x || !ref) {
        tap_ok(0, "%s: feature_ablation reference data loads", cas);
        goto out;
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    snprintf(rel, sizeof rel, "captum/%s/feature_mask_4x4.npy", cas);
    snprintf(p.feature_mask, sizeof p.feature_mask, "%s", data_path(rel));
    strcpy(p.baseline, "zero");
    p.perturbations_per_eval = 16;
    hl_array *a = run_method(m, "feature_ablation", x, &p, NULL);
    double e = a ? tap_rel_l2(a->data, ref->data, hl_shape_numel(&ref->shape)) : 1;
    tap_ok(a && e < 1e-4, "%s: feature_ablation (feature_mask_4x4.npy) matches "
           "Captum (rel L2 %.2e)", cas, e);

    /* grid:4 is the same mask (id = (y/4)*8 + x/4). */
    strcpy(p.feature_mask, "grid:4");
    hl_array *g = run_method(m, "feature_ablation", x, &p, NULL);
    double eg = g ? tap_rel_l2(g->data, ref->data, hl_shape_numel(&ref->shape)) : 1;
    tap_ok(g && eg < 1e-4, "%s: feature_ablation with grid:4 matches Captum's "
           "4x4 mask (rel L2 %.2e)", cas, eg);
    hl_array_free(a);
    hl_array_free(g);
out:
    hl_array_free(x);
    hl_array_free(ref);
    hl_model_free(m);
}

/* Occluding input channel 2, which the model's weights ignore, changes
 * nothing: its attribution is exactly 0, the other channels' is not. */
static void occlusion_unused_channel(void)
{
    hl_model *m = load_model("blind-cnn/blind.onnx");
    hl_array *x = load_npy("blind-cnn/blind_input.npy");
    hl_array *a = NULL;
    if (!m || !x) {
        tap_ok(0, "blind model loads");
        goto out;
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 0;
    int st[3] = {1, 1, 1}, win[3] = {1, 3, 3};
    memcpy(p.strides, st, sizeof st);
    memcpy(p.window, win, sizeof win);
    strcpy(p.baseline, "zero");
    a = run_method(m, "occlusion", x, &p, NULL);
    if (!a) {
        tap_ok(0, "occlusion runs on the blind model");
        goto out;
    }
    double unused = 0, used = 0;
    for (int i = 0; i < 64; i++) {
        unused += fabs(a->data[2 * 64 + i]);
        used += fabs(a->data[i]) + fabs(a->data[64 + i]);
    }
    tap_ok(unused == 0.0, "occlusion of the channel the model ignores is 0 "
           "(sum |attr| = %g)", unused);
    tap_ok(used > 1e-3, "occlusion of the channels it uses is not 0 (%g)", used);

    /* The same with feature_ablation over one feature per channel, from an
     * int32 [1,C,H,W] mask file. */
    int32_t ids[3 * 64];
    for (int i = 0; i < 3 * 64; i++)
        ids[i] = i / 64;
    const char *mask = "/tmp/hl-test-blind-mask.npy";
    int64_t shape[4] = {1, 3, 8, 8};
    hl_array_free(a);
    a = NULL;
    if (write_npy_int32(mask, shape, 4, ids)) {
        snprintf(p.feature_mask, sizeof p.feature_mask, "%s", mask);
        a = run_method(m, "feature_ablation", x, &p, NULL);
        remove(mask);
    }
    tap_ok(a && a->data[2 * 64] == 0.0f && a->data[2 * 64 + 63] == 0.0f &&
           a->data[0] != 0.0f && a->data[64] != 0.0f,
           "feature_ablation with a [1,C,H,W] int32 mask: the unused channel "
           "gets 0, the others not");
out:
    hl_array_free(a);
    hl_array_free(x);
    hl_model_free(m);
}

/* Captum's RGB defaults (strides 3,8,8, window 3,15,15) on a 1-channel
 * model: the channel extent means "all channels", so the result is the
 * one of strides 1,8,8 / window 1,15,15. */
static void occlusion_grey_defaults(void)
{
    hl_model *m = load_model("models/tiny_grey.onnx");
    hl_array *x = load_npy("models/tiny_grey.input.npy");
    hl_array *a = NULL, *b = NULL;
    if (!m || !x) {
        tap_ok(0, "tiny_grey loads");
        goto out;
    }
    x->shape.dims[0] = 1; /* the first of the two stored inputs */
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 3;
    a = run_method(m, "occlusion", x, &p, NULL);
    int st[3] = {1, 8, 8}, win[3] = {1, 15, 15};
    memcpy(p.strides, st, sizeof st);
    memcpy(p.window, win, sizeof win);
    b = run_method(m, "occlusion", x, &p, NULL);
    tap_ok(a && b && memcmp(a->data, b->data, sizeof(float) * 28 * 28) == 0,
           "occlusion with Captum's RGB defaults on a grey model = windows 1,15,15");
out:
    hl_array_free(a);
    hl_array_free(b);
    hl_array_free(x);
    hl_model_free(m);
}

/* grid:16 ablation on tinycnn against a direct computation. */
static void ablation_grid_direct(void)
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
    strcpy(p.feature_mask, "grid:16");
    strcpy(p.baseline, "0.5");
    hl_array *a = run_method(m, "feature_ablation", x, &p, NULL);
    int *ids = grid_ids(3, 32, 32, 16);
    float *buf = malloc(5 * 3072 * sizeof *buf);
    double y[5];
    memcpy(buf, x->data, 3072 * sizeof *buf);
    for (int f = 0; f < 4; f++)
        for (int i = 0; i < 3072; i++)
            buf[(f + 1) * 3072 + i] = ids[i] == f ? 0.5f : x->data[i];
    int ok = engine_logits(m, buf, 5, 1, y);
    double maxerr = 0;
    for (int i = 0; ok && a && i < 3072; i++) {
        double want = y[0] - y[1 + ids[i]];
        double d = fabs(a->data[i] - want);
        if (d > maxerr)
            maxerr = d;
    }
    tap_ok(ok && a && maxerr < 1e-5, "feature_ablation grid:16, baseline 0.5 = "
           "F(x) - F(x with the square at 0.5) (max err %.2e)", maxerr);
    free(ids);
    free(buf);
    hl_array_free(a);
out:
    hl_array_free(x);
    hl_model_free(m);
}

static void shapley_sampling(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    if (!m || !x) {
        tap_ok(0, "tinycnn loads");
        goto out;
    }
    const int F = 4;
    int *ids = grid_ids(3, 32, 32, 16);
    float *zero = calloc(3072, sizeof *zero);
    double phi[4], fx, fb;
    int ok = brute_force_shapley(m, x, zero, ids, F, 1, phi);
    ok = ok && engine_logits(m, x->data, 1, 1, &fx) &&
         engine_logits(m, zero, 1, 1, &fb);

    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.feature_mask, "grid:16");
    p.n_samples = 400;
    hl_array *a = run_method(m, "shapley_value_sampling", x, &p, NULL);
    double e = ok && a ? rel_l2_features(a, ids, phi) : 1;
    tap_ok(ok && a && e < 0.05, "shapley_value_sampling (400 permutations) is "
           "near the brute-force Shapley values (rel L2 %.3f)", e);
    /* Efficiency holds exactly for every permutation: the features'
     * values add up to F(x) - F(baseline). */
    double sum = 0;
    for (int f = 0; a && f < F; f++)
        for (int i = 0; i < 3072; i++)
            if (ids[i] == f) {
                sum += a->data[i];
                break;
            }
    tap_ok(ok && a && fabs(sum - (fx - fb)) < 1e-4,
           "shapley_value_sampling: sum over features %.6f = F(x) - F(0) %.6f",
           sum, fx - fb);

    /* Few permutations: further from the exact values than many. */
    p.n_samples = 2;
    hl_array *a2 = run_method(m, "shapley_value_sampling", x, &p, NULL);
    hl_array *a2b = run_method(m, "shapley_value_sampling", x, &p, NULL);
    p.seed = 12345;
    hl_array *a2c = run_method(m, "shapley_value_sampling", x, &p, NULL);
    tap_ok(arrays_equal(a2, a2b), "shapley_value_sampling: same seed, same result");
    tap_ok(a2 && a2c && !arrays_equal(a2, a2c),
           "shapley_value_sampling: another seed, another result");
    hl_array_free(a);
    hl_array_free(a2);
    hl_array_free(a2b);
    hl_array_free(a2c);
    free(ids);
    free(zero);
out:
    hl_array_free(x);
    hl_model_free(m);
}

static void bad_params(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    if (!m || !x) {
        tap_ok(0, "tinycnn loads");
        goto out;
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    int win[3] = {3, 40, 5};
    memcpy(p.window, win, sizeof win);
    hl_attr_result r;
    hl_error err = {0};
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = TEST_THREADS;
    hl_status st = hl_attribute(m, "occlusion", x, &p, &ctx, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "window"),
           "occlusion: a window larger than the input is refused (%s)", err.msg);
    hl_attr_params_init(&p);
    strcpy(p.feature_mask, "grid:x");
    st = hl_attribute(m, "feature_ablation", x, &p, &ctx, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "grid"),
           "feature_ablation: a bad grid spec is refused (%s)", err.msg);
    snprintf(p.feature_mask, sizeof p.feature_mask, "%s",
             data_path("captum/tinycnn/logits.npy"));
    st = hl_attribute(m, "feature_ablation", x, &p, &ctx, &r, &err);
    tap_ok(st != HL_OK, "feature_ablation: a mask .npy of the wrong shape or "
           "type is refused (%s)", err.msg);
out:
    hl_array_free(x);
    hl_model_free(m);
}

/* Occlusion's windows go through the engine's incremental forward; with
 * HL_INCREMENTAL=0 through plain full forwards. The maps must agree up to
 * float rounding. A map of logit differences amplifies rounding: the plain
 * map itself moves by 1e-5 relative L2 when its convolutions run on
 * oneDNN's kernels instead of ours (HL_DNNL=0 when the model loads). That
 * move, measured here, is the yardstick: the incremental map, which
 * mixes both kernel sets (its crops run on ours, the clean forward and the
 * layers after global pooling on oneDNN's), must be within three times it
 * of the plain one (and within 1e-4). Models: a small
 * ResNet (corner and edge windows, stride-2 layers, MaxPool) and the
 * bundled MobileNet V2. */
static void occlusion_incremental(const char *rel, const char *label,
                                  int stride, int window, int ppe)
{
    hl_model *m = load_source_model(rel);
    setenv("HL_DNNL", "0", 1);
    hl_model *m_own = load_source_model(rel);
    unsetenv("HL_DNNL");
    if (!m || !m_own) {
        tap_ok(0, "%s loads", rel);
        hl_model_free(m);
        hl_model_free(m_own);
        return;
    }
    hl_shape s;
    hl_model_value_shape(m, hl_model_input_value(m), &s);
    s.dims[0] = 1;
    const int64_t n = hl_shape_numel(&s);
    hl_array *x = hl_array_new(&s);
    for (int64_t i = 0; i < n; i++)
        x->data[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 3;
    int st[3] = {3, stride, stride}, win[3] = {3, window, window};
    memcpy(p.strides, st, sizeof st);
    memcpy(p.window, win, sizeof win);
    strcpy(p.baseline, "0");
    p.perturbations_per_eval = ppe;
    hl_array *inc = run_method(m, "occlusion", x, &p, NULL);
    setenv("HL_INCREMENTAL", "0", 1);
    hl_array *plain = run_method(m, "occlusion", x, &p, NULL);
    hl_array *plain_own = run_method(m_own, "occlusion", x, &p, NULL);
    unsetenv("HL_INCREMENTAL");
    int ok = inc && plain && plain_own;
    double e = ok ? tap_rel_l2(inc->data, plain->data, n) : 1;
    double floor = ok ? tap_rel_l2(plain_own->data, plain->data, n) : 0;
    tap_ok(ok && e <= 3 * floor && e <= 1e-4,
           "%s: occlusion through the incremental forward equals plain "
           "forwards (window %d, stride %d, %d per eval): rel L2 %.2e, plain "
           "on oneDNN against our kernels %.2e", label, window, stride, ppe,
           e, floor);
    hl_array_free(inc);
    hl_array_free(plain);
    hl_array_free(plain_own);
    hl_array_free(x);
    hl_model_free(m);
    hl_model_free(m_own);
}

int main(void)
{
    hl_engine_init();
    occlusion_parity("tinycnn", 1);
    occlusion_parity("tinyres", 7);
    ablation_parity("tinycnn", 1);
    ablation_parity("tinyres", 7);
    occlusion_unused_channel();
    occlusion_grey_defaults();
    ablation_grid_direct();
    shapley_sampling();
    bad_params();
    occlusion_incremental("tests/data/engine/incremental_resnet.onnx",
                          "incremental_resnet", 4, 9, 16);
    occlusion_incremental("tests/data/engine/incremental_resnet.onnx",
                          "incremental_resnet", 7, 13, 1);
    occlusion_incremental("data/models/mobilenet_v2.onnx", "mobilenet_v2",
                          32, 15, 16);
    return tap_done();
}
