/* The runtime on whole networks: forward against PyTorch's logits, input
 * and intermediate gradients against finite differences, free batch size
 * through torch's Shape chains, overrides, BatchNormalization folding,
 * backward rules against Captum's own outputs, reuse without growth.
 *
 * Data: tests/data/captum/<case>/ (Captum 0.7 reference cases) and
 * tests/data/engine/relu_free.onnx (make_models.py).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "npy.h"
#include "tap.h"

static char src_root[3000];

static hl_array *load_npy(const char *case_name, const char *file)
{
    char path[3400];
    snprintf(path, sizeof path, "%s/tests/data/captum/%s/%s", src_root,
             case_name, file);
    hl_array *a = NULL;
    hl_error err = {0};
    if (hl_npy_read(path, &a, &err) != HL_OK) {
        tap_diag("%s", err.msg);
        return NULL;
    }
    return a;
}

static hl_model *load_model(const char *rel, int simplify)
{
    char path[3400];
    snprintf(path, sizeof path, "%s/tests/data/%s", src_root, rel);
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st;
    if (simplify) {
        st = hl_model_load_onnx(path, &m, &err);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f)
            return NULL;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        unsigned char *buf = malloc((size_t)n);
        size_t got = fread(buf, 1, (size_t)n, f);
        fclose(f);
        hl_load_options opt = {0};
        opt.no_simplify = 1;
        st = hl_model_load_onnx_ex(buf, got, rel, &opt, &m, &err);
        free(buf);
    }
    tap_ok(st == HL_OK, "load %s%s: %s", rel, simplify ? "" : " (unfolded)",
           st ? err.msg : "ok");
    return m;
}

static double max_abs_diff(const float *a, const float *b, long n)
{
    double d = 0;
    for (long i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > d)
            d = fabs((double)a[i] - b[i]);
    return d;
}

static double max_abs(const float *a, long n)
{
    double d = 0;
    for (long i = 0; i < n; i++)
        if (fabs(a[i]) > d)
            d = fabs(a[i]);
    return d;
}

/* deterministic normal-ish numbers */
static unsigned long long rng_state = 88172645463325252ULL;
static double rnd_uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static float rnd_normal(void)
{
    double u = rnd_uniform() + 1e-12, v = rnd_uniform();
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

static int forward1(hl_run *r, const float *x, int batch)
{
    hl_error err = {0};
    hl_status st = hl_run_forward(r, x, batch, &err);
    if (st)
        tap_diag("forward: %s", err.msg);
    return st == HL_OK;
}

/* Gradient of logit `target` w.r.t. the input, for batch row 0. */
static float *input_grad(hl_run *r, const float *x, int target,
                         hl_backward_rule rule, hl_run *ref, long n_in)
{
    const hl_model *m = hl_run_model(r);
    if (!forward1(r, x, 1))
        return NULL;
    hl_shape os;
    int out = hl_model_output_value(m);
    hl_run_value(r, out, &os);
    float *seed = calloc((size_t)hl_shape_numel(&os), sizeof(float));
    seed[target] = 1;
    hl_error err = {0};
    hl_status st = hl_run_backward(r, out, seed, rule, ref, &err);
    free(seed);
    if (st) {
        tap_diag("backward: %s", err.msg);
        return NULL;
    }
    const float *g = hl_run_input_grad(r);
    if (!g)
        return NULL;
    float *copy = malloc((size_t)n_in * sizeof(float));
    memcpy(copy, g, (size_t)n_in * sizeof(float));
    return copy;
}

/* Forward parity with PyTorch's logits, plain or BN-unfolded. */
static void check_logits(hl_model *m, const char *case_name)
{
    hl_array *x = load_npy(case_name, "input.npy");
    hl_array *want = load_npy(case_name, "logits.npy");
    if (!m || !x || !want) {
        tap_ok(0, "%s: model and reference data", case_name);
        goto out;
    }
    hl_run *r = hl_run_new(m, 1);
    if (forward1(r, x->data, 1)) {
        hl_shape s;
        const float *y = hl_run_value(r, hl_model_output_value(m), &s);
        long n = (long)hl_shape_numel(&want->shape);
        double err = y && hl_shape_numel(&s) == n
                         ? max_abs_diff(y, want->data, n) / max_abs(want->data, n)
                         : 1e9;
        tap_ok(err < 1e-5, "%s: logits match PyTorch (max rel err %.2g)",
               case_name, err);
    } else {
        tap_ok(0, "%s: forward", case_name);
    }
    hl_run_free(r);
out:
    hl_array_free(x);
    hl_array_free(want);
}

/* Central differences of logit `target` w.r.t. single elements of value
 * `v` (the graph input or, through overrides, any intermediate value):
 * the 12 elements of largest |gradient| and 12 random ones, all perturbed
 * copies evaluated in one batched forward. In float32 a step of eps
 * sometimes crosses a ReLU or max-pool switch; such non-smooth points are
 * recognised by one-sided differences that disagree, and skipped (as
 * ggml's gradient tests do). Returns the worst |fd - g| / max|g| over the
 * smooth elements; *n_smooth counts them. */
static double fd_check(hl_model *m, const float *x, int v, const float *act,
                       const float *g, long n, int target, float eps,
                       int *n_smooth)
{
    enum { K = 24 };
    long idx[K];
    unsigned char *used = calloc((size_t)n, 1);
    for (int k = 0; k < K; k++) {
        long best = -1;
        if (k < K / 2) {
            for (long i = 0; i < n; i++)
                if (!used[i] && (best < 0 || fabs(g[i]) > fabs(g[best])))
                    best = i;
        } else {
            do
                best = (long)(rnd_uniform() * (double)n) % n;
            while (used[best]);
        }
        used[best] = 1;
        idx[k] = best;
    }
    free(used);
    hl_shape is;
    hl_model_input_shape(m, &is);
    is.dims[0] = 1;
    long nin = (long)hl_shape_numel(&is);
    int is_input = v == hl_model_input_value(m);
    int rows = 2 * K + 1; /* the last row is unperturbed */
    float *xb = malloc((size_t)(rows * nin) * sizeof(float));
    float *ab = is_input ? NULL : malloc((size_t)(rows * n) * sizeof(float));
    for (int k = 0; k < rows; k++) {
        memcpy(xb + k * nin, x, (size_t)nin * sizeof(float));
        float *p = is_input ? xb + k * nin : ab + k * n;
        if (!is_input)
            memcpy(p, act, (size_t)n * sizeof(float));
        if (k < 2 * K)
            p[idx[k / 2]] += k % 2 ? -eps : eps;
    }
    hl_run *r = hl_run_new(m, 2);
    hl_error err = {0};
    double worst = 1e9;
    *n_smooth = 0;
    if ((is_input || hl_run_set_override(r, v, ab, &err) == HL_OK) &&
        forward1(r, xb, rows)) {
        hl_shape os;
        const float *y = hl_run_value(r, hl_model_output_value(m), &os);
        long classes = (long)(hl_shape_numel(&os) / os.dims[0]);
        double gmax = max_abs(g, n);
        double f0 = y[(rows - 1) * classes + target];
        worst = 0;
        for (int k = 0; k < K; k++) {
            double fp = y[(2 * k) * classes + target];
            double fm = y[(2 * k + 1) * classes + target];
            double fd = (fp - fm) / (2.0 * eps);
            double kink = fabs((fp - f0) - (f0 - fm)) / eps;
            double e = fabs(fd - g[idx[k]]) / (gmax + 1e-30);
            if (getenv("HL_FD_DEBUG"))
                tap_diag("elem %ld fd %.6g g %.6g kink %.3g", idx[k], fd,
                         (double)g[idx[k]], kink / (gmax + 1e-30));
            if (kink > 2e-2 * gmax)
                continue;
            (*n_smooth)++;
            if (e > worst)
                worst = e;
        }
    } else {
        tap_diag("fd_check: %s", err.msg);
    }
    hl_run_free(r);
    free(xb);
    free(ab);
    return worst;
}

static void check_input_gradient(hl_model *m, const char *case_name,
                                 int target, float eps)
{
    hl_array *x = load_npy(case_name, "input.npy");
    if (!m || !x) {
        tap_ok(0, "%s: data for the gradient check", case_name);
        hl_array_free(x);
        return;
    }
    long n = (long)hl_shape_numel(&x->shape);
    hl_run *r = hl_run_new(m, 2);
    float *g = input_grad(r, x->data, target, HL_RULE_GRADIENT, NULL, n);
    int smooth = 0;
    double worst = g ? fd_check(m, x->data, hl_model_input_value(m), NULL, g,
                                n, target, eps, &smooth)
                     : 1e9;
    tap_ok(smooth >= 16 && worst < 2e-2,
           "%s: input gradient of logit %d vs central differences at %d of "
           "24 elements (others non-smooth): worst err %.2g of max |g|",
           case_name, target, smooth, worst);
    free(g);
    hl_run_free(r);
    hl_array_free(x);
}

/* Gradient at an intermediate value, checked by overriding that value
 * with value +/- eps * d (exercises overrides and pre-BN values too). */
static void check_layer_gradient(hl_model *m, const char *case_name,
                                 const char *layer, int target, int cuts_input)
{
    hl_array *x = load_npy(case_name, "input.npy");
    int v = m ? hl_model_find_value(m, layer) : -1;
    if (!x || v < 0) {
        tap_ok(0, "%s: layer %s exists", case_name, layer);
        hl_array_free(x);
        return;
    }
    hl_run *r = hl_run_new(m, 1);
    hl_error err = {0};
    int ok = forward1(r, x->data, 1);
    hl_shape ls, os;
    const float *a = hl_run_value(r, v, &ls);
    long n = (long)hl_shape_numel(&ls);
    float *act = malloc((size_t)n * sizeof(float));
    memcpy(act, a, (size_t)n * sizeof(float));
    int out = hl_model_output_value(m);
    const float *y0 = hl_run_value(r, out, &os);
    long classes = (long)hl_shape_numel(&os);
    float *seed = calloc((size_t)classes, sizeof(float));
    seed[target] = 1;
    double base = y0[target];
    ok = ok && hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    const float *gl = hl_run_grad(r, v, NULL);
    float *g = malloc((size_t)n * sizeof(float));
    if (gl)
        memcpy(g, gl, (size_t)n * sizeof(float));
    ok = ok && gl && hl_run_input_grad(r);

    /* the override by the value itself changes nothing */
    ok = ok && hl_run_set_override(r, v, act, &err) == HL_OK &&
         forward1(r, x->data, 1);
    double same = ok ? fabs(hl_run_value(r, out, NULL)[target] - base) : 1;
    tap_ok(ok && same < 1e-5 * (fabs(base) + 1),
           "%s: overriding %s by its own value keeps the logit (diff %.2g)",
           case_name, layer, same);
    ok = ok && hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    const float *g2 = hl_run_grad(r, v, NULL);
    tap_ok(ok && g2 && (!cuts_input || !hl_run_input_grad(r)) &&
               max_abs_diff(g2, g, n) <= 1e-6 * (max_abs(g, n) + 1e-12),
           "%s: with %s overridden, backward stops there%s and its gradient "
           "is unchanged", case_name, layer,
           cuts_input ? " (no input gradient)" : "");

    /* a backward stopped at the layer: the same gradient there (the same
     * nodes below it, in the same order), none upstream of it */
    hl_run_clear_overrides(r);
    hl_run_set_backward_stop(r, v);
    int ok3 = ok && forward1(r, x->data, 1) &&
              hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    const float *g3 = ok3 ? hl_run_grad(r, v, NULL) : NULL;
    tap_ok(g3 && !hl_run_input_grad(r) && max_abs_diff(g3, g, n) == 0,
           "%s: backward stopped at %s gives its gradient bit for bit and no "
           "input gradient", case_name, layer);
    hl_run_set_backward_stop(r, -1);
    ok = ok && forward1(r, x->data, 1) &&
         hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK;
    tap_ok(ok && hl_run_input_grad(r),
           "%s: without the stop, backward reaches the input again", case_name);

    int smooth = 0;
    double worst = ok ? fd_check(m, x->data, v, act, g, n, target, 1e-2f,
                                 &smooth)
                      : 1e9;
    tap_ok(ok && smooth >= 16 && worst < 1e-2,
           "%s: gradient at %s vs central differences through overrides at "
           "%d of 24 elements (others non-smooth): worst err %.2g of max |g|",
           case_name, layer, smooth, worst);
    hl_run_clear_overrides(r);
    free(seed);
    free(act);
    free(g);
    hl_run_free(r);
    hl_array_free(x);
}

/* Value of a layer and Captum's LayerActivation; folded == unfolded. */
static void check_layer_value(hl_model *folded, hl_model *unfolded,
                              const char *case_name, const char *layer)
{
    hl_array *x = load_npy(case_name, "input.npy");
    hl_array *want = load_npy(case_name, "layer_activation.npy");
    if (!x || !want || !folded || !unfolded) {
        tap_ok(0, "%s: layer activation data", case_name);
        goto out;
    }
    hl_run *r1 = hl_run_new(folded, 1), *r2 = hl_run_new(unfolded, 1);
    forward1(r1, x->data, 1);
    forward1(r2, x->data, 1);
    hl_shape s1, s2;
    const float *a1 = hl_run_value(r1, hl_model_find_value(folded, layer), &s1);
    const float *a2 = hl_run_value(r2, hl_model_find_value(unfolded, layer), &s2);
    long n = (long)hl_shape_numel(&want->shape);
    int shapes = a1 && a2 && hl_shape_numel(&s1) == n && hl_shape_numel(&s2) == n;
    double e1 = shapes ? max_abs_diff(a1, want->data, n) / max_abs(want->data, n) : 1;
    double e2 = shapes ? max_abs_diff(a2, want->data, n) / max_abs(want->data, n) : 1;
    tap_ok(shapes && e1 < 1e-5 && e2 < 1e-5,
           "%s: %s equals Captum's LayerActivation, BN folded (rel err %.2g) "
           "and unfolded (%.2g)", case_name, layer, e1, e2);
    tap_ok(hl_model_num_nodes(folded) < hl_model_num_nodes(unfolded),
           "%s: BatchNormalization folded at load (%d nodes, %d unfolded)",
           case_name, hl_model_num_nodes(folded), hl_model_num_nodes(unfolded));
    hl_run_free(r1);
    hl_run_free(r2);
out:
    hl_array_free(x);
    hl_array_free(want);
}

/* Backward rules against Captum's attributions of the same case. */
static void check_rules(hl_model *m, const char *case_name, int target)
{
    hl_array *x = load_npy(case_name, "input.npy");
    if (!m || !x) {
        tap_ok(0, "%s: rule data", case_name);
        hl_array_free(x);
        return;
    }
    long n = (long)hl_shape_numel(&x->shape);
    struct {
        const char *file;
        hl_backward_rule rule;
        int times_input;
    } cases[] = {
        {"saliency_signed.npy", HL_RULE_GRADIENT, 0},
        {"guided_backprop.npy", HL_RULE_GUIDED, 0},
        {"deconvolution.npy", HL_RULE_DECONV, 0},
        {"deeplift.npy", HL_RULE_DEEPLIFT, 1},
    };
    hl_run *r = hl_run_new(m, 1), *ref = hl_run_new(m, 1);
    float *zeros = calloc((size_t)n, sizeof(float));
    forward1(ref, zeros, 1);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hl_array *want = load_npy(case_name, cases[c].file);
        float *g = input_grad(r, x->data, target, cases[c].rule,
                              cases[c].rule == HL_RULE_DEEPLIFT ? ref : NULL, n);
        double e = 1;
        if (g && want && hl_shape_numel(&want->shape) == n) {
            if (cases[c].times_input)
                for (long i = 0; i < n; i++)
                    g[i] *= x->data[i]; /* baseline zero: (x - 0) * g */
            e = max_abs_diff(g, want->data, n) / (max_abs(want->data, n) + 1e-30);
        }
        tap_ok(e < 1e-4, "%s: rule %d gives Captum's %s (max rel err %.2g)",
               case_name, (int)cases[c].rule, cases[c].file, e);
        free(g);
        hl_array_free(want);
    }
    /* DeepLift with a batch-1 reference broadcast over a batch of 2 */
    float *x2 = malloc((size_t)(2 * n) * sizeof(float));
    memcpy(x2, x->data, (size_t)n * sizeof(float));
    memcpy(x2 + n, x->data, (size_t)n * sizeof(float));
    hl_error err = {0};
    int ok = forward1(r, x2, 2);
    hl_shape os;
    int out = hl_model_output_value(m);
    hl_run_value(r, out, &os);
    float *seed = calloc((size_t)hl_shape_numel(&os), sizeof(float));
    long classes = (long)(hl_shape_numel(&os) / 2);
    seed[target] = 1;
    seed[classes + target] = 1;
    ok = ok && hl_run_backward(r, out, seed, HL_RULE_DEEPLIFT, ref, &err) == HL_OK;
    const float *g2 = ok ? hl_run_input_grad(r) : NULL;
    float *g1 = input_grad(ref, x->data, target, HL_RULE_GRADIENT, NULL, n);
    hl_run *r1 = hl_run_new(m, 1), *ref1 = hl_run_new(m, 1);
    forward1(ref1, zeros, 1);
    float *gd = input_grad(r1, x->data, target, HL_RULE_DEEPLIFT, ref1, n);
    tap_ok(g2 && gd && max_abs_diff(g2, gd, n) <= 1e-6 * max_abs(gd, n) &&
               max_abs_diff(g2 + n, gd, n) <= 1e-6 * max_abs(gd, n),
           "%s: DeepLift with a batch-1 reference broadcast to batch 2", case_name);
    (void)g1;
    free(g1);
    free(gd);
    /* a reference of another batch size is refused */
    hl_run *ref3 = hl_run_new(m, 1);
    float *z3 = calloc((size_t)(3 * n), sizeof(float));
    forward1(ref3, z3, 3);
    hl_status st = hl_run_backward(r, out, seed, HL_RULE_DEEPLIFT, ref3, &err);
    tap_ok(st == HL_ERR_ARG, "%s: DeepLift reference of batch 3 for batch 2 "
           "refused: %s", case_name, err.msg);
    st = hl_run_backward(r, out, seed, HL_RULE_DEEPLIFT, NULL, &err);
    tap_ok(st == HL_ERR_ARG, "DeepLift without reference refused: %s", err.msg);
    free(z3);
    hl_run_free(ref3);
    hl_run_free(r1);
    hl_run_free(ref1);
    free(seed);
    free(x2);
    free(zeros);
    hl_run_free(r);
    hl_run_free(ref);
    hl_array_free(x);
}

/* torch's x.view(x.size(0), -1): Shape chains at batch 1 and 3. */
static void check_free_batch(void)
{
    hl_model *m = load_model("captum/tinyres_default_export/model.onnx", 1);
    check_logits(m, "tinyres_default_export");
    hl_array *x = load_npy("tinyres_default_export", "input.npy");
    if (!m || !x) {
        tap_ok(0, "default export data");
        goto out;
    }
    long n = (long)hl_shape_numel(&x->shape);
    float *xb = malloc((size_t)(3 * n) * sizeof(float));
    for (long i = 0; i < n; i++) {
        xb[i] = x->data[i];
        xb[n + i] = 0.5f * x->data[i];
        xb[2 * n + i] = x->data[i] + 0.3f * rnd_normal();
    }
    hl_run *r3 = hl_run_new(m, 1), *r1 = hl_run_new(m, 1);
    int ok = forward1(r3, xb, 3);
    hl_shape s3;
    const float *y3 = ok ? hl_run_value(r3, hl_model_output_value(m), &s3) : NULL;
    double worst = y3 && s3.dims[0] == 3 ? 0 : 1e9;
    for (int b = 0; b < 3 && y3 && worst < 1e9; b++) {
        hl_shape s1;
        forward1(r1, xb + b * n, 1);
        const float *y1 = hl_run_value(r1, hl_model_output_value(m), &s1);
        long c = (long)hl_shape_numel(&s1);
        double e = max_abs_diff(y3 + b * c, y1, c) / (max_abs(y1, c) + 1e-30);
        if (e > worst)
            worst = e;
    }
    tap_ok(worst < 1e-5, "default export: batch 3 rows equal batch-1 runs "
           "(max rel err %.2g)", worst);
    hl_run_free(r3);
    hl_run_free(r1);
    free(xb);
out:
    check_input_gradient(m, "tinyres_default_export", 7, 3e-3f);
    hl_array_free(x);
    hl_model_free(m);
}

/* Guided/deconvolution rules only change Relu: on a graph without Relu
 * they equal the plain gradient. */
static void check_relu_free(void)
{
    hl_model *m = load_model("engine/relu_free.onnx", 1);
    if (!m)
        return;
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    long n = (long)hl_shape_numel(&s);
    float *x = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++)
        x[i] = 3.0f * rnd_normal();
    hl_run *r = hl_run_new(m, 1);
    float *g0 = input_grad(r, x, 1, HL_RULE_GRADIENT, NULL, n);
    float *g1 = input_grad(r, x, 1, HL_RULE_GUIDED, NULL, n);
    float *g2 = input_grad(r, x, 1, HL_RULE_DECONV, NULL, n);
    tap_ok(g0 && g1 && g2 && max_abs(g0, n) > 0 &&
               max_abs_diff(g0, g1, n) == 0 && max_abs_diff(g0, g2, n) == 0,
           "Relu-free graph: guided == deconvolution == plain gradient");
    free(g0);
    free(g1);
    free(g2);
    free(x);
    hl_run_free(r);
    hl_model_free(m);
}

/* One forward + backward of x from logit 3 on r; copies the input gradient
 * into g (n floats). */
static int grad_of(hl_run *r, const hl_array *x, float *g, long n)
{
    hl_error err = {0};
    float seed[10] = {0};
    seed[3] = 1;
    int out = hl_model_output_value(hl_run_model(r));
    if (hl_run_forward(r, x->data, 1, &err) ||
        hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err) ||
        !hl_run_input_grad(r))
        return 0;
    memcpy(g, hl_run_input_grad(r), (size_t)n * sizeof(float));
    return 1;
}

/* hl_run_release keeps a run for the next hl_run_acquire with the same
 * thread count, reset to a fresh run's settings (a lean run comes back
 * keeping everything, with no override), giving a fresh run's numbers bit
 * for bit; another thread count gets another run; the model frees them
 * (valgrind). */
static void check_idle_runs(hl_model *m, const char *case_name)
{
    hl_array *x = load_npy(case_name, "input.npy");
    if (!m || !x) {
        tap_ok(0, "idle runs data");
        hl_array_free(x);
        return;
    }
    long n = (long)hl_shape_numel(&x->shape);
    float *g0 = malloc((size_t)(3 * n) * sizeof(float));
    float *g1 = g0 + n, *g2 = g0 + 2 * n;
    hl_error err = {0};
    hl_run *fresh = hl_run_new(m, 2);
    int ok = fresh && grad_of(fresh, x, g0, n);
    hl_run_free(fresh);

    hl_run *a = hl_run_acquire(m, NULL, 2);
    float junk[1024] = {0};
    int v = hl_model_find_value(m, "/conv2/Conv_output_0");
    ok = ok && a && v >= 0 && hl_run_keep_only(a, NULL, 0, &err) == HL_OK &&
         hl_run_set_override(a, v, junk, &err) == HL_OK;
    hl_run_set_backward_stop(a, v);
    hl_run_release(a);
    hl_run *b = hl_run_acquire(m, NULL, 2);
    hl_run *c = hl_run_acquire(m, NULL, 1);
    ok = ok && b && c && grad_of(b, x, g1, n) && grad_of(c, x, g2, n);
    tap_ok(ok && b == a && c != a, "%s: a released run is taken back by the "
           "next acquire with its thread count, not by another", case_name);
    tap_ok(ok && memcmp(g0, g1, (size_t)n * sizeof(float)) == 0 &&
               hl_run_value(b, v, NULL) != NULL,
           "%s: the run taken back forgets its override, backward stop and "
           "lean set: the fresh run's input gradient bit for bit, every "
           "value readable", case_name);
    tap_ok(ok && max_abs_diff(g0, g2, n) <= 1e-6 * max_abs(g0, n),
           "%s: a 1-thread run acquired meanwhile gives the same gradient",
           case_name);
    hl_run_release(b);
    hl_run_release(c);
    free(g0);
    hl_array_free(x);
}

/* A run reused many times at changing batch sizes gives the same numbers
 * (valgrind checks it leaks nothing). */
static void check_reuse(hl_model *m, const char *case_name)
{
    hl_array *x = load_npy(case_name, "input.npy");
    if (!m || !x) {
        tap_ok(0, "reuse data");
        hl_array_free(x);
        return;
    }
    long n = (long)hl_shape_numel(&x->shape);
    float *xb = malloc((size_t)(3 * n) * sizeof(float));
    for (int b = 0; b < 3; b++)
        memcpy(xb + b * n, x->data, (size_t)n * sizeof(float));
    hl_run *r = hl_run_new(m, 2);
    float *first = NULL;
    int same = 1;
    hl_error err = {0};
    int out = hl_model_output_value(m);
    float seed[30] = {0};
    seed[3] = 1;
    seed[13] = 1;
    seed[23] = 1;
    for (int it = 0; it < 1000 && same; it++) {
        int batch = 1 + it % 3;
        if (hl_run_forward(r, xb, batch, &err) ||
            hl_run_backward(r, out, seed, HL_RULE_GRADIENT, NULL, &err)) {
            same = 0;
            tap_diag("iteration %d: %s", it, err.msg);
            break;
        }
        const float *g = hl_run_input_grad(r);
        if (!first) {
            first = malloc((size_t)n * sizeof(float));
            memcpy(first, g, (size_t)n * sizeof(float));
        }
        for (int b = 0; b < batch; b++)
            if (max_abs_diff(g + b * n, first, n) > 1e-6 * max_abs(first, n))
                same = 0;
    }
    tap_ok(same, "%s: 1000 forward+backward at batches 1,2,3 on one run "
           "give the same gradients", case_name);
    free(first);
    free(xb);
    hl_run_free(r);
    hl_array_free(x);
}

/* Runs that borrow one thread pool (hl_run_new_shared) compute what a run
 * with its own pool of the same size computes, bit for bit; freeing one
 * of them leaves the pool to the others; a NULL pool is one thread. */
static void check_shared_pool(hl_model *m, const char *case_name)
{
    hl_array *x = load_npy(case_name, "input.npy");
    hl_threadpool *pool = hl_threadpool_new(2);
    hl_run *own = hl_run_new(m, 2), *single = hl_run_new(m, 1);
    hl_run *a = hl_run_new_shared(m, pool), *b = hl_run_new_shared(m, pool);
    hl_run *none = hl_run_new_shared(m, NULL);
    if (!x || !pool || !own || !single || !a || !b || !none) {
        tap_ok(0, "%s: shared-pool runs created", case_name);
    } else {
        long n = (long)hl_shape_numel(&x->shape);
        float *g_own = input_grad(own, x->data, 1, HL_RULE_GRADIENT, NULL, n);
        float *g_one = input_grad(single, x->data, 1, HL_RULE_GRADIENT, NULL, n);
        float *g_a = input_grad(a, x->data, 1, HL_RULE_GRADIENT, NULL, n);
        hl_run_free(a);
        a = NULL;
        float *g_b = input_grad(b, x->data, 1, HL_RULE_GRADIENT, NULL, n);
        float *g_none = input_grad(none, x->data, 1, HL_RULE_GRADIENT, NULL, n);
        size_t bytes = (size_t)n * sizeof(float);
        tap_ok(g_own && g_a && g_b && memcmp(g_own, g_a, bytes) == 0 &&
                   memcmp(g_own, g_b, bytes) == 0,
               "%s: two runs sharing a 2-thread pool give the own-pool run's "
               "input gradient bit for bit (the second after the first was "
               "freed)", case_name);
        tap_ok(g_one && g_none && memcmp(g_one, g_none, bytes) == 0 &&
                   hl_threadpool_threads(NULL) == 1 &&
                   hl_threadpool_threads(pool) == 2,
               "%s: a run on a NULL pool is the 1-thread run", case_name);
        free(g_own);
        free(g_one);
        free(g_a);
        free(g_b);
        free(g_none);
    }
    hl_run_free(a);
    hl_run_free(b);
    hl_run_free(none);
    hl_run_free(own);
    hl_run_free(single);
    hl_threadpool_free(pool);
    hl_array_free(x);
}

static void check_queries(hl_model *m)
{
    if (!m)
        return;
    int ok = 1;
    for (int i = 0; i < hl_model_num_nodes(m); i++) {
        hl_node_info ni;
        hl_model_node_info(m, i, &ni);
        hl_shape s;
        if (!ni.name || !ni.op || ni.output < 0 ||
            hl_model_value_shape(m, ni.output, &s) || !hl_shape_equal(&s, &ni.shape) ||
            (s.ndim > 0 && s.dims[0] != 1))
            ok = 0;
    }
    tap_ok(ok && hl_model_num_nodes(m) > 5, "node list: names, ops, batch-1 shapes");
    hl_shape s;
    int v = hl_model_find_value(m, "/conv2/Conv");
    tap_ok(v == hl_model_find_value(m, "/conv2/Conv_output_0") && v >= 0 &&
               hl_model_value_shape(m, v, &s) == HL_OK && s.ndim == 4 &&
               s.dims[1] == 32 && s.dims[2] == 16,
           "find_value by node name = its output [1,32,16,16]");
    double f = hl_model_forward_flops(m);
    /* conv1 3->16 k3 at 32x32, conv2 16->32 k3 at 16x16, fc 32->10 */
    double macs = 16.0 * 32 * 32 * 27 + 32.0 * 16 * 16 * 144 + 320;
    tap_ok(f >= macs && f < 1.1 * macs, "forward flops %.0f ~ %.0f multiply-adds",
           f, macs);
    hl_run *r = hl_run_new(m, 1);
    hl_error err = {0};
    float seed[10] = {0};
    tap_ok(hl_run_backward(r, hl_model_output_value(m), seed, HL_RULE_GRADIENT,
                           NULL, &err) == HL_ERR_ARG,
           "backward before forward refused: %s", err.msg);
    hl_run_free(r);
}

int main(void)
{
    hl_engine_init();
    const char *src = getenv("HL_SOURCE_ROOT");
    snprintf(src_root, sizeof src_root, "%s", src ? src : ".");

    hl_model *cnn = load_model("captum/tinycnn/model.onnx", 1);
    check_logits(cnn, "tinycnn");
    check_queries(cnn);
    check_input_gradient(cnn, "tinycnn", 1, 1e-2f);
    check_layer_gradient(cnn, "tinycnn", "/conv2/Conv_output_0", 1, 1);
    check_rules(cnn, "tinycnn", 1);
    check_reuse(cnn, "tinycnn");
    check_idle_runs(cnn, "tinycnn");
    check_shared_pool(cnn, "tinycnn");

    hl_model *res = load_model("captum/tinyres/model.onnx", 1);
    hl_model *res_unfolded = load_model("captum/tinyres/model.onnx", 0);
    check_logits(res, "tinyres");
    check_logits(res_unfolded, "tinyres");
    check_layer_value(res, res_unfolded, "tinyres", "/res/conv2/Conv_output_0");
    check_input_gradient(res, "tinyres", 7, 3e-3f);
    check_input_gradient(res_unfolded, "tinyres", 7, 3e-3f);
    check_layer_gradient(res, "tinyres", "/res/conv2/Conv_output_0", 7, 0);
    check_layer_gradient(res_unfolded, "tinyres", "/res/conv2/Conv_output_0", 7, 0);
    check_layer_gradient(res, "tinyres", "/res/relu_out/Relu", 7, 1);
    check_rules(res, "tinyres", 7);
    check_rules(res_unfolded, "tinyres", 7);

    check_free_batch();
    check_relu_free();

    hl_model_free(cnn);
    hl_model_free(res);
    hl_model_free(res_unfolded);
    return tap_done();
}
