/* The trust functions (src/attr/trust.h) against independent references:
 * Captum 0.7's infidelity and sensitivity_max replayed on its recorded
 * noise (tests/data/trust/, from the project's shared round-2 references),
 * deletion/insertion curves on a linear model whose answer is a formula,
 * Spearman and SSIM against float64 formulas written here, the notices
 * against the maps they describe, and the randomisation check on a
 * gradient map (decorrelates) and an edge detector (stays, flagged). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"
#include "trust.h"
#include "../engine/model_randomize.h"

#define REL_TOL 1e-4

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(fabs(b), 1e-30);
}

/* "key": number in a metrics.json */
static double json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static void captum_metrics(const char *name, int target)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/captum/%s/model.onnx", name);
    hl_model *m = load_source_model(rel);
    snprintf(rel, sizeof rel, "tests/data/captum/%s/input.npy", name);
    hl_array *x = load_source_npy(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/metrics.json", name);
    char *json = read_source_text(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/infidelity_noise.npy", name);
    hl_array *inoise = load_source_npy(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/sensitivity_noise.npy", name);
    hl_array *snoise = load_source_npy(rel);
    if (!tap_ok(m && x && json && inoise && snoise, "%s: metric references load", name))
        goto done;
    hl_metric_input in = { m, x, target, NULL };
    static const char *const attrs[] = { "saliency_signed", "ig50" };
    for (int a = 0; a < 2; a++) {
        snprintf(rel, sizeof rel, "tests/data/trust/%s/metric_attr_%s.npy", name, attrs[a]);
        hl_array *attr = load_source_npy(rel);
        for (int norm = 0; attr && norm < 2; norm++) {
            hl_infidelity_opts o;
            hl_infidelity_opts_init(&o);
            o.noise = inoise->data;
            o.normalize = norm;
            double v = NAN;
            hl_error err = {0};
            hl_status st = hl_metric_infidelity(&in, attr, &o, &v, &err);
            char key[96];
            snprintf(key, sizeof key, "infidelity_%s%s", attrs[a], norm ? "_normalized" : "");
            double ref = json_number(json, key);
            tap_ok(st == HL_OK && rel_err(v, ref) <= REL_TOL,
                   "%s: %s = %.9g, Captum %.9g (rel %.2e) %s", name, key, v, ref,
                   rel_err(v, ref), err.msg);
        }
        hl_array_free(attr);
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.saliency_abs = 0;
    hl_sensitivity_opts so;
    hl_sensitivity_opts_init(&so);
    so.noise = snoise->data;
    double v = NAN, ref = json_number(json, "sensitivity_max_saliency_signed");
    hl_error err = {0};
    hl_status st = hl_metric_sensitivity_max(&in, "saliency", &p, &so, &v, &err);
    tap_ok(st == HL_OK && rel_err(v, ref) <= REL_TOL,
           "%s: sensitivity_max(saliency signed) = %.9g, Captum %.9g (rel %.2e) %s",
           name, v, ref, rel_err(v, ref), err.msg);
done:
    hl_array_free(x);
    hl_array_free(inoise);
    hl_array_free(snoise);
    free(json);
    hl_model_free(m);
}

/* ---------------------------------------------------------------- curves */

static double linear_weight(int i)
{
    return (double)(i * 7 % 16 + 1) / 8.0;
}

static void curves(void)
{
    hl_model *m = load_source_model("tests/data/trust/linear.onnx");
    hl_shape s = { 4, { 1, 1, 4, 4 } };
    hl_array *x = hl_array_new(&s), *base = hl_array_new(&s);
    hl_array *truth = hl_array_new(&s), *shuffled = hl_array_new(&s);
    if (!tap_ok(m && x && base && truth && shuffled, "linear model loads"))
        return;
    for (int i = 0; i < 16; i++) {
        x->data[i] = 1.0f;
        truth->data[i] = (float)linear_weight(i);
        shuffled->data[i] = (float)((i * 5 + 3) % 16); /* a fixed "random" order */
    }
    hl_metric_input in = { m, x, 0, NULL };
    for (int k = 0; k < 2; k++) {
        hl_curve_kind kind = k ? HL_CURVE_INSERTION : HL_CURVE_DELETION;
        const char *name = k ? "insertion" : "deletion";
        hl_curve ct = {0}, cr = {0};
        hl_error err = {0};
        hl_status st = hl_metric_curve(&in, truth, base, kind, 16, &ct, &err);
        if (st == HL_OK)
            st = hl_metric_curve(&in, shuffled, base, kind, 16, &cr, &err);
        if (!tap_ok(st == HL_OK && ct.n == 17 && cr.n == 17, "%s curves computed %s", name, err.msg))
            continue;
        /* Formula: pixels in decreasing weight; after m steps the kept sum
         * is the sum over the pixels not switched (deletion) or switched
         * (insertion); p = sigmoid(sum). */
        int order[16];
        for (int i = 0; i < 16; i++)
            order[i] = i;
        for (int i = 0; i < 16; i++)
            for (int j = i + 1; j < 16; j++)
                if (linear_weight(order[j]) > linear_weight(order[i])) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        double worst = 0.0, auc = 0.0, prev = 0.0;
        for (int step = 0; step <= 16; step++) {
            double on = 0.0;
            for (int r = 0; r < 16; r++)
                if ((r < step) == (kind == HL_CURVE_INSERTION))
                    on += linear_weight(order[r]);
            double p = 1.0 / (1.0 + exp(-on));
            worst = fmax(worst, fabs(p - ct.prob[step]));
            if (step)
                auc += 0.5 * (p + prev) / 16.0;
            prev = p;
        }
        tap_ok(worst < 1e-6, "%s: true-order curve = sigmoid of the kept weights (max err %.2e)",
               name, worst);
        tap_ok(fabs(auc - ct.auc) < 1e-6, "%s: AUC %.6f = trapezoid of the formula %.6f",
               name, ct.auc, auc);
        int above = 1;
        for (int i = 0; i < 17; i++)
            above &= kind == HL_CURVE_INSERTION ? ct.prob[i] >= cr.prob[i] - 1e-7
                                                : ct.prob[i] <= cr.prob[i] + 1e-7;
        tap_ok(above && (kind == HL_CURVE_INSERTION ? ct.auc > cr.auc : ct.auc < cr.auc),
               "%s: the true order's curve is %s the shuffled order's (AUC %.4f vs %.4f)",
               name, k ? "above" : "below", ct.auc, cr.auc);
        hl_curve_clear(&ct);
        hl_curve_clear(&cr);
    }
    hl_curve bad = {0};
    hl_error err = {0};
    tap_ok(hl_metric_curve(&in, truth, base, HL_CURVE_DELETION, 0, &bad, &err) == HL_ERR_ARG &&
           strstr(err.msg, "steps"), "curve: 0 steps refused: %s", err.msg);
    hl_array_free(x);
    hl_array_free(base);
    hl_array_free(truth);
    hl_array_free(shuffled);
    hl_model_free(m);
}

/* ------------------------------------------------------------ similarity */

/* Spearman as Pearson of ranks, ranks by counting (rank = #less +
 * (#equal + 1) / 2): an O(n^2) float64 formula independent of sorting. */
static double spearman_ref(const float *a, const float *b, int n)
{
    double ra[64], rb[64], ma = 0, mb = 0;
    for (int i = 0; i < n; i++) {
        int la = 0, ea = 0, lb = 0, eb = 0;
        for (int j = 0; j < n; j++) {
            la += a[j] < a[i];
            ea += a[j] == a[i];
            lb += b[j] < b[i];
            eb += b[j] == b[i];
        }
        ra[i] = la + (ea + 1) / 2.0;
        rb[i] = lb + (eb + 1) / 2.0;
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

/* SSIM by its definition (Wang et al. 2004) with mean-centred two-pass
 * window statistics, skimage's constants and sample covariance. */
static double ssim_ref(const float *a, const float *b, int h, int w)
{
    double total = 0;
    int count = 0;
    for (int y = 3; y < h - 3; y++)
        for (int x = 3; x < w - 3; x++) {
            double ua = 0, ub = 0;
            for (int dy = -3; dy <= 3; dy++)
                for (int dx = -3; dx <= 3; dx++) {
                    ua += a[(y + dy) * w + x + dx] / 49.0;
                    ub += b[(y + dy) * w + x + dx] / 49.0;
                }
            double va = 0, vb = 0, vab = 0;
            for (int dy = -3; dy <= 3; dy++)
                for (int dx = -3; dx <= 3; dx++) {
                    double p = a[(y + dy) * w + x + dx] - ua, q = b[(y + dy) * w + x + dx] - ub;
                    va += p * p / 48.0;
                    vb += q * q / 48.0;
                    vab += p * q / 48.0;
                }
            double c1 = 1e-4, c2 = 9e-4;
            total += (2 * ua * ub + c1) * (2 * vab + c2) /
                     ((ua * ua + ub * ub + c1) * (va + vb + c2));
            count++;
        }
    return total / count;
}

static void similarity(void)
{
    float a[64], b[64];
    uint64_t s = 12345;
    for (int i = 0; i < 64; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = (float)((s >> 40) % 10) / 10.0f;      /* many ties */
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        b[i] = 0.5f * a[i] + (float)((s >> 33) % 1000) / 2000.0f;
    }
    double r = hl_spearman(a, b, 64), ref = spearman_ref(a, b, 64);
    tap_ok(fabs(r - ref) < 1e-12, "spearman with ties %.12f = formula %.12f", r, ref);
    float c[64];
    for (int i = 0; i < 64; i++)
        c[i] = -a[i] * a[i] * a[i];
    tap_ok(fabs(hl_spearman(a, c, 64) + 1.0) < 1e-12, "spearman of a decreasing function = -1");
    tap_ok(isnan(hl_spearman(a, (float[64]){0}, 64)), "spearman with a constant map is NaN");
    double q = hl_ssim(a, b, 8, 8, 1.0), qref = ssim_ref(a, b, 8, 8);
    tap_ok(fabs(q - qref) < 1e-9, "ssim 8x8 %.12f = formula %.12f", q, qref);
    tap_ok(fabs(hl_ssim(a, a, 8, 8, 1.0) - 1.0) < 1e-12, "ssim of a map with itself = 1");
}

/* ---------------------------------------------------------------- notices */

static int has_notice(const hl_model *m, const char *method, const char *word)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    hl_notices n;
    hl_attr_notices(m, method, &p, NULL, &n);
    for (int i = 0; i < n.n; i++)
        if (strstr(n.line[i], word))
            return 1;
    return 0;
}

/* The method's map (input space) with the given sign of saliency. */
static hl_array *map_of(const hl_model *m, const hl_array *x, const char *method,
                        int target)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    p.saliency_abs = 0;
    hl_attr_result r;
    hl_error err = {0};
    if (hl_attribute(m, method, x, &p, NULL, &r, &err) != HL_OK) {
        tap_diag("%s: %s", method, err.msg);
        return NULL;
    }
    return r.attr;
}

static int same_bytes(const hl_array *a, const hl_array *b)
{
    return a && b && hl_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data, (size_t)hl_shape_numel(&a->shape) * sizeof(float)) == 0;
}

/* A map that is zero everywhere gets the zero-map notice, and only then:
 * a real saliency map of tinycnn, then the same result with its map
 * zeroed, then with one element back. */
static void zero_map(void)
{
    hl_model *m = load_source_model("tests/data/captum/tinycnn/model.onnx");
    hl_array *x = load_source_npy("tests/data/captum/tinycnn/input.npy");
    hl_attr_params p;
    hl_attr_params_init(&p);
    hl_attr_result r;
    hl_error err = {0};
    if (!tap_ok(m && x && hl_attribute(m, "saliency", x, &p, NULL, &r, &err) == HL_OK,
                "zero map: tinycnn saliency runs %s", err.msg))
        goto done;
    hl_notices n;
    hl_attr_notices(m, "saliency", &p, &r, &n);
    tap_ok(n.n == 0, "zero map: no notice for a real saliency map (%d)", n.n);
    int64_t count = hl_shape_numel(&r.attr->shape);
    float keep = r.attr->data[count / 2];
    memset(r.attr->data, 0, (size_t)count * sizeof(float));
    hl_attr_notices(m, "saliency", &p, &r, &n);
    tap_ok(n.n == 1 && strstr(n.line[0], "zero everywhere") &&
           strstr(n.brief[0], "zero everywhere") && n.offer[0][0] == '\0',
           "zero map: the notice for a map of %lld zeros: %s", (long long)count,
           n.n ? n.line[0] : "(none)");
    hl_attr_notices(m, "lime", &p, &r, &n);
    tap_ok(n.n == 1 && strstr(n.line[0], "Lasso") && strstr(n.line[0], "kernel_shap"),
           "zero map: LIME's zeros are put down to its Lasso penalty");
    r.attr->data[count / 2] = keep != 0.0f ? keep : 1e-30f;
    hl_attr_notices(m, "saliency", &p, &r, &n);
    tap_ok(n.n == 0, "zero map: no notice once one element is not zero");
    hl_attr_result_clear(&r);
done:
    hl_array_free(x);
    hl_model_free(m);
}

static void notices(void)
{
    hl_model *mb = load_source_model("data/models/mobilenet_v2.onnx");
    hl_model *mr = load_source_model("tests/data/captum/tinycnn/model.onnx");
    if (!tap_ok(mb && mr, "bundled model and tinycnn load"))
        return;
    static const char *const reduced[] = {
        "guided_backprop", "deconvolution", "guided_grad_cam", "neuron_guided_backprop",
        "deep_lift", "deep_lift_shap", "layer_deep_lift" };
    for (int i = 0; i < 7; i++) {
        const char *word = i < 4 ? "identical to" : "equals";
        tap_ok(has_notice(mb, reduced[i], word), "bundled model (ReLU6 only): %s has the notice",
               reduced[i]);
        tap_ok(!has_notice(mr, reduced[i], word), "tinycnn (ReLU): %s has no notice", reduced[i]);
    }
    tap_ok(!has_notice(mb, "integrated_gradients", " ") && !has_notice(mb, "saliency", " "),
           "integrated_gradients and saliency have no notice");
    /* The notices say what the maps are: check it on the maps themselves. */
    hl_shape s = { 4, { 1, 3, 224, 224 } };
    hl_array *x = hl_array_new(&s);
    for (int64_t i = 0; x && i < hl_shape_numel(&s); i++)
        x->data[i] = (float)sin(0.001 * (double)i);
    hl_array *g = map_of(mb, x, "saliency", 1), *gb = map_of(mb, x, "guided_backprop", 1);
    hl_array *dc = map_of(mb, x, "deconvolution", 1);
    hl_array *dl = map_of(mb, x, "deep_lift", 1), *ixg = map_of(mb, x, "input_x_gradient", 1);
    tap_ok(same_bytes(g, gb) && same_bytes(g, dc),
           "bundled model: guided backprop and deconvolution are byte-identical to the signed gradient");
    tap_ok(dl && ixg && tap_rel_l2(dl->data, ixg->data, hl_shape_numel(&s)) < 1e-6,
           "bundled model: DeepLift (zero baseline) = Input x Gradient (rel L2 %.2e)",
           dl && ixg ? tap_rel_l2(dl->data, ixg->data, hl_shape_numel(&s)) : -1.0);
    hl_array *rx = load_source_npy("tests/data/captum/tinycnn/input.npy");
    hl_array *rg = map_of(mr, rx, "saliency", 1), *rgb = map_of(mr, rx, "guided_backprop", 1);
    tap_ok(rg && rgb && !same_bytes(rg, rgb), "tinycnn: guided backprop differs from the gradient");
    hl_array *arr[] = { x, g, gb, dc, dl, ixg, rx, rg, rgb };
    for (int i = 0; i < 9; i++)
        hl_array_free(arr[i]);
    hl_model_free(mb);
    hl_model_free(mr);
}

/* --relu-family on the bundled model (ReLU6 = Clip only): DeepLift's
 * attributions add up to F(x) - F(0) (completeness, the rescale rule
 * applied to Clip), guided backprop and deconvolution differ from the
 * gradient, the notices are gone (and offered the option before). */
static void relu_family(void)
{
    hl_model *mb = load_source_model("data/models/mobilenet_v2.onnx");
    if (!tap_ok(mb != NULL, "bundled model loads"))
        return;
    hl_attr_params p;
    hl_attr_params_init(&p);
    hl_notices n;
    hl_attr_notices(mb, "deep_lift", &p, NULL, &n);
    tap_ok(n.n == 1 && strstr(n.line[0], "use --relu-family"),
           "deep_lift notice offers --relu-family: %s", n.n ? n.line[0] : "");
    hl_attr_notices(mb, "guided_backprop", &p, NULL, &n);
    tap_ok(n.n == 1 && strstr(n.line[0], "--relu-family to apply the rule to Clip/ReLU6"),
           "guided_backprop notice offers --relu-family");
    p.relu_family = 1;
    hl_attr_notices(mb, "deep_lift", &p, NULL, &n);
    int none = n.n == 0;
    hl_attr_notices(mb, "guided_backprop", &p, NULL, &n);
    tap_ok(none && n.n == 0, "with --relu-family: no notice");

    hl_shape s = { 4, { 1, 3, 224, 224 } };
    hl_array *x = hl_array_new(&s);
    for (int64_t i = 0; x && i < hl_shape_numel(&s); i++)
        x->data[i] = (float)sin(0.001 * (double)i);
    p.target = 1;
    p.saliency_abs = 0;
    hl_attr_result r[4];
    static const char *const m[4] = {
        "saliency", "guided_backprop", "deconvolution", "deep_lift" };
    hl_array *a[4];
    for (int k = 0; k < 4; k++)
        a[k] = run_attr(mb, m[k], x, &p, NULL, &r[k]);
    if (tap_ok(a[0] && a[1] && a[2] && a[3], "the four maps with --relu-family")) {
        long nel = (long)hl_shape_numel(&s);
        double e1 = tap_rel_l2(a[1]->data, a[0]->data, nel);
        double e2 = tap_rel_l2(a[2]->data, a[0]->data, nel);
        tap_ok(e1 > 0.05 && e2 > 0.05, "guided backprop and deconvolution differ "
               "from the gradient (rel L2 %.3g, %.3g)", e1, e2);
        /* completeness against the engine's logits at x and at 0, summed
         * here in double */
        double sum = sum_floats(a[3]->data, nel);
        double lx = NAN, l0 = NAN;
        hl_array *z = hl_array_new(&s);
        int ok = z && engine_logits(mb, x->data, 1, 1, &lx) &&
                 engine_logits(mb, z->data, 1, 1, &l0);
        double ref = ok ? lx - l0 : NAN;
        double rel = fabs(sum - ref) / fabs(ref);
        tap_ok(ok && rel < 1e-3, "DeepLift --relu-family: sum %.6g = F(x) - F(0) "
               "%.6g within %.2g relative (delta reported %.3g)", sum, ref, rel,
               r[3].delta);
        hl_array_free(z);
    }
    for (int k = 0; k < 4; k++)
        hl_array_free(a[k]);
    hl_array_free(x);
    hl_model_free(mb);
}

static void delta_note(void)
{
    hl_attr_result r = {0};
    char line[512];
    tap_ok(hl_attr_delta_note("saliency", &r, line, sizeof line) == -1 && !line[0],
           "no delta: no note");
    r.has_delta = 1;
    r.delta = 0.5;
    r.delta_reference = 2.0;
    int large = hl_attr_delta_note("integrated_gradients", &r, line, sizeof line);
    tap_ok(large == 1 && strstr(line, "25.00%") && strstr(line, "raise --n-steps"),
           "IG delta 0.5 of 2: 25%%, large, hint: %s", line);
    r.delta = -0.01;
    large = hl_attr_delta_note("integrated_gradients", &r, line, sizeof line);
    tap_ok(large == 0 && strstr(line, "0.50%") && !strstr(line, "raise"),
           "IG delta -0.01 of 2: 0.5%%, small: %s", line);
    tap_ok(fabs(hl_attr_delta_relative(&r) - 0.005) < 1e-15, "relative delta = |delta| / |F(x)-F(b)|");
}

/* ---------------------------------------------------------- randomisation */

/* A "map" that ignores the model: the gradient magnitude of the input
 * (central differences over H and W, summed over channels). */
static hl_status edge_map(const hl_model *m, const hl_array *x, void *user,
                          hl_array **map, hl_error *err)
{
    (void)m;
    (void)user;
    int c = (int)x->shape.dims[1], h = (int)x->shape.dims[2], w = (int)x->shape.dims[3];
    hl_shape s = { 4, { 1, 1, h, w } };
    hl_array *e = hl_array_new(&s);
    if (!e)
        return hl_error_set(err, HL_ERR_NOMEM, "edge map");
    for (int k = 0; k < c; k++)
        for (int y = 1; y < h - 1; y++)
            for (int i = 1; i < w - 1; i++) {
                const float *p = x->data + (int64_t)k * h * w;
                float gx = p[y * w + i + 1] - p[y * w + i - 1];
                float gy = p[(y + 1) * w + i] - p[(y - 1) * w + i];
                e->data[y * w + i] += sqrtf(gx * gx + gy * gy);
            }
    *map = e;
    return HL_OK;
}

static void randomization(const char *model_rel, const char *input_rel, int target)
{
    hl_model *m = load_source_model(model_rel);
    hl_array *x = load_source_npy(input_rel);
    if (!tap_ok(m && x, "%s loads", model_rel))
        return;
    x->shape.dims[0] = 1; /* the first sample of a batch */
    hl_array *before = map_of(m, x, "saliency", target);
    hl_randomization_opts o;
    hl_randomization_opts_init(&o);
    o.stages = 4;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    hl_randomization r, e;
    hl_error err = {0};
    hl_status st = hl_sanity_randomization(m, x, "saliency", &p, NULL, &o, &r, &err);
    if (tap_ok(st == HL_OK && r.n == 4, "%s: saliency randomised in %d stages (%d weighted layers) %s",
               model_rel, r.n, r.total_layers, err.msg)) {
        tap_diag("spearman %.3f %.3f %.3f %.3f; ssim %.3f %.3f %.3f %.3f", r.spearman[0],
                 r.spearman[1], r.spearman[2], r.spearman[3], r.ssim[0], r.ssim[1], r.ssim[2],
                 r.ssim[3]);
        tap_ok(r.layers[3] == r.total_layers && r.spearman[3] < 0.5 && !r.flagged,
               "%s: the gradient map decorrelates when every layer is random (spearman %.3f, ssim %.3f), not flagged",
               model_rel, r.spearman[3], r.ssim[3]);
    }
    st = hl_sanity_randomization_fn(m, x, edge_map, NULL, &o, NULL, &e, &err);
    tap_ok(st == HL_OK && e.n == 4 && e.spearman[3] == 1.0 && e.ssim[3] == 1.0 && e.flagged,
           "%s: an edge detector stays correlated (spearman %.3f) and is flagged %s", model_rel,
           st == HL_OK ? e.spearman[3] : NAN, err.msg);
    hl_array *after = map_of(m, x, "saliency", target);
    tap_ok(same_bytes(before, after), "%s: the original model is unchanged by the check", model_rel);
    hl_randomization_clear(&r);
    hl_randomization_clear(&e);
    hl_array_free(before);
    hl_array_free(after);
    hl_array_free(x);
    hl_model_free(m);
}

/* The weights copy: re-initialised weights keep the tensor's spread and
 * the original model's output does not move. */
static void weights_copy(void)
{
    hl_model *m = load_source_model("tests/data/captum/tinycnn/model.onnx");
    hl_model *c = NULL;
    hl_error err = {0};
    if (!tap_ok(m && hl_model_copy_weights(m, &c, &err) == HL_OK, "weights copy %s", err.msg))
        return;
    int first = -1;
    for (int i = 0; i < hl_model_num_nodes(m) && first < 0; i++)
        if (hl_model_node_has_weights(m, i))
            first = i;
    hl_node_info info;
    hl_model_node_info(m, first, &info);
    tap_ok(first >= 0 && strcmp(info.op, "Conv") == 0, "first weighted node is a Conv (%s)",
           first >= 0 ? info.op : "none");
    tap_ok(hl_model_randomize_node(m, first, 1, &err) == HL_ERR_ARG,
           "randomising a loaded model (not a copy) is refused: %s", err.msg);
    tap_ok(hl_model_randomize_node(c, first, 1, &err) == HL_OK, "randomise the copy's first conv");
    hl_array *x = load_source_npy("tests/data/captum/tinycnn/input.npy");
    hl_array *logits = load_source_npy("tests/data/captum/tinycnn/logits.npy");
    hl_run *ro = hl_run_new(m, 1), *rc = hl_run_new(c, 1);
    hl_run_forward(ro, x->data, 1, &err);
    hl_run_forward(rc, x->data, 1, &err);
    const float *yo = hl_run_value(ro, hl_model_output_value(m), NULL);
    const float *yc = hl_run_value(rc, hl_model_output_value(c), NULL);
    tap_ok(yo && tap_rel_l2(yo, logits->data, 10) < 1e-5,
           "original's logits still PyTorch's (rel %.2e)", yo ? tap_rel_l2(yo, logits->data, 10) : -1.0);
    tap_ok(yc && tap_rel_l2(yc, logits->data, 10) > 0.1,
           "copy's logits moved (rel %.2f)", yc ? tap_rel_l2(yc, logits->data, 10) : -1.0);
    hl_run_free(ro);
    hl_run_free(rc);
    hl_array_free(x);
    hl_array_free(logits);
    hl_model_free(c);
    hl_model_free(m);
}

int main(void)
{
    notices();
    zero_map();
    delta_note();
    weights_copy();
    relu_family();
    randomization("tests/data/captum/tinycnn/model.onnx", "tests/data/captum/tinycnn/input.npy", 1);
    randomization("tests/data/models/tiny_mobilenet_v3.onnx", "tests/data/models/tiny_mobilenet_v3.input.npy", 0);
    captum_metrics("tinycnn", 1);
    captum_metrics("tinyres", 7);
    curves();
    similarity();
    return tap_done();
}
