/* The integrated-gradients path kept step by step (see ig_path.h): the same
 * quadrature and interpolation as path.c, but the gradient of every step
 * and the target probability along the path are stored instead of summed. */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"
#include "ig_path.h"

/* The target's probability from one row of outputs, by the library's
 * classification rule (softmax of logits, exp of log-probabilities, or
 * the probabilities themselves). */
static hl_status target_prob(const hl_attr_call *c, const float *row, int64_t k,
                             float *out, hl_error *err)
{
    double *prob = malloc(sizeof(double) * (size_t)k);
    if (!prob)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (%lld classes)", (long long)k);
    hl_status st = hl_class_probabilities(c->model, row, (int)k, prob, err);
    if (st == HL_OK)
        *out = (float)prob[c->target];
    free(prob);
    return st;
}

/* Logits of the run's last forward as [batch][k]. */
static hl_status read_logits(hl_attr_call *c, const float **logits, int64_t *k,
                             hl_error *err)
{
    hl_shape s;
    *logits = hl_run_value(c->run, c->output_value, &s);
    int batch = hl_run_batch(c->run);
    if (!*logits || batch < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: the model produced no output",
                            hl_model_name(c->model));
    *k = hl_shape_numel(&s) / batch;
    if (c->target >= *k)
        return hl_error_set(err, HL_ERR_ARG, "--target: class %d is out of range (the model has %lld classes)",
                            c->target, (long long)*k);
    return HL_OK;
}

static hl_status resolve_target(hl_attr_call *c, hl_error *err)
{
    hl_status st = hl_run_forward(c->run, c->input->data, 1, err);
    const float *logits;
    int64_t k;
    if (st == HL_OK)
        st = read_logits(c, &logits, &k, err);
    if (st != HL_OK || c->target >= 0)
        return st;
    c->target = 0;
    for (int64_t i = 1; i < k; i++)
        if (logits[i] > logits[c->target])
            c->target = (int)i;
    return HL_OK;
}

/* Gradients and probabilities at the quadrature points, in batches. */
static hl_status walk_steps(hl_attr_call *c, hl_ig_path *path, hl_error *err)
{
    const int n = path->n_steps, chunk = hl_attr_step_batch(c, n);
    const int64_t numel = path->numel;
    float *points = malloc(sizeof(float) * (size_t)(chunk * numel));
    hl_status st = points ? HL_OK
                          : hl_error_set(err, HL_ERR_NOMEM, "out of memory (batch of %d steps)", chunk);
    for (int k0 = 0; k0 < n && st == HL_OK; k0 += chunk) {
        int nb = n - k0 < chunk ? n - k0 : chunk;
        for (int b = 0; b < nb; b++)
            hl_ig_path_point(path, (double)(float)path->step_alpha[k0 + b],
                             points + (int64_t)b * numel);
        st = hl_attr_target_grad(c, points, nb, HL_RULE_GRADIENT, NULL,
                                 path->grads + (int64_t)k0 * numel,
                                 path->step_logit + k0, err);
        const float *logits;
        int64_t k;
        if (st == HL_OK)
            st = read_logits(c, &logits, &k, err);
        for (int b = 0; st == HL_OK && b < nb; b++)
            st = target_prob(c, logits + b * k, k, &path->step_prob[k0 + b], err);
        if (st == HL_OK)
            st = hl_attr_tick(c, 0.8 * (double)(k0 + nb) / n, err);
    }
    free(points);
    return st;
}

/* Forward only on the uniform grid of the curve. */
static hl_status walk_curve(hl_attr_call *c, hl_ig_path *path, hl_error *err)
{
    const int n = path->n_curve, chunk = hl_attr_step_batch(c, n);
    const int64_t numel = path->numel;
    float *points = malloc(sizeof(float) * (size_t)(chunk * numel));
    hl_status st = points ? HL_OK
                          : hl_error_set(err, HL_ERR_NOMEM, "out of memory (batch of %d points)", chunk);
    for (int i0 = 0; i0 < n && st == HL_OK; i0 += chunk) {
        int nb = n - i0 < chunk ? n - i0 : chunk;
        for (int b = 0; b < nb; b++)
            hl_ig_path_point(path, path->curve_alpha[i0 + b], points + (int64_t)b * numel);
        st = hl_run_forward(c->run, points, nb, err);
        const float *logits;
        int64_t k;
        if (st == HL_OK)
            st = read_logits(c, &logits, &k, err);
        for (int b = 0; st == HL_OK && b < nb; b++) {
            st = target_prob(c, logits + b * k, k, &path->curve_prob[i0 + b], err);
            path->curve_logit[i0 + b] = logits[b * k + c->target];
        }
        if (st == HL_OK)
            st = hl_attr_tick(c, 0.8 + 0.2 * (double)(i0 + nb) / n, err);
    }
    free(points);
    return st;
}

static hl_status allocate(hl_ig_path *path, int n, int n_curve, int64_t numel,
                          hl_error *err)
{
    path->n_steps = n;
    path->n_curve = n_curve;
    path->numel = numel;
    path->step_alpha = malloc(sizeof(double) * 2 * (size_t)n);
    path->step_prob = malloc(sizeof(float) * 2 * (size_t)n);
    path->curve_alpha = malloc(sizeof(double) * (size_t)n_curve);
    path->curve_prob = malloc(sizeof(float) * 2 * (size_t)n_curve);
    path->grads = malloc(sizeof(float) * (size_t)(n * numel));
    if (!path->step_alpha || !path->step_prob || !path->curve_alpha ||
        !path->curve_prob || !path->grads)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (IG path of %d steps)", n);
    path->step_weight = path->step_alpha + n;
    path->step_logit = path->step_prob + n;
    path->curve_logit = path->curve_prob + n_curve;
    for (int i = 0; i < n_curve; i++)
        path->curve_alpha[i] = (double)i / (n_curve - 1);
    return HL_OK;
}

hl_status hl_ig_path_compute(const hl_model *model, const hl_array *input,
                             const hl_attr_params *params,
                             const hl_attr_context *ctx, int n_curve,
                             hl_ig_path *out, hl_error *err)
{
    if (!out)
        return hl_error_set(err, HL_ERR_ARG, "hl_ig_path_compute: no result struct");
    memset(out, 0, sizeof *out);
    if (!model || !input || !input->data || !params || input->shape.dims[0] != 1)
        return hl_error_set(err, HL_ERR_ARG, "IG path: needs a model, one input and parameters");
    if (n_curve < 2)
        return hl_error_set(err, HL_ERR_ARG, "IG path: the curve needs at least 2 points (got %d)", n_curve);
    hl_attr_context no_ctx;
    if (!ctx) {
        memset(&no_ctx, 0, sizeof no_ctx);
        ctx = &no_ctx;
    }
    hl_rng rng;
    hl_rng_seed(&rng, params->seed);
    hl_attr_call c = {
        .model = model, .input = input, .p = params, .ctx = ctx,
        .target = params->target, .rng = &rng,
        .output_value = hl_model_output_value(model),
        .input_value = hl_model_input_value(model),
    };
    hl_ig_path path = { 0 };
    hl_status st = allocate(&path, params->n_steps, n_curve, hl_attr_input_numel(&c), err);
    if (st == HL_OK)
        st = hl_attr_quadrature(params->ig_method, path.n_steps, path.step_alpha,
                                path.step_weight, err);
    path.input = hl_array_new(&input->shape);
    if (st == HL_OK && !path.input)
        st = hl_error_set(err, HL_ERR_NOMEM, "out of memory (IG path input)");
    if (st == HL_OK) {
        memcpy(path.input->data, input->data, sizeof(float) * (size_t)path.numel);
        st = hl_attr_make_baseline(&c, params->baseline, &path.baseline, err);
    }
    c.run = st == HL_OK ? hl_run_new(model, ctx->threads) : NULL;
    if (st == HL_OK && !c.run)
        st = hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create an engine run", hl_model_name(model));
    if (st == HL_OK)
        st = hl_run_keep_only(c.run, NULL, 0, err);
    if (st == HL_OK)
        st = resolve_target(&c, err);
    if (st == HL_OK)
        st = walk_steps(&c, &path, err);
    if (st == HL_OK)
        st = walk_curve(&c, &path, err);
    hl_run_free(c.run);
    path.target = c.target;
    if (st != HL_OK)
        hl_ig_path_clear(&path);
    *out = path;
    return st;
}

void hl_ig_path_point(const hl_ig_path *path, double alpha, float *out)
{
    /* baseline + alpha * (input - baseline) in float, as path.c does */
    const float a = (float)alpha, *b = path->baseline->data, *x = path->input->data;
    for (int64_t i = 0; i < path->numel; i++)
        out[i] = b[i] + a * (x[i] - b[i]);
}

const float *hl_ig_path_gradient(const hl_ig_path *path, int k)
{
    if (k < 0)
        k = 0;
    if (k >= path->n_steps)
        k = path->n_steps - 1;
    return path->grads + (int64_t)k * path->numel;
}

void hl_ig_path_accumulated(const hl_ig_path *path, int k, float *out)
{
    const float *b = path->baseline->data, *x = path->input->data;
    if (k >= path->n_steps)
        k = path->n_steps - 1;
    for (int64_t i = 0; i < path->numel; i++) {
        double total = 0.0;
        for (int j = 0; j <= k; j++)
            total += (double)(float)path->step_weight[j] * path->grads[(int64_t)j * path->numel + i];
        out[i] = (float)(total * ((double)x[i] - b[i]));
    }
}

void hl_ig_path_clear(hl_ig_path *path)
{
    if (!path)
        return;
    free(path->step_alpha);
    free(path->step_prob);
    free(path->curve_alpha);
    free(path->curve_prob);
    free(path->grads);
    hl_array_free(path->input);
    hl_array_free(path->baseline);
    memset(path, 0, sizeof *path);
}
