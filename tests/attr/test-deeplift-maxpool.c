/* DeepLift's MaxPool rule against Captum 0.7.0's own outputs
 * (tests/data/captum/deeplift_maxpool/, made by make_cases.py there): a
 * MaxPool after a Concat of ReLUs (SqueezeNet Fire-like, with a ReLU-fed
 * MaxPool below it, where Captum keeps the plain gradient) and one after an
 * Add, and GoogLeNet's Inception structure (a pool whose input also feeds
 * two Conv branches, where Captum's hook replaces the whole summed
 * gradient; and one whose input is a hooked MaxPool's output), each with a
 * zero and a random baseline, within relative L2 1e-4.
 * The plain gradient through the pools (the rule missing) is far off.
 * GoogLeNet-like models (gl3: overlapping 3x3 stride 2 pools, gl2: 2x2)
 * with inception 3a, 4a, 4b's pattern: Inception blocks fed by a MaxPool
 * (whose plain backward sees the block's branch pool's multipliers, and
 * routes the two halves of Captum's doubled batch over their own argmax:
 * the reference half's gradient, read by the rules, differs), through
 * deep_lift (zero, random and a baseline equal to the input on a square),
 * deep_lift_shap over 4 baselines (rows after the first take the first
 * row's gradient where |x - x_ref| < 1e-10) and layer_deep_lift below the
 * rule's pool, all within relative L2 1e-4. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define DIR "tests/data/captum/deeplift_maxpool"

static void check_case(const char *model, const char *baseline)
{
    char rel[256], file[256];
    snprintf(rel, sizeof rel, DIR "/%s.onnx", model);
    hl_model *m = load_source_model(rel);
    hl_array *x = load_source_npy(DIR "/input.npy");
    snprintf(file, sizeof file, DIR "/%s_deeplift_%s.npy", model, baseline);
    hl_array *e = load_source_npy(file);
    if (!tap_ok(m && x && e, "%s %s: model, input and reference load", model,
                baseline))
        goto done;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    if (strcmp(baseline, "random") == 0)
        snprintf(p.baseline, sizeof p.baseline, "%s",
                 source_path(DIR "/baseline_random.npy"));
    hl_attr_result r;
    hl_array *a = run_attr(m, "deep_lift", x, &p, NULL, &r);
    long n = (long)hl_shape_numel(&e->shape);
    int shape_ok = a && hl_shape_numel(&a->shape) == n;
    double err = shape_ok ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    tap_ok(err <= 1e-4, "%s deep_lift, %s baseline == Captum 0.7 (rel L2 %.3g)",
           model, baseline, err);
    hl_array_free(a);
done:
    hl_array_free(e);
    hl_array_free(x);
    hl_model_free(m);
}

/* The engine's DeepLift multipliers at the input (hl_run_backward under
 * HL_RULE_DEEPLIFT against a reference run of the same batch) for fire's 4
 * rows, the input against each baseline of fire_baselines4.npy, against
 * Captum's (DeepLift with multiply_by_inputs=False on the same 4 rows).
 * Inside the baselines' squares equal to the input the stem ReLU has
 * |x - x_ref| < 1e-10 and feeds a MaxPool: there Captum takes the first
 * row's gradient for every row (see make_cases.py). */
static void check_multipliers(void)
{
    hl_model *m = load_source_model(DIR "/fire.onnx");
    hl_array *x = load_source_npy(DIR "/input.npy");
    hl_array *bl = load_source_npy(DIR "/fire_baselines4.npy");
    hl_array *e = load_source_npy(DIR "/fire_multipliers_4.npy");
    hl_run *r = m ? hl_run_new(m, 2) : NULL, *ref = m ? hl_run_new(m, 2) : NULL;
    float *x4 = NULL, *seed = NULL;
    double err_l2 = INFINITY;
    if (!tap_ok(m && x && bl && e && r && ref, "fire multipliers: files load"))
        goto done;
    long n = (long)hl_shape_numel(&x->shape);
    x4 = malloc(sizeof(float) * (size_t)(4 * n));
    for (int b = 0; b < 4; b++)
        memcpy(x4 + b * n, x->data, sizeof(float) * (size_t)n);
    hl_error err = {0};
    int out = hl_model_output_value(m);
    hl_shape os;
    if (hl_run_forward(r, x4, 4, &err) || hl_run_forward(ref, bl->data, 4, &err) ||
        !hl_run_value(r, out, &os))
        goto done;
    long k = (long)hl_shape_numel(&os) / 4;
    seed = calloc((size_t)(4 * k), sizeof(float));
    for (int b = 0; b < 4; b++)
        seed[b * k + 2] = 1.0f;
    if (hl_run_backward(r, out, seed, HL_RULE_DEEPLIFT, ref, &err) == HL_OK &&
        hl_run_input_grad(r) && hl_shape_numel(&e->shape) == 4 * n)
        err_l2 = tap_rel_l2(hl_run_input_grad(r), e->data, 4 * n);
done:
    tap_ok(err_l2 <= 1e-4, "fire DeepLift multipliers over 4 rows == Captum 0.7 "
           "(rel L2 %.3g)", err_l2);
    free(seed);
    free(x4);
    hl_run_free(ref);
    hl_run_free(r);
    hl_array_free(e);
    hl_array_free(bl);
    hl_array_free(x);
    hl_model_free(m);
}

/* One GoogLeNet-like case: `method` with `p` set but the target, against
 * <model>_<file>.npy. */
static void check_gl(const char *model, const char *method, const char *file,
                     const hl_attr_params *pp)
{
    char rel[256], path[256];
    snprintf(rel, sizeof rel, DIR "/%s.onnx", model);
    hl_model *m = load_source_model(rel);
    hl_array *x = load_source_npy(DIR "/gl_input.npy");
    snprintf(path, sizeof path, DIR "/%s_%s.npy", model, file);
    hl_array *e = load_source_npy(path);
    if (!tap_ok(m && x && e, "%s %s: model, input and reference load", model,
                file))
        goto done;
    hl_attr_params p = *pp;
    p.target = 2;
    hl_attr_result r;
    hl_array *a = run_attr(m, method, x, &p, NULL, &r);
    long n = (long)hl_shape_numel(&e->shape);
    int shape_ok = a && hl_shape_numel(&a->shape) == n;
    double err = shape_ok ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    tap_ok(err <= 1e-4, "%s %s (%s) == Captum 0.7 (rel L2 %.3g)", model,
           method, file, err);
    hl_array_free(a);
done:
    hl_array_free(e);
    hl_array_free(x);
    hl_model_free(m);
}

static void googlenet_like(const char *model)
{
    hl_attr_params zero, rnd, patch, set4;
    hl_attr_params_init(&zero);
    rnd = patch = set4 = zero;
    snprintf(rnd.baseline, sizeof rnd.baseline, "%s",
             source_path(DIR "/gl_baseline_random.npy"));
    snprintf(patch.baseline, sizeof patch.baseline, "%s",
             source_path(DIR "/gl_baseline_patch.npy"));
    snprintf(set4.baselines_npy, sizeof set4.baselines_npy, "%s",
             source_path(DIR "/gl_baselines4.npy"));
    check_gl(model, "deep_lift", "deeplift_zeros", &zero);
    check_gl(model, "deep_lift", "deeplift_random", &rnd);
    check_gl(model, "deep_lift", "deeplift_patch", &patch);
    check_gl(model, "deep_lift_shap", "deepliftshap_4", &set4);
    snprintf(zero.layer, sizeof zero.layer, "/a/b2/Conv_output_0");
    snprintf(rnd.layer, sizeof rnd.layer, "/a/b2/Conv_output_0");
    check_gl(model, "layer_deep_lift", "layerdeeplift_zeros", &zero);
    check_gl(model, "layer_deep_lift", "layerdeeplift_random", &rnd);
}

int main(void)
{
    check_case("fire", "zeros");
    check_case("fire", "random");
    check_case("addpool", "zeros");
    check_case("addpool", "random");
    check_case("inception", "zeros");
    check_case("inception", "random");
    check_multipliers();
    googlenet_like("gl3");
    googlenet_like("gl2");
    return tap_done();
}
