/* The teaching views' library functions on a small EfficientNet-style CNN
 * (tests/data/models/tiny_efficientnet.onnx and its input):
 *   hl_ig_path_compute  - the probability along the path equals softmax of
 *                         the engine's output on interpolated inputs built
 *                         here; each step's gradient equals saliency (abs
 *                         off) at that point; the attribution accumulated to
 *                         the last step equals integrated_gradients';
 *   hl_layer_channels_compute - the activations equal the engine's value of
 *                         the layer, strengths are their means (double sum
 *                         here), the order is by strength, the peak the
 *                         argmax; layers that are not feature maps are
 *                         refused with one line naming them. */
#include <math.h>

#include "attr-test-util.h"
#include "ig_path.h"
#include "layer_channels.h"

#define MODEL "tests/data/models/tiny_efficientnet.onnx"
#define INPUT "tests/data/models/tiny_efficientnet.input.npy"

static double softmax_target(const float *logits, int64_t k, int target)
{
    double mx = logits[0], sum = 0.0;
    for (int64_t i = 1; i < k; i++)
        mx = logits[i] > mx ? logits[i] : mx;
    for (int64_t i = 0; i < k; i++)
        sum += exp((double)logits[i] - mx);
    return exp((double)logits[target] - mx) / sum;
}

/* The target probability at b + alpha (x - b), from a fresh engine run. */
static double prob_at(const hl_model *m, const hl_array *x, const float *b,
                      double alpha, int target)
{
    int64_t n = hl_shape_numel(&x->shape);
    float *pt = malloc(sizeof(float) * (size_t)n);
    hl_run *run = hl_run_new(m, 1);
    hl_error err = { 0 };
    double p = NAN;
    for (int64_t i = 0; i < n; i++)
        pt[i] = b[i] + (float)alpha * (x->data[i] - b[i]);
    hl_shape s;
    if (hl_run_forward(run, pt, 1, &err) == HL_OK) {
        const float *logits = hl_run_value(run, hl_model_output_value(m), &s);
        p = softmax_target(logits, hl_shape_numel(&s), target);
    }
    hl_run_free(run);
    free(pt);
    return p;
}

static double max_abs_diff(const float *a, const float *b, int64_t n, double *scale)
{
    double d = 0.0, s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    *scale = s;
    return d;
}

static void test_ig_path(const hl_model *m, const hl_array *x)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.n_steps = 12;
    strcpy(p.baseline, "0.25");
    hl_ig_path path;
    hl_error err = { 0 };
    int ok = hl_ig_path_compute(m, x, &p, NULL, 9, &path, &err) == HL_OK;
    tap_ok(ok, "IG path computes (12 steps, 9 curve points): %s", ok ? "ok" : err.msg);
    if (!ok)
        return;
    const int64_t n = path.numel;
    float *b = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        b[i] = 0.25f;
    hl_ig_path_point(&path, 0.0, b);
    int base_ok = 1;
    for (int64_t i = 0; i < n; i++)
        base_ok &= b[i] == 0.25f;
    tap_ok(base_ok, "alpha 0 is the baseline (0.25 everywhere)");

    double worst = 0.0;
    for (int i = 0; i < path.n_curve; i++)
        worst = fmax(worst, fabs(prob_at(m, x, b, path.curve_alpha[i], path.target) - path.curve_prob[i]));
    tap_ok(worst < 1e-5, "curve probabilities = softmax of the engine on b + a(x - b) at 9 alphas (max diff %.2e)", worst);
    worst = 0.0;
    for (int k = 0; k < path.n_steps; k++)
        worst = fmax(worst, fabs(prob_at(m, x, b, (float)path.step_alpha[k], path.target) - path.step_prob[k]));
    tap_ok(worst < 1e-5, "step probabilities = the same at the 12 quadrature alphas (max diff %.2e)", worst);
    int ascending = path.step_alpha[0] > 0.0 && path.step_alpha[path.n_steps - 1] < 1.0;
    double wsum = 0.0;
    for (int k = 0; k < path.n_steps; k++) {
        wsum += path.step_weight[k];
        ascending &= k == 0 || path.step_alpha[k] > path.step_alpha[k - 1];
    }
    tap_ok(ascending && fabs(wsum - 1.0) < 1e-9, "Gauss-Legendre alphas ascend inside (0,1), weights sum to 1 (%.12f)", wsum);

    /* the gradient at step 5 = saliency (abs off) of the point there */
    hl_array *pt = hl_array_new(&x->shape);
    hl_ig_path_point(&path, (float)path.step_alpha[5], pt->data);
    hl_attr_params sp;
    hl_attr_params_init(&sp);
    sp.saliency_abs = 0;
    sp.target = path.target;
    hl_attr_result sal = { 0 };
    double scale = 0.0, d = INFINITY;
    if (hl_attribute(m, "saliency", pt, &sp, NULL, &sal, &err) == HL_OK)
        d = max_abs_diff(hl_ig_path_gradient(&path, 5), sal.attr->data, n, &scale);
    tap_ok(d <= 1e-6 * fmax(scale, 1.0), "step 5's gradient = saliency (abs off) at that point (max diff %.2e of %.2e)", d, scale);
    hl_attr_result_clear(&sal);

    /* accumulated to the last step = integrated_gradients */
    hl_attr_params ip = p;
    ip.target = path.target;
    hl_attr_result ig = { 0 };
    float *acc = malloc(sizeof(float) * (size_t)n);
    d = INFINITY;
    if (hl_attribute(m, "integrated_gradients", x, &ip, NULL, &ig, &err) == HL_OK) {
        hl_ig_path_accumulated(&path, path.n_steps - 1, acc);
        d = max_abs_diff(acc, ig.attr->data, n, &scale);
    }
    tap_ok(d <= 1e-6 * fmax(scale, 1.0), "accumulated attribution at the last step = integrated_gradients (max diff %.2e of %.2e)", d, scale);
    /* completeness: the sum approaches F(x) - F(b) (the curve's end logits) */
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += acc[i];
    double full = path.curve_logit[path.n_curve - 1] - path.curve_logit[0];
    /* (alpha 1 is b + (x - b) in float: F there may differ from F(x) by
     * rounding, hence the 1e-6) */
    tap_ok(fabs(sum - full - ig.delta) < 1e-6,
           "sum %.4e - (F(x) - F(b)) %.4e = IG's convergence delta %.2e (off by %.1e)",
           sum, full, ig.delta, fabs(sum - full - ig.delta));
    hl_ig_path_accumulated(&path, 0, acc);
    int first_ok = 1;
    const float *g0 = hl_ig_path_gradient(&path, 0);
    for (int64_t i = 0; i < n; i++) {
        double want = (double)(float)path.step_weight[0] * g0[i] * ((double)x->data[i] - 0.25f);
        first_ok &= fabs(acc[i] - want) <= 1e-6 * fmax(fabs(want), 1e-3);
    }
    tap_ok(first_ok, "accumulated at step 0 = w0 * gradient0 * (x - b)");
    hl_attr_result_clear(&ig);
    hl_array_free(pt);
    free(acc);
    free(b);
    hl_ig_path_clear(&path);

    hl_ig_path bad;
    ok = hl_ig_path_compute(m, x, &p, NULL, 1, &bad, &err) != HL_OK;
    tap_ok(ok && strstr(err.msg, "at least 2") != NULL, "a curve of 1 point is refused: %s", err.msg);
    p.n_steps = 1;
    p.ig_method = HL_IG_RIEMANN_LEFT;
    ok = hl_ig_path_compute(m, x, &p, NULL, 5, &bad, &err) != HL_OK;
    tap_ok(ok && bad.grads == NULL, "a Riemann rule with 1 step is refused, nothing kept: %s", err.msg);
}

static void test_layer_channels(const hl_model *m, const hl_array *x)
{
    const char *layer = "/blocks/blocks.1/block/block.0/block.0.2/Mul";
    hl_layer_channels lc;
    hl_error err = { 0 };
    int ok = hl_layer_channels_compute(m, x, layer, NULL, &lc, &err) == HL_OK;
    tap_ok(ok && lc.channels == 32 && lc.height == 16 && lc.width == 16,
           "layer channels of %s: 32 x 16 x 16 (%s)", layer, ok ? "ok" : err.msg);
    if (!ok)
        return;
    /* the engine's threads as hl_layer_channels_compute's (0 = all): with
     * oneDNN one image is cut by channels over the threads, and other
     * cuts round differently */
    hl_run *run = hl_run_new(m, 0);
    hl_run_forward(run, x->data, 1, &err);
    const float *act = hl_run_value(run, hl_model_find_value(m, layer), NULL);
    /* (lc comes from a run on every core, act from one thread: oneDNN
     * splits a single image's convolutions by channels over the threads,
     * which changes the order of float sums) */
    double worst = act ? 0 : INFINITY, scale = 1e-30;
    for (int64_t i = 0; act && i < 32 * 16 * 16; i++) {
        worst = fmax(worst, fabs((double)act[i] - lc.act[i]));
        scale = fmax(scale, fabs((double)act[i]));
    }
    tap_ok(worst <= 1e-5 * scale, "the activations are the engine's value of the layer "
           "(max diff %.2e of %.2e)", worst, scale);
    int means = 1, peaks = 1, order = 1;
    for (int c = 0; act && c < 32; c++) {
        double s = 0.0;
        int best = 0;
        for (int i = 0; i < 256; i++) {
            s += act[c * 256 + i];
            if (act[c * 256 + i] > act[c * 256 + best])
                best = i;
        }
        means &= fabs(s / 256.0 - lc.strength[c]) <= 1e-6 * fmax(fabs(s / 256.0), 1.0);
        peaks &= lc.peak[c] == best;
    }
    int seen[32] = { 0 };
    for (int r = 0; r < 32; r++) {
        seen[lc.order[r]]++;
        if (r > 0)
            order &= lc.strength[lc.order[r - 1]] > lc.strength[lc.order[r]] ||
                     (lc.strength[lc.order[r - 1]] == lc.strength[lc.order[r]] && lc.order[r - 1] < lc.order[r]);
    }
    for (int c = 0; c < 32; c++)
        order &= seen[c] == 1;
    tap_ok(means, "strengths = the channels' mean activations");
    tap_ok(peaks, "peaks = the cells of each channel's largest activation");
    tap_ok(order, "the order is a permutation, strongest first (strongest: ch %d, %.4f)",
           lc.order[0], lc.strength[lc.order[0]]);
    hl_run_free(run);
    hl_layer_channels_clear(&lc);

    ok = hl_layer_channels_compute(m, x, "/blocks/blocks.0/block/block.1/fc1/Conv", NULL, &lc, &err) == HL_OK;
    tap_ok(ok && lc.height == 1 && lc.width == 1, "a 1x1 feature map is still a feature map");
    hl_layer_channels_clear(&lc);
    ok = hl_layer_channels_compute(m, x, "no_such_layer", NULL, &lc, &err) != HL_OK;
    tap_ok(ok && strstr(err.msg, "no_such_layer") != NULL && lc.act == NULL,
           "an unknown layer gets one line naming it: %s", err.msg);
}

int main(void)
{
    hl_engine_init();
    hl_model *m = load_source_model(MODEL);
    hl_array *x = load_source_npy(INPUT);
    if (!m || !x) {
        tap_ok(0, "load %s and its input", MODEL);
        return tap_done();
    }
    if (x->shape.dims[0] > 1) {
        /* a batch of inputs: the views explain one photo, the first */
        hl_shape one = x->shape;
        one.dims[0] = 1;
        hl_array *first = hl_array_new(&one);
        memcpy(first->data, x->data, sizeof(float) * (size_t)hl_shape_numel(&one));
        hl_array_free(x);
        x = first;
    }
    test_ig_path(m, x);
    test_layer_channels(m, x);
    hl_array_free(x);
    hl_model_free(m);
    return tap_done();
}
