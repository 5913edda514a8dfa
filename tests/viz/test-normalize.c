/* Normalisation against NumPy running Captum's recipe (tests/data/viz, with
 * matplotlib's heat_map colours), against its formula recomputed here
 * in double precision from its definition (captum/attr/_utils/
 * visualization.py), plus hand-worked cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "viz.h"

static hl_array *make_array(int c, int h, int w, const float *vals)
{
    hl_shape s = {4, {1, c, h, w}};
    hl_array *a = hl_array_new(&s);
    if (vals)
        memcpy(a->data, vals, sizeof(float) * (size_t)(c * h * w));
    return a;
}

/* Check a normalisation of a [1,1,h,w] array against expected values. */
static void check_case(const char *name, int h, int w, const float *attr,
                       hl_viz_sign sign, double outlier,
                       const double *expect, double expect_threshold)
{
    hl_array *a = make_array(1, h, w, attr);
    hl_viz_norm *n = NULL;
    hl_error err = {0};
    hl_status st = hl_viz_normalize(a, sign, outlier, &n, &err);
    if (!tap_ok(st == HL_OK, "%s: normalises (%s)", name, err.msg)) {
        hl_array_free(a);
        return;
    }
    double maxd = 0;
    for (int i = 0; i < h * w; i++)
        maxd = fmax(maxd, fabs(hl_viz_norm_values(n)[i] - expect[i]));
    tap_ok(maxd < 1e-6, "%s: values match (max diff %g)", name, maxd);
    tap_ok(fabs(hl_viz_norm_threshold(n) - expect_threshold) < 1e-6,
           "%s: threshold %g == %g", name, hl_viz_norm_threshold(n),
           expect_threshold);
    hl_viz_norm_free(n);
    hl_array_free(a);
}

/* --- independent reference: Captum's formula in double ---------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ref_threshold(const double *v, int n, double percentile)
{
    double *s = malloc(sizeof(double) * (size_t)n);
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double total = 0;
    for (int i = 0; i < n; i++)
        total += s[i];
    double cum = 0, t = s[n - 1];
    for (int i = 0; i < n; i++) {
        cum += s[i];
        if (cum >= total * 0.01 * percentile) {
            t = s[i];
            break;
        }
    }
    free(s);
    return t;
}

/* attr [c,h*w] -> expected normalised values; returns the threshold. */
static double ref_normalize(const float *attr, int c, int hw, hl_viz_sign sign,
                            double outlier, double *out)
{
    double *sel = malloc(sizeof(double) * (size_t)hw);
    double *mag = malloc(sizeof(double) * (size_t)hw);
    for (int i = 0; i < hw; i++) {
        double s = 0;
        for (int k = 0; k < c; k++)
            s += attr[k * hw + i];
        if (sign == HL_SIGN_POSITIVE)
            s = s > 0 ? s : 0;
        else if (sign == HL_SIGN_NEGATIVE)
            s = s < 0 ? s : 0;
        else if (sign == HL_SIGN_ABSOLUTE_VALUE)
            s = fabs(s);
        sel[i] = s;
        mag[i] = fabs(s);
    }
    double t = ref_threshold(mag, hw, 100.0 - outlier);
    if (sign == HL_SIGN_NEGATIVE)
        t = -t;
    for (int i = 0; i < hw; i++) {
        double q = sel[i] / t;
        out[i] = q > 1 ? 1 : q < -1 ? -1 : q;
    }
    free(sel);
    free(mag);
    return t;
}

/* Outputs of Captum's recipe run by NumPy in float32
 * (tests/data/viz/gen-captum-normalize.py): every value must match to the
 * float32 bit, or at most one unit in the last place. */
static void check_numpy_reference(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/viz/captum-normalize.bin",
             root ? root : ".");
    FILE *f = fopen(path, "rb");
    int32_t hdr[4];
    if (!f || fread(hdr, sizeof hdr, 1, f) != 1) {
        tap_ok(0, "read %s", path);
        if (f)
            fclose(f);
        return;
    }
    int c = hdr[0], h = hdr[1], w = hdr[2], n = hdr[3];
    hl_shape s = {4, {1, c, h, w}};
    hl_array *a = hl_array_new(&s);
    float *expect = malloc(sizeof(float) * (size_t)(h * w));
    unsigned char *colours = malloc((size_t)(h * w) * 3);
    int ok = fread(a->data, sizeof(float), (size_t)(c * h * w), f) ==
             (size_t)(c * h * w);
    for (int r = 0; ok && r < n; r++) {
        int32_t sign;
        float outlier, threshold;
        ok = fread(&sign, 4, 1, f) == 1 && fread(&outlier, 4, 1, f) == 1 &&
             fread(&threshold, 4, 1, f) == 1 &&
             fread(expect, sizeof(float), (size_t)(h * w), f) == (size_t)(h * w) &&
             fread(colours, 3, (size_t)(h * w), f) == (size_t)(h * w);
        if (!ok)
            break;
        hl_viz_norm *nm = NULL;
        hl_viz_normalize(a, (hl_viz_sign)sign, outlier, &nm, NULL);
        int max_ulp = nm ? 0 : 1 << 30, exact = 0;
        for (int i = 0; nm && i < h * w; i++) {
            float got = hl_viz_norm_values(nm)[i];
            int32_t gi, ei;
            memcpy(&gi, &got, 4);
            memcpy(&ei, &expect[i], 4);
            /* +0 and -0 count as equal (NumPy's False * -x is -0) */
            int64_t d64 = got == expect[i] ? 0 : (int64_t)gi - (int64_t)ei;
            int d = d64 < 0 ? (d64 < -1000 ? 1000 : (int)-d64)
                            : (d64 > 1000 ? 1000 : (int)d64);
            exact += d == 0;
            max_ulp = d > max_ulp ? d : max_ulp;
        }
        tap_ok(nm && max_ulp <= 1 && (float)hl_viz_norm_threshold(nm) == threshold,
               "NumPy/Captum reference, sign %s outlier %g: threshold %g vs %g, "
               "%d/%d values bit-exact, max %d ulp", hl_viz_sign_name(sign),
               outlier, nm ? hl_viz_norm_threshold(nm) : 0.0, threshold, exact,
               h * w, max_ulp);
        /* heat_map at the model-input grid, Captum's default colormap */
        hl_viz_options o;
        hl_viz_options_init(&o);
        o.sign = (hl_viz_sign)sign;
        hl_image *img = NULL;
        int same = 0;
        if (nm && hl_viz_render_input(nm, NULL, &o, &img, NULL) == HL_OK)
            for (int i = 0; i < h * w * 3; i++)
                same += img->rgb[i] == colours[i];
        tap_ok(same == h * w * 3, "matplotlib heat_map colours, sign %s "
               "outlier %g: %d/%d bytes equal", hl_viz_sign_name(sign), outlier,
               same, h * w * 3);
        hl_image_free(img);
        hl_viz_norm_free(nm);
    }
    if (!ok)
        tap_ok(0, "%s: truncated", path);
    free(expect);
    free(colours);
    hl_array_free(a);
    fclose(f);
}

static unsigned rng_state = 12345u;
static double uniform(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

int main(void)
{
    check_numpy_reference();
    /* Hand-worked: values 1..4, total 10. */
    const float a1234[4] = {1, 2, 3, 4};
    {
        /* outlier 2: target 9.8, running sums 1,3,6,10 -> index 3 -> t = 4 */
        const double e[4] = {0.25, 0.5, 0.75, 1.0};
        check_case("1..4 abs outlier 2", 2, 2, a1234, HL_SIGN_ABSOLUTE_VALUE, 2, e, 4);
        /* outlier 0: target 10 -> index 3 -> t = 4 */
        check_case("1..4 abs outlier 0", 2, 2, a1234, HL_SIGN_ABSOLUTE_VALUE, 0, e, 4);
    }
    {
        /* outlier 50: target 5 -> running sum 6 at index 2 -> t = 3 */
        const double e[4] = {1.0 / 3, 2.0 / 3, 1.0, 1.0};
        check_case("1..4 abs outlier 50", 2, 2, a1234, HL_SIGN_ABSOLUTE_VALUE, 50, e, 3);
    }
    {
        /* Not a percentile: nine 1s and a 100; total 109, target 106.82 is
         * reached only by the last value, so t = 100 (np.percentile(98)
         * would give about 82). */
        float a[10] = {1, 1, 1, 1, 100, 1, 1, 1, 1, 1};
        double e[10];
        for (int i = 0; i < 10; i++)
            e[i] = a[i] / 100.0;
        check_case("outlier-heavy abs", 2, 5, a, HL_SIGN_ABSOLUTE_VALUE, 2, e, 100);
        /* outlier 10: target 98.1 -> still needs the 100 -> t = 100 */
        check_case("outlier-heavy 10%", 2, 5, a, HL_SIGN_ABSOLUTE_VALUE, 10, e, 100);
        /* outlier 95: target 5.45 -> sixth value (a 1) -> t = 1 */
        double e2[10];
        for (int i = 0; i < 10; i++)
            e2[i] = 1.0;
        check_case("outlier-heavy 95%", 2, 5, a, HL_SIGN_ABSOLUTE_VALUE, 95, e2, 1);
    }
    {
        /* Ties: all equal -> t = that value, every value 1. */
        const float a[4] = {2, 2, 2, 2};
        const double e[4] = {1, 1, 1, 1};
        check_case("ties", 2, 2, a, HL_SIGN_ABSOLUTE_VALUE, 2, e, 2);
        check_case("ties outlier 30", 2, 2, a, HL_SIGN_ABSOLUTE_VALUE, 30, e, 2);
    }
    {
        /* Ties at the threshold: 0,1,1,1,1,3 total 7, outlier 50: target
         * 3.5, sums 0,1,2,3,4 -> index 4 (a 1) -> t = 1. */
        const float a[6] = {1, 0, 1, 3, 1, 1};
        const double e[6] = {1, 0, 1, 1, 1, 1};
        check_case("ties at threshold", 2, 3, a, HL_SIGN_ABSOLUTE_VALUE, 50, e, 1);
    }
    {
        /* Mixed signs. */
        const float a[4] = {-4, 1, 2, -3};
        const double all[4] = {-1, 0.25, 0.5, -0.75};
        check_case("mixed all", 2, 2, a, HL_SIGN_ALL, 2, all, 4);
        const double absv[4] = {1, 0.25, 0.5, 0.75};
        check_case("mixed absolute_value", 2, 2, a, HL_SIGN_ABSOLUTE_VALUE, 2, absv, 4);
        /* positive: 0,1,2,0 total 3 target 2.94 -> t = 2 */
        const double pos[4] = {0, 0.5, 1, 0};
        check_case("mixed positive", 2, 2, a, HL_SIGN_POSITIVE, 2, pos, 2);
        /* negative: |.| 4,0,0,3 total 7 target 6.86 -> t = -4; values
         * -4/-4 = 1, -3/-4 = 0.75 (Captum shows magnitudes 0..1) */
        const double neg[4] = {1, 0, 0, 0.75};
        check_case("mixed negative", 2, 2, a, HL_SIGN_NEGATIVE, 2, neg, -4);
    }
    {
        /* All negative. */
        const float a[4] = {-1, -2, -3, -4};
        const double neg[4] = {0.25, 0.5, 0.75, 1};
        check_case("all-negative negative", 2, 2, a, HL_SIGN_NEGATIVE, 2, neg, -4);
        const double all[4] = {-0.25, -0.5, -0.75, -1};
        check_case("all-negative all", 2, 2, a, HL_SIGN_ALL, 2, all, 4);
        const double zero[4] = {0, 0, 0, 0};
        check_case("all-negative positive", 2, 2, a, HL_SIGN_POSITIVE, 2, zero, 0);
        hl_array *arr = make_array(1, 2, 2, a);
        hl_viz_norm *n;
        hl_viz_normalize(arr, HL_SIGN_POSITIVE, 2, &n, NULL);
        tap_ok(n && hl_viz_norm_is_zero(n),
               "all-negative with sign positive is flagged as zero");
        hl_viz_norm_free(n);
        hl_array_free(arr);
    }
    {
        /* All zero: Captum asserts; we flag it and give zeros, no NaN. */
        const float z[9] = {0};
        const double e[9] = {0};
        for (int s = 0; s < HL_SIGN_N; s++) {
            char name[64];
            snprintf(name, sizeof name, "all-zero %s", hl_viz_sign_name(s));
            check_case(name, 3, 3, z, (hl_viz_sign)s, 2, e, 0);
            hl_array *arr = make_array(1, 3, 3, z);
            hl_viz_norm *n;
            hl_viz_normalize(arr, (hl_viz_sign)s, 2, &n, NULL);
            tap_ok(n && hl_viz_norm_is_zero(n), "%s flagged as zero", name);
            hl_viz_norm_free(n);
            hl_array_free(arr);
        }
    }
    {
        /* Channel sum (and raw values): [1,3,2,2]. */
        const float a[12] = {1, -2, 3, 0.5f,   /* channel 0 */
                             1, 1, -1, 0.5f,   /* channel 1 */
                             1, 0, 2, 3};      /* channel 2 */
        hl_array *arr = make_array(3, 2, 2, a);
        hl_viz_norm *n;
        hl_error err = {0};
        hl_viz_normalize(arr, HL_SIGN_ALL, 0, &n, &err);
        const float sums[4] = {3, -1, 4, 4};
        int ok = n != NULL;
        for (int i = 0; ok && i < 4; i++)
            ok = hl_viz_norm_raw(n, i % 2, i / 2) == sums[i] &&
                 fabsf(hl_viz_norm_value(n, i % 2, i / 2) - sums[i] / 4) < 1e-7f;
        tap_ok(ok, "channels are summed; raw and normalised values queried by pixel");
        tap_ok(n && hl_viz_norm_value(n, 5, 0) == 0.0f && hl_viz_norm_width(n) == 2 &&
               hl_viz_norm_height(n) == 2, "out-of-grid query gives 0; size 2x2");
        hl_viz_norm_free(n);
        hl_array_free(arr);
        /* Same data as [3,2,2] and [2,2] shapes */
        hl_shape s3 = {3, {3, 2, 2}};
        hl_array *a3 = hl_array_new(&s3);
        memcpy(a3->data, a, sizeof a);
        tap_ok(hl_viz_normalize(a3, HL_SIGN_ALL, 0, &n, NULL) == HL_OK &&
               hl_viz_norm_raw(n, 0, 1) == 4, "[C,H,W] accepted");
        hl_viz_norm_free(n);
        hl_array_free(a3);
        hl_shape s2 = {2, {2, 2}};
        hl_array *a2 = hl_array_new(&s2);
        memcpy(a2->data, a, 4 * sizeof(float));
        tap_ok(hl_viz_normalize(a2, HL_SIGN_ALL, 0, &n, NULL) == HL_OK &&
               hl_viz_norm_raw(n, 1, 0) == -2, "[H,W] accepted");
        hl_viz_norm_free(n);
        hl_array_free(a2);
    }
    {
        /* outlier_perc 100: target 0, first value (a zero) -> t = 0 while
         * other values are not: each value becomes its sign. */
        const float a[4] = {0, 2, -3, 1};
        const double e[4] = {0, 1, -1, 1};
        check_case("outlier 100 with zeros", 2, 2, a, HL_SIGN_ALL, 100, e, 0);
    }
    {
        /* Bad input. */
        hl_error err = {0};
        hl_viz_norm *n = (hl_viz_norm *)1;
        float a[4] = {1, NAN, 0, 0};
        hl_array *arr = make_array(1, 2, 2, a);
        tap_ok(hl_viz_normalize(arr, HL_SIGN_ALL, 2, &n, &err) == HL_ERR_ARG &&
               n == NULL && strstr(err.msg, "NaN"), "NaN refused: %s", err.msg);
        arr->data[1] = 0;
        tap_ok(hl_viz_normalize(arr, HL_SIGN_ALL, 101, &n, &err) == HL_ERR_ARG &&
               strstr(err.msg, "outlier"), "outlier 101 refused: %s", err.msg);
        tap_ok(hl_viz_normalize(arr, HL_SIGN_ALL, -1, &n, &err) == HL_ERR_ARG,
               "outlier -1 refused");
        hl_array_free(arr);
        hl_shape s = {4, {2, 1, 2, 2}};
        arr = hl_array_new(&s);
        tap_ok(hl_viz_normalize(arr, HL_SIGN_ALL, 2, &n, &err) == HL_ERR_SHAPE &&
               strstr(err.msg, "[2,1,2,2]"), "batch 2 refused: %s", err.msg);
        hl_array_free(arr);
    }
    {
        /* Random [1,3,24,20] maps, every sign and several outlier
         * percentages, against the double-precision reference. */
        const int c = 3, h = 24, w = 20, hw = h * w;
        float *a = malloc(sizeof(float) * (size_t)(c * hw));
        double *e = malloc(sizeof(double) * (size_t)hw);
        const double outliers[] = {0, 2, 10, 50, 99};
        for (int trial = 0; trial < 3; trial++) {
            for (int i = 0; i < c * hw; i++) {
                double u = uniform() - 0.4;
                a[i] = (float)(u * u * u * (trial + 1)); /* heavy tails */
            }
            for (int s = 0; s < HL_SIGN_N; s++)
                for (size_t k = 0; k < sizeof outliers / sizeof *outliers; k++) {
                    double t = ref_normalize(a, c, hw, (hl_viz_sign)s,
                                             outliers[k], e);
                    hl_array *arr = make_array(c, h, w, a);
                    hl_viz_norm *n = NULL;
                    hl_viz_normalize(arr, (hl_viz_sign)s, outliers[k], &n, NULL);
                    double maxd = 1e9;
                    if (n) {
                        maxd = 0;
                        for (int i = 0; i < hw; i++)
                            maxd = fmax(maxd, fabs(hl_viz_norm_values(n)[i] - e[i]));
                    }
                    tap_ok(maxd < 1e-4 && n &&
                           fabs(hl_viz_norm_threshold(n) - t) <= 1e-5 * fabs(t),
                           "random trial %d sign %s outlier %g: max diff %g, "
                           "threshold %g vs %g", trial, hl_viz_sign_name(s),
                           outliers[k], maxd, n ? hl_viz_norm_threshold(n) : 0, t);
                    hl_viz_norm_free(n);
                    hl_array_free(arr);
                }
        }
        free(a);
        free(e);
    }
    return tap_done();
}
