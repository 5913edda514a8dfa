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

#include "part1-util.h"
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
    hl_model *m = p1_load_model(rel);
    snprintf(rel, sizeof rel, "tests/data/captum/%s/input.npy", name);
    hl_array *x = p1_load_npy(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/metrics.json", name);
    char *json = p1_read_text(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/infidelity_noise.npy", name);
    hl_array *inoise = p1_load_npy(rel);
    snprintf(rel, sizeof rel, "tests/data/trust/%s/sensitivity_noise.npy", name);
    hl_array *snoise = p1_load_npy(rel);
    if (!tap_ok(m && x && json && inoise && snoise, "%s: metric references load", name))
        goto done;
    hl_metric_input in = { m, x, target, NULL };
    static const char *const attrs[] = { "saliency_signed", "ig50" };
    for (int a = 0; a < 2; a++) {
        snprintf(rel, sizeof rel, "tests/data/trust/%s/metric_attr_%s.npy", name, attrs[a]);
        hl_array *attr = p1_load_npy(rel);
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
    hl_model *m = p1_load_model("tests/data/trust/linear.onnx");
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

int main(void)
{
    captum_metrics("tinycnn", 1);
    captum_metrics("tinyres", 7);
    curves();
    similarity();
    return tap_done();
}
