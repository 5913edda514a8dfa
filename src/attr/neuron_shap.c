/* Neuron methods against baselines (Captum's NeuronDeepLift,
 * NeuronDeepLiftShap, NeuronGradientShap): the neuron (hl_neuron_ref)
 * takes the place of the target logit.
 *
 * neuron_deep_lift: (x - b) * the DeepLift multipliers of the neuron (the
 *   engine's HL_RULE_DEEPLIFT backward from the neuron against a reference
 *   run on the baseline); delta = sum - (A_n(x) - A_n(b)).
 * neuron_deep_lift_shap: the same averaged over the baseline set
 *   (--baselines FILE.npy, else --baseline), the rows paired with copies of
 *   the input in one batch as Captum's DeepLiftShap does; the running mean
 *   after each batch is an intermediate.
 * neuron_gradient_shap: gradient_shap's loop (shap.c) with the neuron's
 *   gradient: mean_s dA_n/dx(alpha_s x~ + (1 - alpha_s) b_s) * (x~ - b_s).
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* The neuron's value in every row of a run's last forward. */
static hl_status neuron_values(hl_attr_call *c, const hl_run *run,
                               const hl_neuron_ref *n, int rows, double *sum,
                               hl_error *err)
{
    const float *v = hl_run_value(run, n->value, NULL);
    if (!v)
        return hl_error_set(err, HL_ERR_ARG, "layer '%s' was not computed", c->p->layer);
    for (int b = 0; b < rows; b++)
        *sum += v[(int64_t)b * n->numel + n->index];
    return HL_OK;
}

/* DeepLift of the neuron for x against K baselines, paired in batches;
 * attribution = mean_k (x - b_k) m_k. */
static hl_status neuron_deeplift_set(hl_attr_call *c, const hl_array *set, int K,
                                     hl_attr_result *out, hl_error *err)
{
    const int64_t numel = hl_attr_input_numel(c);
    const float *x = c->input->data;
    hl_neuron_ref n;
    hl_status st = hl_attr_find_neuron(c, &n, err);
    if (st != HL_OK)
        return st;
    const int chunk = hl_attr_step_batch(c, K);
    hl_run *ref = hl_attr_run_new(c->model, c->ctx);
    float *inputs = malloc(sizeof(float) * (size_t)(chunk * numel));
    float *grads = malloc(sizeof(float) * (size_t)(chunk * numel));
    double *sum = calloc((size_t)numel, sizeof(double));
    hl_array *a = hl_array_new(&c->input->shape);
    if (!ref || !inputs || !grads || !sum || !a) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (neuron DeepLift)");
        goto done;
    }
    for (int b = 0; b < chunk; b++)
        memcpy(inputs + (int64_t)b * numel, x, sizeof(float) * (size_t)numel);
    double nx = 0.0, nb_sum = 0.0;
    for (int first = 0; first < K && st == HL_OK; first += chunk) {
        int nb = K - first < chunk ? K - first : chunk;
        const float *bl = set->data + (int64_t)first * numel;
        st = hl_run_forward(ref, bl, nb, err);
        if (st == HL_OK)
            st = hl_run_forward(c->run, inputs, nb, err);
        if (st == HL_OK)
            st = hl_attr_neuron_backward(c, &n, nb, HL_RULE_DEEPLIFT, ref, grads, err);
        if (st == HL_OK)
            st = neuron_values(c, ref, &n, nb, &nb_sum, err);
        if (st == HL_OK && first == 0) {
            double v = 0.0;
            st = neuron_values(c, c->run, &n, 1, &v, err);
            nx = v;
        }
        if (st != HL_OK)
            break;
        for (int b = 0; b < nb; b++) {
            const float *g = grads + (int64_t)b * numel, *bk = bl + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                sum[i] += (double)g[i] * (double)(x[i] - bk[i]);
        }
        /* The running mean over the baselines so far. */
        int done_k = first + nb;
        st = hl_attr_emit_sums(c, sum, done_k, NULL, NULL, done_k, K, "baselines", 1,
                               nx - nb_sum / done_k, err);
        if (st == HL_OK)
            st = hl_attr_tick(c, (double)done_k / K, err);
    }
    if (st != HL_OK)
        goto done;
    double total = hl_attr_sums_to_map(sum, K, NULL, NULL, numel, a->data);
    out->attr = a;
    a = NULL;
    out->has_delta = 1;
    out->delta_reference = nx - nb_sum / K;
    out->delta = total - out->delta_reference;
done:
    hl_run_free(ref);
    hl_array_free(a);
    free(inputs);
    free(grads);
    free(sum);
    return st;
}

hl_status hl_method_neuron_deep_lift(hl_attr_call *c, hl_attr_result *out,
                                     hl_error *err)
{
    hl_array *base = NULL;
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st == HL_OK)
        st = neuron_deeplift_set(c, base, 1, out, err);
    hl_array_free(base);
    return st;
}

hl_status hl_method_neuron_deep_lift_shap(hl_attr_call *c, hl_attr_result *out,
                                          hl_error *err)
{
    hl_array *set = NULL;
    int K = 0;
    hl_status st = hl_attr_load_baseline_set(c, &set, &K, err);
    if (st == HL_OK)
        st = neuron_deeplift_set(c, set, K, out, err);
    hl_array_free(set);
    return st;
}

hl_status hl_neuron_gradient_shap_with_draws(hl_attr_call *c, const hl_array *set,
                                             int n_samples, const int *index,
                                             const double *alpha, hl_attr_result *out,
                                             hl_error *err)
{
    hl_neuron_ref n;
    hl_status st = hl_attr_find_neuron(c, &n, err);
    if (st == HL_OK)
        st = hl_attr_gradient_shap_loop(c, set, n_samples, index, alpha,
                                        hl_attr_neuron_grad, &n, out, err);
    return st;
}

hl_status hl_method_neuron_gradient_shap(hl_attr_call *c, hl_attr_result *out,
                                         hl_error *err)
{
    return hl_attr_gradient_shap_drawn(c, hl_neuron_gradient_shap_with_draws, out, err);
}
