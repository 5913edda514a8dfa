/* The method registry and hl_attribute(), the one entry point: validate,
 * create the run and the seeded generator, resolve the target, time the
 * method and fill the result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr-private.h"

#define NT_PARAMS "noise-tunnel", "nt-samples", "nt-stdevs", "seed"
#define PATH_PARAMS "baseline", "n-steps", "ig-method", "internal-batch-size"
#define LAYER_OUT "attribute-to-layer-input", "interpolate"

static const char *const p_saliency[] = { "target", "abs", NT_PARAMS, NULL };
static const char *const p_gradient[] = { "target", NT_PARAMS, NULL };
static const char *const p_guided[] = { "target", "relu-family", NT_PARAMS, NULL };
static const char *const p_deep_lift[] = {
    "target", "baseline", "relu-family", NT_PARAMS, NULL };
static const char *const p_ig[] = { "target", PATH_PARAMS, NT_PARAMS, NULL };
static const char *const p_gradcam[] = {
    "target", "layer", "relu-attributions", LAYER_OUT, NULL };
static const char *const p_guided_gradcam[] = {
    "target", "layer", "relu-family", LAYER_OUT, NULL };
static const char *const p_layer_act[] = { "layer", LAYER_OUT, NULL };
static const char *const p_layer_gxa[] = { "target", "layer", LAYER_OUT, NULL };
static const char *const p_layer_path[] = {
    "target", "layer", PATH_PARAMS, LAYER_OUT, NULL };
static const char *const p_layer_deep_lift[] = {
    "target", "layer", "baseline", "relu-family", LAYER_OUT, NULL };
static const char *const p_neuron[] = {
    "layer", "neuron", "attribute-to-layer-input", NULL };
static const char *const p_neuron_ig[] = {
    "layer", "neuron", PATH_PARAMS, "attribute-to-layer-input", NULL };
static const char *const p_neuron_guided[] = {
    "layer", "neuron", "attribute-to-layer-input", "relu-family", NULL };
static const char *const p_neuron_cond[] = {
    "target", "layer", "neuron", PATH_PARAMS, NULL };

/* perturbation, surrogate and SHAP parameter lists */
#define MASK_PARAMS "baseline", "feature-mask", "perturbations-per-eval"
static const char *const p_occlusion[] = {
    "target", "baseline", "strides", "window", "perturbations-per-eval", NULL };
static const char *const p_ablation[] = { "target", MASK_PARAMS, NULL };
static const char *const p_sampled_mask[] = {
    "target", MASK_PARAMS, "n-samples", "seed", NULL };
static const char *const p_gradient_shap[] = {
    "target", "baseline", "baselines", "n-samples", "stdevs",
    "internal-batch-size", "seed", NULL };
static const char *const p_deep_lift_shap[] = {
    "target", "baseline", "baselines", "internal-batch-size", "relu-family",
    NT_PARAMS, NULL };

/* the rest of Captum's methods and the CAM family (issue 15) */
static const char *const p_layer_shap[] = {
    "target", "layer", "baseline", "baselines", "n-samples", "stdevs",
    "internal-batch-size", "seed", LAYER_OUT, NULL };
static const char *const p_layer_dl_shap[] = {
    "target", "layer", "baseline", "baselines", "internal-batch-size",
    "relu-family", LAYER_OUT, NULL };
static const char *const p_layer_ablation[] = {
    "target", "layer", "layer-mask", "perturbations-per-eval", LAYER_OUT, NULL };
static const char *const p_neuron_dl[] = {
    "layer", "neuron", "baseline", "attribute-to-layer-input", "relu-family",
    NULL };
static const char *const p_neuron_dl_shap[] = {
    "layer", "neuron", "baseline", "baselines", "internal-batch-size",
    "attribute-to-layer-input", "relu-family", NULL };
static const char *const p_neuron_shap[] = {
    "layer", "neuron", "baseline", "baselines", "n-samples", "stdevs",
    "internal-batch-size", "seed", "attribute-to-layer-input", NULL };
static const char *const p_neuron_ablation[] = {
    "layer", "neuron", MASK_PARAMS, "attribute-to-layer-input", NULL };
static const char *const p_score_cam[] = {
    "target", "layer", "relu-attributions", "baseline", "perturbations-per-eval",
    LAYER_OUT, NULL };
static const char *const p_rise[] = {
    "target", "baseline", "n-masks", "mask-cells", "mask-prob",
    "perturbations-per-eval", "seed", NULL };
static const char *const p_blur_ig[] = {
    "target", "max-sigma", "n-steps", "internal-batch-size", NULL };
static const char *const p_guided_ig[] = { "target", "baseline", "n-steps", NULL };
#define LRP_PARAMS "lrp-conv", "lrp-linear", "lrp-pool", "lrp-batchnorm", "lrp-other"
static const char *const p_lrp[] = { "target", LRP_PARAMS, NULL };
static const char *const p_layer_lrp[] = { "target", "layer", LRP_PARAMS, LAYER_OUT, NULL };

typedef struct method_entry {
    hl_method_desc desc;
    hl_method_fn fn;
    /* DeepLift's rules read every node's values in two runs: these
     * methods cannot use a lean run (see hl_run_keep_only). */
    int full_run;
} method_entry;

/* Entry: name, title, group, description, params, needs_layer,
 * needs_neuron, has_delta, stochastic; the function; full_run. */
static const method_entry methods[] = {
    /* ---- gradient.c, path.c, deeplift.c, layer.c, neuron.c ---- */
    { { "saliency", "Saliency", HL_GROUP_GRADIENT,
        "gradient of the target logit w.r.t. the input (absolute value by default)",
        p_saliency, 0, 0, 0, 0 }, hl_method_saliency, 0 },
    { { "input_x_gradient", "Input X Gradient", HL_GROUP_GRADIENT,
        "input times the gradient of the target logit",
        p_gradient, 0, 0, 0, 0 }, hl_method_input_x_gradient, 0 },
    { { "guided_backprop", "Guided Backprop", HL_GROUP_GRADIENT,
        "gradient with only positive gradients passed back through ReLUs",
        p_guided, 0, 0, 0, 0 }, hl_method_guided_backprop, 0 },
    { { "deconvolution", "Deconvolution", HL_GROUP_GRADIENT,
        "gradient with ReLUs applied to the gradient instead of the forward mask",
        p_guided, 0, 0, 0, 0 }, hl_method_deconvolution, 0 },
    { { "integrated_gradients", "Integrated Gradients", HL_GROUP_PATH,
        "(input - baseline) times the gradient averaged along the straight path",
        p_ig, 0, 0, 1, 0 }, hl_method_integrated_gradients, 0 },
    { { "deep_lift", "DeepLift", HL_GROUP_GRADIENT,
        "DeepLift rescale rule: (input - baseline) times the rescaled multipliers",
        p_deep_lift, 0, 0, 1, 0 }, hl_method_deep_lift, 1 },
    { { "layer_grad_cam", "Layer GradCAM", HL_GROUP_LAYER,
        "sum over channels of the layer activation times its mean gradient",
        p_gradcam, 1, 0, 0, 0 }, hl_method_layer_grad_cam, 0 },
    { { "guided_grad_cam", "Guided GradCAM", HL_GROUP_LAYER,
        "guided backprop times the upsampled ReLU GradCAM map",
        p_guided_gradcam, 1, 0, 0, 0 }, hl_method_guided_grad_cam, 0 },
    { { "layer_activation", "Layer Activation", HL_GROUP_LAYER,
        "the layer's activation itself",
        p_layer_act, 1, 0, 0, 0 }, hl_method_layer_activation, 0 },
    { { "layer_gradient_x_activation", "Layer Gradient X Activation", HL_GROUP_LAYER,
        "layer activation times the gradient of the target logit w.r.t. it",
        p_layer_gxa, 1, 0, 0, 0 }, hl_method_layer_gradient_x_activation, 0 },
    { { "layer_conductance", "Layer Conductance", HL_GROUP_LAYER,
        "flow of the integrated gradients through each unit of the layer",
        p_layer_path, 1, 0, 1, 0 }, hl_method_layer_conductance, 0 },
    { { "layer_integrated_gradients", "Layer Integrated Gradients", HL_GROUP_LAYER,
        "integrated gradients in the layer's activation space",
        p_layer_path, 1, 0, 1, 0 }, hl_method_layer_integrated_gradients, 0 },
    { { "layer_deep_lift", "Layer DeepLift", HL_GROUP_LAYER,
        "DeepLift attributions of the layer's units",
        p_layer_deep_lift, 1, 0, 1, 0 }, hl_method_layer_deep_lift, 1 },
    { { "neuron_gradient", "Neuron Gradient", HL_GROUP_NEURON,
        "gradient of one neuron of the layer w.r.t. the input",
        p_neuron, 1, 1, 0, 0 }, hl_method_neuron_gradient, 0 },
    { { "neuron_integrated_gradients", "Neuron Integrated Gradients", HL_GROUP_NEURON,
        "integrated gradients of one neuron of the layer",
        p_neuron_ig, 1, 1, 1, 0 }, hl_method_neuron_integrated_gradients, 0 },
    { { "neuron_conductance", "Neuron Conductance", HL_GROUP_NEURON,
        "flow of the target's integrated gradients through one neuron",
        p_neuron_cond, 1, 1, 0, 0 }, hl_method_neuron_conductance, 0 },
    { { "neuron_guided_backprop", "Neuron Guided Backprop", HL_GROUP_NEURON,
        "guided backprop of one neuron of the layer",
        p_neuron_guided, 1, 1, 0, 0 }, hl_method_neuron_guided_backprop, 0 },
    /* ---- perturbation.c, surrogate.c, shap.c ---- */
    { { "occlusion", "Occlusion", HL_GROUP_PERTURBATION,
        "drop of the target logit when a sliding window is set to the baseline",
        p_occlusion, 0, 0, 0, 0 }, hl_method_occlusion, 0 },
    { { "feature_ablation", "Feature Ablation", HL_GROUP_PERTURBATION,
        "drop of the target logit when each feature group is set to the baseline",
        p_ablation, 0, 0, 0, 0 }, hl_method_feature_ablation, 0 },
    { { "shapley_value_sampling", "Shapley Value Sampling", HL_GROUP_PERTURBATION,
        "feature groups' marginal contributions averaged over random orderings",
        p_sampled_mask, 0, 0, 0, 1 }, hl_method_shapley_value_sampling, 0 },
    { { "lime", "LIME", HL_GROUP_PERTURBATION,
        "coefficients of a Lasso surrogate fitted on random feature coalitions",
        p_sampled_mask, 0, 0, 0, 1 }, hl_method_lime, 0 },
    { { "kernel_shap", "Kernel SHAP", HL_GROUP_PERTURBATION,
        "Shapley values from a weighted linear fit on sampled coalitions",
        p_sampled_mask, 0, 0, 0, 1 }, hl_method_kernel_shap, 0 },
    { { "gradient_shap", "Gradient SHAP", HL_GROUP_PATH,
        "expected gradients at random points between baselines and the input",
        p_gradient_shap, 0, 0, 1, 1 }, hl_method_gradient_shap, 0 },
    { { "deep_lift_shap", "DeepLift SHAP", HL_GROUP_GRADIENT,
        "DeepLift averaged over a set of baselines",
        p_deep_lift_shap, 0, 0, 1, 0 }, hl_method_deep_lift_shap, 1 },
    /* ---- the rest of Captum's methods and the CAM family (issue 15) ---- */
    { { "internal_influence", "Internal Influence", HL_GROUP_LAYER,
        "target's gradient at the layer integrated along the input's straight path",
        p_layer_path, 1, 0, 0, 0 }, hl_method_internal_influence, 0 },
    { { "layer_gradient_shap", "Layer Gradient SHAP", HL_GROUP_LAYER,
        "gradient SHAP in the layer: gradients at random path points times layer differences",
        p_layer_shap, 1, 0, 1, 1 }, hl_method_layer_gradient_shap, 0 },
    { { "layer_deep_lift_shap", "Layer DeepLift SHAP", HL_GROUP_LAYER,
        "layer DeepLift averaged over a set of baselines",
        p_layer_dl_shap, 1, 0, 1, 0 }, hl_method_layer_deep_lift_shap, 1 },
    { { "layer_feature_ablation", "Layer Feature Ablation", HL_GROUP_LAYER,
        "drop of the target logit when each unit (or channel, --layer-mask) of the layer is set to 0",
        p_layer_ablation, 1, 0, 0, 0 }, hl_method_layer_feature_ablation, 0 },
    { { "grad_cam_plus_plus", "GradCAM++", HL_GROUP_LAYER,
        "GradCAM with pixel-wise weights of the positive gradients (Chattopadhyay et al. 2018)",
        p_gradcam, 1, 0, 0, 0 }, hl_method_grad_cam_plus_plus, 0 },
    { { "xgrad_cam", "XGradCAM", HL_GROUP_LAYER,
        "GradCAM with gradients weighted by the normalised activations (Fu et al. 2020)",
        p_gradcam, 1, 0, 0, 0 }, hl_method_xgrad_cam, 0 },
    { { "score_cam", "Score-CAM", HL_GROUP_LAYER,
        "channels weighted by the target's probability on the input masked by each (Wang et al. 2020)",
        p_score_cam, 1, 0, 0, 0 }, hl_method_score_cam, 0 },
    { { "neuron_deconvolution", "Neuron Deconvolution", HL_GROUP_NEURON,
        "deconvolution of one neuron of the layer",
        p_neuron_guided, 1, 1, 0, 0 }, hl_method_neuron_deconvolution, 0 },
    { { "neuron_deep_lift", "Neuron DeepLift", HL_GROUP_NEURON,
        "DeepLift of one neuron of the layer",
        p_neuron_dl, 1, 1, 1, 0 }, hl_method_neuron_deep_lift, 1 },
    { { "neuron_deep_lift_shap", "Neuron DeepLift SHAP", HL_GROUP_NEURON,
        "DeepLift of one neuron averaged over a set of baselines",
        p_neuron_dl_shap, 1, 1, 1, 0 }, hl_method_neuron_deep_lift_shap, 1 },
    { { "neuron_gradient_shap", "Neuron Gradient SHAP", HL_GROUP_NEURON,
        "gradient SHAP of one neuron of the layer",
        p_neuron_shap, 1, 1, 0, 1 }, hl_method_neuron_gradient_shap, 0 },
    { { "neuron_feature_ablation", "Neuron Feature Ablation", HL_GROUP_NEURON,
        "change of one neuron when each feature group is set to the baseline",
        p_neuron_ablation, 1, 1, 0, 0 }, hl_method_neuron_feature_ablation, 0 },
    { { "shapley_values", "Shapley Values", HL_GROUP_PERTURBATION,
        "exact Shapley values of the feature groups over every ordering (at most 12 groups)",
        p_ablation, 0, 0, 0, 0 }, hl_method_shapley_values, 0 },
    { { "rise", "RISE", HL_GROUP_PERTURBATION,
        "target probability on randomly masked inputs, averaged per pixel (Petsiuk et al. 2018)",
        p_rise, 0, 0, 0, 1 }, hl_method_rise, 0 },
    { { "blur_ig", "Blur IG", HL_GROUP_PATH,
        "integrated gradients along a path of ever less blurred images (Xu et al. 2020)",
        p_blur_ig, 0, 0, 1, 0 }, hl_method_blur_ig, 0 },
    { { "guided_ig", "Guided IG", HL_GROUP_PATH,
        "integrated gradients along an adaptive path moving low-gradient pixels first (Kapishnikov et al. 2021)",
        p_guided_ig, 0, 0, 1, 0 }, hl_method_guided_ig, 0 },
    /* ---- lrp.c ---- */
    { { "lrp", "LRP", HL_GROUP_GRADIENT,
        "layer-wise relevance propagation with Captum's rules (epsilon by default)",
        p_lrp, 0, 0, 1, 0 }, hl_method_lrp, 1 },
    { { "layer_lrp", "Layer LRP", HL_GROUP_LAYER,
        "LRP relevance arriving at the layer's units",
        p_layer_lrp, 1, 0, 0, 0 }, hl_method_layer_lrp, 1 },
};

#define N_METHODS ((int)(sizeof methods / sizeof methods[0]))

int hl_method_count(void)
{
    return N_METHODS;
}

const hl_method_desc *hl_method_get(int index)
{
    return index >= 0 && index < N_METHODS ? &methods[index].desc : NULL;
}

static const method_entry *find_entry(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < N_METHODS; i++)
        if (strcmp(methods[i].desc.name, name) == 0)
            return &methods[i];
    return NULL;
}

const hl_method_desc *hl_method_find(const char *name)
{
    const method_entry *e = find_entry(name);
    return e ? &e->desc : NULL;
}

/* Built into a per-thread buffer (the window's worker and the UI thread
 * may both format errors). */
const char *hl_method_names(void)
{
    static _Thread_local char names[2048];
    size_t len = 0;
    for (int i = 0; i < N_METHODS && len + 1 < sizeof names; i++) {
        int n = snprintf(names + len, sizeof names - len, "%s%s",
                         i ? ", " : "", methods[i].desc.name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return names;
}

/* Defaults a method has of its own, decided here once: exact Shapley
 * values take 2^F forwards and refuse above 12 groups, so the usual
 * grid:16 (196 groups on 224 x 224) would only give an error; 3 x 3 cells
 * (9 groups, 512 forwards) at any input size fit. */
static const struct {
    const char *method, *param, *value;
} method_param_defaults[] = {
    { "shapley_values", "feature-mask", "cells:3" },
};

const char *hl_method_param_default(const char *method, const char *param)
{
    size_t n = sizeof method_param_defaults / sizeof *method_param_defaults;
    for (size_t i = 0; method && param && i < n; i++)
        if (strcmp(method_param_defaults[i].method, method) == 0 &&
            strcmp(method_param_defaults[i].param, param) == 0)
            return method_param_defaults[i].value;
    return NULL;
}

void hl_attr_params_init_for_method(hl_attr_params *p, const char *method)
{
    hl_attr_params_init(p);
    for (int i = 0; i < hl_param_count(); i++) {
        const hl_param_desc *d = hl_param_get(i);
        const char *v = hl_method_param_default(method, d->name);
        if (v)
            hl_param_set(p, d, v, NULL);
    }
}

void hl_attr_params_switch_method(hl_attr_params *p, const char *from,
                                  const char *to)
{
    hl_attr_params dfrom, dto;
    hl_attr_params_init_for_method(&dfrom, from);
    hl_attr_params_init_for_method(&dto, to);
    for (int i = 0; i < hl_param_count(); i++) {
        const hl_param_desc *d = hl_param_get(i);
        if (!hl_method_param_default(from, d->name) &&
            !hl_method_param_default(to, d->name))
            continue;
        char cur[1024], was[1024], now[1024];
        hl_param_format(p, d, cur, sizeof cur);
        hl_param_format(&dfrom, d, was, sizeof was);
        hl_param_format(&dto, d, now, sizeof now);
        if (strcmp(cur, was) == 0)
            hl_param_set(p, d, now, NULL);
    }
}

const char *hl_group_name(hl_method_group g)
{
    switch (g) {
    case HL_GROUP_GRADIENT: return "gradient";
    case HL_GROUP_PATH: return "path";
    case HL_GROUP_PERTURBATION: return "perturbation";
    case HL_GROUP_LAYER: return "layer";
    case HL_GROUP_NEURON: return "neuron";
    }
    return "?";
}

void hl_attr_result_clear(hl_attr_result *r)
{
    if (!r)
        return;
    hl_array_free(r->attr);
    memset(r, 0, sizeof *r);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Numeric parameters may be set directly (the window), not only through
 * hl_param_set: check them all against the descriptor ranges. */
static hl_status check_params(const hl_attr_params *p, hl_error *err)
{
    for (int i = 0; i < hl_param_count(); i++) {
        const hl_param_desc *d = hl_param_get(i);
        const char *field = (const char *)p + d->offset;
        if (d->type == HL_PARAM_INT) {
            int v = *(const int *)field;
            if (v < d->min || v > d->max)
                return hl_error_set(err, HL_ERR_ARG, "--%s: %d is out of range [%g, %g]",
                                    d->name, v, d->min, d->max);
        } else if (d->type == HL_PARAM_FLOAT) {
            float v = *(const float *)field;
            if (!isfinite(v) || v < d->min || v > d->max)
                return hl_error_set(err, HL_ERR_ARG, "--%s: %g is out of range [%g, %g]",
                                    d->name, (double)v, d->min, d->max);
        } else if (d->type == HL_PARAM_INT3) {
            const int *v = (const int *)field;
            if (strcmp(d->name, "neuron") == 0 && !p->has_neuron)
                continue;
            for (int k = 0; k < 3; k++)
                if (v[k] < d->min || v[k] > d->max)
                    return hl_error_set(err, HL_ERR_ARG, "--%s: %d,%d,%d is out of range [%g, %g]",
                                        d->name, v[0], v[1], v[2], d->min, d->max);
        } else if (d->type == HL_PARAM_ENUM) {
            int v = *(const int *)field, n = 0;
            while (d->choices[n])
                n++;
            if (v < 0 || v >= n)
                return hl_error_set(err, HL_ERR_ARG, "--%s: invalid value %d", d->name, v);
        }
    }
    return HL_OK;
}

static hl_status check_input(const hl_model *model, const hl_array *input,
                             hl_error *err)
{
    hl_shape ms;
    char a[64], b[64];
    hl_model_input_shape(model, &ms);
    if (input->shape.ndim != ms.ndim || input->shape.ndim < 2 || input->shape.dims[0] != 1)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "input shape %s does not fit the model input %s (batch must be 1)",
                            hl_shape_format(&input->shape, a, sizeof a),
                            hl_shape_format(&ms, b, sizeof b));
    for (int i = 1; i < ms.ndim; i++)
        if (ms.dims[i] > 0 && ms.dims[i] != input->shape.dims[i])
            return hl_error_set(err, HL_ERR_SHAPE, "input shape %s does not fit the model input %s",
                                hl_shape_format(&input->shape, a, sizeof a),
                                hl_shape_format(&ms, b, sizeof b));
    return HL_OK;
}

/* Forward the input once: resolve "auto" to the top-1 class and record the
 * target's output and its probability (hl_class_probabilities: the one
 * rule the CLI and the window use too). */
static hl_status resolve_target(hl_attr_call *c, hl_attr_result *out,
                                hl_error *err)
{
    hl_status st = hl_run_forward(c->run, c->input->data, 1, err);
    if (st != HL_OK)
        return st;
    c->forwarded_input = c->input;
    c->forwarded_serial = hl_run_forward_serial(c->run);
    hl_shape s;
    const float *logits = hl_run_value(c->run, c->output_value, &s);
    if (!logits)
        return hl_error_set(err, HL_ERR_ARG, "%s: the model produced no output",
                            hl_model_name(c->model));
    int64_t k = hl_shape_numel(&s);
    if (k < 1 || k > 100000000)
        return hl_error_set(err, HL_ERR_SHAPE, "%s: empty model output", hl_model_name(c->model));
    int target = c->p->target;
    if (target < 0) {
        target = 0;
        for (int64_t i = 1; i < k; i++)
            if (logits[i] > logits[target])
                target = (int)i;
    } else if (target >= k) {
        return hl_error_set(err, HL_ERR_ARG, "--target: class %d is out of range (the model has %lld classes: 0..%lld)",
                            target, (long long)k, (long long)k - 1);
    }
    double *prob = malloc((size_t)k * sizeof *prob);
    if (!prob)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", hl_model_name(c->model));
    hl_status st2 = hl_class_probabilities(c->model, logits, (int)k, prob, err);
    c->target = target;
    out->target = target;
    out->target_logit = logits[target];
    out->target_prob = (float)prob[target];
    free(prob);
    if (st2 != HL_OK)
        return st2;
    return HL_OK;
}

/* Most methods read only the output, the input gradient and (layer and
 * neuron methods) one layer's value and gradient: the run keeps those and
 * lets every other buffer share memory, so a batch costs a fraction of a
 * full run (IG at 50 steps per batch on MobileNet V2: 0.6 GB, not 5 GB). */
static hl_status lean_run(hl_attr_call *c, const method_entry *e, hl_error *err)
{
    int keep[2], n_keep = 0;
    if (e->desc.needs_layer) {
        hl_status st = hl_attr_find_layer(c, &keep[0], err);
        if (st == HL_OK)
            st = hl_attr_layer_value(c, &keep[1], err);
        if (st != HL_OK)
            return st;
        n_keep = keep[1] == keep[0] ? 1 : 2;
    }
    return e->full_run ? HL_OK : hl_run_keep_only(c->run, keep, n_keep, err);
}

static int uses_noise_tunnel(const hl_method_desc *d)
{
    for (int i = 0; d->params[i]; i++)
        if (strcmp(d->params[i], "noise-tunnel") == 0)
            return 1;
    return 0;
}

hl_run *hl_attr_run_new(const hl_model *m, const hl_attr_context *ctx)
{
    return hl_run_acquire(m, ctx ? ctx->threadpool : NULL,
                          ctx ? ctx->threads : 0);
}

hl_status hl_attribute(const hl_model *model, const char *method,
                       const hl_array *input, const hl_attr_params *params,
                       const hl_attr_context *ctx, hl_attr_result *out,
                       hl_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    hl_attr_request r;
    hl_status st = hl_attr_request_prepare(&r, model, method, params, err);
    if (st == HL_OK)
        st = hl_attribute_request(model, &r, input, ctx, out, err);
    hl_attr_request_clear(&r);
    return st;
}

hl_status hl_attribute_request(const hl_model *model, const hl_attr_request *r,
                               const hl_array *input,
                               const hl_attr_context *ctx,
                               hl_attr_result *out, hl_error *err)
{
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "hl_attribute: no result struct");
    memset(out, 0, sizeof *out);
    const method_entry *e = r && r->method ? find_entry(r->method->name) : NULL;
    if (!e)
        return hl_error_set(err, HL_ERR_ARG, "hl_attribute: the request was not "
                            "prepared (hl_attr_request_prepare)");
    if (!model || !input || !input->data)
        return hl_error_set(err, HL_ERR_ARG, "hl_attribute: missing model or input");
    const hl_attr_params *params = &r->params;
    hl_attr_context no_ctx;
    if (!ctx) {
        memset(&no_ctx, 0, sizeof no_ctx);
        ctx = &no_ctx;
    }
    hl_status st = check_params(params, err);
    if (st == HL_OK)
        st = check_input(model, input, err);
    if (st != HL_OK)
        return st;
    if (e->desc.needs_neuron && !params->has_neuron)
        return hl_error_set(err, HL_ERR_ARG, "method %s needs --neuron C,H,W", e->desc.name);
    int nt = params->noise_tunnel != HL_NT_NONE && uses_noise_tunnel(&e->desc);

    hl_rng rng;
    hl_rng_seed(&rng, params->seed);
    hl_attr_call c = {
        .model = model, .input = input, .p = params, .req = r, .ctx = ctx,
        .target = -1, .run = NULL, .rng = &rng,
        .output_value = hl_model_output_value(model),
        .input_value = hl_model_input_value(model),
    };
    c.run = hl_attr_run_new(model, ctx);
    if (!c.run)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create an engine run",
                            hl_model_name(model));

    double t0 = now_seconds();
    st = lean_run(&c, e, err);
    if (st == HL_OK)
        st = resolve_target(&c, out, err);
    if (st == HL_OK && !e->full_run)
        c.row_bytes = (int64_t)hl_run_memory_bytes(c.run);
    if (st == HL_OK)
        st = nt ? hl_noise_tunnel_run(&c, e->fn, out, err) : e->fn(&c, out, err);
    out->seconds = now_seconds() - t0;
    hl_run_release(c.run);

    if (st != HL_OK) {
        hl_array_free(out->attr);
        out->attr = NULL;
        return st;
    }
    if (!out->attr)
        return hl_error_set(err, HL_ERR_ARG, "method %s produced no attribution", e->desc.name);
    char what[96];
    snprintf(what, sizeof what, "the %s attribution", e->desc.name);
    st = hl_check_finite(model, out->attr->data,
                         hl_shape_numel(&out->attr->shape), what, err);
    if (st != HL_OK) {
        hl_array_free(out->attr);
        out->attr = NULL;
    }
    return st;
}
