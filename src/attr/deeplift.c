/* DeepLift, rescale rule (Captum's DeepLift): the engine's
 * HL_RULE_DEEPLIFT backward against a reference run on the baseline gives
 * the multipliers m; attribution = (x - b) * m. */
#include <stdlib.h>

#include "attr-private.h"

hl_status hl_attr_deeplift_backward(hl_attr_call *c, const float *baseline,
                                    hl_run **reference, hl_error *err)
{
    *reference = hl_attr_run_new(c->model, c->ctx);
    if (!*reference)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create the reference run",
                            hl_model_name(c->model));
    hl_status st = hl_run_forward(*reference, baseline, 1, err);
    if (st == HL_OK)
        st = hl_attr_tick(c, 0.5, err);
    if (st == HL_OK)
        st = hl_attr_target_grad(c, c->input->data, 1, HL_RULE_DEEPLIFT,
                                 *reference, NULL, NULL, err);
    return st;
}

hl_status hl_method_deep_lift(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    hl_array *base = NULL, *a = NULL;
    hl_run *ref = NULL;
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        return st;
    st = hl_attr_deeplift_backward(c, base->data, &ref, err);
    if (st != HL_OK)
        goto done;
    const float *m = hl_run_input_grad(c->run);
    a = hl_array_new(&c->input->shape);
    if (!a) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
        goto done;
    }
    int64_t numel = hl_attr_input_numel(c);
    double sum = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        a->data[i] = m ? (c->input->data[i] - base->data[i]) * m[i] : 0.0f;
        sum += a->data[i];
    }
    /* Convergence delta = sum(attr) - (F(x) - F(baseline)); the logits of
     * both are still in the two runs. */
    hl_shape s;
    const float *lx = hl_run_value(c->run, c->output_value, &s);
    const float *lb = hl_run_value(ref, c->output_value, NULL);
    if (!lx || !lb) {
        st = hl_error_set(err, HL_ERR_ARG, "%s: no model output", hl_model_name(c->model));
        goto done;
    }
    out->has_delta = 1;
    out->delta_reference = (double)lx[c->target] - (double)lb[c->target];
    out->delta = sum - out->delta_reference;
    out->attr = a;
    a = NULL;
    st = hl_attr_tick(c, 1.0, err);
done:
    hl_array_free(a);
    hl_array_free(base);
    hl_run_free(ref);
    return st;
}
