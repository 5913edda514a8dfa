/* Gemm (transA, transB, alpha, beta, broadcast C) and MatMul (NumPy
 * semantics: batched, broadcast batch dims, 1-D operands), on CBLAS. */
#include <cblas.h>
#include <string.h>
#include "kernels.h"

/* ---------------------------------------------------------------- Gemm */

typedef struct {
    int trans_a, trans_b;
    float alpha, beta;
} gemm_params;

static hl_status gemm_init(hl_node *n, const hl_attrs *attrs,
                           const hl_tensor *in, hl_error *err)
{
    (void)in;
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 2 or 3 inputs and 1 output");
    hl_status st = hl_params_alloc(n, sizeof(gemm_params), err);
    if (st)
        return st;
    gemm_params *p = n->params;
    int64_t ta = hl_attrs_int(attrs, "transA", 0);
    int64_t tb = hl_attrs_int(attrs, "transB", 0);
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "attribute '%s' must be 0 or 1",
                            ta != 0 && ta != 1 ? "transA" : "transB");
    p->trans_a = (int)ta;
    p->trans_b = (int)tb;
    p->alpha = hl_attrs_float(attrs, "alpha", 1.0f);
    p->beta = hl_attrs_float(attrs, "beta", 1.0f);
    return HL_OK;
}

typedef struct {
    int64_t M, N, K;
} gemm_dims;

static int gemm_get_dims(const gemm_params *p, const hl_tensor *in,
                         gemm_dims *d)
{
    const hl_shape *a = &in[0].shape, *b = &in[1].shape;
    if (a->ndim != 2 || b->ndim != 2)
        return -1;
    d->M = p->trans_a ? a->dims[1] : a->dims[0];
    d->K = p->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = p->trans_b ? b->dims[1] : b->dims[0];
    d->N = p->trans_b ? b->dims[0] : b->dims[1];
    return kb == d->K ? 0 : -1;
}

static hl_status gemm_shape(const hl_node *n, const hl_tensor *in,
                            hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    gemm_dims d;
    char b1[96], b2[96];
    if (gemm_get_dims(n->params, in, &d))
        return hl_error_set(err, HL_ERR_SHAPE, "A %s and B %s do not multiply",
                            hl_shape_format(&in[0].shape, b1, sizeof b1),
                            hl_shape_format(&in[1].shape, b2, sizeof b2));
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape.ndim = 2;
    out[0].shape.dims[0] = d.M;
    out[0].shape.dims[1] = d.N;
    if (hl_has_input(n, 2)) {
        hl_shape s;
        if (hl_broadcast_shape(&out[0].shape, &in[2].shape, &s) ||
            !hl_shape_equal(&s, &out[0].shape))
            return hl_error_set(err, HL_ERR_SHAPE,
                                "C %s does not broadcast to [%lld,%lld]",
                                hl_shape_format(&in[2].shape, b1, sizeof b1),
                                (long long)d.M, (long long)d.N);
    }
    return HL_OK;
}

static void gemm_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         hl_tensor *out)
{
    (void)c;
    const gemm_params *p = n->params;
    gemm_dims d;
    if (gemm_get_dims(p, in, &d))
        return;
    float *y = out[0].data;
    float beta = 0.0f;
    if (hl_has_input(n, 2) && in[2].data && p->beta != 0.0f) {
        hl_bcast bc;
        hl_bcast_init(&bc, &out[0].shape, &in[2].shape);
        int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
        for (int64_t r = 0; r < bc.total / inner; r++) {
            int64_t oa, ob;
            hl_bcast_row(&bc, r, &oa, &ob);
            for (int64_t k = 0; k < inner; k++)
                y[oa + k] = p->beta * in[2].data[ob + k * sb];
        }
        beta = 1.0f;
    }
    if (d.M == 0 || d.N == 0)
        return;
    if (d.K == 0) {
        if (beta == 0.0f)
            memset(y, 0, sizeof(float) * (size_t)(d.M * d.N));
        return;
    }
    hl_sgemm(c, p->trans_a ? 1 : 0, p->trans_b ? 1 : 0, (int)d.M, (int)d.N,
                (int)d.K, p->alpha, in[0].data, (int)in[0].shape.dims[1],
                in[1].data, (int)in[1].shape.dims[1], beta, y, (int)d.N);
}

static void gemm_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          const hl_tensor *out, const hl_tensor *gout,
                          hl_tensor *gin)
{
    (void)c;
    const gemm_params *p = n->params;
    gemm_dims d;
    if (!gout[0].data || gemm_get_dims(p, in, &d) || d.K == 0)
        goto bias;
    const float *g = gout[0].data;   /* [M, N] */
    int lda = (int)in[0].shape.dims[1], ldb = (int)in[1].shape.dims[1];
    if (gin[0].data) {
        if (!p->trans_a) /* dA[M,K] += alpha G[M,N] opB^T[N,K] */
            hl_sgemm(c, 0, p->trans_b ? 0 : 1, (int)d.M,
                        (int)d.K, (int)d.N, p->alpha, g, (int)d.N,
                        in[1].data, ldb, 1.0f, gin[0].data, lda);
        else /* dA[K,M] += alpha opB[K,N] G^T[N,M] */
            hl_sgemm(c, p->trans_b ? 1 : 0, 1, (int)d.K, (int)d.M, (int)d.N, p->alpha,
                        in[1].data, ldb, g, (int)d.N, 1.0f, gin[0].data, lda);
    }
    if (gin[1].data) {
        if (!p->trans_b) /* dB[K,N] += alpha opA^T[K,M] G[M,N] */
            hl_sgemm(c, p->trans_a ? 0 : 1, 0, (int)d.K, (int)d.N, (int)d.M, p->alpha,
                        in[0].data, lda, g, (int)d.N, 1.0f, gin[1].data, ldb);
        else /* dB[N,K] += alpha G^T[N,M] opA[M,K] */
            hl_sgemm(c, 1, p->trans_a ? 1 : 0, (int)d.N,
                        (int)d.K, (int)d.M, p->alpha, g, (int)d.N, in[0].data,
                        lda, 1.0f, gin[1].data, ldb);
    }
bias:
    if (gout[0].data && n->n_in > 2 && hl_has_input(n, 2) && gin[2].data) {
        hl_bcast bc;
        hl_bcast_init(&bc, &out[0].shape, &in[2].shape);
        int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
        for (int64_t r = 0; r < bc.total / inner; r++) {
            int64_t oa, ob;
            hl_bcast_row(&bc, r, &oa, &ob);
            for (int64_t k = 0; k < inner; k++)
                gin[2].data[ob + k * sb] += p->beta * gout[0].data[oa + k];
        }
    }
}

static double gemm_flops(const hl_node *n, const hl_tensor *in,
                         const hl_tensor *out)
{
    (void)out;
    gemm_dims d;
    if (gemm_get_dims(n->params, in, &d))
        return 0;
    return (double)d.M * d.N * d.K;
}

const hl_op hl_op_gemm = {
    .op_type = "Gemm", .source = __FILE__, .lrp = HL_LRP_LINEAR,
    .bwd_reads = HL_BWD_READS_OTHER_OPERAND, .init = gemm_init, .shape = gemm_shape,
    .forward = gemm_forward, .backward = gemm_backward,
    .free_params = hl_params_free, .flops = gemm_flops,
};

/* -------------------------------------------------------------- MatMul */

typedef struct {
    int64_t M, N, K;
    int nb;                      /* batch dims of the output */
    int64_t bdims[HL_MAX_DIMS];  /* output batch dims */
    int64_t sa[HL_MAX_DIMS], sb[HL_MAX_DIMS]; /* batch strides in matrices */
    int64_t batches;
    int a_flat;                  /* B has no batch dims: fold A's batch into M */
    hl_shape out;
} mm_geom;

static int mm_geom_make(const hl_shape *as, const hl_shape *bs, mm_geom *g)
{
    if (as->ndim < 1 || bs->ndim < 1)
        return -1;
    int a1 = as->ndim == 1, b1 = bs->ndim == 1;
    int64_t M = a1 ? 1 : as->dims[as->ndim - 2];
    int64_t K = as->dims[as->ndim - 1];
    int64_t KB = b1 ? bs->dims[0] : bs->dims[bs->ndim - 2];
    int64_t N = b1 ? 1 : bs->dims[bs->ndim - 1];
    if (K != KB)
        return -1;
    int na = a1 ? 0 : as->ndim - 2, nbb = b1 ? 0 : bs->ndim - 2;
    int nb = na > nbb ? na : nbb;
    memset(g, 0, sizeof *g);
    g->M = M;
    g->N = N;
    g->K = K;
    g->nb = nb;
    g->batches = 1;
    int64_t ra = M * K, rb = K * N;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - na), ib = i - (nb - nbb);
        int64_t da = ia >= 0 ? as->dims[ia] : 1;
        int64_t db = ib >= 0 ? bs->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return -1;
        g->bdims[i] = da > db ? da : db;
        g->sa[i] = da == 1 ? 0 : ra;
        g->sb[i] = db == 1 ? 0 : rb;
        ra *= da;
        rb *= db;
        g->batches *= g->bdims[i];
    }
    g->a_flat = nbb == 0 || rb == K * N; /* B identical for every batch */
    /* a_flat also needs A's batch to be dense (no broadcast of A) */
    if (ra != M * K * g->batches)
        g->a_flat = 0;
    g->out.ndim = 0;
    for (int i = 0; i < nb; i++)
        g->out.dims[g->out.ndim++] = g->bdims[i];
    if (!a1)
        g->out.dims[g->out.ndim++] = M;
    if (!b1)
        g->out.dims[g->out.ndim++] = N;
    return 0;
}

static void mm_offsets(const mm_geom *g, int64_t bidx, int64_t *oa,
                       int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int i = g->nb - 1; i >= 0; i--) {
        int64_t idx = bidx % g->bdims[i];
        bidx /= g->bdims[i];
        a += idx * g->sa[i];
        b += idx * g->sb[i];
    }
    *oa = a;
    *ob = b;
}

static hl_status matmul_init(hl_node *n, const hl_attrs *attrs,
                             const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    if (n->n_in != 2 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 2 inputs and 1 output");
    return HL_OK;
}

static hl_status matmul_shape(const hl_node *n, const hl_tensor *in,
                              hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    (void)n;
    mm_geom g;
    char b1[96], b2[96];
    if (mm_geom_make(&in[0].shape, &in[1].shape, &g))
        return hl_error_set(err, HL_ERR_SHAPE, "A %s and B %s do not multiply",
                            hl_shape_format(&in[0].shape, b1, sizeof b1),
                            hl_shape_format(&in[1].shape, b2, sizeof b2));
    out[0].dtype = HL_DT_FLOAT;
    out[0].shape = g.out;
    return HL_OK;
}

static void matmul_forward(const hl_node *n, hl_op_ctx *c,
                           const hl_tensor *in, hl_tensor *out)
{
    (void)n; (void)c;
    mm_geom g;
    if (mm_geom_make(&in[0].shape, &in[1].shape, &g))
        return;
    const float *a = in[0].data, *b = in[1].data;
    float *y = out[0].data;
    if (g.K == 0) {
        memset(y, 0, sizeof(float) * (size_t)(g.batches * g.M * g.N));
        return;
    }
    if (g.a_flat) {
        hl_sgemm(c, 0, 0,
                    (int)(g.M * g.batches), (int)g.N, (int)g.K, 1.0f, a,
                    (int)g.K, b, (int)g.N, 0.0f, y, (int)g.N);
        return;
    }
    for (int64_t t = 0; t < g.batches; t++) {
        int64_t oa, ob;
        mm_offsets(&g, t, &oa, &ob);
        hl_sgemm(c, 0, 0, (int)g.M,
                    (int)g.N, (int)g.K, 1.0f, a + oa, (int)g.K, b + ob,
                    (int)g.N, 0.0f, y + t * g.M * g.N, (int)g.N);
    }
}

static void matmul_backward(const hl_node *n, hl_op_ctx *c,
                            const hl_tensor *in, const hl_tensor *out,
                            const hl_tensor *gout, hl_tensor *gin)
{
    (void)n; (void)c; (void)out;
    mm_geom g;
    if (!gout[0].data || mm_geom_make(&in[0].shape, &in[1].shape, &g) ||
        g.K == 0)
        return;
    const float *a = in[0].data, *b = in[1].data, *gy = gout[0].data;
    if (g.a_flat) {
        int64_t M = g.M * g.batches;
        if (gin[0].data) /* dA[M,K] += G[M,N] B^T */
            hl_sgemm(c, 0, 1, (int)M,
                        (int)g.K, (int)g.N, 1.0f, gy, (int)g.N, b, (int)g.N,
                        1.0f, gin[0].data, (int)g.K);
        if (gin[1].data) /* dB[K,N] += A^T G */
            hl_sgemm(c, 1, 0, (int)g.K,
                        (int)g.N, (int)M, 1.0f, a, (int)g.K, gy, (int)g.N,
                        1.0f, gin[1].data, (int)g.N);
        return;
    }
    for (int64_t t = 0; t < g.batches; t++) {
        int64_t oa, ob;
        mm_offsets(&g, t, &oa, &ob);
        const float *gt = gy + t * g.M * g.N;
        if (gin[0].data)
            hl_sgemm(c, 0, 1, (int)g.M,
                        (int)g.K, (int)g.N, 1.0f, gt, (int)g.N, b + ob,
                        (int)g.N, 1.0f, gin[0].data + oa, (int)g.K);
        if (gin[1].data)
            hl_sgemm(c, 1, 0, (int)g.K,
                        (int)g.N, (int)g.M, 1.0f, a + oa, (int)g.K, gt,
                        (int)g.N, 1.0f, gin[1].data + ob, (int)g.N);
    }
}

static double matmul_flops(const hl_node *n, const hl_tensor *in,
                           const hl_tensor *out)
{
    (void)n; (void)out;
    mm_geom g;
    if (mm_geom_make(&in[0].shape, &in[1].shape, &g))
        return 0;
    return (double)g.batches * g.M * g.N * g.K;
}

const hl_op hl_op_matmul = {
    .op_type = "MatMul", .source = __FILE__, .lrp = HL_LRP_LINEAR,
    .bwd_reads = HL_BWD_READS_OTHER_OPERAND, .init = matmul_init, .shape = matmul_shape,
    .forward = matmul_forward, .backward = matmul_backward,
    .flops = matmul_flops,
};
