/* The methods beyond Captum against their papers' definitions on a small
 * hand-made graph (tests/data/attr-papers/): the graph is recomputed here
 * in float64 from its weights (forward, the target's gradient at the layer
 * and at the input), and each formula is evaluated from it:
 * GradCAM++ (Chattopadhyay et al. 2018, eq. 19), XGradCAM (Fu et al.
 * 2020, eq. 12), Score-CAM (Wang et al. 2020, def. 2 and eq. 6), RISE
 * (Petsiuk et al. 2018, eq. 6, on masks drawn by the method), Blur IG (Xu
 * et al. 2020, eq. 4 as the authors discretise it) and Guided IG
 * (Kapishnikov et al. 2021, algorithm 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define C_IN 2
#define H_IN 8
#define K1 4            /* layer channels */
#define H1 4            /* layer height and width */
#define K2 3
#define N_CLS 5
#define NX (C_IN * H_IN * H_IN)
#define NA (K1 * H1 * H1)
#define TARGET 2

typedef struct net {
    double w1[K1][C_IN][3][3], b1[K1], w2[K2][K1], b2[K2], fc[N_CLS][K2], fcb[N_CLS];
} net;

typedef struct pass {
    double pre1[NA], a1[NA], pre2[K2 * H1 * H1], logits[N_CLS];
} pass;

static net W;
static hl_model *model;
static hl_array *x_in;

static int load_weights(void)
{
    const char *names[6] = { "conv1_w", "conv1_b", "conv2_w", "conv2_b", "fc_w", "fc_b" };
    double *dst[6] = { &W.w1[0][0][0][0], W.b1, &W.w2[0][0], W.b2, &W.fc[0][0], W.fcb };
    const long count[6] = { K1 * C_IN * 9, K1, K2 * K1, K2, N_CLS * K2, N_CLS };
    for (int i = 0; i < 6; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "attr-papers/papers_%s.npy", names[i]);
        hl_array *a = load_npy(rel);
        if (!a || hl_shape_numel(&a->shape) != count[i]) {
            hl_array_free(a);
            return 0;
        }
        for (long k = 0; k < count[i]; k++)
            dst[i][k] = a->data[k];
        hl_array_free(a);
    }
    return 1;
}

static void forward(const double *x, pass *p)
{
    for (int k = 0; k < K1; k++)
        for (int i = 0; i < H1; i++)
            for (int j = 0; j < H1; j++) {
                double s = W.b1[k];
                for (int c = 0; c < C_IN; c++)
                    for (int dy = 0; dy < 3; dy++)
                        for (int dx = 0; dx < 3; dx++) {
                            int y = 2 * i + dy - 1, xx = 2 * j + dx - 1;
                            if (y >= 0 && y < H_IN && xx >= 0 && xx < H_IN)
                                s += W.w1[k][c][dy][dx] * x[(c * H_IN + y) * H_IN + xx];
                        }
                p->pre1[(k * H1 + i) * H1 + j] = s;
                p->a1[(k * H1 + i) * H1 + j] = s > 0 ? s : 0;
            }
    double gap[K2];
    for (int m = 0; m < K2; m++) {
        gap[m] = 0;
        for (int q = 0; q < H1 * H1; q++) {
            double s = W.b2[m];
            for (int k = 0; k < K1; k++)
                s += W.w2[m][k] * p->a1[k * H1 * H1 + q];
            p->pre2[m * H1 * H1 + q] = s;
            gap[m] += (s > 0 ? s : 0) / (H1 * H1);
        }
    }
    for (int t = 0; t < N_CLS; t++) {
        p->logits[t] = W.fcb[t];
        for (int m = 0; m < K2; m++)
            p->logits[t] += W.fc[t][m] * gap[m];
    }
}

static double target_prob(const double *x)
{
    pass p;
    forward(x, &p);
    double mx = p.logits[0], sum = 0;
    for (int t = 1; t < N_CLS; t++)
        mx = fmax(mx, p.logits[t]);
    for (int t = 0; t < N_CLS; t++)
        sum += exp(p.logits[t] - mx);
    return exp(p.logits[TARGET] - mx) / sum;
}

/* dS/dA at the layer (relu1's output). */
static void layer_grad(const pass *p, double *g)
{
    for (int k = 0; k < K1; k++)
        for (int q = 0; q < H1 * H1; q++) {
            double s = 0;
            for (int m = 0; m < K2; m++)
                if (p->pre2[m * H1 * H1 + q] > 0)
                    s += W.w2[m][k] * W.fc[TARGET][m] / (H1 * H1);
            g[k * H1 * H1 + q] = s;
        }
}

/* dS/dx at the input. */
static void input_grad(const double *x, double *gx)
{
    pass p;
    double ga[NA];
    forward(x, &p);
    layer_grad(&p, ga);
    memset(gx, 0, sizeof(double) * NX);
    for (int k = 0; k < K1; k++)
        for (int i = 0; i < H1; i++)
            for (int j = 0; j < H1; j++) {
                int o = (k * H1 + i) * H1 + j;
                if (p.pre1[o] <= 0)
                    continue;
                for (int c = 0; c < C_IN; c++)
                    for (int dy = 0; dy < 3; dy++)
                        for (int dx = 0; dx < 3; dx++) {
                            int y = 2 * i + dy - 1, xx = 2 * j + dx - 1;
                            if (y >= 0 && y < H_IN && xx >= 0 && xx < H_IN)
                                gx[(c * H_IN + y) * H_IN + xx] += W.w1[k][c][dy][dx] * ga[o];
                        }
            }
}

static void input_double(double *x)
{
    for (int i = 0; i < NX; i++)
        x[i] = x_in->data[i];
}

static double rel_l2_d(const float *a, const double *ref, long n)
{
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        num += ((double)a[i] - ref[i]) * ((double)a[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static void params_for(hl_attr_params *p)
{
    hl_attr_params_init(p);
    p->target = TARGET;
    strcpy(p->layer, "relu1");
}

static void check_method(const char *method, const hl_attr_params *p,
                         const double *ref, long n, double tol, const char *what)
{
    hl_attr_result r;
    hl_array *a = run_method(model, method, x_in, p, &r);
    double e = a && hl_shape_numel(&a->shape) == n ? rel_l2_d(a->data, ref, n) : INFINITY;
    tap_ok(e <= tol, "%s == %s (rel L2 %.3g <= %.0e)", method, what, e, tol);
    hl_array_free(a);
}

/* ------------------------------------------------------------ CAMs */

static void test_gradient_cams(void)
{
    double x[NX], g[NA], pp[H1 * H1] = { 0 }, xg[H1 * H1] = { 0 };
    pass p;
    input_double(x);
    forward(x, &p);
    layer_grad(&p, g);
    int pos = 0, neg = 0;
    for (int k = 0; k < K1; k++) {
        const double *a = p.a1 + k * H1 * H1, *gk = g + k * H1 * H1;
        double sum_a = 0, w_pp = 0, w_x = 0;
        for (int q = 0; q < H1 * H1; q++)
            sum_a += a[q];
        for (int q = 0; q < H1 * H1; q++) {
            pos += gk[q] > 0, neg += gk[q] < 0;
            /* alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), weight sum alpha relu(g) */
            double den = 2 * gk[q] * gk[q] + sum_a * gk[q] * gk[q] * gk[q];
            if (gk[q] > 0 && den != 0)
                w_pp += gk[q] * gk[q] / den * gk[q];
            if (sum_a != 0)
                w_x += a[q] / sum_a * gk[q];
        }
        for (int q = 0; q < H1 * H1; q++) {
            pp[q] += w_pp * a[q];
            xg[q] += w_x * a[q];
        }
    }
    tap_ok(pos > 0 && neg > 0, "the hand-made graph has positive and negative layer gradients (%d, %d)",
           pos, neg);
    hl_attr_params q;
    params_for(&q);
    check_method("grad_cam_plus_plus", &q, pp, H1 * H1, 1e-5, "Grad-CAM++ eq. 19 in float64");
    check_method("xgrad_cam", &q, xg, H1 * H1, 1e-5, "XGradCAM eq. 12 in float64");
}

/* PyTorch bilinear, align_corners=False, of a 4x4 map to 8x8. */
static void upsample(const double *src, double *dst)
{
    for (int y = 0; y < H_IN; y++)
        for (int x = 0; x < H_IN; x++) {
            double sy = fmax((y + 0.5) * H1 / H_IN - 0.5, 0), sx = fmax((x + 0.5) * H1 / H_IN - 0.5, 0);
            int y0 = (int)sy, x0 = (int)sx;
            int y1 = y0 + 1 < H1 ? y0 + 1 : y0, x1 = x0 + 1 < H1 ? x0 + 1 : x0;
            double ly = sy - y0, lx = sx - x0;
            dst[y * H_IN + x] = (1 - ly) * ((1 - lx) * src[y0 * H1 + x0] + lx * src[y0 * H1 + x1]) +
                                ly * ((1 - lx) * src[y1 * H1 + x0] + lx * src[y1 * H1 + x1]);
        }
}

static void test_score_cam(void)
{
    double x[NX], zero[NX] = { 0 }, map[H1 * H1] = { 0 };
    pass p;
    input_double(x);
    forward(x, &p);
    double p_base = target_prob(zero);
    for (int k = 0; k < K1; k++) {
        double up[H_IN * H_IN], masked[NX], lo = INFINITY, hi = -INFINITY;
        upsample(p.a1 + k * H1 * H1, up);
        for (int i = 0; i < H_IN * H_IN; i++)
            lo = fmin(lo, up[i]), hi = fmax(hi, up[i]);
        for (int c = 0; c < C_IN; c++)
            for (int i = 0; i < H_IN * H_IN; i++)
                masked[c * H_IN * H_IN + i] = hi > lo ? (up[i] - lo) / (hi - lo) * x[c * H_IN * H_IN + i] : 0;
        double w = target_prob(masked) - p_base;
        for (int q = 0; q < H1 * H1; q++)
            map[q] += w * p.a1[k * H1 * H1 + q];
    }
    hl_attr_params q;
    params_for(&q);
    q.perturbations_per_eval = 3; /* batches of 3 channels: 3 + 1 */
    check_method("score_cam", &q, map, H1 * H1, 1e-5,
                 "Score-CAM: sum_k (p(X o H_k) - p(0)) A_k in float64");
}

/* ------------------------------------------------------------ RISE */

static void test_rise(void)
{
    enum { N = 48 };
    hl_attr_params q;
    params_for(&q);
    q.n_masks = N;
    q.mask_cells = 3;
    q.seed = 77;
    test_call t;
    call_init(&t, model, x_in, &q, TARGET);
    float *masks = malloc(sizeof(float) * N * H_IN * H_IN);
    hl_error err = {0};
    int ok = hl_rise_masks(&t.c, N, H_IN, H_IN, masks, &err) == HL_OK;
    call_done(&t);
    double ref[NX] = { 0 }, x[NX], mean_pr = 0;
    input_double(x);
    int in_range = 1;
    for (int n = 0; ok && n < N; n++) {
        const float *m = masks + n * H_IN * H_IN;
        double masked[NX];
        for (int c = 0; c < C_IN; c++)
            for (int i = 0; i < H_IN * H_IN; i++) {
                in_range &= m[i] >= 0.0f && m[i] <= 1.0f;
                masked[c * H_IN * H_IN + i] = m[i] * x[c * H_IN * H_IN + i];
            }
        double pr = target_prob(masked);
        mean_pr += pr / N;
        for (int c = 0; c < C_IN; c++)
            for (int i = 0; i < H_IN * H_IN; i++)
                ref[c * H_IN * H_IN + i] += pr * m[i] / (N * 0.5);
    }
    /* Heatlens shows eq. 6 relative to the mean masked score (rise.c) */
    for (int i = 0; i < NX; i++)
        ref[i] -= mean_pr;
    tap_ok(ok && in_range, "RISE masks are in [0, 1]");
    /* the method as registered draws the same masks from the same seed */
    check_method("rise", &q, ref, NX, 1e-5, "RISE eq. 6 minus the mean score: sum_i p(M_i o I) M_i / (N p) - mean_i p(M_i o I) in float64");
    q.seed = 78;
    hl_array *other = run_method(model, "rise", x_in, &q, NULL);
    double e = other ? rel_l2_d(other->data, ref, NX) : 0;
    tap_ok(other && e > 1e-3, "RISE with another seed draws other masks (rel L2 %.3g apart)", e);
    hl_array_free(other);
    free(masks);

    /* mean of many masks = p (2000 masks of 8x8: standard error about 0.004) */
    enum { M = 2000 };
    q.mask_prob = 0.3f;
    call_init(&t, model, x_in, &q, TARGET);
    masks = malloc(sizeof(float) * M * H_IN * H_IN);
    double mean = 0;
    ok = hl_rise_masks(&t.c, M, H_IN, H_IN, masks, &err) == HL_OK;
    for (long i = 0; ok && i < (long)M * H_IN * H_IN; i++)
        mean += masks[i] / ((double)M * H_IN * H_IN);
    call_done(&t);
    tap_ok(ok && fabs(mean - 0.3) < 0.02, "RISE masks keep the input with probability --mask-prob (mean %.4f vs 0.3)", mean);
    free(masks);
}

/* ------------------------------------------------------------ Blur IG */

/* scipy.ndimage.gaussian_filter(mode='constant', truncate=4) of each plane. */
static void blur(const double *src, double sigma, double *dst)
{
    if (sigma <= 0) {
        memcpy(dst, src, sizeof(double) * NX);
        return;
    }
    int r = (int)(4 * sigma + 0.5);
    double k[401], sum = 0, tmp[NX];
    for (int t = -r; t <= r; t++)
        sum += k[t + r] = exp(-0.5 * t * t / (sigma * sigma));
    for (int c = 0; c < C_IN; c++)
        for (int y = 0; y < H_IN; y++)
            for (int x = 0; x < H_IN; x++) {
                double a = 0;
                for (int t = -r; t <= r; t++)
                    if (y + t >= 0 && y + t < H_IN)
                        a += k[t + r] / sum * src[(c * H_IN + y + t) * H_IN + x];
                tmp[(c * H_IN + y) * H_IN + x] = a;
            }
    for (int c = 0; c < C_IN; c++)
        for (int y = 0; y < H_IN; y++)
            for (int x = 0; x < H_IN; x++) {
                double a = 0;
                for (int t = -r; t <= r; t++)
                    if (x + t >= 0 && x + t < H_IN)
                        a += k[t + r] / sum * tmp[(c * H_IN + y) * H_IN + x + t];
                dst[(c * H_IN + y) * H_IN + x] = a;
            }
}

/* max_sigma 3: radius up to 12, direct taps; 10: radius up to 40 (81
 * taps), the GEMM path from sigma 6 on. */
static void blur_ig_case(double max_sigma, hl_attr_params *q)
{
    const int n = 20;
    const double h = 0.01;
    double x[NX], ref[NX] = { 0 };
    input_double(x);
    for (int i = 0; i < n; i++) {
        double s = i * max_sigma / n, l[NX], lh[NX], g[NX];
        blur(x, s, l);
        blur(x, s + h, lh);
        input_grad(l, g);
        for (int e = 0; e < NX; e++)
            ref[e] -= max_sigma / n * (lh[e] - l[e]) / h * g[e];
    }
    params_for(q);
    q->n_steps = n;
    q->max_sigma = (float)max_sigma;
    q->internal_batch_size = 7;
    char what[160];
    snprintf(what, sizeof what, "Blur IG (max sigma %g): -sum_i dsigma (L(s_i + 0.01) - L(s_i)) "
             "/ 0.01 grad F(L(s_i)) in float64", max_sigma);
    check_method("blur_ig", q, ref, NX, 1e-4, what);
}

static void test_blur_ig(void)
{
    hl_attr_params q;
    blur_ig_case(10.0, &q);
    blur_ig_case(3.0, &q);
    double d[2];
    for (int k = 0; k < 2; k++) {
        hl_attr_result r;
        q.n_steps = k ? 200 : 20;
        hl_array *a = run_method(model, "blur_ig", x_in, &q, &r);
        d[k] = a && r.has_delta ? fabs(r.delta) : NAN;
        hl_array_free(a);
    }
    tap_ok(d[1] < d[0], "Blur IG completeness: |sum - (F(x) - F(L(x, 3)))| %.3g (20 steps) -> %.3g (200)",
           d[0], d[1]);
}

/* ------------------------------------------------------------ Guided IG */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Algorithm 1 of the paper with the authors' fraction 0.25 and max_dist
 * 0.02, baseline 0, in float64. */
static void guided_ig_reference(const double *xin, int steps, double *phi)
{
    double x[NX], xold[NX], grad[NX], ga[NX], sorted[NX], total = 0;
    for (int i = 0; i < NX; i++)
        x[i] = 0, phi[i] = 0, total += fabs(xin[i]);
    for (int t = 0; t < steps; t++) {
        float xf[NX];
        double xr[NX];
        for (int i = 0; i < NX; i++)
            xf[i] = (float)x[i], xr[i] = xf[i]; /* the engine sees float32 */
        input_grad(xr, ga);
        memcpy(grad, ga, sizeof grad);
        double alpha = (t + 1.0) / steps, amin = fmax(alpha - 0.02, 0), amax = fmin(alpha + 0.02, 1);
        double target = total * (1 - alpha);
        for (;;) {
            memcpy(xold, x, sizeof x);
            for (int i = 0; i < NX; i++) {
                double a = xin[i] != 0 ? x[i] / xin[i] : amax;
                if (a < amin)
                    x[i] = xin[i] * amin;
            }
            double l1 = 0;
            for (int i = 0; i < NX; i++)
                l1 += fabs(x[i] - xin[i]);
            if (fabs(l1 - target) <= fmax(1e-9 * fmax(l1, target), 1e-9)) {
                for (int i = 0; i < NX; i++)
                    phi[i] += (x[i] - xold[i]) * ga[i];
                break;
            }
            for (int i = 0; i < NX; i++) {
                if (x[i] == xin[i] * amax)
                    grad[i] = INFINITY;
                sorted[i] = fabs(grad[i]);
            }
            qsort(sorted, NX, sizeof(double), cmp_d);
            double thr = sorted[(int)(0.25 * (NX - 1))], l1s = 0;
            for (int i = 0; i < NX; i++)
                if (fabs(grad[i]) <= thr && grad[i] != INFINITY)
                    l1s += fabs(x[i] - xin[i] * amax);
            double gamma = l1s > 0 ? (l1 - target) / l1s : INFINITY;
            for (int i = 0; i < NX; i++)
                if (fabs(grad[i]) <= thr && grad[i] != INFINITY)
                    x[i] = gamma > 1 ? xin[i] * amax : x[i] + (xin[i] * amax - x[i]) * gamma;
            for (int i = 0; i < NX; i++)
                phi[i] += (x[i] - xold[i]) * ga[i];
            if (gamma <= 1 || l1s == 0)
                break;
        }
    }
}

static void test_guided_ig(void)
{
    double x[NX], ref[NX];
    input_double(x);
    guided_ig_reference(x, 30, ref);
    hl_attr_params q;
    params_for(&q);
    q.n_steps = 30;
    check_method("guided_ig", &q, ref, NX, 1e-4, "Guided IG algorithm 1 in float64");
    double d[2];
    for (int k = 0; k < 2; k++) {
        hl_attr_result r;
        q.n_steps = k ? 300 : 30;
        hl_array *a = run_method(model, "guided_ig", x_in, &q, &r);
        d[k] = a && r.has_delta ? fabs(r.delta) : NAN;
        hl_array_free(a);
    }
    tap_ok(d[1] < d[0], "Guided IG completeness: |sum - (F(x) - F(0))| %.3g (30 steps) -> %.3g (300)",
           d[0], d[1]);
}

/* ------------------------------------------- progress and cancellation */

typedef struct progress_log {
    int calls, monotone;
    double last;
    volatile int *cancel;   /* raised at the second report */
} progress_log;

static void on_progress(void *user, double f)
{
    progress_log *l = user;
    l->monotone &= f + 1e-12 >= l->last;
    l->last = f;
    if (++l->calls >= 2 && l->cancel)
        *l->cancel = 1;
}

/* The long methods of issue 15 report progress after every engine batch
 * and stop at the first report after Cancel. */
static void test_progress_and_cancel(void)
{
    const char *methods[] = { "score_cam", "rise", "layer_feature_ablation",
                              "neuron_feature_ablation", "shapley_values", "blur_ig",
                              "guided_ig", "internal_influence", "layer_gradient_shap" };
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        hl_attr_params p;
        params_for(&p);
        p.perturbations_per_eval = 3;
        p.internal_batch_size = 2;
        p.n_steps = 6;
        p.n_masks = 12;
        p.n_samples = 6;
        p.has_neuron = 1, p.neuron[0] = 1, p.neuron[1] = 2, p.neuron[2] = 2;
        strcpy(p.feature_mask, "grid:4");
        progress_log log = { 0, 1, 0, NULL };
        hl_attr_context ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.progress = on_progress;
        ctx.progress_user = &log;
        ctx.threads = TEST_THREADS;
        hl_attr_result r;
        hl_error err = {0};
        hl_status st = hl_attribute(model, methods[k], x_in, &p, &ctx, &r, &err);
        tap_ok(st == HL_OK && log.calls >= 2 && log.monotone && fabs(log.last - 1.0) < 1e-9,
               "%s: progress rises monotonically to 1 (%d reports)%s%s", methods[k],
               log.calls, st == HL_OK ? "" : ": ", st == HL_OK ? "" : err.msg);
        hl_attr_result_clear(&r);
        volatile int cancel = 0;
        progress_log stop = { 0, 1, 0, &cancel };
        ctx.progress_user = &stop;
        ctx.cancel = &cancel;
        st = hl_attribute(model, methods[k], x_in, &p, &ctx, &r, &err);
        tap_ok(st == HL_ERR_CANCELLED && !r.attr && stop.calls == 2,
               "%s: Cancel stops it at the next batch (%d progress reports)", methods[k],
               stop.calls);
        hl_attr_result_clear(&r);
    }
}

int main(void)
{
    model = load_model("attr-papers/papers.onnx");
    x_in = load_npy("attr-papers/papers_input.npy");
    if (!tap_ok(model && x_in && load_weights(), "the hand-made graph, its weights and input load"))
        return tap_done();
    double x[NX];
    pass p;
    input_double(x);
    forward(x, &p);
    float fx;
    {
        hl_attr_params q;
        params_for(&q);
        test_call t;
        call_init(&t, model, x_in, &q, TARGET);
        hl_error err = {0};
        hl_attr_target_logits(&t.c, x_in->data, 1, 1, &fx, &err);
        call_done(&t);
    }
    tap_ok(fabs(fx - p.logits[TARGET]) < 1e-5 * (1 + fabs(p.logits[TARGET])),
           "the float64 recomputation matches the engine's logit (%.7f vs %.7f)",
           (double)fx, p.logits[TARGET]);
    test_gradient_cams();
    test_score_cam();
    test_rise();
    test_blur_ig();
    test_guided_ig();
    test_progress_and_cancel();
    hl_array_free(x_in);
    hl_model_free(model);
    return tap_done();
}
