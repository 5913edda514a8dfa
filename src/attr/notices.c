/* Honest notices: when a method reduces to a simpler one on the loaded
 * graph, and what the convergence delta means.
 *
 * The engine's backward rules (activation.c) follow Captum 0.7: the guided
 * and deconvolution rules change only Relu; DeepLift's rescale rule only
 * Relu, Sigmoid, Tanh, Elu and LeakyRelu. Every other node passes the
 * ordinary gradient, so on a graph without those ops Guided Backprop and
 * Deconvolution are the gradient, and DeepLift is (x - b) x the gradient at
 * x (Input x Gradient for the zero baseline). MobileNet V2 (ReLU6 = Clip
 * only) is such a graph. The engine's op table says which ops those rules
 * touch (HL_ROLE_GUIDED_RULE, HL_ROLE_RESCALE_RULE; with --relu-family
 * HL_ROLE_GUIDED_FAMILY_RULE, HL_ROLE_RESCALE_FAMILY_RULE);
 * tests/attr/test-trust.c checks the notices against the maps themselves
 * (byte-identical to the gradient when a notice is given). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trust.h"

/* Nodes a method's backward crosses: all of them, or for neuron methods
 * those up to the node producing the layer's value. */
static int node_limit(const hl_model *m, const char *method,
                      const hl_attr_params *p)
{
    int n = hl_model_num_nodes(m);
    if (!p || strncmp(method, "neuron_", 7) != 0 || !p->layer[0])
        return n;
    int value = hl_model_find_value(m, p->layer);
    for (int i = 0; value >= 0 && i < n; i++) {
        hl_node_info info;
        hl_model_node_info(m, i, &info);
        if (info.output == value)
            return i + 1;
    }
    return n;
}

/* How many of the first `limit` nodes the rule changes (`rule_role`:
 * HL_ROLE_GUIDED_RULE or HL_ROLE_RESCALE_RULE, from the engine's op table);
 * the other activations' op names go to `others` ("Clip, HardSwish"). */
static int count_ops(const hl_model *m, int limit, unsigned rule_role,
                     char *others, size_t size)
{
    int count = 0;
    others[0] = '\0';
    for (int i = 0; i < limit; i++) {
        hl_node_info info;
        hl_model_node_info(m, i, &info);
        if (info.roles & rule_role) {
            count++;
        } else if ((info.roles & HL_ROLE_ACTIVATION) && !strstr(others, info.op)) {
            size_t len = strlen(others);
            snprintf(others + len, size - len, "%s%s", len ? ", " : "", info.op);
        }
    }
    return count;
}

static void add(hl_notices *out, const char *brief, const char *fmt,
                const char *a, const char *b, const char *c)
{
    if (out->n >= HL_NOTICES_MAX)
        return;
    snprintf(out->brief[out->n], sizeof out->brief[0], "%s", brief);
    snprintf(out->line[out->n++], sizeof out->line[0], fmt, a, b, c);
}

static const char *or_none(const char *others)
{
    return others[0] ? others : "no ReLU-like activation";
}

/* A map that is zero everywhere draws as the bare photo, which reads as
 * "nothing matters" or as a bug; say what it means. LIME's zeros have their
 * own cause: its Lasso (alpha 0.01, as Captum) shrinks weights that small
 * score changes cannot carry to exactly zero. */
static void zero_map_notice(const char *method, const hl_attr_result *r,
                            hl_notices *out)
{
    if (!r || !r->attr || !r->attr->data)
        return;
    int64_t n = hl_shape_numel(&r->attr->shape);
    for (int64_t i = 0; i < n; i++)
        if (r->attr->data[i] != 0.0f)
            return;
    if (strcmp(method, "lime") == 0)
        add(out, "= zero everywhere: the score moves too little for LIME's fit",
            "this map is zero everywhere: LIME's Lasso fit (alpha 0.01, as "
            "Captum) set every weight to zero, because the score moves too "
            "little between its samples%s%s%s for the penalty; use "
            "coarser features (--feature-mask cells:N) or kernel_shap, which "
            "fits without a penalty", "", "", "");
    else
        add(out, "= zero everywhere: the score does not respond",
            "this map is zero everywhere: nothing this method changes moves "
            "the score of the class%s%s%s (saturated or dead units, or a "
            "model that ignores its input here); try another class, baseline "
            "or method", r->is_layer ? " (at this layer)" : "", "", "");
}

void hl_attr_notices(const hl_model *model, const char *method,
                     const hl_attr_params *p, const hl_attr_result *r,
                     hl_notices *out)
{
    memset(out, 0, sizeof *out);
    if (!model || !method)
        return;
    zero_map_notice(method, r, out);
    int limit = node_limit(model, method, p);
    char others[160];
    int zero_baseline = !p || !p->baseline[0] || strcmp(p->baseline, "zero") == 0 ||
                        strcmp(p->baseline, "0") == 0;

    if (strcmp(method, "guided_backprop") == 0 || strcmp(method, "deconvolution") == 0 ||
        strcmp(method, "neuron_guided_backprop") == 0 ||
        strcmp(method, "guided_grad_cam") == 0) {
        int family = p && p->relu_family;
        if (count_ops(model, limit, family ? HL_ROLE_GUIDED_FAMILY_RULE
                                           : HL_ROLE_GUIDED_RULE,
                      others, sizeof others) == 0) {
            int offer = strstr(others, "Clip") && !family;
            const char *same = strcmp(method, "guided_grad_cam") == 0
                ? "GradCAM x the plain gradient"
                : strcmp(method, "neuron_guided_backprop") == 0
                ? "the neuron's plain gradient (neuron_gradient)"
                : "the plain gradient (saliency with --abs false)";
            add(out, strcmp(method, "guided_grad_cam") == 0
                ? "= GradCAM x gradient: no ReLU in this model"
                : "= the plain gradient: no ReLU in this model",
                "this model has no ReLU (it uses %s), which is the only "
                "activation the guided/deconvolution rule changes (as in "
                "Captum): this map is identical to %s%s", or_none(others),
                same, offer ? "; use --relu-family to apply the rule to Clip/ReLU6" : "");
            if (offer && out->n > 0)
                snprintf(out->offer[out->n - 1], sizeof out->offer[0], "relu-family=true");
        }
    } else if (strcmp(method, "deep_lift") == 0 || strcmp(method, "deep_lift_shap") == 0 ||
               strcmp(method, "layer_deep_lift") == 0) {
        int family = p && p->relu_family;
        if (count_ops(model, limit, family ? HL_ROLE_RESCALE_FAMILY_RULE
                                           : HL_ROLE_RESCALE_RULE,
                      others, sizeof others) == 0) {
            const char *same =
                strcmp(method, "layer_deep_lift") == 0
                ? "(activation - baseline activation) x its gradient"
                : strcmp(method, "deep_lift_shap") == 0
                ? "(input - mean baseline) x gradient"
                : zero_baseline ? "Input x Gradient" : "(input - baseline) x gradient";
            add(out, "= (input - baseline) x gradient: no nonlinearity DeepLift rescales",
                "this model has no nonlinearity DeepLift's rescale rule "
                "handles (it uses %s, which Captum passes as a plain "
                "gradient): this map equals %s%s", or_none(others), same,
                others[0] && !family ? "; use --relu-family to apply the "
                "rule to Clip/ReLU6 and the other activations" : "");
            if (others[0] && !family && out->n > 0)
                snprintf(out->offer[out->n - 1], sizeof out->offer[0], "relu-family=true");
        }
    }
}

double hl_attr_delta_relative(const hl_attr_result *r)
{
    if (!r || !r->has_delta || !isfinite(r->delta) ||
        !isfinite(r->delta_reference) || r->delta_reference == 0.0)
        return NAN;
    return fabs(r->delta) / fabs(r->delta_reference);
}

/* What lowers the delta of each method family. */
static const char *delta_hint(const char *method)
{
    if (strstr(method, "deep_lift"))
        return "DeepLift's rules do not give completeness on this graph "
               "(an activation its rescale rule does not handle: use "
               "--relu-family to apply it to Clip/ReLU6 and the others)";
    if (strcmp(method, "gradient_shap") == 0)
        return "it is a sampled estimate: raise --n-samples";
    return "raise --n-steps";
}

int hl_attr_delta_note(const char *method, const hl_attr_result *r,
                       char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    if (!r || !r->has_delta || !method)
        return -1;
    double rel = hl_attr_delta_relative(r);
    if (!isfinite(rel)) {
        snprintf(buf, size, "convergence delta %.4g (sum of the attributions "
                 "minus F(x) - F(baseline) = %.4g)", r->delta, r->delta_reference);
        return 0;
    }
    int large = rel > HL_DELTA_LARGE;
    snprintf(buf, size, "convergence delta %.4g = %.2f%% of F(x) - F(baseline) "
             "= %.4g%s%s", r->delta, 100.0 * rel, r->delta_reference,
             large ? ": large, " : " (small: the attributions add up)",
             large ? delta_hint(method) : "");
    return large;
}
