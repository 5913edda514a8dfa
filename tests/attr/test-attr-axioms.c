/* Part-1 attribution axioms and definitions on small models:
 * - IG completeness: |delta| shrinks as n_steps grows (50 -> 200 -> 1000);
 * - DeepLift completeness on a ReLU network; layer DeepLift, layer IG and
 *   neuron IG completeness;
 * - GradCAM >= 0 with relu_attributions;
 * - guided backprop / deconvolution == plain gradient on a Relu-free model;
 * - the methods without a Captum reference against their definitions
 *   computed directly with the engine API (neuron gradient, layer
 *   gradient x activation, neuron conductance vs layer conductance,
 *   attribute_to_layer_input);
 * - progress, cancel, determinism, no memory growth over 1000 runs. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

static hl_model *tinycnn, *tinyres, *smooth;
static hl_array *x_cnn, *x_res, *x_smooth;

static long numel(const hl_array *a)
{
    return (long)hl_shape_numel(&a->shape);
}

/* The most active element of a layer at x (a live neuron: a dead ReLU
 * unit would make the neuron tests trivially zero). */
static void most_active(hl_model *m, const hl_array *x, const char *layer, int nu[3])
{
    hl_error err = {0};
    int v = hl_model_find_value(m, layer);
    hl_shape s;
    hl_model_value_shape(m, v, &s);
    s.dims[0] = 1;
    hl_run *run = hl_run_new(m, 1);
    long best = 0;
    if (hl_run_forward(run, x->data, 1, &err) == HL_OK) {
        const float *a = hl_run_value(run, v, NULL);
        for (long i = 1; i < (long)hl_shape_numel(&s); i++)
            if (a[i] > a[best])
                best = i;
    }
    nu[2] = (int)(best % s.dims[3]);
    nu[1] = (int)(best / s.dims[3] % s.dims[2]);
    nu[0] = (int)(best / (s.dims[3] * s.dims[2]));
    hl_run_free(run);
}

static void test_ig_completeness(void)
{
    const int steps[3] = { 50, 200, 1000 };
    const struct { const char *name; hl_model *m; hl_array *x; } cases[] = {
        { "tinycnn", tinycnn, x_cnn }, { "tinyres", tinyres, x_res },
    };
    for (int k = 0; k < 2; k++) {
        double d[3];
        int ok = 1;
        for (int i = 0; i < 3; i++) {
            hl_attr_params p;
            hl_attr_params_init(&p);
            p.n_steps = steps[i];
            hl_attr_result r;
            hl_array *a = run_attr(cases[k].m, "integrated_gradients", cases[k].x, &p, NULL, &r);
            ok &= a && r.has_delta;
            d[i] = r.delta;
            hl_array_free(a);
        }
        tap_ok(ok && fabs(d[1]) < fabs(d[0]) && fabs(d[2]) < fabs(d[1]),
               "%s IG completeness: |delta| shrinks 50 -> 200 -> 1000 steps (%.3g, %.3g, %.3g)",
               cases[k].name, d[0], d[1], d[2]);
    }
}

static void test_deeplift(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    hl_attr_result r;
    hl_array *a = run_attr(tinycnn, "deep_lift", x_cnn, &p, NULL, &r);
    /* sum(attr) - (F(x) - F(b)), computed here from the sums and logits */
    double fx = r.target_logit, sum = a ? sum_floats(a->data, numel(a)) : 0;
    double fb = 0;
    {
        hl_run *run = hl_run_new(tinycnn, 1);
        hl_array *z = hl_array_new(&x_cnn->shape);
        hl_error err = {0};
        if (run && z && hl_run_forward(run, z->data, 1, &err) == HL_OK)
            fb = hl_run_value(run, hl_model_output_value(tinycnn), NULL)[1];
        hl_run_free(run);
        hl_array_free(z);
    }
    double gap = fabs(sum - (fx - fb));
    tap_ok(a && gap <= 1e-4 * fabs(fx - fb) && fabs(r.delta - (sum - (fx - fb))) < 1e-5,
           "DeepLift completeness on tinycnn (ReLU, MaxPool): sum %.6f = F(x)-F(0) %.6f (gap %.2g, reported delta %.2g)",
           sum, fx - fb, gap, r.delta);
    hl_array_free(a);

    /* At a layer that cuts the graph, layer DeepLift sums to F(x)-F(b) too. */
    strcpy(p.layer, "/conv2/Conv_output_0");
    a = run_attr(tinycnn, "layer_deep_lift", x_cnn, &p, NULL, &r);
    sum = a ? sum_floats(a->data, numel(a)) : 0;
    tap_ok(a && r.is_layer && a->shape.dims[1] == 32 && fabs(sum - (fx - fb)) <= 1e-4 * fabs(fx - fb) &&
           fabs(r.delta) <= 1e-4 * fabs(fx - fb),
           "layer DeepLift completeness at conv2: sum %.6f vs %.6f (delta %.2g)", sum, fx - fb, r.delta);
    hl_array_free(a);
}

static void test_layer_ig(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.layer, "/conv2/Conv_output_0");
    double d[2];
    const int steps[2] = { 20, 300 };
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        p.n_steps = steps[i];
        hl_attr_result r;
        hl_array *a = run_attr(tinycnn, "layer_integrated_gradients", x_cnn, &p, NULL, &r);
        ok &= a && r.has_delta && r.is_layer && numel(a) == 32 * 16 * 16;
        d[i] = r.delta;
        hl_array_free(a);
    }
    tap_ok(ok && fabs(d[1]) < fabs(d[0]) && fabs(d[1]) < 1e-3,
           "layer IG completeness at conv2: |delta| %.3g (20 steps) -> %.3g (300 steps)", d[0], d[1]);

    /* On the residual model, at the Add that every path crosses: the
     * override replaces the Add's value, so completeness holds there too
     * (not monotone in n here: ReLU/ReLU6/MaxPool kinks downstream). */
    {
        hl_attr_params q;
        hl_attr_params_init(&q);
        strcpy(q.layer, "/res/Add");
        q.n_steps = 300;
        hl_attr_result r;
        hl_array *a = run_attr(tinyres, "layer_integrated_gradients", x_res, &q, NULL, &r);
        double sum = a ? sum_floats(a->data, numel(a)) : 0, df = sum - r.delta;
        tap_ok(a && r.has_delta && fabs(r.delta) < 1e-3 * fabs(df),
               "tinyres layer IG completeness at the residual Add: sum %.5f, F(x)-F(0) %.5f, delta %.3g",
               sum, df, r.delta);
        hl_array_free(a);
    }

    /* Neuron IG: sum = A_n(x) - A_n(b) in the limit. */
    p.has_neuron = 1;
    strcpy(p.layer, "/relu2/Relu_output_0");
    most_active(tinycnn, x_cnn, p.layer, p.neuron);
    ok = 1;
    for (int i = 0; i < 2; i++) {
        p.n_steps = steps[i];
        hl_attr_result r;
        hl_array *a = run_attr(tinycnn, "neuron_integrated_gradients", x_cnn, &p, NULL, &r);
        ok &= a && r.has_delta;
        d[i] = r.delta;
        hl_array_free(a);
    }
    tap_ok(ok && fabs(d[1]) < fabs(d[0]) && fabs(d[1]) < 1e-2,
           "neuron IG completeness (relu2 %d,%d,%d): |delta| %.3g -> %.3g", p.neuron[0],
           p.neuron[1], p.neuron[2], d[0], d[1]);
}

static void test_gradcam_sign(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.relu_attributions = 1;
    const struct { const char *n; hl_model *m; hl_array *x; const char *layer; } c[] = {
        { "tinycnn", tinycnn, x_cnn, "/relu2/Relu" },
        { "tinyres", tinyres, x_res, "/res/conv2/Conv_output_0" },
    };
    for (int k = 0; k < 2; k++) {
        strcpy(p.layer, c[k].layer);
        hl_array *a = run_attr(c[k].m, "layer_grad_cam", c[k].x, &p, NULL, NULL);
        float mn = 1, mx = 0;
        for (long i = 0; a && i < numel(a); i++) {
            mn = fminf(mn, a->data[i]);
            mx = fmaxf(mx, a->data[i]);
        }
        tap_ok(a && mn >= 0.0f && mx > 0.0f, "%s GradCAM with relu >= 0 (min %g, max %g)", c[k].n, mn, mx);
        hl_array_free(a);
    }
}

static void test_relu_free(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.saliency_abs = 0;
    hl_array *g = run_attr(smooth, "saliency", x_smooth, &p, NULL, NULL);
    hl_array *gb = run_attr(smooth, "guided_backprop", x_smooth, &p, NULL, NULL);
    hl_array *dc = run_attr(smooth, "deconvolution", x_smooth, &p, NULL, NULL);
    if (!tap_ok(g && gb && dc, "smooth model: saliency, guided_backprop, deconvolution run")) {
        hl_array_free(g), hl_array_free(gb), hl_array_free(dc);
        return;
    }
    double e1 = tap_rel_l2(gb->data, g->data, numel(g)), e2 = tap_rel_l2(dc->data, g->data, numel(g));
    tap_ok(e1 == 0.0, "guided backprop == gradient on a Relu-free model (rel L2 %.3g)", e1);
    tap_ok(e2 == 0.0, "deconvolution == gradient on a Relu-free model (rel L2 %.3g)", e2);

    /* neuron guided backprop == neuron gradient there too */
    strcpy(p.layer, "t2");
    p.has_neuron = 1;
    p.neuron[0] = 3, p.neuron[1] = 2, p.neuron[2] = 4;
    hl_array *ng = run_attr(smooth, "neuron_gradient", x_smooth, &p, NULL, NULL);
    hl_array *ngb = run_attr(smooth, "neuron_guided_backprop", x_smooth, &p, NULL, NULL);
    tap_ok(ng && ngb && tap_rel_l2(ngb->data, ng->data, numel(ng)) == 0.0,
           "neuron guided backprop == neuron gradient on a Relu-free model");
    hl_array_free(g), hl_array_free(gb), hl_array_free(dc), hl_array_free(ng), hl_array_free(ngb);

    /* On tinycnn (Relu) they differ: the rules are really applied. */
    p.has_neuron = 0;
    g = run_attr(tinycnn, "saliency", x_cnn, &p, NULL, NULL);
    gb = run_attr(tinycnn, "guided_backprop", x_cnn, &p, NULL, NULL);
    tap_ok(g && gb && tap_rel_l2(gb->data, g->data, numel(g)) > 0.1,
           "guided backprop != gradient on a Relu model");
    hl_array_free(g), hl_array_free(gb);
}

/* Direct engine computation of definitions. */
static void test_definitions(void)
{
    hl_error err = {0};
    const char *layer = "/conv2/Conv_output_0";
    int v = hl_model_find_value(tinycnn, layer), out_v = hl_model_output_value(tinycnn);
    hl_shape ls;
    hl_model_value_shape(tinycnn, v, &ls);
    ls.dims[0] = 1;
    long ln = (long)hl_shape_numel(&ls), xn = numel(x_cnn);
    int nu[3];
    most_active(tinycnn, x_cnn, layer, nu);
    const int nc = nu[0], nh = nu[1], nw = nu[2];
    long nidx = ((long)nc * ls.dims[2] + nh) * ls.dims[3] + nw;

    hl_run *run = hl_run_new(tinycnn, test_threads()); /* same split as the methods */
    float *seed = calloc((size_t)ln, sizeof(float));
    float logits_seed[10] = { 0 };
    logits_seed[1] = 1.0f;
    seed[nidx] = 1.0f;
    float *neuron_grad = malloc(sizeof(float) * (size_t)xn);
    float *gxa = malloc(sizeof(float) * (size_t)ln);
    int ok = hl_run_forward(run, x_cnn->data, 1, &err) == HL_OK &&
             hl_run_backward(run, v, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    if (ok)
        memcpy(neuron_grad, hl_run_input_grad(run), sizeof(float) * (size_t)xn);
    ok = ok && hl_run_forward(run, x_cnn->data, 1, &err) == HL_OK &&
         hl_run_backward(run, out_v, logits_seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    if (ok) {
        const float *g = hl_run_grad(run, v, NULL), *a = hl_run_value(run, v, NULL);
        for (long i = 0; i < ln; i++)
            gxa[i] = g[i] * a[i];
    }
    tap_ok(ok, "engine: direct neuron and layer backward (%s)", err.msg);

    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.layer, layer);
    p.has_neuron = 1;
    p.neuron[0] = nc, p.neuron[1] = nh, p.neuron[2] = nw;
    hl_array *a = run_attr(tinycnn, "neuron_gradient", x_cnn, &p, NULL, NULL);
    tap_ok(a && numel(a) == xn && tap_rel_l2(a->data, neuron_grad, xn) == 0.0,
           "neuron_gradient == input gradient of a one-hot seed at the neuron");
    hl_array_free(a);
    a = run_attr(tinycnn, "layer_gradient_x_activation", x_cnn, &p, NULL, NULL);
    tap_ok(a && numel(a) == ln && tap_rel_l2(a->data, gxa, ln) == 0.0,
           "layer_gradient_x_activation == dF/dA * A at the layer");
    hl_array_free(a);

    /* Neuron conductance summed over the input = the layer conductance of
     * that neuron (both approximate the same integral). */
    p.n_steps = 200;
    hl_array *ncond = run_attr(tinycnn, "neuron_conductance", x_cnn, &p, NULL, NULL);
    hl_array *lcond = run_attr(tinycnn, "layer_conductance", x_cnn, &p, NULL, NULL);
    double s = ncond ? sum_floats(ncond->data, xn) : 0, l = lcond ? lcond->data[nidx] : 0;
    tap_ok(ncond && lcond && fabs(s - l) <= 1e-2 * fabs(l) + 1e-5 && fabs(l) > 1e-4,
           "sum of neuron conductance %.6f == layer conductance of the neuron %.6f", s, l);
    hl_array_free(ncond);
    hl_array_free(lcond);

    /* attribute_to_layer_input: conv2's input is the MaxPool output. */
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.layer, "/conv2/Conv");
    p.attribute_to_layer_input = 1;
    hl_array *in_act = run_attr(tinycnn, "layer_activation", x_cnn, &p, NULL, NULL);
    hl_array *in_cam = run_attr(tinycnn, "layer_grad_cam", x_cnn, &p, NULL, NULL);
    p.attribute_to_layer_input = 0;
    strcpy(p.layer, "/pool/MaxPool_output_0");
    hl_array *pool_act = run_attr(tinycnn, "layer_activation", x_cnn, &p, NULL, NULL);
    hl_array *pool_cam = run_attr(tinycnn, "layer_grad_cam", x_cnn, &p, NULL, NULL);
    tap_ok(in_act && pool_act && numel(in_act) == numel(pool_act) &&
           memcmp(in_act->data, pool_act->data, sizeof(float) * (size_t)numel(in_act)) == 0 &&
           in_cam && pool_cam && memcmp(in_cam->data, pool_cam->data, sizeof(float) * (size_t)numel(in_cam)) == 0,
           "attribute_to_layer_input on conv2 == the MaxPool output feeding it");
    hl_array_free(in_act), hl_array_free(in_cam), hl_array_free(pool_act), hl_array_free(pool_cam);

    /* Wrong layer / neuron: one-line errors. */
    hl_attr_result r;
    strcpy(p.layer, "/conv9/Conv");
    hl_status st = hl_attribute(tinycnn, "layer_grad_cam", x_cnn, &p, NULL, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "/conv9/Conv") && strstr(err.msg, "/relu2/Relu"),
           "unknown layer: %s", err.msg);
    strcpy(p.layer, "/conv2/Conv");
    p.has_neuron = 1;
    p.neuron[0] = 32;
    st = hl_attribute(tinycnn, "neuron_gradient", x_cnn, &p, NULL, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "[1,32,16,16]"), "neuron outside the layer: %s", err.msg);
    p.has_neuron = 0;
    st = hl_attribute(tinycnn, "neuron_gradient", x_cnn, &p, NULL, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "--neuron"), "neuron method without --neuron: %s", err.msg);
    p.target = 10;
    st = hl_attribute(tinycnn, "saliency", x_cnn, &p, NULL, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "0..9"), "target out of range: %s", err.msg);

    free(seed), free(neuron_grad), free(gxa);
    hl_run_free(run);
}

typedef struct progress_log {
    int calls, monotone, cancel_at;
    double last;
    volatile int cancel;
} progress_log;

static void on_progress(void *user, double f)
{
    progress_log *l = user;
    if (f < l->last)
        l->monotone = 0;
    l->last = f;
    l->calls++;
    if (l->cancel_at && l->calls >= l->cancel_at)
        l->cancel = 1;
}

static void test_progress_cancel(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.n_steps = 40;
    p.internal_batch_size = 4;
    progress_log log = { .monotone = 1 };
    hl_attr_context ctx = { .progress = on_progress, .progress_user = &log,
                            .cancel = &log.cancel, .threads = 1 };
    hl_attr_result r;
    hl_array *a = run_attr(tinyres, "integrated_gradients", x_res, &p, &ctx, &r);
    tap_ok(a && log.calls >= 10 && log.monotone && log.last == 1.0,
           "IG reports progress per batch of steps (%d calls, monotone, ends at %.2f)", log.calls, log.last);
    hl_array_free(a);

    const char *methods[] = { "integrated_gradients", "layer_conductance",
                              "layer_integrated_gradients", "neuron_integrated_gradients" };
    strcpy(p.layer, "/res/conv2/Conv_output_0");
    p.has_neuron = 1;
    for (int i = 0; i < 4; i++) {
        progress_log cl = { .monotone = 1, .cancel_at = 2 };
        hl_attr_context cctx = { .progress = on_progress, .progress_user = &cl,
                                 .cancel = &cl.cancel, .threads = 1 };
        hl_error err = {0};
        hl_status st = hl_attribute(tinyres, methods[i], x_res, &p, &cctx, &r, &err);
        tap_ok(st == HL_ERR_CANCELLED && r.attr == NULL && cl.calls == 2,
               "%s stops at the next batch when cancelled (%d progress calls, %s)", methods[i],
               cl.calls, err.msg);
    }
}

/* Every gradient, path, DeepLift, layer and neuron method on the residual model (BN folded into convs, a
 * depthwise conv, ReLU6, a residual Add): runs, right shape, finite. */
static void test_every_method_on_tinyres(void)
{
    int ok = 1, count = 0;
    for (int i = 0; i < hl_method_count(); i++) {
        const hl_method_desc *d = hl_method_get(i);
        if (d->group == HL_GROUP_PERTURBATION || strstr(d->name, "shap") || !strcmp(d->name, "lime"))
            continue; /* perturbation and sampling methods */
        hl_attr_params p;
        hl_attr_params_init(&p);
        p.n_steps = 8;
        strcpy(p.layer, d->needs_neuron ? "/res/Add" : "/res/conv2/Conv_output_0");
        p.has_neuron = 1;
        p.neuron[0] = 3, p.neuron[1] = 4, p.neuron[2] = 5;
        strcpy(p.lrp_other, "epsilon"); /* lrp: a rule for Clip (ReLU6) and Add */
        hl_attr_result r;
        hl_array *a = run_attr(tinyres, d->name, x_res, &p, NULL, &r);
        int good = a != NULL;
        for (long k = 0; good && k < numel(a); k++)
            good = isfinite(a->data[k]);
        if (good) {
            hl_shape want = x_res->shape;
            if (r.is_layer) {
                hl_model_value_shape(tinyres, hl_model_find_value(tinyres, p.layer), &want);
                want.dims[0] = 1;
                if (strstr(d->name, "cam")) /* the CAMs: one map, [1,1,h,w] */
                    want.dims[1] = 1;
            }
            good = hl_shape_equal(&a->shape, &want) && r.target == 7;
        }
        if (!good)
            tap_diag("tinyres %s: failed, wrong shape or non-finite", d->name);
        ok &= good;
        count++;
        hl_array_free(a);
    }
    /* 17 Captum methods of this kind and 12 of issue 15 (its others are
     * perturbation or SHAP methods, tested in their own programs) */
    tap_ok(ok && count == 29, "all %d gradient/path/layer/neuron methods run on tinyres (residual Add, ReLU6, depthwise)", count);
}

static void test_determinism_and_leaks(void)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.n_steps = 16;
    hl_attr_context ctx = { .threads = 2 };
    hl_array *a = run_attr(tinyres, "integrated_gradients", x_res, &p, &ctx, NULL);
    hl_array *b = run_attr(tinyres, "integrated_gradients", x_res, &p, &ctx, NULL);
    tap_ok(a && b && memcmp(a->data, b->data, sizeof(float) * (size_t)numel(a)) == 0,
           "same input, same thread count: identical IG");
    hl_array_free(a);
    hl_array_free(b);

    /* 1000 runs: heap in use must not grow (after a warm-up). */
    hl_attr_params_init(&p);
    strcpy(p.layer, "/conv2/Conv_output_0");
    const char *methods[] = { "saliency", "layer_grad_cam", "deep_lift" };
    size_t before = 0, after = 0;
    int failures = 0;
    for (int i = 0; i < 1000; i++) {
        if (i == 20)
            before = mallinfo2().uordblks;
        hl_attr_result r;
        hl_error err = {0};
        if (hl_attribute(tinycnn, methods[i % 3], x_cnn, &p, &ctx, &r, &err) != HL_OK)
            failures++;
        hl_attr_result_clear(&r);
    }
    after = mallinfo2().uordblks;
    tap_ok(failures == 0 && after <= before + 64 * 1024,
           "1000 runs of saliency/layer_grad_cam/deep_lift: heap in use %zu -> %zu bytes", before, after);
}

/* n_samples = 0 is the method's Captum default: the number
 * hl_param_n_samples_default names gives the same map (same seed), for
 * every method of the registry that takes n-samples. */
static void test_n_samples_default(void)
{
    for (int i = 0; i < hl_method_count(); i++) {
        const hl_method_desc *md = hl_method_get(i);
        int takes = 0;
        for (const char *const *q = md->params; q && *q; q++)
            takes |= strcmp(*q, "n-samples") == 0;
        int n = hl_param_n_samples_default(md->name);
        if (!takes) {
            if (n != 0)
                tap_ok(0, "%s takes no samples but has a default of %d", md->name, n);
            continue;
        }
        hl_attr_params p0, pn;
        hl_attr_params_init(&p0);
        if (md->needs_neuron) {   /* (as test_every_method_on_tinyres) */
            strcpy(p0.layer, "/res/Add");
            p0.has_neuron = 1;
            p0.neuron[0] = 3, p0.neuron[1] = 4, p0.neuron[2] = 5;
        }
        pn = p0;
        pn.n_samples = n;
        hl_attr_result r0, rn;
        hl_array *a0 = run_attr(tinyres, md->name, x_res, &p0, NULL, &r0);
        hl_array *an = run_attr(tinyres, md->name, x_res, &pn, NULL, &rn);
        int same = n > 0 && a0 && an && hl_shape_numel(&a0->shape) == hl_shape_numel(&an->shape) &&
                   memcmp(a0->data, an->data, sizeof(float) * (size_t)hl_shape_numel(&a0->shape)) == 0;
        tap_ok(same, "%s: n_samples 0 = %d, its named default (same map bit for bit)", md->name, n);
        hl_array_free(a0);
        hl_array_free(an);
    }
}

int main(void)
{
    hl_engine_init();
    tinycnn = load_source_model("tests/data/captum/tinycnn/model.onnx");
    tinyres = load_source_model("tests/data/captum/tinyres/model.onnx");
    smooth = load_source_model("tests/data/smooth-cnn/smooth.onnx");
    x_cnn = load_source_npy("tests/data/captum/tinycnn/input.npy");
    x_res = load_source_npy("tests/data/captum/tinyres/input.npy");
    x_smooth = load_source_npy("tests/data/smooth-cnn/smooth_input.npy");
    if (!tap_ok(tinycnn && tinyres && smooth && x_cnn && x_res && x_smooth, "models and inputs load"))
        return tap_done();
    test_ig_completeness();
    test_deeplift();
    test_layer_ig();
    test_gradcam_sign();
    test_relu_free();
    test_definitions();
    test_progress_cancel();
    test_every_method_on_tinyres();
    test_n_samples_default();
    test_determinism_and_leaks();
    hl_model_free(tinycnn), hl_model_free(tinyres), hl_model_free(smooth);
    hl_array_free(x_cnn), hl_array_free(x_res), hl_array_free(x_smooth);
    return tap_done();
}
