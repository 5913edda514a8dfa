/* Layer methods (Captum's LayerGradCam, GuidedGradCam, LayerActivation,
 * LayerGradientXActivation, LayerConductance, LayerIntegratedGradients,
 * LayerDeepLift) through the engine's value hooks: read a value, take the
 * gradient at it, replace it (hl_run_set_override). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
hl_status hl_attr_layer_value(hl_attr_call *c, int *value, hl_error *err)
{
    hl_status st = hl_attr_find_layer(c, value, err);
    if (st != HL_OK || !c->p->attribute_to_layer_input)
        return st;
    int in = hl_model_layer_input(c->model, *value);
    if (in < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "--attribute-to-layer-input: layer '%s' has no input computed from the model input",
                            c->p->layer);
    *value = in;
    return HL_OK;
}

/* Per-row size of a value and its batch-1 shape. */
hl_status hl_attr_layer_shape(hl_attr_call *c, int value, hl_shape *s,
                               int64_t *numel, hl_error *err)
{
    hl_status st = hl_model_value_shape(c->model, value, s);
    if (st != HL_OK)
        return hl_error_set(err, st, "layer '%s': unknown shape", c->p->layer);
    s->dims[0] = 1;
    *numel = hl_shape_numel(s);
    if (*numel <= 0)
        return hl_error_set(err, HL_ERR_SHAPE, "layer '%s': empty value", c->p->layer);
    return HL_OK;
}

/* F(x) and F(baseline) for the convergence deltas. */
static hl_status endpoint_logits(hl_attr_call *c, const float *baseline,
                                 double *fx, double *fb, hl_error *err)
{
    float a, b;
    hl_status st = hl_attr_target_logits(c, c->input->data, 1, 1, &a, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, baseline, 1, 1, &b, err);
    *fx = a;
    *fb = b;
    return st;
}

/* The target's gradient at layer value v only: the backward pass stops at
 * the layer instead of running on to the input. */
static hl_status layer_target_grad(hl_attr_call *c, int v, const float *inputs,
                                   int batch, hl_error *err)
{
    hl_run_set_backward_stop(c->run, v);
    hl_status st = hl_attr_target_grad(c, inputs, batch, HL_RULE_GRADIENT,
                                       NULL, NULL, NULL, err);
    hl_run_set_backward_stop(c->run, -1);
    return st;
}

/* Captum LayerGradCam: w_c = mean over the spatial dims of dF/dA_c;
 * map = sum_c w_c A_c with shape [1,1,spatial...]; ReLU if asked. */
/* The layer's activation and the target's gradient at it, at the input. */
hl_status hl_attr_layer_act_grad(hl_attr_call *c, hl_shape *s, int64_t *numel,
                                 const float **act, const float **grad,
                                 hl_error *err)
{
    int v;
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, s, numel, err);
    if (st == HL_OK)
        st = layer_target_grad(c, v, c->input->data, 1, err);
    if (st != HL_OK)
        return st;
    *act = hl_run_value(c->run, v, NULL);
    *grad = hl_run_grad(c->run, v, NULL);
    if (!*act)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    return HL_OK;
}

static hl_status gradcam_map(hl_attr_call *c, int relu, float **map,
                             hl_shape *map_shape, hl_error *err)
{
    hl_shape s;
    int64_t numel = 0;
    const float *act, *grad;
    hl_status st = hl_attr_layer_act_grad(c, &s, &numel, &act, &grad, err);
    if (st != HL_OK)
        return st;
    int64_t channels = s.ndim >= 2 ? s.dims[1] : 1;
    int64_t plane = numel / channels;
    *map_shape = s;
    map_shape->dims[1] = 1;
    *map = calloc((size_t)plane, sizeof(float));
    if (!*map)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (GradCAM)");
    double *acc = calloc((size_t)plane, sizeof(double));
    if (!acc) {
        free(*map);
        *map = NULL;
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (GradCAM)");
    }
    for (int64_t ch = 0; ch < channels && grad; ch++) {
        double w = 0.0;
        for (int64_t i = 0; i < plane; i++)
            w += grad[ch * plane + i];
        /* torch.mean in float32, then the product in float32 */
        float wf = (float)(w / (double)plane);
        for (int64_t i = 0; i < plane; i++)
            acc[i] += (double)(wf * act[ch * plane + i]);
    }
    for (int64_t i = 0; i < plane; i++) {
        float m = (float)acc[i];
        (*map)[i] = relu && m < 0.0f ? 0.0f : m;
    }
    free(acc);
    return HL_OK;
}

hl_status hl_method_layer_grad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    float *map = NULL;
    hl_shape s;
    hl_status st = gradcam_map(c, c->p->relu_attributions, &map, &s, err);
    if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &s, out, err);
    free(map);
    if (st == HL_OK)
        st = hl_attr_tick(c, 1.0, err);
    return st;
}

/* Captum GuidedGradCam: GuidedBackprop(x) * interpolate(relu(GradCAM),
 * input H x W, nearest by default). */
hl_status hl_method_guided_grad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    float *map = NULL, *up = NULL;
    hl_shape s;
    hl_array *a = NULL;
    hl_status st = gradcam_map(c, 1, &map, &s, err);
    if (st != HL_OK)
        goto done;
    const hl_shape *in = &c->input->shape;
    if (s.ndim != 4 || in->ndim != 4) {
        st = hl_error_set(err, HL_ERR_SHAPE, "guided_grad_cam: layer '%s' is not a 4-D feature map",
                          c->p->layer);
        goto done;
    }
    int h = (int)in->dims[2], w = (int)in->dims[3];
    up = malloc(sizeof(float) * (size_t)h * (size_t)w);
    a = hl_array_new(in);
    if (!up || !a) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (guided GradCAM)");
        goto done;
    }
    hl_attr_interpolate(map, 1, (int)s.dims[2], (int)s.dims[3], up, h, w,
                        c->p->interpolate == HL_INTERP_BILINEAR ? HL_INTERP_BILINEAR
                                                                : HL_INTERP_NEAREST);
    st = hl_attr_tick(c, 0.5, err);
    if (st == HL_OK)
        st = hl_attr_target_grad(c, c->input->data, 1, HL_RULE_GUIDED, NULL,
                                 a->data, NULL, err);
    if (st != HL_OK)
        goto done;
    int64_t plane = (int64_t)h * w, channels = in->dims[1];
    for (int64_t ch = 0; ch < channels; ch++)
        for (int64_t i = 0; i < plane; i++)
            a->data[ch * plane + i] *= up[i];
    out->attr = a;
    a = NULL;
    st = hl_attr_tick(c, 1.0, err);
done:
    free(map);
    free(up);
    hl_array_free(a);
    return st;
}

hl_status hl_method_layer_activation(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    int v;
    hl_shape s;
    int64_t numel = 0;
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st == HL_OK)
        st = hl_attr_forward_input(c, err);
    if (st != HL_OK)
        return st;
    const float *act = hl_run_value(c->run, v, NULL);
    if (!act)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    st = hl_attr_store_layer_map(c, act, &s, out, err);
    if (st == HL_OK)
        st = hl_attr_tick(c, 1.0, err);
    return st;
}

hl_status hl_method_layer_gradient_x_activation(hl_attr_call *c, hl_attr_result *out,
                                                hl_error *err)
{
    hl_shape s;
    int64_t numel = 0;
    const float *act, *grad;
    hl_status st = hl_attr_layer_act_grad(c, &s, &numel, &act, &grad, err);
    if (st != HL_OK)
        return st;
    float *map = malloc(sizeof(float) * (size_t)numel);
    if (!map)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer map)");
    for (int64_t i = 0; i < numel; i++)
        map[i] = grad ? grad[i] * act[i] : 0.0f;
    st = hl_attr_store_layer_map(c, map, &s, out, err);
    free(map);
    if (st == HL_OK)
        st = hl_attr_tick(c, 1.0, err);
    return st;
}

/* Captum LayerConductance: alphas of n+1 quadrature points (weights
 * unused), attr = sum_k dF/dA(alpha_k) * (A(alpha_{k+1}) - A(alpha_k)).
 * The sum runs along the path, so no prefix estimates the whole: with
 * intermediates wanted a small rule (n/50 steps, 4..16) runs first and is
 * reported, then the requested one. */
typedef struct cond_pass {
    int value;
    int64_t numel, in_numel;
    const float *base;
    int chunk;
    float *inputs, *prev_act, *prev_grad;
    double *total;
    int done_before, units;
} cond_pass;

static hl_status conductance_sum(hl_attr_call *c, cond_pass *cp, int points,
                                 hl_error *err)
{
    const float *x = c->input->data;
    double *alphas = malloc(sizeof(double) * 2 * (size_t)points);
    if (!alphas)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (conductance)");
    hl_status st = hl_attr_quadrature(c->p->ig_method, points, alphas, alphas + points, err);
    memset(cp->total, 0, sizeof(double) * (size_t)cp->numel);
    for (int k0 = 0; k0 < points && st == HL_OK; k0 += cp->chunk) {
        int nb = points - k0 < cp->chunk ? points - k0 : cp->chunk;
        for (int b = 0; b < nb; b++) {
            float a = (float)alphas[k0 + b];
            float *pt = cp->inputs + (int64_t)b * cp->in_numel;
            for (int64_t i = 0; i < cp->in_numel; i++)
                pt[i] = cp->base[i] + a * (x[i] - cp->base[i]);
        }
        st = layer_target_grad(c, cp->value, cp->inputs, nb, err);
        if (st != HL_OK)
            break;
        const float *act = hl_run_value(c->run, cp->value, NULL);
        const float *grad = hl_run_grad(c->run, cp->value, NULL);
        if (!act) {
            st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
            break;
        }
        for (int b = 0; b < nb; b++) {
            const float *ab = act + (int64_t)b * cp->numel;
            const float *gb = grad ? grad + (int64_t)b * cp->numel : NULL;
            if (k0 + b > 0)
                for (int64_t i = 0; i < cp->numel; i++)
                    cp->total[i] += (double)(cp->prev_grad[i] * (ab[i] - cp->prev_act[i]));
            memcpy(cp->prev_act, ab, sizeof(float) * (size_t)cp->numel);
            if (gb)
                memcpy(cp->prev_grad, gb, sizeof(float) * (size_t)cp->numel);
            else
                memset(cp->prev_grad, 0, sizeof(float) * (size_t)cp->numel);
        }
        st = hl_attr_tick(c, (double)(cp->done_before + k0 + nb) / cp->units, err);
    }
    free(alphas);
    return st;
}

hl_status hl_method_layer_conductance(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    const int n = c->p->n_steps, points = n + 1;
    int small = 0;
    if (hl_attr_partial_wanted(c)) {
        small = n / 50 < 4 ? 4 : n / 50 > 16 ? 16 : n / 50;
        small = small < n ? small + 1 : 0;
    }
    cond_pass cp = {.in_numel = hl_attr_input_numel(c), .units = points + small};
    hl_shape s;
    hl_array *base = NULL;
    float *map = NULL;
    double fx, fb;
    hl_status st = hl_attr_layer_value(c, &cp.value, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, cp.value, &s, &cp.numel, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st == HL_OK)
        st = endpoint_logits(c, base->data, &fx, &fb, err);
    if (st != HL_OK)
        goto done;
    cp.base = base->data;
    cp.chunk = hl_attr_step_batch(c, points);
    cp.total = calloc((size_t)cp.numel, sizeof(double));
    cp.inputs = malloc(sizeof(float) * (size_t)(cp.chunk * cp.in_numel));
    cp.prev_act = malloc(sizeof(float) * (size_t)cp.numel);
    cp.prev_grad = malloc(sizeof(float) * (size_t)cp.numel);
    map = malloc(sizeof(float) * (size_t)cp.numel);
    if (!cp.total || !cp.inputs || !cp.prev_act || !cp.prev_grad || !map) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (conductance)");
        goto done;
    }
    double sum = 0.0;
    for (int pass = small ? 0 : 1; pass < 2 && st == HL_OK; pass++) {
        st = conductance_sum(c, &cp, pass ? points : small, err);
        if (st != HL_OK)
            break;
        cp.done_before = small;
        sum = hl_attr_sums_to_map(cp.total, 1.0, NULL, NULL, cp.numel, map);
        st = hl_attr_emit_layer(c, map, &s, pass ? cp.units : small, cp.units,
                                "steps", 1, sum - (fx - fb), err);
    }
    if (st == HL_OK)
        st = hl_attr_store_layer_map(c, map, &s, out, err);
    if (st == HL_OK) {
        out->has_delta = 1;
        out->delta_reference = fx - fb;
        out->delta = sum - out->delta_reference;
    }
done:
    hl_array_free(base);
    free(cp.total);
    free(cp.inputs);
    free(cp.prev_act);
    free(cp.prev_grad);
    free(map);
    return st;
}

/* Layer IG: the path runs in the layer's activation space; each point
 * replaces the layer's value (override) and the gradient is read there. */
typedef struct layer_ig_state {
    int value;
    int64_t numel;
    float *inputs;      /* the input repeated (upstream of the override) */
    const float *act_x, *act_b;
    float *map;
    hl_shape shape;
    double change;      /* F(x) - F(b) */
} layer_ig_state;

static hl_status layer_ig_emit(hl_attr_call *c, const double *total, double div,
                               int done, int units, void *user, hl_error *err)
{
    layer_ig_state *ls = user;
    double sum = hl_attr_sums_to_map(total, div, ls->act_x, ls->act_b,
                                     ls->numel, ls->map);
    return hl_attr_emit_layer(c, ls->map, &ls->shape, done, units, "steps", 1,
                              sum - ls->change, err);
}

static hl_status layer_ig_grad(hl_attr_call *c, const float *points, int batch,
                               float *grads, void *user, hl_error *err)
{
    layer_ig_state *ls = user;
    hl_status st = hl_run_set_override(c->run, ls->value, points, err);
    if (st == HL_OK)
        st = layer_target_grad(c, ls->value, ls->inputs, batch, err);
    if (st == HL_OK) {
        const float *g = hl_run_grad(c->run, ls->value, NULL);
        size_t n = (size_t)(ls->numel * batch);
        if (g)
            memcpy(grads, g, n * sizeof *grads);
        else
            memset(grads, 0, n * sizeof *grads);
    }
    hl_run_clear_overrides(c->run);
    return st;
}

hl_status hl_method_layer_integrated_gradients(hl_attr_call *c, hl_attr_result *out,
                                               hl_error *err)
{
    const int64_t in_numel = hl_attr_input_numel(c);
    layer_ig_state ls = { 0 };
    hl_shape s;
    hl_array *base = NULL;
    float *act_x = NULL, *act_b = NULL, *map = NULL;
    double *total = NULL;
    hl_status st = hl_attr_layer_value(c, &ls.value, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, ls.value, &s, &ls.numel, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    const int chunk = hl_attr_step_batch(c, c->p->n_steps);
    act_x = malloc(sizeof(float) * (size_t)ls.numel);
    act_b = malloc(sizeof(float) * (size_t)ls.numel);
    map = malloc(sizeof(float) * (size_t)ls.numel);
    total = malloc(sizeof(double) * (size_t)ls.numel);
    ls.inputs = malloc(sizeof(float) * (size_t)(chunk * in_numel));
    if (!act_x || !act_b || !map || !total || !ls.inputs) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer integrated gradients)");
        goto done;
    }
    for (int b = 0; b < chunk; b++)
        memcpy(ls.inputs + (int64_t)b * in_numel, c->input->data, sizeof(float) * (size_t)in_numel);
    /* Layer activations at the input and at the baseline; F of both. */
    float fx, fb;
    const float *a;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st != HL_OK)
        goto done;
    if (!(a = hl_run_value(c->run, ls.value, NULL))) {
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
        goto done;
    }
    memcpy(act_x, a, sizeof(float) * (size_t)ls.numel);
    st = hl_attr_target_logits(c, base->data, 1, 1, &fb, err);
    if (st != HL_OK)
        goto done;
    if (!(a = hl_run_value(c->run, ls.value, NULL))) {
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
        goto done;
    }
    memcpy(act_b, a, sizeof(float) * (size_t)ls.numel);

    ls.act_x = act_x;
    ls.act_b = act_b;
    ls.map = map;
    ls.shape = s;
    ls.change = (double)fx - (double)fb;
    st = hl_attr_path_integral(c, act_b, act_x, ls.numel, layer_ig_grad,
                               layer_ig_emit, &ls, total, err);
    if (st != HL_OK)
        goto done;
    double sum = hl_attr_sums_to_map(total, 1.0, act_x, act_b, ls.numel, map);
    st = hl_attr_store_layer_map(c, map, &s, out, err);
    if (st == HL_OK) {
        out->has_delta = 1;
        out->delta_reference = ls.change;
        out->delta = sum - out->delta_reference;
    }
done:
    hl_array_free(base);
    free(act_x);
    free(act_b);
    free(map);
    free(total);
    free(ls.inputs);
    return st;
}

/* Captum LayerDeepLift: (A(x) - A(b)) * DeepLift multipliers at the layer. */
hl_status hl_method_layer_deep_lift(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    int v;
    hl_shape s;
    int64_t numel = 0;
    hl_array *base = NULL;
    hl_run *ref = NULL;
    float *map = NULL;
    hl_status st = hl_attr_layer_value(c, &v, err);
    if (st == HL_OK)
        st = hl_attr_layer_shape(c, v, &s, &numel, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st == HL_OK)
        st = hl_attr_deeplift_backward(c, base->data, &ref, err);
    if (st != HL_OK)
        goto done;
    const float *ax = hl_run_value(c->run, v, NULL);
    const float *ab = hl_run_value(ref, v, NULL);
    const float *m = hl_run_grad(c->run, v, NULL);
    const float *lx = hl_run_value(c->run, c->output_value, NULL);
    const float *lb = hl_run_value(ref, c->output_value, NULL);
    if (!ax || !ab || !lx || !lb) {
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
        goto done;
    }
    map = malloc(sizeof(float) * (size_t)numel);
    if (!map) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (layer map)");
        goto done;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        map[i] = m ? (ax[i] - ab[i]) * m[i] : 0.0f;
        sum += map[i];
    }
    st = hl_attr_store_layer_map(c, map, &s, out, err);
    if (st == HL_OK) {
        out->has_delta = 1;
        out->delta_reference = (double)lx[c->target] - (double)lb[c->target];
        out->delta = sum - out->delta_reference;
        st = hl_attr_tick(c, 1.0, err);
    }
done:
    hl_array_free(base);
    hl_run_free(ref);
    free(map);
    return st;
}
