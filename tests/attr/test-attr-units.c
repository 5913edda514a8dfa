/* Part-1 attribution pieces that need no model: quadrature against the
 * nodes/weights Captum recorded in the manifests and against polynomial
 * exactness, parameter parsing/formatting, the registry, interpolation on
 * hand-computed cases and the baselines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"
#include "feature_mask.h"

static void test_quadrature(void)
{
    char *json = read_source_text("tests/data/captum/tinycnn/manifest.json");
    if (!tap_ok(json != NULL, "tinycnn manifest readable"))
        return;
    double ref_a[256], ref_w[256], a[256], w[256];
    hl_error err = {0};

    int n = manifest_numbers(json, "ig_gausslegendre_50.npy", "alphas", ref_a, 256);
    int nw = manifest_numbers(json, "ig_gausslegendre_50.npy", "step_sizes", ref_w, 256);
    tap_ok(n == 50 && nw == 50, "manifest: 50 gausslegendre alphas and step sizes (%d, %d)", n, nw);
    hl_attr_quadrature(HL_IG_GAUSSLEGENDRE, 50, a, w, &err);
    double da = 0, dw = 0;
    for (int i = 0; i < n; i++) {
        da = fmax(da, fabs(a[i] - ref_a[i]));
        dw = fmax(dw, fabs(w[i] - ref_w[i]));
    }
    tap_ok(da <= 1e-15 && dw <= 1e-15,
           "gausslegendre 50 == numpy leggauss (max |d alpha| %.3g, |d weight| %.3g)", da, dw);

    n = manifest_numbers(json, "ig_riemann_trapezoid_200.npy", "alphas", ref_a, 256);
    nw = manifest_numbers(json, "ig_riemann_trapezoid_200.npy", "step_sizes", ref_w, 256);
    tap_ok(n == 200 && nw == 200, "manifest: 200 trapezoid alphas and step sizes");
    hl_attr_quadrature(HL_IG_RIEMANN_TRAPEZOID, 200, a, w, &err);
    int same = 0;
    dw = 0;
    for (int i = 0; i < n; i++) {
        same += (float)a[i] == (float)ref_a[i];
        dw = fmax(dw, fabs(w[i] - ref_w[i]));
    }
    tap_ok(same == 200, "trapezoid 200 alphas == torch.linspace float32 bit for bit (%d/200)", same);
    tap_ok(dw <= 1e-17, "trapezoid 200 step sizes (max diff %.3g)", dw);
    free(json);

    /* Legendre-Gauss with n nodes integrates t^k on [0,1] exactly for
     * k <= 2n-1. */
    double worst = 0;
    for (int m = 1; m <= 64; m++) {
        hl_attr_quadrature(HL_IG_GAUSSLEGENDRE, m, a, w, &err);
        for (int k = 0; k <= 2 * m - 1 && k <= 60; k++) {
            double s = 0;
            for (int i = 0; i < m; i++)
                s += w[i] * pow(a[i], k);
            worst = fmax(worst, fabs(s - 1.0 / (k + 1)));
        }
    }
    tap_ok(worst < 1e-13, "gausslegendre 1..64 points exact for polynomials (max err %.3g)", worst);

    /* Riemann rules: Captum's formulas, weights 1/n. */
    const int rn = 7;
    struct { hl_ig_method m; double a0, a1; } rules[] = {
        { HL_IG_RIEMANN_LEFT, 0.0, 1.0 - 1.0 / rn },
        { HL_IG_RIEMANN_RIGHT, 1.0 / rn, 1.0 },
        { HL_IG_RIEMANN_MIDDLE, 0.5 / rn, 1.0 - 0.5 / rn },
    };
    for (int r = 0; r < 3; r++) {
        hl_attr_quadrature(rules[r].m, rn, a, w, &err);
        double d = 0, ws = 0;
        for (int i = 0; i < rn; i++) {
            double expect = rules[r].a0 + (rules[r].a1 - rules[r].a0) * i / (rn - 1);
            d = fmax(d, fabs(a[i] - expect));
            ws += w[i];
        }
        tap_ok(d < 1.2e-7 && fabs(ws - 1.0) < 1e-15,
               "riemann rule %d: alphas within float precision (%.3g), weights sum 1", r, d);
    }
    hl_status st = hl_attr_quadrature(HL_IG_RIEMANN_LEFT, 1, a, w, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "n-steps"), "riemann with 1 step refused: %s", err.msg);
}

static void test_params(void)
{
    hl_attr_params p, q;
    hl_error err = {0};
    hl_attr_params_init(&p);
    tap_ok(p.target == -1 && p.n_steps == 50 && p.ig_method == HL_IG_GAUSSLEGENDRE &&
           p.saliency_abs == 1 && p.relu_attributions == 0 && p.nt_samples == 5 &&
           p.nt_stdevs == 1.0f && strcmp(p.baseline, "zero") == 0 &&
           p.interpolate == HL_INTERP_NONE,
           "defaults are Captum's");

    /* Every descriptor: format then parse gives the same struct back. */
    int roundtrip = 1;
    for (int i = 0; i < hl_param_count(); i++) {
        const hl_param_desc *d = hl_param_get(i);
        char buf[600];
        hl_param_format(&p, d, buf, sizeof buf);
        q = p;
        if (strcmp(d->name, "neuron") == 0 || strcmp(d->name, "layer") == 0)
            continue; /* "none" / empty are not settable values */
        if (hl_param_set(&q, d, buf, &err) != HL_OK || memcmp(&p, &q, sizeof p) != 0) {
            tap_diag("round trip of %s ('%s') failed: %s", d->name, buf, err.msg);
            roundtrip = 0;
        }
    }
    tap_ok(roundtrip, "all %d parameters round-trip through format/set", hl_param_count());

    const char *names[] = { "target", "layer", "neuron", "baseline", "n-steps", "ig-method",
        "internal-batch-size", "abs", "relu-attributions", "attribute-to-layer-input",
        "interpolate", "strides", "window", "perturbations-per-eval", "feature-mask",
        "n-samples", "stdevs", "baselines", "noise-tunnel", "nt-samples", "nt-stdevs", "seed" };
    int all = 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!hl_param_find(names[i])) {
            tap_diag("missing parameter %s", names[i]);
            all = 0;
        }
    tap_ok(all, "every CLI flag has a descriptor");

    q = p;
    tap_ok(hl_param_find("n_steps") == hl_param_find("n-steps") &&
           hl_param_find("sliding_window_shapes") == hl_param_find("window") &&
           hl_param_find("--sliding-window-shapes") == hl_param_find("window") &&
           hl_param_find("nt_type") == hl_param_find("noise-tunnel") &&
           hl_param_find("window") && !hl_param_find("sliding_window") && !hl_param_find("n-step"),
           "parameters by our names, Captum's names and with underscores");
    tap_ok(hl_param_set(&q, hl_param_find("n-steps"), "200", &err) == HL_OK && q.n_steps == 200,
           "n-steps 200");
    tap_ok(hl_param_set(&q, hl_param_find("n-steps"), "0", &err) == HL_ERR_ARG &&
           strstr(err.msg, "--n-steps"), "n-steps 0 refused: %s", err.msg);
    tap_ok(hl_param_set(&q, hl_param_find("n-steps"), "12x", &err) == HL_ERR_ARG,
           "n-steps 12x refused");
    tap_ok(hl_param_set(&q, hl_param_find("ig-method"), "riemann_trapezoid", &err) == HL_OK &&
           q.ig_method == HL_IG_RIEMANN_TRAPEZOID, "ig-method riemann_trapezoid");
    tap_ok(hl_param_set(&q, hl_param_find("ig-method"), "simpson", &err) == HL_ERR_ARG &&
           strstr(err.msg, "gausslegendre") && strstr(err.msg, "riemann_middle"),
           "unknown ig-method lists the valid ones: %s", err.msg);
    tap_ok(hl_param_set(&q, hl_param_find("target"), "auto", &err) == HL_OK && q.target == -1 &&
           hl_param_set(&q, hl_param_find("target"), "281", &err) == HL_OK && q.target == 281,
           "target auto / 281");
    tap_ok(hl_param_set(&q, hl_param_find("abs"), "false", &err) == HL_OK && q.saliency_abs == 0 &&
           hl_param_set(&q, hl_param_find("abs"), "maybe", &err) == HL_ERR_ARG,
           "abs false; 'maybe' refused");
    tap_ok(hl_param_set(&q, hl_param_find("neuron"), "3,4,5", &err) == HL_OK && q.has_neuron &&
           q.neuron[0] == 3 && q.neuron[1] == 4 && q.neuron[2] == 5, "neuron 3,4,5 sets has_neuron");
    tap_ok(hl_param_set(&q, hl_param_find("strides"), "3,8", &err) == HL_ERR_ARG,
           "strides with two numbers refused: %s", err.msg);
    tap_ok(hl_param_set(&q, hl_param_find("seed"), "0x10", &err) == HL_OK && q.seed == 16,
           "seed 0x10");
    tap_ok(hl_param_set(&q, hl_param_find("nt-stdevs"), "-1", &err) == HL_ERR_ARG,
           "negative nt-stdevs refused");
    tap_ok(hl_param_find("n_steps") == hl_param_find("n-steps") && hl_param_find("--abs") == hl_param_find("abs"),
           "find accepts n_steps and --abs spellings");
    char big[700];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tap_ok(hl_param_set(&q, hl_param_find("layer"), big, &err) == HL_ERR_ARG,
           "overlong layer name refused");
}

static void test_registry(void)
{
    const char *gradient_family[] = { "saliency", "input_x_gradient", "guided_backprop", "deconvolution",
        "integrated_gradients", "deep_lift", "layer_grad_cam", "guided_grad_cam",
        "layer_activation", "layer_gradient_x_activation", "layer_conductance",
        "layer_integrated_gradients", "layer_deep_lift", "neuron_gradient",
        "neuron_integrated_gradients", "neuron_conductance", "neuron_guided_backprop",
        "lrp", "layer_lrp" };
    int found = 1;
    for (size_t i = 0; i < sizeof gradient_family / sizeof gradient_family[0]; i++) {
        const hl_method_desc *d = hl_method_find(gradient_family[i]);
        if (!d || strcmp(d->name, gradient_family[i]) != 0 || !strstr(hl_method_names(), gradient_family[i])) {
            tap_diag("method %s not registered", gradient_family[i]);
            found = 0;
        }
    }
    tap_ok(found, "all gradient, path, layer and neuron methods registered and listed");
    int params_ok = 1, layer_ok = 1;
    for (int i = 0; i < hl_method_count(); i++) {
        const hl_method_desc *d = hl_method_get(i);
        int has_layer = 0;
        for (int k = 0; d->params && d->params[k]; k++) {
            if (!hl_param_find(d->params[k])) {
                tap_diag("%s lists unknown parameter %s", d->name, d->params[k]);
                params_ok = 0;
            }
            has_layer |= strcmp(d->params[k], "layer") == 0;
        }
        if (d->needs_layer != has_layer)
            layer_ok = 0;
    }
    tap_ok(params_ok, "every method's parameter list names real parameters");
    tap_ok(layer_ok, "methods needing a layer list the layer parameter");
    tap_ok(hl_method_find("integrated_gradients")->has_delta &&
           !hl_method_find("saliency")->has_delta, "has_delta flags");
    tap_ok(strcmp(hl_group_name(HL_GROUP_LAYER), "layer") == 0, "group names");

    hl_attr_result r;
    hl_error err = {0};
    hl_status st = hl_attribute(NULL, "integrated_gradient", NULL, NULL, NULL, &r, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "integrated_gradient'") &&
           strstr(err.msg, "integrated_gradients") && strstr(err.msg, "saliency"),
           "unknown method error lists the valid names");
}

static void test_interpolate(void)
{
    /* 2x2 -> 4x4 */
    const float src[4] = { 0, 1, 2, 3 };
    float dst[16];
    hl_attr_interpolate(src, 1, 2, 2, dst, 4, 4, HL_INTERP_NEAREST);
    const float nearest[16] = { 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3 };
    tap_ok(memcmp(dst, nearest, sizeof dst) == 0, "nearest 2x2 -> 4x4");
    /* align_corners=False: source x = (o + 0.5)/2 - 0.5 = -0.25(->0), 0.25,
     * 0.75, 1.25(clamped to the last pixel) */
    hl_attr_interpolate(src, 1, 2, 2, dst, 4, 4, HL_INTERP_BILINEAR);
    const float row0[4] = { 0.0f, 0.25f, 0.75f, 1.0f };
    const float col0[4] = { 0.0f, 0.5f, 1.5f, 2.0f };
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= fabsf(dst[i] - row0[i]) < 1e-7f && fabsf(dst[i * 4] - col0[i]) < 1e-7f;
    tap_ok(ok && fabsf(dst[15] - 3.0f) < 1e-7f && fabsf(dst[5] - 0.75f) < 1e-7f,
           "bilinear 2x2 -> 4x4 (align_corners=False)");
    /* 3 -> 7 nearest: floor(o * 3/7) = 0,0,0,1,1,2,2 */
    const float s3[3] = { 10, 20, 30 };
    float d7[7];
    hl_attr_interpolate(s3, 1, 1, 3, d7, 1, 7, HL_INTERP_NEAREST);
    const float e7[7] = { 10, 10, 10, 20, 20, 30, 30 };
    tap_ok(memcmp(d7, e7, sizeof d7) == 0, "nearest 3 -> 7 uses floor(dst*in/out)");
}

static void test_baselines(void)
{
    const int C = 3, H = 9, W = 11;
    hl_shape s = { 4, { 1, C, H, W } };
    hl_array *x = hl_array_new(&s);
    for (int i = 0; i < C * H * W; i++)
        x->data[i] = (float)sin(0.37 * i) * 2.0f - 0.5f;
    hl_attr_params p;
    hl_attr_params_init(&p);
    const float mean[3] = { 0.485f, 0.456f, 0.406f }, sd[3] = { 0.229f, 0.224f, 0.225f };
    hl_attr_context ctx = { .mean = mean, .std = sd, .pixel_scale = 1.0f / 255.0f };
    hl_rng rng;
    hl_rng_seed(&rng, 7);
    hl_attr_call c = { .input = x, .p = &p, .ctx = &ctx, .rng = &rng };
    hl_error err = {0};
    hl_array *b = NULL;

    tap_ok(hl_attr_make_baseline(&c, "zero", &b, &err) == HL_OK && sum_floats(b->data, C * H * W) == 0.0,
           "zero baseline");
    hl_array_free(b);
    tap_ok(hl_attr_make_baseline(&c, "-0.25", &b, &err) == HL_OK && b->data[0] == -0.25f &&
           b->data[C * H * W - 1] == -0.25f, "constant baseline -0.25");
    hl_array_free(b);
    tap_ok(hl_attr_make_baseline(&c, "black", &b, &err) == HL_OK &&
           fabsf(b->data[0] - (-0.485f / 0.229f)) < 1e-6f &&
           fabsf(b->data[2 * H * W] - (-0.406f / 0.225f)) < 1e-6f, "black = -mean/std per channel");
    hl_array_free(b);
    tap_ok(hl_attr_make_baseline(&c, "white", &b, &err) == HL_OK &&
           fabsf(b->data[H * W] - (1.0f - 0.456f) / 0.224f) < 1e-5f, "white = (1-mean)/std");
    hl_array_free(b);

    /* blur against a direct 2-D Gaussian with repeated borders */
    const double sigma = 1.5;
    tap_ok(hl_attr_make_baseline(&c, "blur:1.5", &b, &err) == HL_OK, "blur:1.5 baseline");
    double worst = 0;
    int r = (int)ceil(3 * sigma);
    double norm = 0;
    for (int k = -r; k <= r; k++)
        norm += exp(-0.5 * k * k / (sigma * sigma));
    for (int ch = 0; ch < C && b; ch++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                double acc = 0;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++) {
                        int yy = y + dy < 0 ? 0 : y + dy >= H ? H - 1 : y + dy;
                        int xs = xx + dx < 0 ? 0 : xx + dx >= W ? W - 1 : xx + dx;
                        acc += exp(-0.5 * (dx * dx + dy * dy) / (sigma * sigma)) / (norm * norm) *
                               x->data[(ch * H + yy) * W + xs];
                    }
                worst = fmax(worst, fabs(acc - b->data[(ch * H + y) * W + xx]));
            }
    tap_ok(worst < 1e-5, "blur == direct 2-D Gaussian (max diff %.3g)", worst);
    hl_array_free(b);

    hl_array *b2 = NULL;
    hl_attr_make_baseline(&c, "uniform", &b, &err);
    hl_rng_seed(&rng, 7);
    hl_attr_make_baseline(&c, "uniform", &b2, &err);
    float lo = 1e9f, hi = -1e9f, blo = 1e9f, bhi = -1e9f;
    for (int i = 0; i < C * H * W; i++) {
        lo = fminf(lo, x->data[i]);
        hi = fmaxf(hi, x->data[i]);
        blo = fminf(blo, b->data[i]);
        bhi = fmaxf(bhi, b->data[i]);
    }
    tap_ok(b && b2 && memcmp(b->data, b2->data, sizeof(float) * C * H * W) == 0 &&
           blo >= lo && bhi <= hi && bhi - blo > 0.5f * (hi - lo),
           "uniform: same seed same noise, within the input's range");
    hl_array_free(b);
    hl_array_free(b2);

    tap_ok(hl_attr_make_baseline(&c, "gray", &b, &err) == HL_ERR_ARG && strstr(err.msg, "blur:SIGMA"),
           "unknown baseline lists the valid forms: %s", err.msg);
    tap_ok(hl_attr_make_baseline(&c, "blur:-1", &b, &err) == HL_ERR_ARG, "blur:-1 refused");
    tap_ok(hl_attr_make_baseline(&c, "/nonexistent/b.npy", &b, &err) != HL_OK,
           "missing .npy baseline refused: %s", err.msg);
    hl_array_free(x);
}

/* --layer-mask: units, channels and a file's ids broadcast as numpy
 * does, element by element from the formula; and the note before a run
 * with very many features. */
static void test_layer_mask(void)
{
    const hl_shape s = { 4, { 1, 4, 3, 5 } };
    hl_attr_request r;
    memset(&r, 0, sizeof r);
    hl_attr_params_init(&r.params);
    hl_feature_mask m;
    hl_error err = {0};
    int ok = hl_layer_mask_build(&r, &s, &m, &err) == HL_OK && m.n_features == 60;
    for (int f = 0; ok && f < 60; f++)
        ok = m.start[f + 1] - m.start[f] == 1 && m.element[m.start[f]] == f;
    tap_ok(ok, "layer mask units: 60 features of one element each, in element order");
    hl_feature_mask_clear(&m);
    strcpy(r.params.layer_mask, "channels");
    ok = hl_layer_mask_build(&r, &s, &m, &err) == HL_OK && m.n_features == 4;
    for (int64_t e = 0; ok && e < 60; e++)
        ok = m.id[e] == e / 15;
    tap_ok(ok, "layer mask channels: 4 features, element e in channel e / 15");
    hl_feature_mask_clear(&m);
    /* [3,1] ids broadcast to [1,4,3,5]: the feature of (c,y,x) is ids[y] */
    int64_t ids[3] = { 7, 2, 7 };
    strcpy(r.params.layer_mask, "rows.npy");
    r.layer_mask_ids = ids;
    r.layer_mask_shape = (hl_shape){ 2, { 3, 1 } };
    ok = hl_layer_mask_build(&r, &s, &m, &err) == HL_OK && m.n_features == 2;
    for (int64_t e = 0; ok && e < 60; e++)
        ok = m.id[e] == (((e / 5) % 3) == 1 ? 0 : 1);
    tap_ok(ok, "layer mask file [3,1]: broadcast over channels and columns (2 features)");
    hl_feature_mask_clear(&m);
    r.layer_mask_shape = (hl_shape){ 2, { 1, 3 } };
    tap_ok(hl_layer_mask_build(&r, &s, &m, &err) == HL_ERR_SHAPE && strstr(err.msg, "broadcast"),
           "layer mask file [1,3] refused for a [1,4,3,5] layer: %s", err.msg);
    r.layer_mask_ids = NULL;

    hl_model *model = case_model("tinycnn");
    char note[640];
    hl_attr_request q;
    int prepared = model && hl_attr_request_prepare(&q, model, "layer_feature_ablation", NULL,
                                                    &err) == HL_OK;
    if (prepared)
        snprintf(q.params.layer, sizeof q.params.layer, "/conv2/Conv_output_0");
    /* 32 x 16 x 16 = 8192 units, above HL_ATTR_MANY_FEATURES */
    tap_ok(prepared && hl_attr_request_cost_note(&q, model, note, sizeof note) == 1 &&
           strstr(note, "8192 features") && strstr(note, "--layer-mask channels") &&
           strstr(note, "32 channels"), "a note before ablating 8192 units: %s", note);
    if (prepared)
        strcpy(q.params.layer_mask, "channels");
    tap_ok(prepared && hl_attr_request_cost_note(&q, model, note, sizeof note) == 0 && !note[0],
           "no note with --layer-mask channels");
    if (prepared) {
        strcpy(q.params.layer_mask, "units");
        snprintf(q.params.layer, sizeof q.params.layer, "/gap/GlobalAveragePool_output_0");
    }
    tap_ok(prepared && hl_attr_request_cost_note(&q, model, note, sizeof note) == 0,
           "no note for 32 units");
    if (prepared)
        hl_attr_request_clear(&q);
    hl_model_free(model);
}

int main(void)
{
    hl_engine_init();
    test_quadrature();
    test_params();
    test_registry();
    test_interpolate();
    test_baselines();
    test_layer_mask();
    return tap_done();
}
