/* Captum's infidelity and sensitivity_max (captum.metrics, 0.7), number
 * for number: tests/attr/test-trust.c replays Captum's recorded noise.
 *
 * infidelity (Yeh et al., "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS 2019): for perturbations I_k, the squared error of
 * the attribution's linear prediction sum(attr * I_k) of the change of the
 * target logit F(x) - F(x - I_k), averaged over k. With normalize, attr is
 * first scaled by beta = E[a.I (F(x) - F(x-I))] / E[(a.I)^2], the scale
 * that minimises it (Captum's polynomial expansion, done the same way).
 * sensitivity_max: the largest relative change (Frobenius norm) of the
 * explanation under small uniform perturbations of the input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trust-private.h"

hl_status hl_metric_call_open(const hl_metric_input *in, uint64_t seed,
                              hl_metric_call *mc, hl_error *err)
{
    memset(mc, 0, sizeof *mc);
    if (!in || !in->model || !in->input || !in->input->data)
        return hl_error_set(err, HL_ERR_ARG, "metric: missing model or input");
    if (in->target < 0)
        return hl_error_set(err, HL_ERR_ARG, "metric: the target class must be resolved (got %d)",
                            in->target);
    if (in->ctx)
        mc->ctx = *in->ctx;
    hl_attr_params_init(&mc->p);
    mc->p.target = in->target;
    hl_rng_seed(&mc->rng, seed);
    mc->c = (hl_attr_call){
        .model = in->model, .input = in->input, .p = &mc->p, .ctx = &mc->ctx,
        .target = in->target, .rng = &mc->rng,
        .output_value = hl_model_output_value(in->model),
        .input_value = hl_model_input_value(in->model),
    };
    mc->c.run = hl_attr_run_new(in->model, &mc->ctx);
    if (!mc->c.run)
        return hl_error_set(err, HL_ERR_NOMEM, "%s: cannot create an engine run",
                            hl_model_name(in->model));
    return hl_run_keep_only(mc->c.run, NULL, 0, err);
}

void hl_metric_call_close(hl_metric_call *mc)
{
    hl_run_free(mc->c.run);
    mc->c.run = NULL;
}

void hl_infidelity_opts_init(hl_infidelity_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_samples = 10;
    o->noise_std = 0.003;
    o->seed = 0x5eed;
}

void hl_sensitivity_opts_init(hl_sensitivity_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_samples = 10;
    o->radius = 0.02;
    o->seed = 0x5eed;
}

static hl_status check_samples(const char *what, int n, hl_error *err)
{
    if (n < 1 || n > 100000)
        return hl_error_set(err, HL_ERR_ARG, "%s: n_samples %d is out of range [1, 100000]",
                            what, n);
    return HL_OK;
}

hl_status hl_metric_infidelity(const hl_metric_input *in, const hl_array *attr,
                               const hl_infidelity_opts *o, double *value,
                               hl_error *err)
{
    hl_infidelity_opts dflt;
    if (!o) {
        hl_infidelity_opts_init(&dflt);
        o = &dflt;
    }
    hl_status st = check_samples("infidelity", o->n_samples, err);
    if (st != HL_OK)
        return st;
    int64_t numel = in && in->input ? hl_shape_numel(&in->input->shape) : 0;
    if (!attr || hl_shape_numel(&attr->shape) != numel)
        return hl_error_set(err, HL_ERR_SHAPE, "infidelity: the attribution must have the input's %lld elements (a layer map needs --interpolate)",
                            (long long)numel);
    if (!o->noise && (!isfinite(o->noise_std) || o->noise_std <= 0.0))
        return hl_error_set(err, HL_ERR_ARG, "infidelity: noise std %g must be > 0", o->noise_std);
    hl_metric_call mc;
    st = hl_metric_call_open(in, o->seed, &mc, err);
    int n = o->n_samples;
    float *points = malloc((size_t)(numel * n) * sizeof *points);
    float *noise = malloc((size_t)(numel * n) * sizeof *noise);
    float *f = malloc((size_t)(n + 1) * sizeof *f);
    if (st == HL_OK && (!points || !noise || !f))
        st = hl_error_set(err, HL_ERR_NOMEM, "infidelity: out of memory");
    if (st == HL_OK) {
        for (int64_t i = 0; i < numel * n; i++)
            noise[i] = o->noise ? o->noise[i]
                                : (float)(o->noise_std * hl_rng_normal(&mc.rng));
        for (int k = 0; k < n; k++)
            for (int64_t i = 0; i < numel; i++)
                points[k * numel + i] = in->input->data[i] - noise[k * numel + i];
        st = hl_attr_target_logits(&mc.c, in->input->data, 1, 1, f, err);
    }
    if (st == HL_OK)
        st = hl_attr_target_logits(&mc.c, points, n, HL_METRIC_BATCH, f + 1, err);
    if (st == HL_OK) {
        /* Captum's three sums: (a.I)^2, a.I * dF, dF^2 */
        double s_aa = 0.0, s_ad = 0.0, s_dd = 0.0, plain = 0.0;
        for (int k = 0; k < n; k++) {
            double dot = 0.0;
            for (int64_t i = 0; i < numel; i++)
                dot += (double)attr->data[i] * noise[k * numel + i];
            double df = (double)f[0] - (double)f[1 + k];
            s_aa += dot * dot;
            s_ad += dot * df;
            s_dd += df * df;
            plain += (dot - df) * (dot - df);
        }
        if (o->normalize) {
            double beta = s_aa != 0.0 ? s_ad / s_aa : 0.0;
            *value = (beta * beta * s_aa - 2.0 * beta * s_ad + s_dd) / n;
        } else {
            *value = plain / n;
        }
    }
    hl_metric_call_close(&mc);
    free(points);
    free(noise);
    free(f);
    return st;
}

static double frobenius(const float *a, const float *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (b ? (double)b[i] : 0.0);
        s += d * d;
    }
    return sqrt(s);
}

hl_status hl_metric_sensitivity_max(const hl_metric_input *in,
                                    const char *method,
                                    const hl_attr_params *params,
                                    const hl_sensitivity_opts *o,
                                    double *value, hl_error *err)
{
    hl_sensitivity_opts dflt;
    if (!o) {
        hl_sensitivity_opts_init(&dflt);
        o = &dflt;
    }
    hl_status st = check_samples("sensitivity", o->n_samples, err);
    if (st != HL_OK)
        return st;
    if (!in || !in->model || !in->input || in->target < 0)
        return hl_error_set(err, HL_ERR_ARG, "sensitivity: missing model, input or resolved target");
    if (!o->noise && (!isfinite(o->radius) || o->radius <= 0.0))
        return hl_error_set(err, HL_ERR_ARG, "sensitivity: radius %g must be > 0", o->radius);
    hl_attr_params p;
    if (params)
        p = *params;
    else
        hl_attr_params_init(&p);
    p.target = in->target;
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    if (in->ctx) {
        ctx = *in->ctx;
        ctx.progress = NULL;
    }
    int64_t numel = hl_shape_numel(&in->input->shape);
    hl_rng rng;
    hl_rng_seed(&rng, o->seed);
    hl_attr_result base = {0}, pert = {0};
    hl_array *x = hl_array_copy(in->input);
    if (!x)
        return hl_error_set(err, HL_ERR_NOMEM, "sensitivity: out of memory");
    st = hl_attribute(in->model, method, in->input, &p, &ctx, &base, err);
    double norm = 0.0, best = 0.0;
    if (st == HL_OK) {
        norm = frobenius(base.attr->data, NULL, hl_shape_numel(&base.attr->shape));
        if (norm == 0.0)
            norm = 1.0; /* Captum divides by 1 for an all-zero explanation */
    }
    for (int k = 0; st == HL_OK && k < o->n_samples; k++) {
        for (int64_t i = 0; i < numel; i++) {
            float d = o->noise ? o->noise[k * numel + i]
                               : (float)(o->radius * (2.0 * hl_rng_uniform(&rng) - 1.0));
            x->data[i] = in->input->data[i] + d;
        }
        st = hl_attribute(in->model, method, x, &p, &ctx, &pert, err);
        if (st != HL_OK)
            break;
        double s = frobenius(pert.attr->data, base.attr->data,
                             hl_shape_numel(&base.attr->shape)) / norm;
        best = k == 0 || s > best ? s : best;
        hl_attr_result_clear(&pert);
        if (in->ctx && in->ctx->progress)
            in->ctx->progress(in->ctx->progress_user, (k + 1.0) / o->n_samples);
    }
    if (st == HL_OK)
        *value = best;
    hl_attr_result_clear(&base);
    hl_attr_result_clear(&pert);
    hl_array_free(x);
    return st;
}
