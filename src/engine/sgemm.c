/* GEMM on our thread pool.
 *
 * OpenBLAS runs single-threaded (hl_engine_init) and the pool splits the columns of
 * C among its threads, each calling cblas_sgemm on its slice: OpenBLAS's own
 * idle threads would otherwise spin (sched_yield) against the pool's
 * threads on the same cores between GEMMs. Each element of C is computed by
 * the same single-threaded kernel either way.
 *
 * The split goes along the longer side of C: every slice packs the whole
 * of the operand that is not split, so splitting the columns of a conv
 * with few output positions (ResNet's 7x7 planes at batch 1: C is
 * 512 x 49, A holds 2.4M weights) would pack all the weights twice. */
#include <cblas.h>
#include "kernels.h"

/* Below this many multiply-adds a GEMM is not worth splitting. */
#define HL_SGEMM_SPLIT_MIN (1L << 20)

typedef struct {
    int trans_a, trans_b;
    int M, N, K;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int lda, ldb, ldc;
} sgemm_job;

/* rows [m0, m1) of C, in blocks of 16 like the columns below */
static void sgemm_row_slice(void *arg, int i, int n)
{
    const sgemm_job *j = arg;
    int blocks = (j->M + 15) / 16;
    int m0 = (int)((long)blocks * i / n) * 16;
    int m1 = (int)((long)blocks * (i + 1) / n) * 16;
    if (m1 > j->M)
        m1 = j->M;
    if (m1 <= m0)
        return;
    const float *A = j->trans_a ? j->A + m0 : j->A + (long)m0 * j->lda;
    cblas_sgemm(CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans,
                j->trans_b ? CblasTrans : CblasNoTrans, m1 - m0, j->N, j->K,
                j->alpha, A, j->lda, j->B, j->ldb, j->beta,
                j->C + (long)m0 * j->ldc, j->ldc);
}

static void sgemm_slice(void *arg, int i, int n)
{
    const sgemm_job *j = arg;
    /* slices of 16 columns keep the kernels on their full-width paths */
    int blocks = (j->N + 15) / 16;
    int n0 = (int)((long)blocks * i / n) * 16;
    int n1 = (int)((long)blocks * (i + 1) / n) * 16;
    if (n1 > j->N)
        n1 = j->N;
    if (n1 <= n0)
        return;
    const float *B = j->trans_b ? j->B + (long)n0 * j->ldb : j->B + n0;
    cblas_sgemm(CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans,
                j->trans_b ? CblasTrans : CblasNoTrans, j->M, n1 - n0, j->K,
                j->alpha, j->A, j->lda, B, j->ldb, j->beta, j->C + n0, j->ldc);
}

void hl_sgemm(const hl_op_ctx *c, int trans_a, int trans_b, int M, int N,
              int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc)
{
    sgemm_job j = { trans_a, trans_b, M, N, K, alpha, beta, A, B, C,
                    lda, ldb, ldc };
    if (!c || !c->threadpool || hl_threadpool_threads(c->threadpool) < 2 ||
        (N < 32 && M < 32) || (long)M * N * K < HL_SGEMM_SPLIT_MIN)
        sgemm_slice(&j, 0, 1);
    else if (M > N)
        hl_threadpool_run(c->threadpool, sgemm_row_slice, &j);
    else
        hl_threadpool_run(c->threadpool, sgemm_slice, &j);
}
