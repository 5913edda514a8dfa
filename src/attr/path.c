/* Integrated gradients (Captum's IntegratedGradients) and the path
 * integral it shares with the neuron path methods. */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

hl_status hl_attr_path_integral(hl_attr_call *c, const float *start,
                                const float *end, int64_t numel,
                                hl_path_grad_fn grad_fn, void *user,
                                double *total, hl_error *err)
{
    const int n = c->p->n_steps;
    const float *baseline = start, *x = end;
    double *alphas = malloc(sizeof(double) * 2 * (size_t)n);
    if (!alphas)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (%d steps)", n);
    double *weights = alphas + n;
    hl_status st = hl_attr_quadrature(c->p->ig_method, n, alphas, weights, err);
    if (st != HL_OK) {
        free(alphas);
        return st;
    }
    const int chunk = hl_attr_step_batch(c, n);
    float *points = malloc(sizeof(float) * (size_t)(chunk * numel));
    float *grads = malloc(sizeof(float) * (size_t)(chunk * numel));
    if (!points || !grads) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (batch of %d steps)", chunk);
        goto done;
    }
    memset(total, 0, sizeof(double) * (size_t)numel);
    for (int k0 = 0; k0 < n && st == HL_OK; k0 += chunk) {
        int nb = n - k0 < chunk ? n - k0 : chunk;
        /* baseline + alpha * (input - baseline), in float like PyTorch
         * (the Python float alpha becomes a float32 scalar). */
        for (int b = 0; b < nb; b++) {
            float a = (float)alphas[k0 + b];
            float *pt = points + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                pt[i] = baseline[i] + a * (x[i] - baseline[i]);
        }
        st = grad_fn(c, points, nb, grads, user, err);
        if (st != HL_OK)
            break;
        for (int b = 0; b < nb; b++) {
            /* Captum scales the gradients by float32 step sizes. */
            double w = (double)(float)weights[k0 + b];
            const float *g = grads + (int64_t)b * numel;
            for (int64_t i = 0; i < numel; i++)
                total[i] += w * g[i];
        }
        st = hl_attr_tick(c, (double)(k0 + nb) / n, err);
    }
done:
    free(points);
    free(grads);
    free(alphas);
    return st;
}

static hl_status target_grad_fn(hl_attr_call *c, const float *points, int batch,
                                float *grads, void *user, hl_error *err)
{
    (void)user;
    return hl_attr_target_grad(c, points, batch, HL_RULE_GRADIENT, NULL,
                               grads, NULL, err);
}

hl_status hl_method_integrated_gradients(hl_attr_call *c, hl_attr_result *out,
                                         hl_error *err)
{
    const int64_t numel = hl_attr_input_numel(c);
    hl_array *base = NULL, *a = NULL;
    double *total = NULL;
    hl_status st = hl_attr_make_baseline(c, c->p->baseline, &base, err);
    if (st != HL_OK)
        return st;
    a = hl_array_new(&c->input->shape);
    total = malloc(sizeof(double) * (size_t)numel);
    if (!a || !total) {
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (attribution)");
        goto done;
    }
    st = hl_attr_path_integral(c, base->data, c->input->data, numel,
                               target_grad_fn, NULL, total, err);
    if (st != HL_OK)
        goto done;
    double sum = 0.0;
    for (int64_t i = 0; i < numel; i++) {
        a->data[i] = (float)(total[i] * ((double)c->input->data[i] - base->data[i]));
        sum += a->data[i];
    }
    /* Convergence delta = sum(attr) - (F(x) - F(baseline)). */
    float fx, fb;
    st = hl_attr_target_logits(c, c->input->data, 1, 1, &fx, err);
    if (st == HL_OK)
        st = hl_attr_target_logits(c, base->data, 1, 1, &fb, err);
    if (st != HL_OK)
        goto done;
    out->has_delta = 1;
    out->delta_reference = (double)fx - (double)fb;
    out->delta = sum - out->delta_reference;
    out->attr = a;
    a = NULL;
done:
    hl_array_free(a);
    hl_array_free(base);
    free(total);
    return st;
}
