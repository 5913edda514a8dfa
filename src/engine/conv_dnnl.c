/* 2-D Conv through oneDNN: forward and backward w.r.t. the input.
 *
 * Threads: oneDNN runs single-threaded (an OpenMP team of one) inside each
 * thread of our pool, so no OpenMP thread is left spinning against the
 * pool after a call and oneDNN uses exactly the run's thread count. A
 * batch is cut into chunks of images shared out over the threads; a
 * single image is cut by channels in whole blocks of the vector width
 * (nChw16c on AVX-512, nChw8c otherwise): output channels forward, input
 * channels backward, groups for depthwise.
 *
 * Layout: a chunk is reordered from NCHW into the layout the primitive
 * chose (nChw8c on AVX2, nChw16c on AVX-512) in scratch memory, convolved, and reordered back
 * (backward: added into the input gradient by the reorder's sum post-op).
 * Primitives and their reordered weights are made once per node and batch
 * size and then reused by every run of the model; a mutex guards the
 * lists because several runs may share a model.
 *
 * Scratchpad: oneDNN's own ("library" mode) is one global buffer shared
 * by the primitives that use one (its AVX-512 kernels do), so two threads
 * executing at once overwrite each other's partial sums. Every primitive
 * is made in "user" mode and gets a scratchpad of the executing thread's
 * own (dn_thread_pad); a reorder that would want one is refused.
 */
#include <dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conv_dnnl.h"

#define DN_SLOTS 4                /* chunks in flight at once */
#define DN_CHUNK_FLOATS (1L << 20) /* blocked input + output of a chunk */

typedef struct dn_geom {
    int64_t N, C, OC, G, Cg, OCg, H, W, OH, OW, KH, KW;
    dnnl_dims_t st, dil, pl, pr;
} dn_geom;

typedef struct dn_weights {     /* weights reordered for some primitive */
    struct dn_weights *next;
    dnnl_memory_desc_t md;
    const float *src;
    float *buf;
} dn_weights;

typedef struct dn_prim {        /* one primitive and its reorders */
    struct dn_prim *next;
    int bwd, part, parts;
    int64_t n, H, W;            /* key: images, input extent */
    int ok;                     /* 0: oneDNN refused, our kernels run */
    int64_t c0, c1;             /* channel (depthwise: group) range */
    dnnl_primitive_t conv, in_reorder, out_reorder;
    dnnl_memory_desc_t in_user, in_md, out_user, out_md, wei_md, bias_md;
    const float *wei;
    size_t in_floats, out_floats;
    dnnl_memory_desc_t pad_md;  /* the conv's scratchpad (user mode) */
    size_t pad_bytes;
} dn_prim;

struct hl_conv_dnnl {
    pthread_mutex_t mu;
    dnnl_engine_t engine;
    hl_kernel_geom w;
    int64_t group;
    int every_shape;            /* HL_DNNL=all: oneDNN wherever it accepts */
    int avx512;                 /* oneDNN runs AVX-512 kernels here */
    int64_t blk;                /* channel block: 16 (AVX-512) or 8 */
    dn_prim *prims;
    dn_weights *weights;
};

hl_conv_dnnl *hl_conv_dnnl_new(const hl_kernel_geom *w, int64_t group,
                               int weights_known)
{
    const char *env = getenv("HL_DNNL");
    if (!weights_known || w->nsp != 2 || (env && strcmp(env, "0") == 0))
        return NULL;
    hl_conv_dnnl *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success) {
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->mu, NULL);
    d->w = *w;
    d->group = group;
    d->every_shape = env && strcmp(env, "all") == 0;
    d->avx512 = (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) ==
                dnnl_cpu_isa_avx512_core;
    d->blk = d->avx512 ? 16 : 8;
    return d;
}

void hl_conv_dnnl_free(hl_conv_dnnl *d)
{
    if (!d)
        return;
    for (dn_prim *p = d->prims, *next; p; p = next) {
        next = p->next;
        dnnl_primitive_destroy(p->conv);
        dnnl_primitive_destroy(p->in_reorder);
        dnnl_primitive_destroy(p->out_reorder);
        free(p);
    }
    for (dn_weights *w = d->weights, *next; w; w = next) {
        next = w->next;
        free(w->buf);
        free(w);
    }
    dnnl_engine_destroy(d->engine);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static int dn_geom_make(const hl_conv_dnnl *d, const hl_shape *xs,
                        const hl_shape *ws, dn_geom *g)
{
    if (xs->ndim != 4 || ws->ndim != 4)
        return -1;
    memset(g, 0, sizeof *g);
    g->N = xs->dims[0];
    g->C = xs->dims[1];
    g->OC = ws->dims[0];
    g->G = d->group;
    if (g->G < 1 || g->C % g->G || g->OC % g->G || ws->dims[1] * g->G != g->C)
        return -1;
    g->Cg = g->C / g->G;
    g->OCg = g->OC / g->G;
    hl_kernel_geom w = d->w;
    int64_t in[3] = { 1, xs->dims[2], xs->dims[3] }, out[3], pb[3];
    w.k[0] = 1;
    w.k[1] = ws->dims[2];
    w.k[2] = ws->dims[3];
    if (hl_kernel_geom_out(&w, in, out, pb))
        return -1;
    g->H = in[1];
    g->W = in[2];
    g->OH = out[1];
    g->OW = out[2];
    g->KH = w.k[1];
    g->KW = w.k[2];
    for (int i = 0; i < 2; i++) {
        g->st[i] = w.s[1 + i];
        g->dil[i] = w.d[1 + i] - 1;
        g->pl[i] = pb[1 + i];
        /* the end pad that gives this output extent */
        int64_t ext = (w.k[1 + i] - 1) * w.d[1 + i] + 1;
        g->pr[i] = (out[1 + i] - 1) * w.s[1 + i] + ext - in[1 + i] - pb[1 + i];
        if (g->pr[i] < 0)
            g->pr[i] = 0;
        if ((in[1 + i] + g->pl[i] + g->pr[i] - ext) / w.s[1 + i] + 1 != out[1 + i])
            return -1;
    }
    return 0;
}

/* Per-shape choice between oneDNN and our kernels, from per-layer CPU
 * times (HL_PROFILE=cpu, one thread, ResNet-18 and MobileNet V2 at batch
 * 1 and 32, our ms / oneDNN's: docs/engine-runtime.md). Two tables,
 * because oneDNN's kernels and OpenBLAS's change with the vector width.
 *
 * AVX2 (Zen 3): oneDNN is faster on 3x3 convs of planes of 14x14 and
 * more (forward 1.1-2x, backward 1.2-1.7x), on depthwise convs (1.2-5x)
 * and on most 1x1 convs; ours stay faster on 1x1 stride-2 convs (ResNet's
 * downsample, 0.8x), 3x3 convs on 7x7 planes forward (0.8-0.9x), 1x1
 * convs on a 1x1 plane (classifier heads), the backward of 1x1 convs to
 * 32 channels or fewer at batch 1 (0.5-0.7x), of 3x3 stride-2 convs to
 * 7x7 planes (0.7x) and of stride-2 depthwise convs on 112x112 planes
 * (0.5-0.85x). */
static int dn_wanted_avx2(const dn_geom *g, int bwd)
{
    int64_t P = g->OH * g->OW, taps = g->KH * g->KW;
    int strided = g->st[0] > 1 || g->st[1] > 1;
    int dw = g->G > 1 && g->Cg == 1;
    if (P == 1 || (taps == 1 && strided))
        return 0;
    if (!bwd)
        return dw || taps == 1 || P > 49;
    if (taps == 1 && g->N == 1 && g->OC <= 32)
        return 0;
    if (!dw && taps > 1 && strided && P <= 49)
        return 0;
    return !(dw && strided && g->H * g->W >= 112 * 112);
}

/* AVX-512 (Zen 4): oneDNN is faster on every 3x3 and 7x7 conv, 7x7
 * planes included (forward 1.2-1.9x, backward 1.4-1.7x), except the
 * backward to an image of 3 channels (ResNet's conv1: 0.4x at batch 1
 * and 32). Ours are kept where AVX2 kept them for 3x3 convs to 7x7 planes
 * (forward, and strided backward) and 1x1 stride-2 convs, though oneDNN
 * is faster there too: each layer oneDNN takes costs a reordered copy of
 * its weights, and ResNet-18's layer4 weights are 33 MB (a peak memory
 * above the AVX2 table's). oneDNN is faster on 1x1 convs at batch 32
 * (forward up to 2x on large planes, backward on planes of 14x14 and
 * less) but not at batch 1 (forward 0.3-0.9x; backward only on 7x7
 * planes, 1.1-1.3x);
 * on depthwise convs at batch 32 on planes of 28x28 and more or strided
 * (forward 1.9-2.5x), at batch 1 on planes of 14x14 and less (1.1-1.8x)
 * but not strided to more than 7x7 (0.4-0.7x); depthwise backward as on
 * AVX2, and ours on 112x112 planes at batch 32 (0.8x). */
static int dn_wanted_avx512(const dn_geom *g, int bwd)
{
    int64_t P = g->OH * g->OW, taps = g->KH * g->KW;
    int strided = g->st[0] > 1 || g->st[1] > 1;
    int dw = g->G > 1 && g->Cg == 1, batch = g->N > 1;
    if (P == 1 || (taps == 1 && strided && !dw))
        return 0;
    if (taps == 1 && !dw)
        return bwd ? (batch ? P <= 196 : P <= 49) : batch;
    if (dw) {
        if (bwd)
            return !(g->H * g->W >= 112 * 112 && (strided || batch));
        return batch ? P >= 28 * 28 || strided
                     : P <= 196 && !(strided && P > 49);
    }
    if (P <= 49 && (!bwd || strided))
        return 0;
    return !bwd || g->C >= 8;
}

static int dn_wanted(const hl_conv_dnnl *d, const dn_geom *g, int bwd)
{
    if (d->every_shape)
        return 1;
    return d->avx512 ? dn_wanted_avx512(g, bwd) : dn_wanted_avx2(g, bwd);
}

static int64_t ceil_to(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/* Floats of the blocked input and output of one image (an upper bound:
 * channels rounded up to 16). */
static int64_t dn_image_floats(const dn_geom *g)
{
    return ceil_to(g->C, 16) * g->H * g->W + ceil_to(g->OC, 16) * g->OH * g->OW;
}

/* Images per chunk: the largest divisor of N within the chunk budget that
 * still gives every used thread a chunk. */
static int64_t dn_chunk(const dn_geom *g, int threads)
{
    int64_t per = dn_image_floats(g), cap = DN_CHUNK_FLOATS / per;
    int64_t t = threads < DN_SLOTS ? threads : DN_SLOTS;
    int64_t even = (g->N + t - 1) / t;
    if (cap > even)
        cap = even;
    if (cap < 1)
        cap = 1;
    for (int64_t cb = cap; cb > 1; cb--)
        if (g->N % cb == 0)
            return cb;
    return 1;
}

size_t hl_conv_dnnl_scratch(hl_conv_dnnl *d, const hl_shape *xs,
                            const hl_shape *ws)
{
    dn_geom g;
    if (!d || dn_geom_make(d, xs, ws, &g) ||
        (!dn_wanted(d, &g, 0) && !dn_wanted(d, &g, 1)))
        return 0;
    int64_t per = dn_image_floats(&g);
    int64_t cb = DN_CHUNK_FLOATS / per < 1 ? 1 : DN_CHUNK_FLOATS / per;
    if (cb > g.N)
        cb = g.N;
    int64_t slots = g.N < DN_SLOTS ? g.N : DN_SLOTS;
    return (size_t)(slots * cb * per);
}

/* ------------------------------------------------------ scratchpads */

static pthread_key_t dn_pad_key;
static pthread_once_t dn_pad_once = PTHREAD_ONCE_INIT;

typedef struct dn_pad {
    void *buf;
    size_t bytes;
} dn_pad;

static void dn_pad_free(void *p)
{
    dn_pad *pad = p;
    if (pad)
        free(pad->buf);
    free(pad);
}

static void dn_pad_key_make(void)
{
    (void)pthread_key_create(&dn_pad_key, dn_pad_free);
}

/* A scratchpad of at least `bytes` owned by the calling thread (freed when
 * it exits), grown as needed; NULL when out of memory. */
static void *dn_thread_pad(size_t bytes)
{
    pthread_once(&dn_pad_once, dn_pad_key_make);
    dn_pad *pad = pthread_getspecific(dn_pad_key);
    if (!pad) {
        pad = calloc(1, sizeof *pad);
        if (!pad || pthread_setspecific(dn_pad_key, pad) != 0) {
            free(pad);
            return NULL;
        }
    }
    if (pad->bytes < bytes) {
        free(pad->buf);
        pad->bytes = 0;
        if (posix_memalign(&pad->buf, 64, bytes) != 0) {
            pad->buf = NULL;
            return NULL;
        }
        pad->bytes = bytes;
    }
    return pad->buf;
}

/* An attribute asking for a user-managed scratchpad (and, when
 * accumulate, adding into the destination); NULL on failure. */
static dnnl_primitive_attr_t dn_attr_make(int accumulate)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    int bad = dnnl_primitive_attr_create(&attr) != dnnl_success ||
              dnnl_primitive_attr_set_scratchpad_mode(
                  attr, dnnl_scratchpad_mode_user) != dnnl_success;
    if (!bad && accumulate)
        bad = dnnl_post_ops_create(&ops) != dnnl_success ||
              dnnl_post_ops_append_sum(ops, 1.0f) != dnnl_success ||
              dnnl_primitive_attr_set_post_ops(attr, ops) != dnnl_success;
    dnnl_post_ops_destroy(ops);
    if (bad) {
        dnnl_primitive_attr_destroy(attr);
        return NULL;
    }
    return attr;
}

/* ------------------------------------------------------ making primitives */

static int md_tag(dnnl_memory_desc_t *md, int nd, const int64_t *dims,
                  dnnl_format_tag_t tag)
{
    dnnl_dims_t dd;
    for (int i = 0; i < nd; i++)
        dd[i] = dims[i];
    return dnnl_memory_desc_init_by_tag(md, nd, dd, dnnl_f32, tag) !=
           dnnl_success;
}

static int reorder_make(dnnl_engine_t e, const dnnl_memory_desc_t *from,
                        const dnnl_memory_desc_t *to, int accumulate,
                        dnnl_primitive_t *out)
{
    dnnl_primitive_attr_t attr = dn_attr_make(accumulate);
    dnnl_primitive_desc_t pd = NULL;
    int bad = !attr ||
              dnnl_reorder_primitive_desc_create(&pd, from, e, to, e, attr) !=
                  dnnl_success;
    if (!bad) {     /* reorders run without a scratchpad (see the top) */
        const dnnl_memory_desc_t *pad =
            dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        bad = pad && dnnl_memory_desc_get_size(pad) > 0;
    }
    bad |= !bad && dnnl_primitive_create(out, pd) != dnnl_success;
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return bad;
}

static int run2(dnnl_engine_t e, dnnl_primitive_t p, int a1,
                const dnnl_memory_desc_t *m1, const void *d1, int a2,
                const dnnl_memory_desc_t *m2, void *d2)
{
    dnnl_memory_t mem[2] = { NULL, NULL };
    dnnl_stream_t s = NULL;
    int bad = dnnl_memory_create(&mem[0], m1, e, (void *)d1) != dnnl_success ||
              dnnl_memory_create(&mem[1], m2, e, d2) != dnnl_success ||
              dnnl_stream_create(&s, e, dnnl_stream_default_flags) != dnnl_success;
    if (!bad) {
        dnnl_exec_arg_t args[2] = { { a1, mem[0] }, { a2, mem[1] } };
        bad = dnnl_primitive_execute(p, s, 2, args) != dnnl_success ||
              dnnl_stream_wait(s) != dnnl_success;
    }
    dnnl_stream_destroy(s);
    dnnl_memory_destroy(mem[0]);
    dnnl_memory_destroy(mem[1]);
    return bad;
}

/* The weights in the layout `md` wants, reordered once from src. */
static const float *dn_weights_get(hl_conv_dnnl *d,
                                   const dnnl_memory_desc_t *user,
                                   const float *src,
                                   const dnnl_memory_desc_t *md)
{
    for (dn_weights *w = d->weights; w; w = w->next)
        if (w->src == src && dnnl_memory_desc_equal(&w->md, md))
            return w->buf;
    dn_weights *w = calloc(1, sizeof *w);
    size_t bytes = dnnl_memory_desc_get_size(md);
    dnnl_primitive_t r = NULL;
    if (!w || posix_memalign((void **)&w->buf, 64, bytes ? bytes : 64) ||
        reorder_make(d->engine, user, md, 0, &r) ||
        run2(d->engine, r, DNNL_ARG_FROM, user, src, DNNL_ARG_TO, md, w->buf)) {
        dnnl_primitive_destroy(r);
        if (w)
            free(w->buf);
        free(w);
        return NULL;
    }
    dnnl_primitive_destroy(r);
    w->md = *md;
    w->src = src;
    w->next = d->weights;
    d->weights = w;
    return w->buf;
}

/* Channel range [c0, c1) of part `part` of `parts`, in blocks of blk. */
static void dn_part(int64_t total, int64_t blk, int part, int parts,
                    int64_t *c0, int64_t *c1)
{
    int64_t blocks = (total + blk - 1) / blk;
    *c0 = blocks * part / parts * blk;
    *c1 = blocks * (part + 1) / parts * blk;
    if (*c1 > total)
        *c1 = total;
}

/* Fills p's primitive for images p->n, channel part p->part of p->parts. */
static int dn_prim_make(hl_conv_dnnl *d, const dn_geom *g, const float *w,
                        int has_bias, dn_prim *p)
{
    int dw = g->G > 1 && g->Cg == 1, split = p->parts > 1;
    int64_t n = p->n, C = g->C, OC = g->OC, Gp = g->G, off = 0;
    p->c0 = 0;
    p->c1 = dw || g->G > 1 ? g->G : p->bwd ? g->C : g->OC;
    if (split)
        dn_part(p->c1, d->blk, p->part, p->parts, &p->c0, &p->c1);
    if (dw) {
        Gp = p->c1 - p->c0;
        C = Gp;
        OC = Gp * g->OCg;
        off = p->c0 * g->OCg * g->KH * g->KW;
    } else if (split && p->bwd) {
        C = p->c1 - p->c0;
        off = p->c0 * g->KH * g->KW;
    } else if (split) {
        OC = p->c1 - p->c0;
        off = p->c0 * g->C * g->KH * g->KW;
    }
    int64_t sd[4] = { n, C, g->H, g->W }, dd[4] = { n, OC, g->OH, g->OW };
    int64_t wd[5] = { Gp, OC / Gp, C / Gp, g->KH, g->KW };
    dnnl_memory_desc_t src, dst, wei, wuser, bias;
    /* The side that is cut (output channels forward, input channels
     * backward, both for depthwise) is in the channel-blocked layout, so
     * that a part is a pointer offset into the whole: nChw16c on AVX-512,
     * whose kernels it gives (nChw8c there gave oneDNN's AVX2 kernels),
     * nChw8c otherwise. Blocked rather than the NHWC brgconv would pick
     * forward: its NHWC <-> NCHW reorders cost more than the ~10 % its
     * kernel gains. The whole side is left to oneDNN (dn_run checks that
     * the parts agree on it). */
    dnnl_format_tag_t blocked = d->blk == 16 ? dnnl_nChw16c : dnnl_nChw8c;
    dnnl_format_tag_t st = split && (dw || p->bwd) ? blocked : dnnl_format_tag_any;
    dnnl_format_tag_t dt = split && (dw || !p->bwd) ? blocked : dnnl_format_tag_any;
    int grouped = g->G > 1;
    if (md_tag(&src, 4, sd, st) || md_tag(&dst, 4, dd, dt) ||
        md_tag(&wei, grouped ? 5 : 4, grouped ? wd : wd + 1, dnnl_format_tag_any) ||
        md_tag(&bias, 1, &OC, dnnl_x))
        return -1;
    if (grouped)
        md_tag(&wuser, 5, wd, dnnl_goihw);
    else if (split && p->bwd) {
        dnnl_dims_t dims = { OC, C, g->KH, g->KW };
        dnnl_dims_t strides = { g->C * g->KH * g->KW, g->KH * g->KW, g->KW, 1 };
        dnnl_memory_desc_init_by_strides(&wuser, 4, dims, dnnl_f32, strides);
    } else
        md_tag(&wuser, 4, wd + 1, dnnl_oihw);
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_primitive_attr_t attr = dn_attr_make(0);
    int bad = !attr || dnnl_dilated_convolution_forward_desc_init(
                  &fd, p->bwd ? dnnl_forward_training : dnnl_forward_inference,
                  dnnl_convolution_direct, &src, &wei, has_bias && !p->bwd ? &bias : NULL,
                  &dst, g->st, g->dil, g->pl, g->pr) != dnnl_success ||
              dnnl_primitive_desc_create(&fpd, &fd, attr, d->engine, NULL) != dnnl_success;
    if (!bad && p->bwd)
        bad = dnnl_dilated_convolution_backward_data_desc_init(
                  &bd, dnnl_convolution_direct, &src, &wei, &dst, g->st,
                  g->dil, g->pl, g->pr) != dnnl_success ||
              dnnl_primitive_desc_create(&bpd, &bd, attr, d->engine, fpd) != dnnl_success;
    dnnl_primitive_desc_t pd = p->bwd ? bpd : fpd;
    const char *impl = NULL;
    /* oneDNN's im2col + GEMM convolutions are ours again, and 2.6's
     * crashed on grouped convs here: only its direct (jit) kernels */
    if (!bad)
        bad = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0,
                                        &impl) != dnnl_success ||
              !impl || strstr(impl, "gemm") || strstr(impl, "ref");
    if (!bad) {
        dnnl_query_t qin = p->bwd ? dnnl_query_diff_dst_md : dnnl_query_src_md;
        dnnl_query_t qout = p->bwd ? dnnl_query_diff_src_md : dnnl_query_dst_md;
        p->in_md = *dnnl_primitive_desc_query_md(pd, qin, 0);
        p->out_md = *dnnl_primitive_desc_query_md(pd, qout, 0);
        p->wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        p->bias_md = bias;
        const dnnl_memory_desc_t *pad =
            dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (pad)
            p->pad_md = *pad;
        p->pad_bytes = pad ? dnnl_memory_desc_get_size(pad) : 0;
        md_tag(&p->in_user, 4, p->bwd ? dd : sd, dnnl_nchw);
        md_tag(&p->out_user, 4, p->bwd ? sd : dd, dnnl_nchw);
        bad = dnnl_primitive_create(&p->conv, pd) != dnnl_success;
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_attr_destroy(attr);
    if (bad)
        return -1;
    if (!dnnl_memory_desc_equal(&p->in_md, &p->in_user)) {
        if (reorder_make(d->engine, &p->in_user, &p->in_md, 0, &p->in_reorder))
            return -1;
        p->in_floats = dnnl_memory_desc_get_size(&p->in_md) / sizeof(float);
    }
    if (p->bwd || !dnnl_memory_desc_equal(&p->out_md, &p->out_user)) {
        if (reorder_make(d->engine, &p->out_md, &p->out_user, p->bwd,
                         &p->out_reorder))
            return -1;
        p->out_floats = dnnl_memory_desc_get_size(&p->out_md) / sizeof(float);
    }
    p->wei = dn_weights_get(d, &wuser, w + off, &p->wei_md);
    return p->wei ? 0 : -1;
}

/* The primitive for (direction, images, part), made on first use; NULL
 * when oneDNN refused it. Called with d->mu held. */
static dn_prim *dn_prim_get(hl_conv_dnnl *d, const dn_geom *g, const float *w,
                            int has_bias, int bwd, int64_t n, int part,
                            int parts)
{
    dn_prim *p;
    for (p = d->prims; p; p = p->next)
        if (p->bwd == bwd && p->n == n && p->part == part &&
            p->parts == parts && p->H == g->H && p->W == g->W)
            return p->ok ? p : NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bwd = bwd;
    p->n = n;
    p->part = part;
    p->parts = parts;
    p->H = g->H;
    p->W = g->W;
    p->ok = dn_prim_make(d, g, w, has_bias, p) == 0;
    p->next = d->prims;
    d->prims = p;
    return p->ok ? p : NULL;
}

/* ---------------------------------------------------------------- running */

typedef struct dn_job {
    hl_conv_dnnl *d;
    const dn_geom *g;
    dn_prim *prim[DN_SLOTS];    /* one per part (single image) or prim[0] */
    int parts, threads;         /* threads: pool threads that take part */
    int64_t cb;                 /* images per chunk */
    const float *in, *bias;     /* x (forward) or gy (backward) */
    float *out;                 /* y (forward) or gx (backward) */
    float *scratch;
    size_t slot;                /* scratch floats per chunk */
    int stage;                  /* single image, whole input: 0 reorder, 1 rest */
    int failed;
} dn_job;

static int dn_conv(hl_conv_dnnl *d, const dn_prim *p, const float *src,
                   const float *bias, float *dst)
{
    dnnl_memory_t m[5] = { NULL, NULL, NULL, NULL, NULL };
    dnnl_stream_t s = NULL;
    void *pad = p->pad_bytes ? dn_thread_pad(p->pad_bytes) : NULL;
    int bad = (p->pad_bytes && !pad) ||
              (pad && dnnl_memory_create(&m[4], &p->pad_md, d->engine, pad)) ||
              dnnl_memory_create(&m[0], &p->in_md, d->engine, (void *)src) ||
              dnnl_memory_create(&m[1], &p->wei_md, d->engine, (void *)p->wei) ||
              dnnl_memory_create(&m[2], &p->out_md, d->engine, dst) ||
              (bias && dnnl_memory_create(&m[3], &p->bias_md, d->engine,
                                          (void *)bias)) ||
              dnnl_stream_create(&s, d->engine, dnnl_stream_default_flags);
    if (!bad) {
        /* the scratchpad goes last, the bias before it when there is one */
        dnnl_exec_arg_t fa[5] = { { DNNL_ARG_SRC, m[0] },
                                  { DNNL_ARG_WEIGHTS, m[1] },
                                  { DNNL_ARG_DST, m[2] },
                                  { DNNL_ARG_BIAS, m[3] },
                                  { DNNL_ARG_SCRATCHPAD, m[4] } };
        dnnl_exec_arg_t ba[4] = { { DNNL_ARG_DIFF_DST, m[0] },
                                  { DNNL_ARG_WEIGHTS, m[1] },
                                  { DNNL_ARG_DIFF_SRC, m[2] },
                                  { DNNL_ARG_SCRATCHPAD, m[4] } };
        int nf = bias ? 4 : 3;
        if (!bias)
            fa[3] = fa[4];
        if (pad)
            nf++;
        bad = dnnl_primitive_execute(p->conv, s, p->bwd ? 3 + (pad != NULL) : nf,
                                     p->bwd ? ba : fa) != dnnl_success;
    }
    dnnl_stream_destroy(s);
    for (int i = 0; i < 5; i++)
        dnnl_memory_destroy(m[i]);
    return bad;
}

/* in (user layout) -> [reorder] -> conv -> [reorder] -> out (user layout) */
static int dn_pipeline(dn_job *j, const dn_prim *p, const float *in,
                       float *out, float *buf_in, float *buf_out,
                       int skip_in_reorder, const float *bias)
{
    hl_conv_dnnl *d = j->d;
    const float *src = in;
    if (p->in_reorder) {
        if (!skip_in_reorder &&
            run2(d->engine, p->in_reorder, DNNL_ARG_FROM, &p->in_user, in,
                 DNNL_ARG_TO, &p->in_md, buf_in))
            return -1;
        src = buf_in;
    }
    float *dst = p->out_reorder ? buf_out : out;
    if (dn_conv(d, p, src, bias, dst))
        return -1;
    if (p->out_reorder &&
        run2(d->engine, p->out_reorder, DNNL_ARG_FROM, &p->out_md, buf_out,
             DNNL_ARG_TO, &p->out_user, out))
        return -1;
    return 0;
}

static void dn_slice(void *arg, int i, int n)
{
    dn_job *j = arg;
    const dn_geom *g = j->g;
    if (i >= j->threads)
        return;
    n = j->threads;
    omp_set_num_threads(1);
    int bwd = j->prim[0]->bwd;
    int64_t in_plane = bwd ? g->OH * g->OW : g->H * g->W;
    int64_t out_plane = bwd ? g->H * g->W : g->OH * g->OW;
    int64_t in_ch = bwd ? g->OC : g->C, out_ch = bwd ? g->C : g->OC;
    int bad = 0;
    if (j->parts == 1) {        /* chunks of images */
        const dn_prim *p = j->prim[0];
        int64_t chunks = g->N / j->cb;
        float *buf = j->scratch + (size_t)i * j->slot;
        for (int64_t k = i; k < chunks && !bad; k += n) {
            int64_t b0 = k * j->cb;
            bad = dn_pipeline(j, p, j->in + b0 * in_ch * in_plane,
                              j->out + b0 * out_ch * out_plane, buf,
                              buf + p->in_floats, 0, j->bias);
        }
    } else if (i < j->parts) {  /* one image, channel part i */
        const dn_prim *p = j->prim[i];
        int dw = g->G > 1 && g->Cg == 1;
        /* the whole image's blocked input, then its blocked output (the
         * input's layout may block by 16 when parts share it whole) */
        int64_t blk = j->d->blk;
        size_t in_whole = (size_t)((in_ch + blk - 1) / blk * blk * in_plane);
        if (!dw && j->prim[0]->in_reorder && j->prim[0]->in_floats > in_whole)
            in_whole = j->prim[0]->in_floats;
        float *buf_in = j->scratch;
        float *buf_out = j->scratch + in_whole;
        if (!dw) {   /* every part reads the whole input, reordered once */
            const dn_prim *p0 = j->prim[0];
            if (j->stage == 0) {
                if (i == 0 && p0->in_reorder)
                    bad = run2(j->d->engine, p0->in_reorder, DNNL_ARG_FROM,
                               &p0->in_user, j->in, DNNL_ARG_TO, &p0->in_md,
                               buf_in);
                if (bad)
                    j->failed = 1;
                return;
            }
        }
        /* the part's channels: output channels forward, input channels
         * backward, groups (times their channels) for depthwise */
        int64_t ic0 = dw ? p->c0 * (bwd ? g->OCg : 1) : 0;
        int64_t oc0 = dw ? p->c0 * (bwd ? 1 : g->OCg) : p->c0;
        bad = dn_pipeline(j, p, j->in + ic0 * in_plane,
                          j->out + oc0 * out_plane, buf_in + ic0 * in_plane,
                          buf_out + oc0 * out_plane, !dw,
                          j->bias ? j->bias + oc0 : NULL);
    }
    if (bad)
        j->failed = 1;
}

static int dn_run(hl_conv_dnnl *d, hl_op_ctx *c, const hl_shape *xs,
                  const hl_shape *ws, const float *w, const float *bias,
                  int bwd, const float *in, float *out)
{
    dn_geom g;
    if (!d || !c->scratch || dn_geom_make(d, xs, ws, &g) || !dn_wanted(d, &g, bwd))
        return 0;
    int threads = c->threadpool ? c->threads : 1;
    if (threads > DN_SLOTS)
        threads = DN_SLOTS;
    int parts = 1;
    if (g.N == 1 && threads > 1 && (g.G == 1 || g.Cg == 1)) {
        int64_t split = g.G > 1 ? g.G : bwd ? g.C : g.OC;
        int blocks = (int)((split + d->blk - 1) / d->blk);
        parts = blocks < threads ? blocks : threads;
    }
    dn_job j = { .d = d, .g = &g, .parts = parts, .in = in, .out = out,
                 .bias = bwd ? NULL : bias, .scratch = c->scratch };
    j.cb = parts > 1 ? 1 : dn_chunk(&g, threads);
    pthread_mutex_lock(&d->mu);
    omp_set_num_threads(1);
    int ok = 1;
    for (int k = 0; k < parts && ok; k++) {
        j.prim[k] = dn_prim_get(d, &g, w, bias != NULL, bwd, j.cb, k, parts);
        /* parts that share the whole input must agree on its layout */
        ok = j.prim[k] != NULL &&
             (g.G > 1 || dnnl_memory_desc_equal(&j.prim[k]->in_md,
                                                &j.prim[0]->in_md));
        /* and a part's output must stay within its channels' room */
        int64_t plane = bwd ? g.H * g.W : g.OH * g.OW;
        if (ok && k + 1 < parts && j.prim[k]->out_floats >
                                       (size_t)((j.prim[k]->c1 - j.prim[k]->c0) * plane))
            ok = 0;
    }
    pthread_mutex_unlock(&d->mu);
    if (!ok)
        return 0;
    j.slot = j.prim[0]->in_floats + j.prim[0]->out_floats;
    j.threads = threads;
    if (parts > 1 && !(g.G > 1)) {
        hl_threadpool_run(c->threadpool, dn_slice, &j);
        j.stage = 1;
    }
    hl_threadpool_run(c->threadpool, dn_slice, &j);
    /* a failed execution after the choice was made cannot fall back (the
     * output may be half written and the gradient half accumulated): it
     * only happens when oneDNN runs out of memory */
    return 1;
}

int hl_conv_dnnl_forward(hl_conv_dnnl *d, hl_op_ctx *c, const hl_tensor *x,
                         const hl_tensor *w, const float *bias, float *y)
{
    return dn_run(d, c, &x->shape, &w->shape, w->data, bias, 0, x->data, y);
}

int hl_conv_dnnl_backward(hl_conv_dnnl *d, hl_op_ctx *c, const hl_tensor *x,
                          const hl_tensor *w, const float *gy, float *gx)
{
    return dn_run(d, c, &x->shape, &w->shape, w->data, NULL, 1, gy, gx);
}
