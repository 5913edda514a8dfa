/* What the files of a run (run.c, run_layout.c, run_forward.c,
 * run_backward.c, run_mask.c, run_profile.c) share: the run itself. */
#ifndef HL_RUN_INTERNAL_H
#define HL_RUN_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "graph.h"
#include "threadpool.h"

struct hl_run {
    const hl_model *m;
    hl_threadpool *pool;      /* NULL: the calling thread alone */
    int owns_pool;            /* hl_run_new's own, not a shared one */
    int threads;

    hl_plan plan;
    int planned;
    int n_plan_inputs;
    hl_shape plan_shapes[HL_MAX_IO];
    int batch;

    unsigned char *mem;       /* activations, gradients, scratch */
    size_t mem_size;
    size_t mem_used;          /* of mem_size, by the current layout */
    float *scratch;
    float **grad;             /* per value; NULL for non-float/non-dynamic */
    const float **override;   /* per value, borrowed */
    unsigned char *overridden; /* per value: forward takes it from outside */
    unsigned char *requires_grad;
    unsigned char *grad_valid;
    unsigned char *derived_ready, *derived_grad_ready;
    int forward_done;
    long serial;               /* hl_run_forward_serial */
    int backward_stop;         /* hl_run_set_backward_stop, -1 = none */
    /* HL_PROFILE set in the environment: seconds per node (forward,
     * backward) and of the gradient clearing, printed by hl_run_free */
    double *prof_fwd, *prof_bwd;
    double prof_clear;
    long prof_forwards, prof_backwards;
    clockid_t prof_clock;
    /* lean memory (hl_run_keep_only) */
    int lean;                  /* asked for: applies from the next forward */
    int layout_lean;           /* the current layout is lean */
    int laid_out;              /* memory laid out for the plan and `kept` */
    unsigned char *keep_user;  /* per value: listed by the caller */
    unsigned char *kept, *kept_next; /* per value: readable in a lean run */
    unsigned char *zeroed;     /* per value: gradient zeroed (lean backward) */
    unsigned char *masked;     /* per node: backward from a bit mask */
    uint32_t **mask_words;     /* per node: the mask (x > lo && x < hi) */
    float *mask_lo, *mask_hi;  /* per node: the bounds */
};

/* A pre-BN value of a folded conv: computed from its conv's output. */
static inline int is_derived(const hl_model *m, int v)
{
    return m->values[v].alias >= 0 && m->values[v].scale != NULL;
}

/* The channel index of element i of a tensor [N, C, ...]. */
static inline int channel_of(const hl_shape *s, size_t i)
{
    if (s->ndim < 2)
        return 0;
    size_t inner = 1;
    for (int d = 2; d < s->ndim; d++)
        inner *= (size_t)s->dims[d];
    return (int)((i / inner) % (size_t)s->dims[1]);
}

/* run_layout.c: plans for these input shapes (unless already planned) and
 * lays out the run's memory (unless laid out for this plan and keep set). */
hl_status hl_run_plan(hl_run *r, int n, const hl_shape *shapes,
                      hl_error *err);

/* run.c: copies an override into its value (see there). */
void hl_run_apply_override(hl_run *r, int v);

/* run_mask.c: a lean run's Relu/Clip bit masks (see there). */
void hl_run_mask_make(const hl_run *r, int k, const hl_tensor *in0);
void hl_run_mask_backward(const hl_run *r, int k, const hl_tensor *in0,
                          const float *g, float *gx, hl_backward_rule rule,
                          int relu_family);

/* huge_block.c: a block of at least *bytes (aligned to align, a power of
 * two); from 4 MiB on whole 2 MiB huge pages, *bytes then updated to the
 * rounded size. free() it. */
void *hl_huge_block_alloc(size_t *bytes, size_t align);

/* run_profile.c: HL_PROFILE in the environment. */
void hl_run_profile_init(hl_run *r);
double hl_run_profile_now(const hl_run *r);
void hl_run_profile_print(const hl_run *r);

#endif
