/* Conv: 1-3 spatial dims, groups (incl. depthwise), strides, dilations,
 * explicit/asymmetric pads and auto_pad, optional bias.
 *
 * Forward = im2col + sgemm per group over a chunk of images (one image when
 * the output plane is large, many when it is small so the GEMM stays wide);
 * a 1x1 stride-1 unpadded conv on one image uses the input as its own
 * im2col matrix. Backward w.r.t. the input = sgemm(W^T, dY) + col2im.
 * Depthwise 2-D convs (groups == channels) use a direct kernel split over
 * channels with the pool. GEMMs are split over the same pool (sgemm.c,
 * OpenBLAS itself single-threaded). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include "conv.h"
#include "conv_dnnl.h"

#define CONV_CHUNK_COLS 2048      /* aim for GEMMs at least this wide */
#define CONV_MAX_COL_FLOATS (8L << 20)

typedef struct {
    hl_kernel_geom w;
    int64_t group;
    hl_conv_dnnl *dnnl;   /* oneDNN primitives of this node, or NULL */
} conv_params;

static hl_status conv_geom_make(const conv_params *p, const hl_shape *xs,
                                const hl_shape *ws, conv_geom *g,
                                hl_error *err)
{
    char b1[96], b2[96];
    int nsp = p->w.nsp, off = 3 - nsp;
    memset(g, 0, sizeof *g);
    if (xs->ndim != nsp + 2 || ws->ndim != nsp + 2)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s and weight %s ranks do not match a %d-D conv",
                            hl_shape_format(xs, b1, sizeof b1),
                            hl_shape_format(ws, b2, sizeof b2), nsp);
    g->N = xs->dims[0];
    g->C = xs->dims[1];
    g->OC = ws->dims[0];
    g->G = p->group;
    if (g->G < 1 || g->C % g->G || g->OC % g->G || ws->dims[1] * g->G != g->C)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s, weight %s and group=%lld do not agree",
                            hl_shape_format(xs, b1, sizeof b1),
                            hl_shape_format(ws, b2, sizeof b2),
                            (long long)g->G);
    g->Cg = g->C / g->G;
    g->OCg = g->OC / g->G;
    hl_kernel_geom w = p->w;
    for (int i = 0; i < 3; i++) {
        g->in[i] = i < off ? 1 : xs->dims[2 + i - off];
        int64_t kd = i < off ? 1 : ws->dims[2 + i - off];
        if (w.has_kernel && w.k[i] != kd)
            return hl_error_set(err, HL_ERR_SHAPE,
                                "attribute 'kernel_shape' does not match weight %s",
                                hl_shape_format(ws, b2, sizeof b2));
        w.k[i] = kd;
    }
    if (hl_kernel_geom_out(&w, g->in, g->out, g->pb))
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s is smaller than the kernel",
                            hl_shape_format(xs, b1, sizeof b1));
    g->X = g->P = g->KK = 1;
    for (int i = 0; i < 3; i++) {
        g->k[i] = w.k[i];
        g->s[i] = w.s[i];
        g->d[i] = w.d[i];
        /* checked: the sizes come from the file */
        g->X = hl_elems_mul(g->X, g->in[i]);
        g->P = hl_elems_mul(g->P, g->out[i]);
        g->KK = hl_elems_mul(g->KK, g->k[i]);
        if (g->X < 0 || g->P < 0 || g->KK < 0)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "input %s or weight %s: a plane or kernel of "
                                "more than 2^34 elements",
                                hl_shape_format(xs, b1, sizeof b1),
                                hl_shape_format(ws, b2, sizeof b2));
    }
    g->K = hl_elems_mul(g->Cg, g->KK);
    if (g->K < 0)
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "weight %s has more than 2^34 elements per "
                            "output channel", hl_shape_format(ws, b2, sizeof b2));
    g->pointwise = g->KK == 1;
    for (int i = 0; i < 3; i++)
        if (g->s[i] != 1 || g->pb[i] != 0 || g->out[i] != g->in[i])
            g->pointwise = 0;
    g->depthwise = g->G > 1 && g->Cg == 1 && g->in[0] == 1 && g->k[0] == 1 &&
                   g->out[0] == 1;
    if (g->P >= CONV_CHUNK_COLS)
        g->nb = 1;
    else {
        g->nb = CONV_CHUNK_COLS / g->P;
        if (g->nb < 1)
            g->nb = 1;
        while (g->nb > 1 && g->K * g->nb * g->P > CONV_MAX_COL_FLOATS)
            g->nb--;
    }
    if (g->nb > g->N)
        g->nb = g->N;
    if (g->nb < 1)
        g->nb = 1;
    return HL_OK;
}

static hl_status conv_init(hl_node *n, const hl_attrs *attrs,
                           const hl_tensor *in, hl_error *err)
{
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects 2 or 3 inputs and 1 output");
    int rank = in[1].shape.ndim >= 3 ? in[1].shape.ndim : in[0].shape.ndim;
    hl_status st = hl_params_alloc(n, sizeof(conv_params), err);
    if (st)
        return st;
    conv_params *p = n->params;
    st = hl_kernel_geom_parse(&p->w, attrs, rank - 2, 0, 1, err);
    if (st)
        return st;
    p->group = hl_attrs_int(attrs, "group", 1);
    if (p->group < 1)
        return hl_error_set(err, HL_ERR_ARG, "attribute 'group' must be >= 1");
    p->dnnl = hl_conv_dnnl_new(&p->w, p->group, in[1].data != NULL);
    return HL_OK;
}

static void conv_free(hl_node *n)
{
    conv_params *p = n->params;
    if (p)
        hl_conv_dnnl_free(p->dnnl);
    hl_params_free(n);
}

static hl_status conv_shape(const hl_node *n, const hl_tensor *in,
                            hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    conv_geom g;
    hl_status st = conv_geom_make(n->params, &in[0].shape, &in[1].shape, &g,
                                  err);
    if (st)
        return st;
    if (hl_has_input(n, 2) &&
        (in[2].shape.ndim != 1 || in[2].shape.dims[0] != g.OC))
        return hl_error_set(err, HL_ERR_SHAPE, "bias must have %lld values",
                            (long long)g.OC);
    const conv_params *p = n->params;
    int off = 3 - p->w.nsp;
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape.ndim = in[0].shape.ndim;
    out[0].shape.dims[0] = g.N;
    out[0].shape.dims[1] = g.OC;
    for (int i = 0; i < p->w.nsp; i++)
        out[0].shape.dims[2 + i] = g.out[off + i];
    return HL_OK;
}

static size_t conv_scratch(const hl_node *n, const hl_tensor *in,
                           const hl_tensor *out)
{
    (void)out;
    conv_geom g;
    const conv_params *p = n->params;
    /* oneDNN may run one direction and our kernels the other */
    size_t dn = hl_conv_dnnl_scratch(p->dnnl, &in[0].shape, &in[1].shape);
    if (conv_geom_make(p, &in[0].shape, &in[1].shape, &g, NULL) || g.depthwise)
        return dn;
    /* [K, nb*P] im2col matrix (forward) or its gradient (backward), none
     * for a pointwise conv one image at a time; then [OCg, nb*P] for the
     * output or output gradient of a chunk of several images */
    size_t cols = (size_t)(g.nb * g.P);
    size_t col = g.pointwise && g.nb == 1 ? 0 : (size_t)g.K * cols;
    size_t tmp = g.nb > 1 ? (size_t)g.OCg * cols : 0;
    return col + tmp > dn ? col + tmp : dn;
}

static double conv_flops(const hl_node *n, const hl_tensor *in,
                         const hl_tensor *out)
{
    (void)out;
    conv_geom g;
    if (conv_geom_make(n->params, &in[0].shape, &in[1].shape, &g, NULL))
        return 0;
    return (double)g.N * g.OC * g.P * g.K;
}

/* ------------------------------------------------------ im2col / col2im */


/* One im2col row: tap (kd, kh, kw) of one input channel plane. */
static void im2col_row(const conv_geom *g, const float *src, float *dst,
                       int64_t kd, int64_t kh, int64_t kw)
{
    int64_t o1 = g->out[1], o2 = g->out[2];
    int64_t off2 = kw * g->d[2] - g->pb[2];
    int64_t lo, hi;
    conv_valid_range(off2, g->s[2], g->in[2], o2, &lo, &hi);
    for (int64_t od = 0; od < g->out[0]; od++) {
        int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
        float *plane = dst + od * o1 * o2;
        if (id < 0 || id >= g->in[0]) {
            memset(plane, 0, sizeof(float) * (size_t)(o1 * o2));
            continue;
        }
        for (int64_t oh = 0; oh < o1; oh++) {
            int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
            float *row = plane + oh * o2;
            if (ih < 0 || ih >= g->in[1]) {
                memset(row, 0, sizeof(float) * (size_t)o2);
                continue;
            }
            const float *srow = src + (id * g->in[1] + ih) * g->in[2] + off2;
            for (int64_t ow = 0; ow < lo; ow++)
                row[ow] = 0;
            if (g->s[2] == 1)
                memcpy(row + lo, srow + lo, sizeof(float) * (size_t)(hi - lo));
            else
                for (int64_t ow = lo; ow < hi; ow++)
                    row[ow] = srow[ow * g->s[2]];
            for (int64_t ow = hi; ow < o2; ow++)
                row[ow] = 0;
        }
    }
}

static void col2im_row(const conv_geom *g, const float *src, float *dst,
                       int64_t kd, int64_t kh, int64_t kw)
{
    int64_t o1 = g->out[1], o2 = g->out[2];
    int64_t off2 = kw * g->d[2] - g->pb[2];
    int64_t lo, hi;
    conv_valid_range(off2, g->s[2], g->in[2], o2, &lo, &hi);
    for (int64_t od = 0; od < g->out[0]; od++) {
        int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
        if (id < 0 || id >= g->in[0])
            continue;
        const float *plane = src + od * o1 * o2;
        for (int64_t oh = 0; oh < o1; oh++) {
            int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
            if (ih < 0 || ih >= g->in[1])
                continue;
            const float *row = plane + oh * o2;
            float *drow = dst + (id * g->in[1] + ih) * g->in[2] + off2;
            if (g->s[2] == 1)
                for (int64_t ow = lo; ow < hi; ow++)
                    drow[ow] += row[ow];
            else
                for (int64_t ow = lo; ow < hi; ow++)
                    drow[ow * g->s[2]] += row[ow];
        }
    }
}

typedef struct {
    const conv_geom *g;
    const float *x;     /* forward: input images; backward: unused */
    float *xg;          /* backward: input gradient */
    float *col;         /* [K, cur*P] */
    int64_t b0, cur, grp;
} col_job;

static void im2col_range(void *arg, long begin, long end)
{
    col_job *j = arg;
    const conv_geom *g = j->g;
    for (long u = begin; u < end; u++) {
        int64_t r = u / j->cur, bi = u % j->cur;
        int64_t c = r / g->KK, t = r % g->KK;
        int64_t kw = t % g->k[2], kh = (t / g->k[2]) % g->k[1],
                kd = t / (g->k[2] * g->k[1]);
        const float *src = j->x + ((j->b0 + bi) * g->C + j->grp * g->Cg + c) * g->X;
        float *dst = j->col + r * (j->cur * g->P) + bi * g->P;
        im2col_row(g, src, dst, kd, kh, kw);
    }
}

static void col2im_range(void *arg, long begin, long end)
{
    col_job *j = arg;
    const conv_geom *g = j->g;
    for (long u = begin; u < end; u++) {
        int64_t bi = u / g->Cg, c = u % g->Cg;
        float *dst = j->xg + ((j->b0 + bi) * g->C + j->grp * g->Cg + c) * g->X;
        for (int64_t t = 0; t < g->KK; t++) {
            int64_t r = c * g->KK + t;
            int64_t kw = t % g->k[2], kh = (t / g->k[2]) % g->k[1],
                    kd = t / (g->k[2] * g->k[1]);
            col2im_row(g, j->col + r * (j->cur * g->P) + bi * g->P, dst,
                       kd, kh, kw);
        }
    }
}

/* Copy between [cur images][OC][P] slices and a [OCg][cur*P] matrix. */
typedef struct {
    const conv_geom *g;
    float *img;      /* y or dy of the whole batch */
    float *mat;
    int64_t b0, cur, grp;
    int to_img;
    const float *bias;  /* added on the way to y (forward), or NULL */
} scatter_job;

static void scatter_range(void *arg, long begin, long end)
{
    scatter_job *j = arg;
    const conv_geom *g = j->g;
    for (long u = begin; u < end; u++) {
        int64_t oc = u / j->cur, bi = u % j->cur;
        float *ip = j->img + ((j->b0 + bi) * g->OC + j->grp * g->OCg + oc) * g->P;
        float *mp = j->mat + oc * (j->cur * g->P) + bi * g->P;
        if (j->to_img && j->bias) {
            float bv = j->bias[j->grp * g->OCg + oc];
            for (int64_t i = 0; i < g->P; i++)
                ip[i] = mp[i] + bv;
        } else if (j->to_img)
            memcpy(ip, mp, sizeof(float) * (size_t)g->P);
        else
            memcpy(mp, ip, sizeof(float) * (size_t)g->P);
    }
}

/* ------------------------------------------------------------- forward */

/* Fills planes [begin, end) of y with their channel's bias. */
typedef struct {
    const conv_geom *g;
    const float *bias;
    float *y;
} bias_job;

static void bias_range(void *arg, long begin, long end)
{
    bias_job *j = arg;
    for (long u = begin; u < end; u++) {
        float bv = j->bias[u];
        float *yp = j->y + u * j->g->P;
        for (int64_t i = 0; i < j->g->P; i++)
            yp[i] = bv;
    }
}

/* Positions [p0, p1) of one im2col row (tap kd, kh, kw of one channel
 * plane); dst is the whole row. The same values as im2col_row. */
static void im2col_row_part(const conv_geom *g, const float *src, float *dst,
                            int64_t kd, int64_t kh, int64_t kw, int64_t p0,
                            int64_t p1)
{
    int64_t o1 = g->out[1], o2 = g->out[2];
    int64_t off2 = kw * g->d[2] - g->pb[2];
    int64_t lo, hi;
    conv_valid_range(off2, g->s[2], g->in[2], o2, &lo, &hi);
    for (int64_t p = p0; p < p1;) {
        int64_t od = p / (o1 * o2), oh = (p / o2) % o1, ow0 = p % o2;
        int64_t ow1 = ow0 + (p1 - p) < o2 ? ow0 + (p1 - p) : o2;
        float *row = dst + (od * o1 + oh) * o2;
        int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
        int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
        p += ow1 - ow0;
        if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1]) {
            memset(row + ow0, 0, sizeof(float) * (size_t)(ow1 - ow0));
            continue;
        }
        const float *srow = src + (id * g->in[1] + ih) * g->in[2] + off2;
        int64_t a = lo > ow0 ? lo : ow0, b = hi < ow1 ? hi : ow1;
        if (a >= b) {   /* no tap of this segment is inside the input */
            memset(row + ow0, 0, sizeof(float) * (size_t)(ow1 - ow0));
            continue;
        }
        for (int64_t ow = ow0; ow < a; ow++)
            row[ow] = 0;
        if (g->s[2] == 1)
            memcpy(row + a, srow + a, sizeof(float) * (size_t)(b - a));
        else
            for (int64_t ow = a; ow < b; ow++)
                row[ow] = srow[ow * g->s[2]];
        for (int64_t ow = b; ow < ow1; ow++)
            row[ow] = 0;
    }
}

/* One image whose GEMM hl_sgemm would split by columns: each thread
 * builds the im2col columns of its slice, fills its part of y with the
 * bias and multiplies, with no barrier between the three steps (two fewer
 * pool wake-ups per conv at batch 1, and the columns are still in that
 * thread's cache). The slices are hl_sgemm's 16-column blocks and the
 * GEMM calls the same, so the results are bit-identical. */
typedef struct {
    const conv_geom *g;
    const float *x, *w, *bias;
    float *y, *col;
    int64_t b0, grp;
} conv1_job;

static void conv1_slice(void *arg, int i, int n)
{
    const conv1_job *j = arg;
    const conv_geom *g = j->g;
    int64_t P = g->P, blocks = (P + 15) / 16;
    int64_t n0 = blocks * i / n * 16, n1 = blocks * (i + 1) / n * 16;
    if (n1 > P)
        n1 = P;
    if (n1 <= n0)
        return;
    for (int64_t r = 0; r < g->K; r++) {
        int64_t ch = r / g->KK, t = r % g->KK;
        int64_t kw = t % g->k[2], kh = (t / g->k[2]) % g->k[1],
                kd = t / (g->k[2] * g->k[1]);
        const float *src = j->x + (j->b0 * g->C + j->grp * g->Cg + ch) * g->X;
        im2col_row_part(g, src, j->col + r * P, kd, kh, kw, n0, n1);
    }
    float *yg = j->y + (j->b0 * g->OC + j->grp * g->OCg) * P;
    if (j->bias)
        for (int64_t oc = 0; oc < g->OCg; oc++) {
            float bv = j->bias[j->grp * g->OCg + oc];
            float *yr = yg + oc * P;
            for (int64_t p = n0; p < n1; p++)
                yr[p] = bv;
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->OCg,
                (int)(n1 - n0), (int)g->K, 1.0f, j->w + j->grp * g->OCg * g->K,
                (int)g->K, j->col + n0, (int)P, j->bias ? 1.0f : 0.0f,
                yg + n0, (int)P);
}

/* Would hl_sgemm split this conv's one-image GEMM by columns? (its rule) */
static int conv1_fused(const hl_op_ctx *c, const conv_geom *g)
{
    long M = (long)g->OCg, N = (long)g->P, K = (long)g->K;
    return c && c->threadpool && hl_threadpool_threads(c->threadpool) >= 2 &&
           !(N < 32 && M < 32) && M * N * K >= (1L << 20) && M <= N;
}

static void conv_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         hl_tensor *out)
{
    conv_geom g;
    if (conv_geom_make(n->params, &in[0].shape, &in[1].shape, &g, NULL))
        return;
    const float *x = in[0].data, *w = in[1].data;
    const float *bias = hl_has_input(n, 2) ? in[2].data : NULL;
    float *y = out[0].data;
    const conv_params *p = n->params;
    if (!c->weights_transient &&
        hl_conv_dnnl_forward(p->dnnl, c, &in[0], &in[1], bias, y))
        return;
    long planes = (long)(g.N * g.OC);
    if (g.depthwise) {
        dw_job j = { &g, x, w, bias, NULL, y, NULL };
        hl_par_for(c, planes, (long)(planes * g.P * g.KK), hl_conv_dw_forward, &j);
        return;
    }
    float *col = c->scratch;
    for (int64_t b0 = 0; b0 < g.N; b0 += g.nb) {
        int64_t cur = g.N - b0 < g.nb ? g.N - b0 : g.nb;
        int64_t cols = cur * g.P;
        float *tmp = col + (g.pointwise && g.nb == 1 ? 0 : g.K * g.nb * g.P);
        for (int64_t grp = 0; grp < g.G; grp++) {
            const float *B;
            if (cur == 1 && !g.pointwise && conv1_fused(c, &g)) {
                conv1_job fj = { &g, x, w, bias, y, col, b0, grp };
                hl_threadpool_run(c->threadpool, conv1_slice, &fj);
                continue;
            }
            if (g.pointwise && cur == 1) {
                B = x + (b0 * g.C + grp * g.Cg) * g.X;
            } else {
                col_job j = { &g, x, NULL, col, b0, cur, grp };
                hl_par_for(c, (long)(g.K * cur), (long)(g.K * cols),
                           im2col_range, &j);
                B = col;
            }
            const float *Wg = w + grp * g.OCg * g.K;
            if (cur == 1) {
                /* the bias goes in as C with beta = 1: OpenBLAS would
                 * otherwise spend a pass zeroing C for beta = 0 */
                float *yg = y + (b0 * g.OC + grp * g.OCg) * g.P;
                if (bias) {
                    bias_job bj = { &g, bias + grp * g.OCg, yg };
                    hl_par_for(c, (long)g.OCg, (long)(g.OCg * g.P),
                               bias_range, &bj);
                }
                hl_sgemm(c, 0, 0,
                            (int)g.OCg, (int)g.P, (int)g.K, 1.0f, Wg, (int)g.K,
                            B, (int)g.P, bias ? 1.0f : 0.0f, yg, (int)g.P);
            } else {
                hl_sgemm(c, 0, 0,
                            (int)g.OCg, (int)cols, (int)g.K, 1.0f, Wg,
                            (int)g.K, B, (int)cols, 0.0f, tmp, (int)cols);
                scatter_job s = { &g, y, tmp, b0, cur, grp, 1, bias };
                hl_par_for(c, (long)(g.OCg * cur), (long)(g.OCg * cols),
                           scatter_range, &s);
            }
        }
    }
}

static void conv_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          const hl_tensor *out, const hl_tensor *gout,
                          hl_tensor *gin)
{
    (void)out;
    if (!gout[0].data || !gin[0].data)
        return; /* weight and bias gradients are never needed */
    conv_geom g;
    if (conv_geom_make(n->params, &in[0].shape, &in[1].shape, &g, NULL))
        return;
    const float *w = in[1].data;
    float *gy = gout[0].data, *gx = gin[0].data;
    const conv_params *p = n->params;
    if (!c->weights_transient &&
        hl_conv_dnnl_backward(p->dnnl, c, &in[0], &in[1], gy, gx))
        return;
    if (g.depthwise) {
        dw_job j = { &g, NULL, w, NULL, gy, NULL, gx };
        long planes = (long)(g.N * g.C);
        hl_par_for(c, planes, (long)(planes * g.X * g.KK * g.OCg),
                   hl_conv_dw_backward, &j);
        return;
    }
    float *col = c->scratch;
    for (int64_t b0 = 0; b0 < g.N; b0 += g.nb) {
        int64_t cur = g.N - b0 < g.nb ? g.N - b0 : g.nb;
        int64_t cols = cur * g.P;
        float *tmp = col + (g.pointwise && g.nb == 1 ? 0 : g.K * g.nb * g.P);
        for (int64_t grp = 0; grp < g.G; grp++) {
            const float *Wg = w + grp * g.OCg * g.K;
            const float *A;
            if (cur == 1) {
                A = gy + (b0 * g.OC + grp * g.OCg) * g.P;
            } else {
                scatter_job s = { &g, gy, tmp, b0, cur, grp, 0, NULL };
                hl_par_for(c, (long)(g.OCg * cur), (long)(g.OCg * cols),
                           scatter_range, &s);
                A = tmp;
            }
            if (g.pointwise && cur == 1) {
                hl_sgemm(c, 1, 0,
                            (int)g.K, (int)g.P, (int)g.OCg, 1.0f, Wg, (int)g.K,
                            A, (int)g.P, 1.0f,
                            gx + (b0 * g.C + grp * g.Cg) * g.X, (int)g.P);
                continue;
            }
            hl_sgemm(c, 1, 0,
                        (int)g.K, (int)cols, (int)g.OCg, 1.0f, Wg, (int)g.K,
                        A, (int)cols, 0.0f, col, (int)cols);
            col_job j = { &g, NULL, gx, col, b0, cur, grp };
            hl_par_for(c, (long)(cur * g.Cg), (long)(g.K * cols),
                       col2im_range, &j);
        }
    }
}

/* Output boxes from input crops (run_incremental.c): the crops carry
 * their zero padding, so the copy has none, and runs our own kernels
 * (oneDNN primitives are made per shape, and crops vary). */
static int conv_region(const hl_node *n, const hl_tensor *in,
                       const hl_tensor *out, hl_region *r)
{
    (void)out;
    const conv_params *p = n->params;
    memset(r, 0, sizeof *r);
    if (!hl_kernel_geom_region(&p->w, in, r))
        return 0;
    conv_params *u = malloc(sizeof *u);
    if (!u)
        return 0;
    *u = *p;
    hl_kernel_geom_unpad(&u->w);
    u->dnnl = NULL;
    r->pad = 0.0f;
    r->unpadded = u;
    return 1;
}

const hl_op hl_op_conv = {
    .op_type = "Conv", .source = __FILE__,
    .flags = HL_OP_TAKES_BN, .lrp = HL_LRP_CONV, .bwd_reads = HL_BWD_READS_WEIGHTS, .init = conv_init, .shape = conv_shape,
    .scratch_floats = conv_scratch, .forward = conv_forward,
    .backward = conv_backward, .free_params = conv_free,
    .flops = conv_flops, .region = conv_region,
};
