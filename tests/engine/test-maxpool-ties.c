/* MaxPool with ties, signed zeros and NaNs: the rule the runtime promises
 * (and PyTorch follows) is "the first maximum in scan order": a later tap
 * wins only when strictly greater, a NaN only as the first tap. Forward
 * values and the backward scatter (the gradient goes to that one tap) are
 * checked bit for bit against a naive loop over the window, for the 2-D
 * fast path (with and without padding, strides 1-3, ceil_mode) and the
 * generic path (dilation). ops-pool checks the smooth case (distinct
 * values) against finite differences. */
/* only the setup helpers of the harness are used here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "ops-harness.h"
#pragma GCC diagnostic pop

typedef struct {
    const char *label;
    int64_t N, C, H, W, k, s, d, pad;
    int ceil_mode;
} tie_case;

/* Index of the chosen tap of output (oh, ow) of one plane, -1 if the
 * window holds no input tap. */
static int64_t ref_argmax(const float *x, const tie_case *t, int64_t oh,
                          int64_t ow)
{
    int64_t best = -1;
    float m = 0;
    for (int64_t i = 0; i < t->k; i++)
        for (int64_t j = 0; j < t->k; j++) {
            int64_t y = oh * t->s - t->pad + i * t->d;
            int64_t z = ow * t->s - t->pad + j * t->d;
            if (y < 0 || y >= t->H || z < 0 || z >= t->W)
                continue;
            float v = x[y * t->W + z];
            if (best < 0 || v > m) {
                best = y * t->W + z;
                m = v;
            }
        }
    return best;
}

static int64_t out_len(int64_t in, const tie_case *t)
{
    int64_t span = in + 2 * t->pad - ((t->k - 1) * t->d + 1);
    int64_t o = (t->ceil_mode ? (span + t->s - 1) / t->s : span / t->s) + 1;
    /* PyTorch/ONNX: the last window must start inside the input or the
     * begin pad */
    if (t->ceil_mode && (o - 1) * t->s >= in + t->pad)
        o--;
    return o;
}

static int same_float(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void run_case(const tie_case *t, hl_threadpool *pool)
{
    int64_t X = t->H * t->W, n = t->N * t->C * X;
    float *x = malloc(sizeof(float) * (size_t)n);
    /* few distinct values: ties everywhere; some -0/+0 and NaNs */
    for (int64_t i = 0; i < n; i++) {
        int r = (int)(rnd_uniform(0, 7));
        x[i] = r < 2 ? 0.0f : r == 2 ? -0.0f : r == 3 ? 1.0f
             : r == 4 ? -1.0f : r == 5 ? 2.0f : 1.0f;
        if (rnd_uniform(0, 1) < 0.02)
            x[i] = NAN;
    }
    attr_set as;
    as_reset(&as);
    int64_t ks[2] = { t->k, t->k }, st[2] = { t->s, t->s },
            dl[2] = { t->d, t->d },
            pads[4] = { t->pad, t->pad, t->pad, t->pad };
    as_ints(&as, "kernel_shape", 2, ks);
    as_ints(&as, "strides", 2, st);
    as_ints(&as, "pads", 4, pads);
    if (t->d != 1)
        as_ints(&as, "dilations", 2, dl);
    if (t->ceil_mode)
        as_int(&as, "ceil_mode", 1);
    tin in[1] = { { .shape = S(t->N, t->C, t->H, t->W), .f = x, .grad = 1 } };
    op_case c;
    hl_error err = {0};
    hl_status s = oc_setup(&c, "MaxPool", 12, &as, 1, in, 1, &err);
    if (!tap_ok(s == HL_OK, "%s: setup: %s", t->label, s ? err.msg : "ok")) {
        oc_free(&c);
        free(x);
        return;
    }
    int64_t OH = out_len(t->H, t), OW = out_len(t->W, t);
    int shape_ok = c.out[0].shape.dims[2] == OH && c.out[0].shape.dims[3] == OW;
    tap_ok(shape_ok, "%s: output %lldx%lld", t->label, (long long)OH,
           (long long)OW);
    if (!shape_ok) {
        oc_free(&c);
        free(x);
        return;
    }
    oc_forward(&c, pool);
    int64_t P = OH * OW, np = t->N * t->C;
    float *g = malloc(sizeof(float) * (size_t)(np * P));
    float *gx = calloc((size_t)n, sizeof(float));
    float *gref = calloc((size_t)n, sizeof(float));
    for (int64_t i = 0; i < np * P; i++)
        g[i] = (float)(i % 13) - 6.0f;
    int fwd_bad = 0;
    for (int64_t pl = 0; pl < np; pl++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t b = ref_argmax(x + pl * X, t, oh, ow);
                float want = b >= 0 ? x[pl * X + b] : 0.0f;
                if (!same_float(c.out[0].data[pl * P + oh * OW + ow], want))
                    fwd_bad++;
                if (b >= 0)
                    gref[pl * X + b] += g[pl * P + oh * OW + ow];
            }
    tap_ok(fwd_bad == 0, "%s: forward = first maximum, bit for bit (%lld "
           "differ)", t->label, (long long)fwd_bad);
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, pool);
    hl_tensor gout = c.out[0], gin = c.in[0];
    gout.data = g;
    gin.data = gx;
    c.op->backward(&c.node, &ctx, c.in, c.out, &gout, &gin);
    int bwd_bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!same_float(gx[i], gref[i]))
            bwd_bad++;
    tap_ok(bwd_bad == 0, "%s: backward scatters to that tap, bit for bit "
           "(%lld differ)", t->label, (long long)bwd_bad);
    free(g);
    free(gx);
    free(gref);
    oc_free(&c);
    free(x);
}

int main(void)
{
    hl_engine_init();
    static const tie_case cases[] = {
        { "3x3 s2 p1 (ResNet stem)", 2, 3, 17, 19, 3, 2, 1, 1, 0 },
        { "2x2 s2", 1, 4, 16, 16, 2, 2, 1, 0, 0 },
        { "3x3 s1 p1", 2, 2, 9, 11, 3, 1, 1, 1, 0 },
        { "3x3 s3 ceil_mode", 1, 3, 14, 13, 3, 3, 1, 0, 1 },
        { "5x5 s2 p2", 1, 2, 12, 15, 5, 2, 1, 2, 0 },
        { "3x3 s2 dilation 2 (generic path)", 1, 3, 15, 15, 3, 2, 2, 1, 0 },
    };
    hl_threadpool *pool = hl_threadpool_new(2);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], NULL);
        run_case(&cases[i], pool);
    }
    hl_threadpool_free(pool);
    return tap_done();
}
