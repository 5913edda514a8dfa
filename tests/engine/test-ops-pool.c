/* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool: forward against a
 * naive double reference, backward against central finite differences of
 * it. Max-pool inputs are distinct values (no ties, so the max is smooth). */
#include "ops-harness.h"

typedef struct {
    int is_max, cip;
    int64_t planes;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
} pool_ref;

static void pool_ref_run(void *ctx, double *const *in, double *y)
{
    const pool_ref *r = ctx;
    int64_t X = r->in[0] * r->in[1] * r->in[2];
    int64_t P = r->out[0] * r->out[1] * r->out[2];
    for (int64_t pl = 0; pl < r->planes; pl++)
    for (int64_t a = 0; a < r->out[0]; a++)
    for (int64_t b = 0; b < r->out[1]; b++)
    for (int64_t c = 0; c < r->out[2]; c++) {
        double best = -INFINITY, sum = 0;
        int64_t cnt = 0, cnt_pad = 0;
        for (int64_t i = 0; i < r->k[0]; i++)
        for (int64_t j = 0; j < r->k[1]; j++)
        for (int64_t l = 0; l < r->k[2]; l++) {
            int64_t z = a * r->s[0] - r->pb[0] + i * r->d[0];
            int64_t yy = b * r->s[1] - r->pb[1] + j * r->d[1];
            int64_t xx = c * r->s[2] - r->pb[2] + l * r->d[2];
            if (z >= -r->pb[0] && z < r->in[0] + r->pe[0] &&
                yy >= -r->pb[1] && yy < r->in[1] + r->pe[1] &&
                xx >= -r->pb[2] && xx < r->in[2] + r->pe[2])
                cnt_pad++;
            if (z < 0 || z >= r->in[0] || yy < 0 || yy >= r->in[1] ||
                xx < 0 || xx >= r->in[2])
                continue;
            double v = in[0][pl * X + (z * r->in[1] + yy) * r->in[2] + xx];
            best = v > best ? v : best;
            sum += v;
            cnt++;
        }
        double out = r->is_max ? best : sum / (double)(r->cip ? cnt_pad : cnt);
        y[pl * P + (a * r->out[1] + b) * r->out[2] + c] = out;
    }
}

/* 2-D case; pads {top, left, bottom, right} are the effective pads */
typedef struct {
    const char *label;
    int is_max;
    int64_t N, C, H, W, kh, kw, sh, sw, dh, dw;
    int64_t pads[4];
    int ceil_mode, cip;
    const char *auto_pad;
    int64_t OH, OW;
} pool2d_case;

static void run_pool2d(const pool2d_case *k)
{
    pool_ref r = { k->is_max, k->cip, k->N * k->C, { 1, k->H, k->W },
                   { 1, k->kh, k->kw }, { 1, k->sh, k->sw },
                   { 1, k->dh, k->dw }, { 0, k->pads[0], k->pads[1] },
                   { 0, k->pads[2], k->pads[3] }, { 1, k->OH, k->OW } };
    int64_t xn = k->N * k->C * k->H * k->W;
    float *x = malloc(sizeof(float) * (size_t)xn);
    if (k->is_max)
        rnd_distinct(x, xn, -2, 2);
    else
        rnd_fill(x, xn, -2, 2);
    tin ins[1] = { { .shape = S(k->N, k->C, k->H, k->W), .f = x, .grad = 1 } };
    attr_set as;
    as_reset(&as);
    as_ints(&as, "kernel_shape", 2, (int64_t[]){ k->kh, k->kw });
    as_ints(&as, "strides", 2, (int64_t[]){ k->sh, k->sw });
    if (k->dh != 1 || k->dw != 1)
        as_ints(&as, "dilations", 2, (int64_t[]){ k->dh, k->dw });
    if (k->auto_pad)
        as_string(&as, "auto_pad", k->auto_pad);
    else
        as_ints(&as, "pads", 4, k->pads);
    if (k->ceil_mode)
        as_int(&as, "ceil_mode", 1);
    if (k->cip)
        as_int(&as, "count_include_pad", 1);
    check_op(k->label, k->is_max ? "MaxPool" : "AveragePool", 12, &as, 1, ins,
             S(k->N, k->C, k->OH, k->OW), pool_ref_run, &r);
    free(x);
}

static void global_ref_max(void *ctx, double *const *in, double *y)
{
    const int64_t *d = ctx; /* planes, X */
    for (int64_t p = 0; p < d[0]; p++) {
        double m = -INFINITY;
        for (int64_t i = 0; i < d[1]; i++)
            m = fmax(m, in[0][p * d[1] + i]);
        y[p] = m;
    }
}

static void global_ref_avg(void *ctx, double *const *in, double *y)
{
    const int64_t *d = ctx;
    for (int64_t p = 0; p < d[0]; p++) {
        double s = 0;
        for (int64_t i = 0; i < d[1]; i++)
            s += in[0][p * d[1] + i];
        y[p] = s / (double)d[1];
    }
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    static const pool2d_case cases[] = {
        { "maxpool k2 s2", 1, 1, 2, 6, 6, 2, 2, 2, 2, 1, 1, { 0, 0, 0, 0 }, 0,
          0, NULL, 3, 3 },
        { "maxpool overlapping k3 s2 p1", 1, 2, 2, 7, 7, 3, 3, 2, 2, 1, 1,
          { 1, 1, 1, 1 }, 0, 0, NULL, 4, 4 },
        { "maxpool overlapping k3 s1 asym pads (0,1,2,0)", 1, 1, 2, 5, 6, 3,
          3, 1, 1, 1, 1, { 0, 1, 2, 0 }, 0, 0, NULL, 5, 5 },
        { "maxpool ceil_mode k3 s2", 1, 1, 2, 6, 6, 3, 3, 2, 2, 1, 1,
          { 0, 0, 0, 0 }, 1, 0, NULL, 3, 3 },
        { "maxpool ceil_mode k2 s2 p1 (last window dropped)", 1, 1, 1, 5, 5,
          2, 2, 2, 2, 1, 1, { 1, 1, 1, 1 }, 1, 0, NULL, 3, 3 },
        { "maxpool dilation 2", 1, 1, 2, 7, 8, 2, 2, 1, 1, 2, 2, { 0, 0, 0, 0 },
          0, 0, NULL, 5, 6 },
        { "maxpool dilation 2 stride 2 pad 1 ceil", 1, 1, 1, 8, 8, 3, 3, 2, 2,
          2, 2, { 1, 1, 1, 1 }, 1, 0, NULL, 4, 4 },
        { "maxpool SAME_UPPER s2", 1, 1, 2, 7, 7, 3, 3, 2, 2, 1, 1,
          { 1, 1, 1, 1 }, 0, 0, "SAME_UPPER", 4, 4 },
        { "maxpool SAME_LOWER s2 k2 on 5", 1, 1, 1, 5, 5, 2, 2, 2, 2, 1, 1,
          { 1, 1, 0, 0 }, 0, 0, "SAME_LOWER", 3, 3 },
        { "avgpool k3 s1 p1 exclude pad", 0, 2, 2, 5, 5, 3, 3, 1, 1, 1, 1,
          { 1, 1, 1, 1 }, 0, 0, NULL, 5, 5 },
        { "avgpool k3 s1 p1 count_include_pad", 0, 2, 2, 5, 5, 3, 3, 1, 1, 1,
          1, { 1, 1, 1, 1 }, 0, 1, NULL, 5, 5 },
        { "avgpool k2 s2", 0, 1, 3, 6, 4, 2, 2, 2, 2, 1, 1, { 0, 0, 0, 0 }, 0,
          0, NULL, 3, 2 },
        { "avgpool overlapping k3 s2 asym pads (1,0,0,1)", 0, 1, 2, 7, 6, 3,
          3, 2, 2, 1, 1, { 1, 0, 0, 1 }, 0, 0, NULL, 3, 3 },
        { "avgpool ceil_mode k3 s2 exclude pad", 0, 1, 2, 6, 6, 3, 3, 2, 2, 1,
          1, { 0, 0, 0, 0 }, 1, 0, NULL, 3, 3 },
        { "avgpool ceil_mode k3 s2 p1 count_include_pad", 0, 1, 2, 6, 6, 3, 3,
          2, 2, 1, 1, { 1, 1, 1, 1 }, 1, 1, NULL, 4, 4 },
        { "avgpool SAME_UPPER s2 k3", 0, 1, 1, 6, 6, 3, 3, 2, 2, 1, 1,
          { 0, 0, 1, 1 }, 0, 0, "SAME_UPPER", 3, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_pool2d(&cases[i]);

    /* random geometries: max and average, pads, strides, dilations (max),
     * ceil_mode, count_include_pad; sizes by the formulas of the spec,
     * with the PyTorch rule that the last window starts inside the input
     * or its begin padding */
    for (int t = 0; t < 24; t++) {
        pool2d_case k;
        memset(&k, 0, sizeof k);
        char label[256];
        k.is_max = t % 2 == 0;
        k.N = 1 + (int64_t)rnd_uniform(0, 2);
        k.C = 1 + (int64_t)rnd_uniform(0, 3);
        k.H = 3 + (int64_t)rnd_uniform(0, 7);
        k.W = 3 + (int64_t)rnd_uniform(0, 7);
        k.kh = 1 + (int64_t)rnd_uniform(0, 3);
        k.kw = 1 + (int64_t)rnd_uniform(0, 3);
        k.sh = 1 + (int64_t)rnd_uniform(0, 3);
        k.sw = 1 + (int64_t)rnd_uniform(0, 3);
        k.dh = k.dw = 1;
        if (k.is_max && rnd_uniform(0, 1) < 0.4) {
            k.dh = 1 + (int64_t)rnd_uniform(0, 2);
            k.dw = 1 + (int64_t)rnd_uniform(0, 2);
        }
        /* pads smaller than the kernel, as ONNX and PyTorch require */
        k.pads[0] = (int64_t)rnd_uniform(0, (double)k.kh);
        k.pads[2] = (int64_t)rnd_uniform(0, (double)k.kh);
        k.pads[1] = (int64_t)rnd_uniform(0, (double)k.kw);
        k.pads[3] = (int64_t)rnd_uniform(0, (double)k.kw);
        k.ceil_mode = rnd_uniform(0, 1) < 0.5;
        k.cip = !k.is_max && rnd_uniform(0, 1) < 0.5;
        int64_t in[2] = { k.H, k.W }, kk[2] = { k.kh, k.kw },
                st[2] = { k.sh, k.sw }, dd[2] = { k.dh, k.dw }, out[2];
        int ok = 1;
        for (int i = 0; i < 2; i++) {
            int64_t pb = k.pads[i], pe = k.pads[2 + i];
            int64_t span = in[i] + pb + pe - ((kk[i] - 1) * dd[i] + 1);
            if (span < 0) {
                ok = 0;
                break;
            }
            out[i] = k.ceil_mode ? (span + st[i] - 1) / st[i] + 1
                                 : span / st[i] + 1;
            if (k.ceil_mode && (out[i] - 1) * st[i] >= in[i] + pb)
                out[i]--;
        }
        if (!ok)
            continue;
        k.OH = out[0];
        k.OW = out[1];
        snprintf(label, sizeof label,
                 "random %s %lldx%lld k%lldx%lld s%lldx%lld d%lldx%lld pads(%lld,%lld,%lld,%lld)%s%s",
                 k.is_max ? "maxpool" : "avgpool", (long long)k.H,
                 (long long)k.W, (long long)k.kh, (long long)k.kw,
                 (long long)k.sh, (long long)k.sw, (long long)k.dh,
                 (long long)k.dw, (long long)k.pads[0], (long long)k.pads[1],
                 (long long)k.pads[2], (long long)k.pads[3],
                 k.ceil_mode ? " ceil" : "", k.cip ? " count_include_pad" : "");
        k.label = label;
        run_pool2d(&k);
    }

    /* 1-D and 3-D max pools */
    {
        pool_ref r = { 1, 0, 6, { 1, 1, 9 }, { 1, 1, 3 }, { 1, 1, 2 },
                       { 1, 1, 1 }, { 0, 0, 1 }, { 0, 0, 1 }, { 1, 1, 5 } };
        float x[54];
        rnd_distinct(x, 54, -1, 1);
        tin ins[1] = { { .shape = S(2, 3, 9), .f = x, .grad = 1 } };
        attr_set as;
        as_reset(&as);
        as_ints(&as, "kernel_shape", 1, (int64_t[]){ 3 });
        as_ints(&as, "strides", 1, (int64_t[]){ 2 });
        as_ints(&as, "pads", 2, (int64_t[]){ 1, 1 });
        check_op("maxpool 1-D k3 s2 p1", "MaxPool", 12, &as, 1, ins,
                 S(2, 3, 5), pool_ref_run, &r);
    }
    {
        pool_ref r = { 0, 0, 2, { 4, 4, 5 }, { 2, 2, 2 }, { 2, 1, 2 },
                       { 1, 1, 1 }, { 0, 0, 0 }, { 0, 0, 0 }, { 2, 3, 2 } };
        float x[160];
        rnd_fill(x, 160, -1, 1);
        tin ins[1] = { { .shape = S(1, 2, 4, 4, 5), .f = x, .grad = 1 } };
        attr_set as;
        as_reset(&as);
        as_ints(&as, "kernel_shape", 3, (int64_t[]){ 2, 2, 2 });
        as_ints(&as, "strides", 3, (int64_t[]){ 2, 1, 2 });
        check_op("avgpool 3-D k2 s(2,1,2)", "AveragePool", 11, &as, 1, ins,
                 S(1, 2, 2, 3, 2), pool_ref_run, &r);
    }

    /* global pools */
    {
        int64_t d[2] = { 6, 20 };
        float x[120];
        rnd_distinct(x, 120, -3, 3);
        tin ins[1] = { { .shape = S(2, 3, 4, 5), .f = x, .grad = 1 } };
        check_op("GlobalMaxPool", "GlobalMaxPool", 1, NULL, 1, ins,
                 S(2, 3, 1, 1), global_ref_max, d);
        check_op("GlobalAveragePool", "GlobalAveragePool", 1, NULL, 1, ins,
                 S(2, 3, 1, 1), global_ref_avg, d);
    }

    /* threaded paths */
    fd_max_ = 40;
    {
        static const pool2d_case big[] = {
            { "maxpool big k3 s2 p1 (threaded)", 1, 2, 16, 40, 40, 3, 3, 2, 2,
              1, 1, { 1, 1, 1, 1 }, 0, 0, NULL, 20, 20 },
            { "avgpool big k3 s1 p1 (threaded)", 0, 2, 16, 24, 24, 3, 3, 1, 1,
              1, 1, { 1, 1, 1, 1 }, 0, 1, NULL, 24, 24 },
        };
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
            run_pool2d(&big[i]);
        int64_t d[2] = { 64, 1024 };
        float *x = malloc(sizeof(float) * 65536);
        rnd_distinct(x, 65536, -3, 3);
        tin ins[1] = { { .shape = S(4, 16, 32, 32), .f = x, .grad = 1 } };
        check_op("GlobalMaxPool big (threaded)", "GlobalMaxPool", 1, NULL, 1,
                 ins, S(4, 16, 1, 1), global_ref_max, d);
        check_op("GlobalAveragePool big (threaded)", "GlobalAveragePool", 1,
                 NULL, 1, ins, S(4, 16, 1, 1), global_ref_avg, d);
        free(x);
    }
    fd_max_ = 0;

    /* unsupported attributes and outputs */
    {
        float x[16] = { 0 };
        tin ins[1] = { { .shape = S(1, 1, 4, 4), .f = x } };
        attr_set as;
        as_reset(&as);
        as_ints(&as, "kernel_shape", 2, (int64_t[]){ 2, 2 });
        check_error("maxpool Indices output", "MaxPool", 12, &as, 1, ins, 2,
                    HL_ERR_UNSUPPORTED, "Indices");
        as_int(&as, "storage_order", 1);
        check_error("maxpool storage_order=1", "MaxPool", 12, &as, 1, ins, 1,
                    HL_ERR_UNSUPPORTED, "storage_order");
        as_reset(&as);
        as_ints(&as, "kernel_shape", 2, (int64_t[]){ 2, 2 });
        as_int(&as, "count_include_pad", 2);
        check_error("avgpool count_include_pad=2", "AveragePool", 12, &as, 1,
                    ins, 1, HL_ERR_UNSUPPORTED, "count_include_pad");
        as_reset(&as);
        as_ints(&as, "kernel_shape", 2, (int64_t[]){ 2, 2 });
        as_string(&as, "auto_pad", "BOGUS");
        check_error("maxpool auto_pad=BOGUS", "MaxPool", 12, &as, 1, ins, 1,
                    HL_ERR_UNSUPPORTED, "auto_pad");
    }
    hl_threadpool_free(test_pool_);
    return tap_done();
}
