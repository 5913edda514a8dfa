/* Shared internals of the attribution methods (not for the CLI/GUI).
 *
 * Every method is an hl_method_fn registered in method.c. The dispatcher
 * (hl_attribute) resolves the target, creates one engine run and the seeded
 * generator, times the call, and fills target/logit/probability. Methods use
 * the helpers below (common.c, baseline.c, rng.c) instead of re-writing
 * batching, progress and cancellation.
 */
#ifndef HL_ATTR_PRIVATE_H
#define HL_ATTR_PRIVATE_H

#include "attr.h"
#include "rng.h"

typedef struct hl_attr_call {
    const hl_model *model;
    const hl_array *input;          /* [1,C,H,W] */
    const hl_attr_params *p;
    const hl_attr_context *ctx;     /* never NULL (dispatcher supplies one) */
    int target;                     /* resolved class index */
    hl_run *run;                    /* a run the method may use freely */
    hl_rng *rng;                    /* seeded from p->seed */
    int output_value;               /* hl_model_output_value(model) */
    int input_value;
} hl_attr_call;

typedef hl_status (*hl_method_fn)(hl_attr_call *c, hl_attr_result *out,
                                  hl_error *err);

/* -------------------------------------------------- common.c helpers */

/* Report fraction done (0..1) and check the cancel flag: returns
 * HL_ERR_CANCELLED (with a message) when raised. */
hl_status hl_attr_tick(hl_attr_call *c, double fraction, hl_error *err);

/* Forward `batch` inputs (each of the input's shape) and backward from the
 * target logit (seed one-hot on c->target for every batch row) with `rule`.
 * grad (batch x input numel) and logits_target (batch) are optional outputs.
 * reference: see hl_run_backward (DeepLift). Uses c->run. */
hl_status hl_attr_target_grad(hl_attr_call *c, const float *inputs, int batch,
                              hl_backward_rule rule, const hl_run *reference,
                              float *grad, float *logits_target,
                              hl_error *err);

/* Forward only, returning the target logit of each of `batch` inputs.
 * Splits into chunks of at most max_batch (<= 0: no limit). */
hl_status hl_attr_target_logits(hl_attr_call *c, const float *inputs,
                                int batch, int max_batch, float *logits_target,
                                hl_error *err);

/* Layer value id from c->p->layer (node or value name), or an error
 * listing a few valid names. */
hl_status hl_attr_find_layer(hl_attr_call *c, int *value, hl_error *err);

/* ------------------------------------------------- baseline.c */

/* Build a baseline of the input's shape from a spec (see hl_attr_params
 * baseline); "zero" when spec is NULL or empty. */
hl_status hl_attr_make_baseline(hl_attr_call *c, const char *spec,
                                hl_array **out, hl_error *err);

#endif
