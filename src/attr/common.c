/* Helpers every method uses: progress/cancel, target gradients and logits
 * in batches, layer lookup. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
/* Value kinds (computed from the input or constant) are not in the public
 * engine API. */

hl_status hl_attr_tick(hl_attr_call *c, double fraction, hl_error *err)
{
    if (fraction < 0.0)
        fraction = 0.0;
    if (fraction > 1.0)
        fraction = 1.0;
    if (c->ctx->progress)
        c->ctx->progress(c->ctx->progress_user, fraction);
    if (c->ctx->cancel && *c->ctx->cancel)
        return hl_error_set(err, HL_ERR_CANCELLED, "attribution cancelled");
    return HL_OK;
}

int64_t hl_attr_input_numel(const hl_attr_call *c)
{
    return hl_shape_numel(&c->input->shape); /* batch is 1 */
}

/* Floats of every batch-dependent value of one batch row: what a run
 * keeps per row for backward (gradients take about as much again). */
static int64_t activation_floats_per_row(const hl_model *m)
{
    int64_t total = 0;
    for (int v = 0; v < hl_model_num_values(m); v++) {
        hl_shape s;
        if (!hl_model_value_is_computed(m, v) || hl_model_value_shape(m, v, &s) != HL_OK)
            continue;
        int64_t n = hl_shape_numel(&s);
        total += n > 0 ? n : 0;
    }
    return total;
}

/* Without an explicit internal_batch_size, bound a batch's activations and
 * gradients to about 256 MB: measured on the lean run's batch-1 forward
 * (18 steps of MobileNet V2 at 224x224 per batch), else estimated
 * from the shapes (1-2 steps of a full run). The result does not depend on
 * the batching. */
#define AUTO_BATCH_BYTES ((int64_t)256 << 20)

/* Rows of the run that fit AUTO_BATCH_BYTES (>= 1). */
static int budget_rows(const hl_attr_call *c)
{
    int64_t row = c->row_bytes > 0
                      ? c->row_bytes
                      : 2 * activation_floats_per_row(c->model) * (int64_t)sizeof(float);
    int64_t cap = row > 0 ? AUTO_BATCH_BYTES / row : 100000;
    return cap < 1 ? 1 : cap > 100000 ? 100000 : (int)cap;
}

int hl_attr_rows_within_budget(int64_t fixed_bytes, int64_t row_bytes)
{
    int64_t left = AUTO_BATCH_BYTES - fixed_bytes;
    if (left < AUTO_BATCH_BYTES / 4)
        left = AUTO_BATCH_BYTES / 4;
    int64_t cap = row_bytes > 0 ? left / row_bytes : 100000;
    return cap < 1 ? 1 : cap > 100000 ? 100000 : (int)cap;
}

int hl_attr_step_batch(const hl_attr_call *c, int n_steps)
{
    int b = c->p->internal_batch_size;
    if (b <= 0)
        b = budget_rows(c);
    if (b > n_steps)
        b = n_steps;
    return b < 1 ? 1 : b;
}

int hl_attr_eval_batch(const hl_attr_call *c)
{
    int n = c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
    int cap = budget_rows(c);
    return n < cap ? n : cap;
}

/* Output rows of the run's last forward: classes per batch row. */
static hl_status output_classes(hl_attr_call *c, const float **logits,
                                int64_t *classes, hl_error *err)
{
    hl_shape s;
    *logits = hl_run_value(c->run, c->output_value, &s);
    int batch = hl_run_batch(c->run);
    if (!*logits || batch < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: no model output after forward",
                            hl_model_name(c->model));
    *classes = hl_shape_numel(&s) / batch;
    if (c->target < 0 || c->target >= *classes)
        return hl_error_set(err, HL_ERR_ARG, "target %d out of range (%lld classes)",
                            c->target, (long long)*classes);
    return HL_OK;
}

hl_status hl_attr_forward_input(hl_attr_call *c, hl_error *err)
{
    /* the noise tunnel's calls carry another input (their noisy copy,
     * rewritten in place between calls): only the dispatcher's own input
     * array, which nothing writes, is taken as unchanged */
    if (c->forwarded_input && c->input == c->forwarded_input &&
        c->forwarded_serial == hl_run_forward_serial(c->run))
        return HL_OK;
    return hl_run_forward(c->run, c->input->data, 1, err);
}

/* Forward `batch` inputs and find the output rows. */
static hl_status forward_classes(hl_attr_call *c, const float *inputs, int batch,
                                 const float **logits, int64_t *classes, hl_error *err)
{
    hl_status st = batch == 1 && inputs == c->input->data
                       ? hl_attr_forward_input(c, err)
                       : hl_run_forward(c->run, inputs, batch, err);
    return st == HL_OK ? output_classes(c, logits, classes, err) : st;
}

hl_status hl_attr_target_grad(hl_attr_call *c, const float *inputs, int batch,
                              hl_backward_rule rule, hl_run *reference,
                              float *grad, float *logits_target, hl_error *err)
{
    const float *logits;
    int64_t k;
    hl_status st = forward_classes(c, inputs, batch, &logits, &k, err);
    if (st != HL_OK)
        return st;
    if (logits_target)
        for (int b = 0; b < batch; b++)
            logits_target[b] = logits[(int64_t)b * k + c->target];
    float *seed = calloc((size_t)(k * batch), sizeof *seed);
    if (!seed)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (gradient seed)");
    for (int b = 0; b < batch; b++)
        seed[(int64_t)b * k + c->target] = 1.0f;
    st = hl_run_backward(c->run, c->output_value, seed, hl_attr_rule(c, rule), reference, err);
    free(seed);
    if (st != HL_OK)
        return st;
    if (grad) {
        const float *g = hl_run_input_grad(c->run);
        size_t n = (size_t)(hl_attr_input_numel(c) * batch);
        if (g)
            memcpy(grad, g, n * sizeof *grad);
        else /* the output does not depend on the input at all */
            memset(grad, 0, n * sizeof *grad);
    }
    return HL_OK;
}

hl_backward_rule hl_attr_rule(const hl_attr_call *c, hl_backward_rule rule)
{
    if (c->p && c->p->relu_family &&
        (rule == HL_RULE_GUIDED || rule == HL_RULE_DECONV ||
         rule == HL_RULE_DEEPLIFT))
        return (hl_backward_rule)(rule | HL_RULE_RELU_FAMILY);
    return rule;
}

hl_status hl_attr_target_logits(hl_attr_call *c, const float *inputs,
                                int batch, int max_batch, float *logits_target,
                                hl_error *err)
{
    int64_t numel = hl_attr_input_numel(c);
    if (max_batch <= 0)
        max_batch = batch;
    for (int b0 = 0; b0 < batch; b0 += max_batch) {
        int nb = batch - b0 < max_batch ? batch - b0 : max_batch;
        hl_status st = nb == 1 && inputs + (int64_t)b0 * numel == c->input->data
                           ? hl_attr_forward_input(c, err)
                           : hl_run_forward(c->run, inputs + (int64_t)b0 * numel, nb, err);
        if (st != HL_OK)
            return st;
        const float *logits;
        int64_t k;
        st = output_classes(c, &logits, &k, err);
        if (st != HL_OK)
            return st;
        for (int b = 0; b < nb; b++)
            logits_target[b0 + b] = logits[(int64_t)b * k + c->target];
    }
    return HL_OK;
}

/* "a, b, c, ... (N layers; see heatlens-cli layers)" */
static void layer_examples(const hl_model *m, char *buf, size_t size)
{
    int n = hl_model_num_nodes(m);
    size_t len = 0;
    buf[0] = '\0';
    int shown = 0;
    /* The last nodes are the interesting ones for GradCAM; list the
     * 4-D outputs from the end. */
    for (int i = n - 1; i >= 0 && shown < 6; i--) {
        hl_node_info info;
        hl_model_node_info(m, i, &info);
        if (info.shape.ndim != 4)
            continue;
        int w = snprintf(buf + len, size - len, "%s%s", shown ? ", " : "", info.name);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
        shown++;
    }
    snprintf(buf + len, size - len, "%s... %d nodes; see 'heatlens-cli layers'",
             shown ? ", " : "", n);
}

hl_status hl_attr_find_layer(hl_attr_call *c, int *value, hl_error *err)
{
    const char *name = c->p->layer;
    char examples[320];
    if (!name[0]) {
        layer_examples(c->model, examples, sizeof examples);
        return hl_error_set(err, HL_ERR_ARG, "this method needs --layer (e.g. %s)", examples);
    }
    int v = hl_model_find_value(c->model, name);
    if (v < 0 || v == c->input_value) {
        layer_examples(c->model, examples, sizeof examples);
        return hl_error_set(err, HL_ERR_ARG, "--layer: no node or value named '%s' in %s (e.g. %s)",
                            name, hl_model_name(c->model), examples);
    }
    /* It must be computed from the input (not a weight): a node output,
     * or a value the loader kept as an alias of one (e.g. a Conv output
     * whose BatchNormalization was folded into it). */
    int found = hl_model_value_is_computed(c->model, v);
    hl_shape s;
    if (!found || hl_model_value_shape(c->model, v, &s) != HL_OK || s.ndim < 2) {
        layer_examples(c->model, examples, sizeof examples);
        return hl_error_set(err, HL_ERR_ARG, "--layer: '%s' is not a layer output computed from the input (e.g. %s)",
                            name, examples);
    }
    *value = v;
    return HL_OK;
}

/* Softmax probability of the target in each of `batch` inputs (max-shifted,
 * in double). */
hl_status hl_attr_target_probs(hl_attr_call *c, const float *inputs, int batch,
                               double *probs, hl_error *err)
{
    const float *logits;
    int64_t k;
    hl_status st = forward_classes(c, inputs, batch, &logits, &k, err);
    if (st != HL_OK)
        return st;
    for (int b = 0; b < batch; b++) {
        const float *l = logits + (int64_t)b * k;
        double mx = l[0], sum = 0.0;
        for (int64_t i = 1; i < k; i++)
            mx = l[i] > mx ? l[i] : mx;
        for (int64_t i = 0; i < k; i++)
            sum += exp((double)l[i] - mx);
        probs[b] = exp((double)l[c->target] - mx) / sum;
    }
    return HL_OK;
}
