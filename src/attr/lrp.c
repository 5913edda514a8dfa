/* LRP and LayerLRP (Captum 0.7's captum/attr/_core/lrp.py and
 * _core/layer/layer_lrp.py): the engine's relevance backward
 * (hl_run_backward_lrp) from the target output, with one rule per layer
 * class. Captum's defaults: EpsilonRule(1e-9) on Conv, Linear, pooling and
 * BatchNorm; Relu/Tanh pass relevance; any other op is refused unless the
 * user chose a rule for it (--lrp-other). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* "epsilon[:E]" (E default 1e-9) | "gamma[:G]" (G default 0.25) |
 * "alpha1beta0" | "z+" (the same rule) | "identity" | "none" (refuse). */
static hl_status parse_rule(const char *param, const char *spec,
                            hl_lrp_rule *rule, hl_error *err)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    rule->value = 0.0f;
    if (len == 7 && strncmp(spec, "epsilon", 7) == 0) {
        rule->kind = HL_LRP_EPSILON;
        rule->value = 1e-9f;
    } else if (len == 5 && strncmp(spec, "gamma", 5) == 0) {
        rule->kind = HL_LRP_GAMMA;
        rule->value = 0.25f;
    } else if (!colon && (strcmp(spec, "alpha1beta0") == 0 || strcmp(spec, "z+") == 0)) {
        rule->kind = HL_LRP_ALPHA1_BETA0;
    } else if (!colon && strcmp(spec, "identity") == 0) {
        rule->kind = HL_LRP_IDENTITY;
    } else if (!colon && (strcmp(spec, "none") == 0 || spec[0] == '\0')) {
        rule->kind = HL_LRP_NO_RULE;
    } else {
        return hl_error_set(err, HL_ERR_ARG, "--%s: unknown rule '%s' (epsilon[:E] | "
                            "gamma[:G] | alpha1beta0 | z+ | identity | none)", param, spec);
    }
    if (colon) {
        char *end = NULL;
        double v = strtod(colon + 1, &end);
        if (!end || end == colon + 1 || *end || !(v >= 0.0) || v > 1e6)
            return hl_error_set(err, HL_ERR_ARG, "--%s: '%s' needs a number >= 0 "
                                "after ':'", param, spec);
        rule->value = (float)v;
    }
    return HL_OK;
}

static hl_status lrp_rules(const hl_attr_params *p, hl_lrp_rules *rules, hl_error *err)
{
    const struct { const char *param, *spec; hl_lrp_class cls; } specs[] = {
        { "lrp-conv", p->lrp_conv, HL_LRP_CONV },
        { "lrp-linear", p->lrp_linear, HL_LRP_LINEAR },
        { "lrp-pool", p->lrp_pool, HL_LRP_POOL },
        { "lrp-batchnorm", p->lrp_batchnorm, HL_LRP_BATCHNORM },
        { "lrp-other", p->lrp_other, HL_LRP_OTHER },
    };
    memset(rules, 0, sizeof *rules);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        hl_status st = parse_rule(specs[i].param, specs[i].spec,
                                  &rules->rule[specs[i].cls], err);
        if (st != HL_OK)
            return st;
    }
    return HL_OK;
}

/* Forward, then relevance from the target output: Captum starts with the
 * gradient 1 at the target and multiplies the result by the output, i.e.
 * relevance F(x)[target] at the target, 0 elsewhere. *logit = F(x)[target]. */
static hl_status lrp_backward(hl_attr_call *c, double *logit, hl_error *err)
{
    hl_lrp_rules rules;
    hl_status st = lrp_rules(c->p, &rules, err);
    if (st == HL_OK)
        st = hl_attr_forward_input(c, err);
    if (st != HL_OK)
        return st;
    hl_shape s;
    const float *y = hl_run_value(c->run, c->output_value, &s);
    if (!y)
        return hl_error_set(err, HL_ERR_ARG, "%s: no model output", hl_model_name(c->model));
    int64_t n = hl_shape_numel(&s);
    float *seed = calloc((size_t)n, sizeof *seed);
    if (!seed)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (LRP)");
    seed[c->target] = y[c->target];
    *logit = y[c->target];
    st = hl_run_backward_lrp(c->run, c->output_value, seed, &rules, err);
    free(seed);
    return st;
}

hl_status hl_method_lrp(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    double logit = 0.0;
    hl_status st = lrp_backward(c, &logit, err);
    if (st != HL_OK)
        return st;
    const float *rel = hl_run_input_grad(c->run);
    hl_array *a = hl_array_new(&c->input->shape);
    if (!a)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
    int64_t numel = hl_attr_input_numel(c);
    double sum = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        a->data[i] = rel ? rel[i] : 0.0f;
        sum += a->data[i];
    }
    /* relevance is conserved up to the biases and the stabilisers */
    out->has_delta = 1;
    out->delta_reference = logit;
    out->delta = sum - logit;
    out->attr = a;
    return hl_attr_tick(c, 1.0, err);
}

hl_status hl_method_layer_lrp(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    int v;
    hl_shape s;
    int64_t numel = 0;
    double logit = 0.0;
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st == HL_OK)
        st = lrp_backward(c, &logit, err);
    if (st != HL_OK)
        return st;
    const float *rel = hl_run_grad(c->run, v, NULL);
    if (!rel)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s': no relevance reaches it "
                            "from the output", c->p->layer);
    st = hl_attr_store_layer_map(c, rel, &s, out, err);
    if (st == HL_OK)
        st = hl_attr_tick(c, 1.0, err);
    return st;
}
