/* Neuron methods (Captum's NeuronGradient, NeuronIntegratedGradients,
 * NeuronConductance, NeuronGuidedBackprop, NeuronDeconvolution): the neuron is element
 * (C,H,W) of the layer; its gradient is a backward from the layer's value
 * seeded one-hot at that element. */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

hl_status hl_attr_find_neuron(hl_attr_call *c, hl_neuron_ref *n, hl_error *err)
{
    hl_shape s;
    hl_status st = hl_attr_layer_value(c, &n->value, err);
    if (st != HL_OK)
        return st;
    if (hl_model_value_shape(c->model, n->value, &s) != HL_OK)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s': unknown shape", c->p->layer);
    s.dims[0] = 1;
    int k = s.ndim - 1;
    const int *nu = c->p->neuron;
    char buf[64];
    if (k < 1 || k > 3)
        return hl_error_set(err, HL_ERR_SHAPE, "--neuron: layer '%s' has shape %s; neurons need 1 to 3 dims after the batch",
                            c->p->layer, hl_shape_format(&s, buf, sizeof buf));
    int64_t idx = 0;
    for (int i = 0; i < 3; i++) {
        if (i < k) {
            if (nu[i] < 0 || nu[i] >= s.dims[i + 1])
                return hl_error_set(err, HL_ERR_ARG, "--neuron %d,%d,%d is outside layer '%s' of shape %s",
                                    nu[0], nu[1], nu[2], c->p->layer,
                                    hl_shape_format(&s, buf, sizeof buf));
            idx = idx * s.dims[i + 1] + nu[i];
        } else if (nu[i] != 0) {
            return hl_error_set(err, HL_ERR_ARG, "--neuron %d,%d,%d: layer '%s' of shape %s has only %d index(es)",
                                nu[0], nu[1], nu[2], c->p->layer,
                                hl_shape_format(&s, buf, sizeof buf), k);
        }
    }
    n->numel = hl_shape_numel(&s);
    n->index = idx;
    return HL_OK;
}

hl_status hl_attr_neuron_backward(hl_attr_call *c, const hl_neuron_ref *n,
                                  int batch, hl_backward_rule rule,
                                  hl_run *reference, float *grads,
                                  hl_error *err)
{
    float *seed = calloc((size_t)(n->numel * batch), sizeof *seed);
    if (!seed)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (neuron seed)");
    for (int b = 0; b < batch; b++)
        seed[(int64_t)b * n->numel + n->index] = 1.0f;
    hl_status st = hl_run_backward(c->run, n->value, seed, hl_attr_rule(c, rule), reference, err);
    free(seed);
    if (st != HL_OK)
        return st;
    size_t total = (size_t)(hl_attr_input_numel(c) * batch);
    const float *g = hl_run_input_grad(c->run);
    if (g)
        memcpy(grads, g, total * sizeof *grads);
    else
        memset(grads, 0, total * sizeof *grads);
    return HL_OK;
}

static hl_status neuron_input_gradient(hl_attr_call *c, hl_backward_rule rule,
                                       hl_attr_result *out, hl_error *err)
{
    hl_neuron_ref n;
    hl_status st = hl_attr_find_neuron(c, &n, err);
    if (st == HL_OK)
        st = hl_attr_forward_input(c, err);
    if (st != HL_OK)
        return st;
    hl_array *a = hl_array_new(&c->input->shape);
    if (!a)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
    st = hl_attr_neuron_backward(c, &n, 1, rule, NULL, a->data, err);
    if (st != HL_OK) {
        hl_array_free(a);
        return st;
    }
    out->attr = a;
    return hl_attr_tick(c, 1.0, err);
}

hl_status hl_method_neuron_gradient(hl_attr_call *c, hl_attr_result *out, hl_error *err)
{
    return neuron_input_gradient(c, HL_RULE_GRADIENT, out, err);
}

hl_status hl_method_neuron_guided_backprop(hl_attr_call *c, hl_attr_result *out,
                                           hl_error *err)
{
    return neuron_input_gradient(c, HL_RULE_GUIDED, out, err);
}

/* Captum's NeuronDeconvolution: the deconvolution rule (relu of the
 * gradient at every ReLU, forward mask ignored) from the neuron. */
hl_status hl_method_neuron_deconvolution(hl_attr_call *c, hl_attr_result *out,
                                         hl_error *err)
{
    return neuron_input_gradient(c, HL_RULE_DECONV, out, err);
}

hl_status hl_attr_neuron_grad(hl_attr_call *c, const float *points, int batch,
                              float *grads, void *user, hl_error *err)
{
    const hl_neuron_ref *n = user;
    hl_status st = hl_run_forward(c->run, points, batch, err);
    if (st == HL_OK)
        st = hl_attr_neuron_backward(c, n, batch, HL_RULE_GRADIENT, NULL, grads, err);
    return st;
}

/* NeuronConductance: dF/dA_n (target backward, read at the neuron) times
 * dA_n/dx (neuron backward), at each point of the path. */
static hl_status neuron_cond_grad(hl_attr_call *c, const float *points, int batch,
                                  float *grads, void *user, hl_error *err)
{
    const hl_neuron_ref *n = user;
    float *mid = malloc(sizeof(float) * (size_t)batch);
    if (!mid)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (conductance)");
    hl_status st = hl_attr_target_grad(c, points, batch, HL_RULE_GRADIENT, NULL,
                                       NULL, NULL, err);
    if (st == HL_OK) {
        const float *g = hl_run_grad(c->run, n->value, NULL);
        for (int b = 0; b < batch; b++)
            mid[b] = g ? g[(int64_t)b * n->numel + n->index] : 0.0f;
        st = hl_attr_neuron_backward(c, n, batch, HL_RULE_GRADIENT, NULL, grads, err);
    }
    if (st == HL_OK) {
        int64_t numel = hl_attr_input_numel(c);
        for (int b = 0; b < batch; b++)
            for (int64_t i = 0; i < numel; i++)
                grads[(int64_t)b * numel + i] *= mid[b];
    }
    free(mid);
    return st;
}

/* The neuron's value A_n at `point` (one forward). */
static hl_status neuron_value(hl_attr_call *c, const hl_neuron_ref *n,
                              const float *point, double *value, hl_error *err)
{
    const float *v;
    hl_status st = hl_run_forward(c->run, point, 1, err);
    if (st == HL_OK && !(v = hl_run_value(c->run, n->value, NULL)))
        st = hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    if (st == HL_OK)
        *value = v[n->index];
    return st;
}

typedef struct neuron_path_state {
    hl_neuron_ref n;
    const float *base;
    int with_delta;
    double change;      /* A_n(x) - A_n(b) */
} neuron_path_state;

static hl_status neuron_path_grad(hl_attr_call *c, const float *points, int batch,
                                  float *grads, void *user, hl_error *err)
{
    neuron_path_state *s = user;
    return s->with_delta ? hl_attr_neuron_grad(c, points, batch, grads, &s->n, err)
                         : neuron_cond_grad(c, points, batch, grads, &s->n, err);
}

static hl_status neuron_path_emit(hl_attr_call *c, const double *total,
                                  double div, int done, int units, void *user,
                                  hl_error *err)
{
    const neuron_path_state *s = user;
    return hl_attr_emit_sums(c, total, div, c->input->data, s->base, done,
                             units, "steps", s->with_delta, s->change, err);
}

/* (x - b) * path integral of the neuron IG (with_delta) or conductance
 * gradient; the delta of neuron IG compares with the neuron's own change
 * A_n(x) - A_n(b) (Captum returns none). */
static hl_status neuron_path(hl_attr_call *c, int with_delta,
                             hl_attr_result *out, hl_error *err)
{
    neuron_path_state s = {.with_delta = with_delta};
    const int64_t numel = hl_attr_input_numel(c);
    hl_array *base = NULL, *a = NULL;
    double *total = NULL;
    hl_status st = hl_attr_find_neuron(c, &s.n, err);
    if (st == HL_OK)
        st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        goto done;
    s.base = base->data;
    a = hl_array_new(&c->input->shape);
    total = malloc(sizeof(double) * (size_t)numel);
    if (!a || !total) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
        goto done;
    }
    if (with_delta) {
        double nx = 0.0, nb = 0.0;
        st = neuron_value(c, &s.n, c->input->data, &nx, err);
        if (st == HL_OK)
            st = neuron_value(c, &s.n, base->data, &nb, err);
        s.change = nx - nb;
    }
    if (st == HL_OK)
        st = hl_attr_path_integral(c, base->data, c->input->data, numel,
                                   neuron_path_grad, neuron_path_emit, &s,
                                   total, err);
    if (st != HL_OK)
        goto done;
    double sum = hl_attr_sums_to_map(total, 1.0, c->input->data, base->data,
                                     numel, a->data);
    if (with_delta) {
        out->has_delta = 1;
        out->delta_reference = s.change;
        out->delta = sum - out->delta_reference;
    }
    out->attr = a;
    a = NULL;
done:
    hl_array_free(a);
    hl_array_free(base);
    free(total);
    return st;
}

hl_status hl_method_neuron_integrated_gradients(hl_attr_call *c, hl_attr_result *out,
                                                hl_error *err)
{
    return neuron_path(c, 1, out, err);
}

hl_status hl_method_neuron_conductance(hl_attr_call *c, hl_attr_result *out,
                                       hl_error *err)
{
    return neuron_path(c, 0, out, err);
}
