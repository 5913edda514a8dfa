/* Backward masks of a lean run.
 *
 * A lean run's Relu/Clip backward from bits (x > lo && x < hi) of the
 * forward input instead of the input itself: the same arithmetic as
 * activation.c's kernels, which only ever look at that comparison under
 * the gradient, guided and deconvolution rules (guided and deconvolution
 * change Relu only: HL_OP_GUIDED). 32 elements per word; work split on
 * word bounds. Which nodes get a mask, and their bounds, is decided by
 * the layout (run_layout.c, hl_op.mask_bounds). */
#include <stdint.h>

#include "run_internal.h"

typedef struct mask_job {
    const float *x, *g;
    float *gx;
    uint32_t *bits;
    float lo, hi;
    long n;
    int relu;
    hl_backward_rule rule;
} mask_job;

#if defined(__SSE2__)
#include <emmintrin.h>
#define MASK_SSE 1
#endif

static void mask_make_range(void *arg, long begin, long end)
{
    mask_job *j = arg;
    const float lo = j->lo, hi = j->hi;
    for (long w = begin; w < end; w++) {
        long i0 = w * 32, i1 = i0 + 32 < j->n ? i0 + 32 : j->n;
        uint32_t b = 0;
#ifdef MASK_SSE
        if (i1 - i0 == 32) {
            /* 4 comparisons per instruction; a NaN compares false, as in
             * the scalar loop */
            const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
            for (int q = 0; q < 8; q++) {
                __m128 v = _mm_loadu_ps(j->x + i0 + 4 * q);
                int in = _mm_movemask_ps(_mm_and_ps(_mm_cmpgt_ps(v, vlo),
                                                    _mm_cmplt_ps(v, vhi)));
                b |= (uint32_t)in << (4 * q);
            }
            j->bits[w] = b;
            continue;
        }
#endif
        for (long i = i0; i < i1; i++)
            b |= (uint32_t)((j->x[i] > lo) & (j->x[i] < hi)) << (i - i0);
        j->bits[w] = b;
    }
}

#ifdef MASK_SSE
/* lanes of 1.0f / 0.0f for each 4-bit group: gx += (float)bit * g exactly
 * as the scalar loop (a product, so an infinite or NaN g masked off still
 * gives NaN, and zeros keep their signs) */
static const float mask_lanes[16][4] = {
    {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {1, 1, 0, 0},
    {0, 0, 1, 0}, {1, 0, 1, 0}, {0, 1, 1, 0}, {1, 1, 1, 0},
    {0, 0, 0, 1}, {1, 0, 0, 1}, {0, 1, 0, 1}, {1, 1, 0, 1},
    {0, 0, 1, 1}, {1, 0, 1, 1}, {0, 1, 1, 1}, {1, 1, 1, 1},
};
#endif

static void mask_bwd_range(void *arg, long begin, long end)
{
    mask_job *j = arg;
    const float *restrict g = j->g;
    float *restrict gx = j->gx;
    for (long w = begin; w < end; w++) {
        long i0 = w * 32, i1 = i0 + 32 < j->n ? i0 + 32 : j->n;
        uint32_t b = j->bits[w];
        if (j->relu && j->rule == HL_RULE_GUIDED) {
            for (long i = i0; i < i1; i++) {
                float t = (((b >> (i - i0)) & 1u) & (g[i] > 0)) ? g[i] : 0.0f;
                gx[i] += t;
            }
        } else if (j->relu && j->rule == HL_RULE_DECONV) {
            for (long i = i0; i < i1; i++) {
                float t = g[i] > 0 ? g[i] : 0.0f;
                gx[i] += t;
            }
        } else {
#ifdef MASK_SSE
            if (i1 - i0 == 32) {
                for (int q = 0; q < 8; q++) {
                    __m128 m = _mm_loadu_ps(mask_lanes[(b >> (4 * q)) & 15u]);
                    __m128 v = _mm_mul_ps(m, _mm_loadu_ps(g + i0 + 4 * q));
                    _mm_storeu_ps(gx + i0 + 4 * q,
                                  _mm_add_ps(_mm_loadu_ps(gx + i0 + 4 * q), v));
                }
                continue;
            }
#endif
            for (long i = i0; i < i1; i++)
                gx[i] += (float)((b >> (i - i0)) & 1u) * g[i];
        }
    }
}

#define MASK_PAR_MIN (1L << 17)  /* elements worth waking the pool for */

static void mask_run(const hl_run *r, void (*fn)(void *, long, long),
                     mask_job *j)
{
    long words = (j->n + 31) / 32;
    if (r->pool && j->n >= MASK_PAR_MIN)
        hl_threadpool_for(r->pool, words, fn, j);
    else
        fn(j, 0, words);
}

/* After node k's forward: its mask from its input 0. */
void hl_run_mask_make(const hl_run *r, int k, const hl_tensor *in0)
{
    const hl_node *nd = &r->m->nodes[k];
    mask_job j = { in0->data, NULL, NULL, r->mask_words[k], r->mask_lo[k],
                   r->mask_hi[k], (long)hl_shape_numel(&in0->shape),
                   (hl_op_get(nd->op)->flags & HL_OP_GUIDED) != 0,
                   HL_RULE_GRADIENT };
    mask_run(r, mask_make_range, &j);
}

/* Node k's backward from its mask: gx += g where the bit is set (and the
 * guided/deconvolution rules of HL_OP_GUIDED ops). */
void hl_run_mask_backward(const hl_run *r, int k, const hl_tensor *in0,
                          const float *g, float *gx, hl_backward_rule rule,
                          int relu_family)
{
    const hl_node *nd = &r->m->nodes[k];
    unsigned flags = hl_op_get(nd->op)->flags;
    int relu = (flags & HL_OP_GUIDED) ||
               (relu_family && (flags & HL_OP_RELU_FAMILY));
    mask_job j = { NULL, g, gx, r->mask_words[k], r->mask_lo[k],
                   r->mask_hi[k], (long)hl_shape_numel(&in0->shape),
                   relu, rule };
    if (j.g && j.gx)
        mask_run(r, mask_bwd_range, &j);
}
