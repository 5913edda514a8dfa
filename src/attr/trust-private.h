/* Shared internals of the trust functions (metrics.c, curves.c,
 * sanity.c): an attribution call (attr-private.h) opened for a metric so
 * the engine helpers (batched target logits, baselines) are reused. */
#ifndef HL_TRUST_PRIVATE_H
#define HL_TRUST_PRIVATE_H

#include "attr-private.h"
#include "trust.h"

typedef struct hl_metric_call {
    hl_attr_call c;
    hl_attr_context ctx;    /* a copy of in->ctx, or zeros */
    hl_attr_params p;       /* Captum's defaults */
    hl_rng rng;
} hl_metric_call;

/* A lean run on in->model for forwards only; the generator seeded with
 * `seed`. Close with hl_metric_call_close. */
hl_status hl_metric_call_open(const hl_metric_input *in, uint64_t seed,
                              hl_metric_call *mc, hl_error *err);
void hl_metric_call_close(hl_metric_call *mc);

/* Engine rows per forward batch for a metric (bounded memory). */
#define HL_METRIC_BATCH 16

#endif
