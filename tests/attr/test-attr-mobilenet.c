/* Every gradient, path, DeepLift, layer and neuron method on the bundled MobileNet V2 (depthwise convs, ReLU6,
 * residual Adds) with a real photo: runs, right shape, finite numbers;
 * IG's convergence delta shrinks with more steps. The 50 -> 200 -> 1000
 * step sequence on this model takes minutes on 2 cores, so it runs only
 * with HL_SLOW_TESTS=1 (the default suite checks 8 -> 32 steps here and
 * 50 -> 200 -> 1000 on the small models in test-attr-axioms). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"
#include "../io/image.h"
#include "../io/preprocess.h"

static int all_finite(const hl_array *a)
{
    for (long i = 0; i < (long)hl_shape_numel(&a->shape); i++)
        if (!isfinite(a->data[i]))
            return 0;
    return 1;
}

static double ig_delta(const hl_model *m, const hl_array *x, int steps, const hl_attr_context *ctx)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.n_steps = steps;
    hl_attr_result r;
    hl_array *a = run_attr(m, "integrated_gradients", x, &p, ctx, &r);
    double d = a && r.has_delta ? r.delta : NAN;
    hl_array_free(a);
    return d;
}

int main(void)
{
    hl_engine_init();
    hl_model *m = load_source_model("data/models/mobilenet_v2.onnx");
    hl_image *img = NULL;
    hl_array *x = NULL;
    hl_error err = {0};
    hl_preprocess pre;
    if (m && hl_image_load(source_path("data/samples/cat.png"), &img, &err) == HL_OK &&
        hl_preprocess_for_model(m, &pre, &err) == HL_OK)
        hl_preprocess_apply(&pre, img, &x, NULL, NULL, &err);
    if (!tap_ok(m && x, "MobileNet V2 and the cat photo load (%s)", err.msg))
        return tap_done();
    hl_attr_context ctx = { .mean = pre.mean, .std = pre.std, .pixel_scale = pre.scale,
                            .threads = test_threads() };

    const char *layer = "MobilenetV2/Conv_1/Relu6";   /* [1,1280,7,7] */
    const char *block = "MobilenetV2/expanded_conv_15/add"; /* a residual Add, [1,160,7,7] */
    for (int i = 0; i < hl_method_count(); i++) {
        const hl_method_desc *d = hl_method_get(i);
        if (d->group == HL_GROUP_PERTURBATION || strstr(d->name, "shap") || !strcmp(d->name, "lime"))
            continue; /* perturbation and sampling methods have their own tests */
        if (!strcmp(d->name, "layer_feature_ablation") || !strcmp(d->name, "score_cam") ||
            !strcmp(d->name, "neuron_feature_ablation"))
            continue; /* forwards only, one per layer unit (62720 here), channel (1280)
                         or feature group (196): minutes; run on tinyres in attr-axioms */
        hl_attr_params p;
        hl_attr_params_init(&p);
        p.n_steps = 4;
        strcpy(p.baseline, "black");
        strcpy(p.layer, d->needs_neuron ? block : layer);
        p.has_neuron = 1;
        p.neuron[0] = 7, p.neuron[1] = 3, p.neuron[2] = 4;
        strcpy(p.lrp_other, "epsilon"); /* lrp: a rule for Clip (ReLU6) and Add */
        hl_attr_result r;
        hl_array *a = run_attr(m, d->name, x, &p, &ctx, &r);
        char s[64];
        int shape_ok = 0;
        if (a) {
            hl_shape want = x->shape;
            if (r.is_layer)
                hl_model_value_shape(m, hl_model_find_value(m, p.layer), &want), want.dims[0] = 1;
            if (strstr(d->name, "cam") && strcmp(d->name, "guided_grad_cam"))
                want.dims[1] = 1; /* the CAMs: one map */
            shape_ok = hl_shape_equal(&a->shape, &want) &&
                       (d->needs_layer && strcmp(d->name, "guided_grad_cam") && !d->needs_neuron) == r.is_layer;
        }
        tap_ok(a && shape_ok && all_finite(a) && r.target == 286 &&
               (!d->has_delta || (r.has_delta && isfinite(r.delta))),
               "MobileNet V2 %s: shape %s, finite, target %d (p %.3f), %.2f s", d->name,
               a ? hl_shape_format(&a->shape, s, sizeof s) : "-", r.target,
               (double)r.target_prob, r.seconds);
        hl_array_free(a);
    }

    double d8 = ig_delta(m, x, 8, &ctx), d32 = ig_delta(m, x, 32, &ctx);
    tap_ok(fabs(d32) < fabs(d8), "MobileNet V2 IG completeness: |delta| %.4g (8 steps) -> %.4g (32 steps)",
           d8, d32);
    if (getenv("HL_SLOW_TESTS") && atoi(getenv("HL_SLOW_TESTS"))) {
        double d50 = ig_delta(m, x, 50, &ctx), d200 = ig_delta(m, x, 200, &ctx),
               d1000 = ig_delta(m, x, 1000, &ctx);
        tap_ok(fabs(d200) < fabs(d50) && fabs(d1000) < fabs(d200),
               "MobileNet V2 IG completeness: |delta| %.4g (50) -> %.4g (200) -> %.4g (1000)",
               d50, d200, d1000);
    } else {
        tap_skip("MobileNet V2 IG 50 -> 200 -> 1000 steps (set HL_SLOW_TESTS=1)");
    }
    hl_array_free(x);
    hl_image_free(img);
    hl_model_free(m);
    return tap_done();
}
