/* One-backward methods: saliency, input_x_gradient, guided_backprop,
 * deconvolution (the last two through the engine's per-run ReLU rules). */
#include <math.h>

#include "attr-private.h"

/* out->attr = gradient of the target logit w.r.t. the input (rule). */
static hl_status input_gradient(hl_attr_call *c, hl_backward_rule rule,
                                hl_attr_result *out, hl_error *err)
{
    hl_array *a = hl_array_new(&c->input->shape);
    if (!a)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
    hl_status st = hl_attr_target_grad(c, c->input->data, 1, rule, NULL,
                                       a->data, NULL, err);
    if (st != HL_OK) {
        hl_array_free(a);
        return st;
    }
    out->attr = a;
    return hl_attr_tick(c, 1.0, err);
}

hl_status hl_method_saliency(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    hl_status st = input_gradient(c, HL_RULE_GRADIENT, out, err);
    if (st == HL_OK && c->p->saliency_abs) {
        int64_t n = hl_shape_numel(&out->attr->shape);
        for (int64_t i = 0; i < n; i++)
            out->attr->data[i] = fabsf(out->attr->data[i]);
    }
    return st;
}

hl_status hl_method_input_x_gradient(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    hl_status st = input_gradient(c, HL_RULE_GRADIENT, out, err);
    if (st == HL_OK) {
        int64_t n = hl_shape_numel(&out->attr->shape);
        for (int64_t i = 0; i < n; i++)
            out->attr->data[i] *= c->input->data[i];
    }
    return st;
}

hl_status hl_method_guided_backprop(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return input_gradient(c, HL_RULE_GUIDED, out, err);
}

hl_status hl_method_deconvolution(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return input_gradient(c, HL_RULE_DECONV, out, err);
}
