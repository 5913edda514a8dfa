/* MaxPool, AveragePool (1-3 spatial dims, pads, strides, dilations,
 * ceil_mode, count_include_pad), GlobalAveragePool, GlobalMaxPool.
 * Work is split over (image, channel) planes; MaxPool's backward finds the
 * argmax again from the saved input (first maximum in scan order, as
 * PyTorch does) instead of storing indices. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "spatial.h"

typedef struct {
    hl_kernel_geom w;
    int is_max;
    int count_include_pad;
} pool_params;

typedef struct {
    int64_t planes;
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    int64_t X, P;
} pool_geom;

static int pool_geom_make(const pool_params *p, const hl_shape *xs,
                          pool_geom *g)
{
    int nsp = p->w.nsp, off = 3 - nsp;
    if (xs->ndim != nsp + 2)
        return -1;
    g->planes = xs->dims[0] * xs->dims[1];
    for (int i = 0; i < 3; i++)
        g->in[i] = i < off ? 1 : xs->dims[2 + i - off];
    if (hl_kernel_geom_out(&p->w, g->in, g->out, g->pb))
        return -1;
    g->X = g->P = 1;
    for (int i = 0; i < 3; i++) {
        g->k[i] = p->w.k[i];
        g->s[i] = p->w.s[i];
        g->d[i] = p->w.d[i];
        int64_t ext = (g->k[i] - 1) * g->d[i] + 1;
        if (p->w.auto_pad == HL_PAD_NOTSET)
            g->pe[i] = p->w.pe[i];
        else if (p->w.auto_pad == HL_PAD_VALID)
            g->pe[i] = 0;
        else {
            int64_t total = (g->out[i] - 1) * g->s[i] + ext - g->in[i];
            g->pe[i] = (total > 0 ? total : 0) - g->pb[i];
        }
        /* checked: the sizes come from the file */
        g->X = hl_elems_mul(g->X, g->in[i]);
        g->P = hl_elems_mul(g->P, g->out[i]);
        if (g->X < 0 || g->P < 0)
            return -1;
    }
    return 0;
}

static hl_status pool_init_common(hl_node *n, const hl_attrs *attrs,
                                  int is_max, hl_error *err)
{
    int64_t ks[3];
    int nsp = hl_attrs_ints(attrs, "kernel_shape", ks, 3);
    if (nsp < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "attribute 'kernel_shape' is required");
    if (n->n_in != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 input");
    hl_status st = hl_params_alloc(n, sizeof(pool_params), err);
    if (st)
        return st;
    pool_params *p = n->params;
    p->is_max = is_max;
    st = hl_kernel_geom_parse(&p->w, attrs, nsp, 1, 1, err);
    if (st)
        return st;
    if (is_max) {
        if (hl_has_output(n, 1))
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "the Indices output is not supported");
        if (hl_attrs_int(attrs, "storage_order", 0) != 0)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'storage_order' = %lld (only 0)",
                                (long long)hl_attrs_int(attrs, "storage_order", 0));
    } else {
        int64_t cip = hl_attrs_int(attrs, "count_include_pad", 0);
        if (cip != 0 && cip != 1)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'count_include_pad' value %lld",
                                (long long)cip);
        p->count_include_pad = (int)cip;
    }
    return HL_OK;
}

static hl_status maxpool_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    return pool_init_common(n, attrs, 1, err);
}

static hl_status avgpool_init(hl_node *n, const hl_attrs *attrs,
                              const hl_tensor *in, hl_error *err)
{
    (void)in;
    return pool_init_common(n, attrs, 0, err);
}

static hl_status pool_shape(const hl_node *n, const hl_tensor *in,
                            hl_tensor *out, hl_error *err)
{
    const pool_params *p = n->params;
    pool_geom g;
    char b[96];
    if (pool_geom_make(p, &in[0].shape, &g))
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input %s does not fit a %d-D window (or a plane "
                            "would exceed 2^34 elements)",
                            hl_shape_format(&in[0].shape, b, sizeof b),
                            p->w.nsp);
    int off = 3 - p->w.nsp;
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape = in[0].shape;
    for (int i = 0; i < p->w.nsp; i++)
        out[0].shape.dims[2 + i] = g.out[off + i];
    return HL_OK;
}

/* Valid taps [lo, hi) of a window starting at `start` along one dim. */
static inline void pool_taps(int64_t start, int64_t k, int64_t d, int64_t in,
                             int64_t *lo, int64_t *hi)
{
    int64_t l = start < 0 ? (-start + d - 1) / d : 0;
    int64_t h = in - 1 - start >= 0 ? (in - 1 - start) / d + 1 : 0;
    if (h > k)
        h = k;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

typedef struct {
    const pool_params *p;
    const pool_geom *g;
    const float *x, *gy;
    float *y, *gx;
} pool_job;

/* Visits each output position of one plane: fn gets the output index and
 * the window's valid tap ranges. Written out per op to keep loops tight. */
#define POOL_LOOP(G, BODY)                                                    \
    for (int64_t od = 0; od < (G)->out[0]; od++) {                            \
        int64_t s0 = od * (G)->s[0] - (G)->pb[0], l0, h0;                     \
        pool_taps(s0, (G)->k[0], (G)->d[0], (G)->in[0], &l0, &h0);            \
        for (int64_t oh = 0; oh < (G)->out[1]; oh++) {                        \
            int64_t s1 = oh * (G)->s[1] - (G)->pb[1], l1, h1;                 \
            pool_taps(s1, (G)->k[1], (G)->d[1], (G)->in[1], &l1, &h1);        \
            for (int64_t ow = 0; ow < (G)->out[2]; ow++) {                    \
                int64_t s2 = ow * (G)->s[2] - (G)->pb[2], l2, h2;             \
                pool_taps(s2, (G)->k[2], (G)->d[2], (G)->in[2], &l2, &h2);    \
                int64_t o = (od * (G)->out[1] + oh) * (G)->out[2] + ow;       \
                BODY                                                          \
            }                                                                 \
        }                                                                     \
    }

/* Index in the plane of the first maximum of the window (-1 if empty). */
#define POOL_ARGMAX(G, XP, BEST)                                              \
    do {                                                                      \
        float m_ = -INFINITY;                                                 \
        BEST = -1;                                                            \
        for (int64_t a = l0; a < h0; a++) {                                   \
            int64_t i0 = s0 + a * (G)->d[0];                                  \
            for (int64_t b = l1; b < h1; b++) {                               \
                int64_t i1 = (i0 * (G)->in[1] + s1 + b * (G)->d[1]) *         \
                             (G)->in[2];                                      \
                for (int64_t c = l2; c < h2; c++) {                           \
                    int64_t idx = i1 + s2 + c * (G)->d[2];                    \
                    if ((XP)[idx] > m_ || BEST < 0) {                         \
                        m_ = (XP)[idx];                                       \
                        BEST = idx;                                           \
                    }                                                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
    } while (0)

static int64_t avg_divisor(const pool_params *p, const pool_geom *g,
                           int64_t s0, int64_t s1, int64_t s2, int64_t cnt)
{
    if (!p->count_include_pad)
        return cnt;
    /* taps inside the padded input, not those past it (ceil_mode) */
    int64_t st[3] = { s0, s1, s2 }, n = 1;
    for (int i = 0; i < 3; i++) {
        int64_t c = 0;
        for (int64_t k = 0; k < g->k[i]; k++) {
            int64_t pos = st[i] + k * g->d[i];
            if (pos >= -g->pb[i] && pos < g->in[i] + g->pe[i])
                c++;
        }
        n *= c;
    }
    return n;
}

/* 2-D MaxPool without dilation, the common case (ResNet's 3x3 stride 2):
 * the valid window of every output column is computed once per call
 * instead of per output, and the scan visits the taps in POOL_ARGMAX's
 * order, so the first maximum found (and every result) is the same. */
#define MAX2D_COLS 1024

static int max2d_fits(const pool_job *j)
{
    const pool_geom *g = j->g;
    return j->p->is_max && g->in[0] == 1 && g->out[0] == 1 && g->k[0] == 1 &&
           g->d[1] == 1 && g->d[2] == 1 && g->out[2] <= MAX2D_COLS;
}

/* Window [lo, hi) along one dim for output o (empty when lo >= hi). */
static inline void max2d_span(int64_t o, int64_t s, int64_t pb, int64_t k,
                              int64_t in, int64_t *lo, int64_t *hi)
{
    int64_t start = o * s - pb, end = start + k;
    *lo = start > 0 ? start : 0;
    *hi = end < in ? end : in;
}

/* The window's maximum in scan order: the first tap, then any strictly
 * greater one (so a NaN only wins as the first tap, as in POOL_ARGMAX).
 * A select instead of a branch: random data makes the branch a coin flip. */
static inline float max2d_value(const float *xp, int64_t W, int64_t r0,
                                int64_t r1, int64_t c0, int64_t c1)
{
    float m = xp[r0 * W + c0];
    for (int64_t r = r0; r < r1; r++) {
        const float *row = xp + r * W;
        for (int64_t c = c0; c < c1; c++)
            m = row[c] > m ? row[c] : m;
    }
    return m;
}

/* POOL_ARGMAX's choice (first maximum in scan order), -1 for an empty
 * window; selects, no branches on the data. */
static inline int64_t max2d_argmax(const float *xp, int64_t W, int64_t r0,
                                   int64_t r1, int64_t c0, int64_t c1)
{
    if (r0 >= r1 || c0 >= c1)
        return -1;
    /* the maximum, then the first tap equal to it found by a backward
     * scan of selects (no branch to mispredict); a NaN maximum equals no
     * tap, which leaves the first tap, as POOL_ARGMAX does */
    float m = max2d_value(xp, W, r0, r1, c0, c1);
    int64_t best = r0 * W + c0;
    for (int64_t r = r1 - 1; r >= r0; r--) {
        const float *row = xp + r * W;
        for (int64_t c = c1 - 1; c >= c0; c--)
            best = row[c] == m ? r * W + c : best;
    }
    return best;
}

/* forward (gx == NULL) or backward of planes [begin, end) */
static void max2d_range(const pool_job *j, long begin, long end)
{
    const pool_geom *g = j->g;
    int64_t c0s[MAX2D_COLS], c1s[MAX2D_COLS];
    int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    for (int64_t ow = 0; ow < OW; ow++)
        max2d_span(ow, g->s[2], g->pb[2], g->k[2], W, &c0s[ow], &c1s[ow]);
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * g->X;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t r0, r1;
            max2d_span(oh, g->s[1], g->pb[1], g->k[1], H, &r0, &r1);
            if (!j->gx) {
                float *yr = j->y + u * g->P + oh * OW;
                for (int64_t ow = 0; ow < OW; ow++)
                    yr[ow] = r0 < r1 && c0s[ow] < c1s[ow]
                                 ? max2d_value(xp, W, r0, r1, c0s[ow], c1s[ow])
                                 : 0.0f;
            } else {
                const float *gr = j->gy + u * g->P + oh * OW;
                float *gxp = j->gx + u * g->X;
                for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t b = max2d_argmax(xp, W, r0, r1, c0s[ow], c1s[ow]);
                    if (b >= 0)
                        gxp[b] += gr[ow];
                }
            }
        }
    }
}

static void pool_fwd_range(void *arg, long begin, long end)
{
    pool_job *j = arg;
    const pool_geom *g = j->g;
    if (max2d_fits(j)) {
        max2d_range(j, begin, end);
        return;
    }
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * g->X;
        float *yp = j->y + u * g->P;
        if (j->p->is_max) {
            POOL_LOOP(g, {
                int64_t best;
                POOL_ARGMAX(g, xp, best);
                yp[o] = best >= 0 ? xp[best] : 0.0f;
            })
        } else {
            POOL_LOOP(g, {
                float sum = 0;
                for (int64_t a = l0; a < h0; a++) {
                    int64_t i0 = s0 + a * g->d[0];
                    for (int64_t b = l1; b < h1; b++) {
                        const float *row = xp + (i0 * g->in[1] + s1 +
                                                 b * g->d[1]) * g->in[2] + s2;
                        for (int64_t c = l2; c < h2; c++)
                            sum += row[c * g->d[2]];
                    }
                }
                int64_t cnt = (h0 - l0) * (h1 - l1) * (h2 - l2);
                int64_t div = avg_divisor(j->p, g, s0, s1, s2, cnt);
                yp[o] = div > 0 ? sum / (float)div : 0.0f;
            })
        }
    }
}

static void pool_bwd_range(void *arg, long begin, long end)
{
    pool_job *j = arg;
    const pool_geom *g = j->g;
    if (max2d_fits(j)) {
        max2d_range(j, begin, end);
        return;
    }
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * g->X;
        const float *gp = j->gy + u * g->P;
        float *gxp = j->gx + u * g->X;
        if (j->p->is_max) {
            POOL_LOOP(g, {
                int64_t best;
                POOL_ARGMAX(g, xp, best);
                if (best >= 0)
                    gxp[best] += gp[o];
            })
        } else {
            POOL_LOOP(g, {
                int64_t cnt = (h0 - l0) * (h1 - l1) * (h2 - l2);
                int64_t div = avg_divisor(j->p, g, s0, s1, s2, cnt);
                if (div <= 0)
                    continue;
                float v = gp[o] / (float)div;
                for (int64_t a = l0; a < h0; a++) {
                    int64_t i0 = s0 + a * g->d[0];
                    for (int64_t b = l1; b < h1; b++) {
                        float *row = gxp + (i0 * g->in[1] + s1 +
                                            b * g->d[1]) * g->in[2] + s2;
                        for (int64_t c = l2; c < h2; c++)
                            row[c * g->d[2]] += v;
                    }
                }
            })
        }
    }
}

static void pool_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         hl_tensor *out)
{
    pool_geom g;
    if (pool_geom_make(n->params, &in[0].shape, &g))
        return;
    pool_job j = { n->params, &g, in[0].data, NULL, out[0].data, NULL };
    long work = (long)(g.planes * g.P * g.k[0] * g.k[1] * g.k[2]);
    hl_par_for(c, (long)g.planes, work, pool_fwd_range, &j);
}

static void pool_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          const hl_tensor *out, const hl_tensor *gout,
                          hl_tensor *gin)
{
    (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    pool_geom g;
    if (pool_geom_make(n->params, &in[0].shape, &g))
        return;
    pool_job j = { n->params, &g, in[0].data, gout[0].data, NULL,
                   gin[0].data };
    long work = (long)(g.planes * g.P * g.k[0] * g.k[1] * g.k[2]);
    hl_par_for(c, (long)g.planes, work, pool_bwd_range, &j);
}

/* ---------------------------------------------- DeepLift's MaxPool rule */
/* Captum 0.7's maxpool() multipliers (deep_lift.py). Captum runs the input
 * and the reference as one doubled batch and seeds the target of both
 * halves; g and g_ref are the two halves' gradients at the pool's output
 * (equal until some op's backward treats the halves differently: a pool
 * fed by a hooked op routes each half over its own argmax). With o, r the
 * pool outputs at x and at the reference, the input multiplier is
 *   (unpool_x(g * (max(o, r) - r)) + unpool_ref(g_ref * (o - max(o, r))))
 *   / (x - x_ref)
 * where unpool_x scatters over x's argmax and unpool_ref over the
 * reference's; MaxUnpool writes, so an input that is the maximum of several
 * windows keeps the value of the last window in scan order.
 *
 * Captum's hook sits on the pool's input tensor, so it fires once that
 * tensor's gradient is complete (every consumer's share, the pool's own as
 * a plain gradient) and replaces all of it: the engine calls this after
 * the last consumer's backward, with gin[0] holding that sum, and it is
 * overwritten by the multiplier; where |x - x_ref| < 1e-10 by the sum's
 * first row (Captum's grad_input[0]), for every row. g_ref is
 * ctx->ref_gout (the engine's backward of the reference run), else g. */
typedef struct {
    const pool_geom *g;
    const float *x, *y, *xr, *yr, *gy, *gyr;
    const float *total0;  /* the complete gradient's first row */
    float *gx;
    int64_t ref_planes, row_planes;
} dl_pool_job;

#define DL_POOL_EPS 1e-10f

/* One plane's unpool of the two halves (MaxUnpool overwrites) into up
 * (over x's argmax) and ur (over the reference's), both zeroed. */
static void dl_pool_plane(const pool_geom *g, const float *xp,
                          const float *xrp, const float *yp, const float *yrp,
                          const float *gp, const float *grp, float *up,
                          float *ur)
{
    POOL_LOOP(g, {
        int64_t best;
        int64_t rbest;
        POOL_ARGMAX(g, xp, best);
        POOL_ARGMAX(g, xrp, rbest);
        float hi = yp[o] > yrp[o] ? yp[o] : yrp[o];
        if (best >= 0)
            up[best] = gp[o] * (hi - yrp[o]);
        if (rbest >= 0)
            ur[rbest] = grp[o] * (yp[o] - hi);
    })
}

static void dl_pool_range(void *arg, long begin, long end)
{
    dl_pool_job *j = arg;
    const pool_geom *g = j->g;
    int64_t X = g->X;
    float *buf = malloc((size_t)X * 2 * sizeof(float));
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * X, *gp = j->gy + u * g->P;
        int64_t ru = u % j->ref_planes, u0 = u % j->row_planes;
        const float *xrp = j->xr + ru * X, *yrp = j->yr + ru * g->P;
        const float *t0 = j->total0 + u0 * X;
        float *gxp = j->gx + u * X;
        if (!buf) /* out of memory: the sum stays (plain gradient) */
            continue;
        float *up = buf, *ur = buf + X;
        memset(buf, 0, (size_t)X * 2 * sizeof(float));
        dl_pool_plane(g, xp, xrp, j->y + u * g->P, yrp, gp,
                      j->gyr + u * g->P, up, ur);
        for (int64_t i = 0; i < X; i++) {
            float dx = xp[i] - xrp[i];
            gxp[i] = fabsf(dx) < DL_POOL_EPS ? t0[i] : (up[i] + ur[i]) / dx;
        }
    }
    free(buf);
}

/* Replaces gin[0] (the complete gradient of the input) by the multipliers;
 * see above. */
static void maxpool_deeplift_backward(const hl_node *n, hl_op_ctx *c,
                                      const hl_tensor *in,
                                      const hl_tensor *out,
                                      const hl_tensor *gout, hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    pool_geom g;
    if (pool_geom_make(n->params, &in[0].shape, &g))
        return;
    if (!c->ref_in || !c->ref_out || !c->ref_in[0].data ||
        !c->ref_out[0].data || g.X == 0)
        return;
    int64_t ref_planes = hl_shape_numel(&c->ref_in[0].shape) / g.X;
    int64_t rows = in[0].shape.dims[0];
    int64_t row_planes = rows > 0 && g.planes / rows > 0 ? g.planes / rows : 1;
    float *total0 = malloc((size_t)(row_planes * g.X) * sizeof(float));
    if (!total0)
        return;
    memcpy(total0, gin[0].data, (size_t)(row_planes * g.X) * sizeof(float));
    const float *gyr = c->ref_gout && c->ref_gout[0].data &&
                               hl_shape_numel(&c->ref_gout[0].shape) ==
                                   hl_shape_numel(&out[0].shape)
                           ? c->ref_gout[0].data
                           : gout[0].data;
    dl_pool_job j = { &g, in[0].data, out[0].data, c->ref_in[0].data,
                      c->ref_out[0].data, gout[0].data, gyr, total0,
                      gin[0].data,
                      ref_planes > 0 ? ref_planes : 1, row_planes };
    long work = (long)(g.planes * g.P * g.k[0] * g.k[1] * g.k[2]);
    hl_par_for(c, (long)g.planes, work, dl_pool_range, &j);
    free(total0);
}

/* Output boxes from input crops (run_incremental.c): MaxPool's padding is
 * -inf in the crop; AveragePool only when padding cannot change a divisor
 * (no pads, or count_include_pad without ceil_mode). */
static int pool_region(const hl_node *n, const hl_tensor *in,
                       const hl_tensor *out, hl_region *r)
{
    (void)out;
    const pool_params *p = n->params;
    memset(r, 0, sizeof *r);
    if (!hl_kernel_geom_region(&p->w, in, r))
        return 0;
    if (!p->is_max) {
        int padded = p->w.auto_pad == HL_PAD_SAME_UPPER ||
                     p->w.auto_pad == HL_PAD_SAME_LOWER || p->w.ceil_mode;
        for (int i = 0; i < 3; i++)
            if (p->w.auto_pad == HL_PAD_NOTSET && (p->w.pb[i] || p->w.pe[i]))
                padded = 1;
        if (padded && !(p->count_include_pad && !p->w.ceil_mode))
            return 0;
    }
    pool_params *u = malloc(sizeof *u);
    if (!u)
        return 0;
    *u = *p;
    hl_kernel_geom_unpad(&u->w);
    r->pad = p->is_max ? -INFINITY : 0.0f;
    r->unpadded = u;
    return 1;
}

const hl_op hl_op_maxpool = {
    .op_type = "MaxPool", .source = __FILE__, .flags = HL_OP_DEEPLIFT_HOOKED,
    .lrp = HL_LRP_POOL,
    .bwd_reads = HL_BWD_READS_INPUTS, .init = maxpool_init, .shape = pool_shape,
    .forward = pool_forward, .backward = pool_backward,
    .deeplift_backward = maxpool_deeplift_backward,
    .free_params = hl_params_free, .region = pool_region,
};

const hl_op hl_op_averagepool = {
    .op_type = "AveragePool", .source = __FILE__, .lrp = HL_LRP_POOL,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = avgpool_init, .shape = pool_shape,
    .forward = pool_forward, .backward = pool_backward,
    .free_params = hl_params_free, .region = pool_region,
};

/* ------------------------------------------------------- global pools */

typedef struct {
    int is_max;
} gpool_params;

static hl_status gpool_init_common(hl_node *n, int is_max, hl_error *err)
{
    if (n->n_in != 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 input and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(gpool_params), err);
    if (st)
        return st;
    ((gpool_params *)n->params)->is_max = is_max;
    return HL_OK;
}

static hl_status gmaxpool_init(hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    return gpool_init_common(n, 1, err);
}

static hl_status gavgpool_init(hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    return gpool_init_common(n, 0, err);
}

static hl_status gpool_shape(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    (void)n;
    if (in[0].shape.ndim < 3)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input needs at least one spatial dim");
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape = in[0].shape;
    for (int i = 2; i < in[0].shape.ndim; i++)
        out[0].shape.dims[i] = 1;
    return HL_OK;
}

typedef struct {
    int is_max;
    int64_t X;
    const float *x, *gy;
    float *y, *gx;
} gpool_job;

static void gpool_fwd_range(void *arg, long begin, long end)
{
    gpool_job *j = arg;
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * j->X;
        if (j->is_max) {
            float m = xp[0];
            for (int64_t i = 1; i < j->X; i++)
                m = xp[i] > m ? xp[i] : m;
            j->y[u] = m;
        } else {
            double s = 0;
            for (int64_t i = 0; i < j->X; i++)
                s += xp[i];
            j->y[u] = (float)(s / (double)j->X);
        }
    }
}

static void gpool_bwd_range(void *arg, long begin, long end)
{
    gpool_job *j = arg;
    for (long u = begin; u < end; u++) {
        const float *xp = j->x + u * j->X;
        float *gp = j->gx + u * j->X;
        float g = j->gy[u];
        if (j->is_max) {
            int64_t best = 0;
            for (int64_t i = 1; i < j->X; i++)
                if (xp[i] > xp[best])
                    best = i;
            gp[best] += g;
        } else {
            float v = g / (float)j->X;
            for (int64_t i = 0; i < j->X; i++)
                gp[i] += v;
        }
    }
}

static gpool_job gpool_make(const hl_node *n, const hl_tensor *in)
{
    gpool_job j = { ((const gpool_params *)n->params)->is_max, 1, in[0].data,
                    NULL, NULL, NULL };
    for (int i = 2; i < in[0].shape.ndim; i++)
        j.X *= in[0].shape.dims[i];
    return j;
}

static void gpool_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          hl_tensor *out)
{
    gpool_job j = gpool_make(n, in);
    j.y = out[0].data;
    long planes = (long)(in[0].shape.dims[0] * in[0].shape.dims[1]);
    hl_par_for(c, planes, planes * (long)j.X, gpool_fwd_range, &j);
}

static void gpool_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           const hl_tensor *out, const hl_tensor *gout,
                           hl_tensor *gin)
{
    (void)out;
    if (!gout[0].data || !gin[0].data)
        return;
    gpool_job j = gpool_make(n, in);
    j.gy = gout[0].data;
    j.gx = gin[0].data;
    long planes = (long)(in[0].shape.dims[0] * in[0].shape.dims[1]);
    hl_par_for(c, planes, planes * (long)j.X, gpool_bwd_range, &j);
}

const hl_op hl_op_globalaveragepool = {
    .op_type = "GlobalAveragePool", .source = __FILE__, .lrp = HL_LRP_POOL,
    .bwd_reads = HL_BWD_READS_NOTHING, .init = gavgpool_init,
    .shape = gpool_shape, .forward = gpool_forward,
    .backward = gpool_backward, .free_params = hl_params_free,
};

const hl_op hl_op_globalmaxpool = {
    .op_type = "GlobalMaxPool", .source = __FILE__, .init = gmaxpool_init, .shape = gpool_shape,
    .forward = gpool_forward, .backward = gpool_backward,
    .free_params = hl_params_free,
};
