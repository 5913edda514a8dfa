/* Noise tunnel (Captum's NoiseTunnel) around any attribution method:
 * run the inner method on nt_samples noisy copies x + eps_k of the input,
 * eps_k ~ N(0, nt_stdevs^2) per element (stdevs absolute, as Captum), and
 * combine the attributions a_k:
 *   smoothgrad     mean_k a_k
 *   smoothgrad_sq  mean_k a_k^2
 *   vargrad        mean_k a_k^2 - (mean_k a_k)^2   (Captum's variance)
 * The target stays the one resolved on the clean input.
 */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

/* Maps the inner method's progress (0..1 of one sample) to the whole run. */
typedef struct nt_progress {
    const hl_attr_context *outer;
    int index, count;
} nt_progress;

static void nt_progress_cb(void *user, double fraction)
{
    const nt_progress *np = user;
    if (np->outer->progress)
        np->outer->progress(np->outer->progress_user,
                            (np->index + fraction) / np->count);
}

/* The combination of the k samples so far. */
static void nt_combine(hl_noise_tunnel type, const double *sum,
                       const double *sum_sq, int k, int64_t n, float *dst)
{
    for (int64_t i = 0; i < n; i++) {
        double mean = sum[i] / k;
        double mean_sq = sum_sq[i] / k;
        dst[i] = (float)(type == HL_NT_SMOOTHGRAD ? mean
                         : type == HL_NT_SMOOTHGRAD_SQ ? mean_sq
                         : mean_sq - mean * mean);
    }
}

hl_status hl_noise_tunnel_with_noise(hl_attr_call *c, hl_method_fn inner,
                                     hl_noise_tunnel type, int nt_samples,
                                     const float *noise, hl_attr_result *out,
                                     hl_error *err)
{
    if (type != HL_NT_SMOOTHGRAD && type != HL_NT_SMOOTHGRAD_SQ &&
        type != HL_NT_VARGRAD)
        return hl_error_set(err, HL_ERR_ARG, "noise tunnel: unknown type %d",
                            (int)type);
    if (nt_samples < 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "noise tunnel: --nt-samples must be >= 1");
    const int64_t numel = hl_shape_numel(&c->input->shape);
    hl_array *noisy = hl_array_new(&c->input->shape);
    if (!noisy)
        return hl_error_set(err, HL_ERR_NOMEM, "noise tunnel: out of memory");

    nt_progress np = {c->ctx, 0, nt_samples};
    hl_attr_context sub_ctx = *c->ctx;
    sub_ctx.progress = nt_progress_cb;
    sub_ctx.progress_user = &np;
    sub_ctx.intermediate = NULL; /* the tunnel reports its own mean */
    hl_attr_call sub = *c;
    sub.input = noisy;
    sub.ctx = &sub_ctx;

    double *sum = NULL, *sum_sq = NULL;
    int64_t attr_n = 0;
    hl_shape attr_shape = {0};
    hl_status st = HL_OK;
    for (int k = 0; k < nt_samples; k++) {
        if (noise) {
            const float *eps = noise + (int64_t)k * numel;
            for (int64_t i = 0; i < numel; i++)
                noisy->data[i] = c->input->data[i] + eps[i];
        } else {
            /* Drawn per sample so memory stays one input whatever nt_samples. */
            const double sd = c->p->nt_stdevs;
            for (int64_t i = 0; i < numel; i++)
                noisy->data[i] = sd > 0
                    ? c->input->data[i] + (float)(sd * hl_rng_normal(c->rng))
                    : c->input->data[i];
        }
        np.index = k;
        hl_attr_result r;
        memset(&r, 0, sizeof r);
        st = inner(&sub, &r, err);
        if (st == HL_OK && !r.attr)
            st = hl_error_set(err, HL_ERR_ARG,
                              "noise tunnel: the inner method gave no result");
        if (st != HL_OK) {
            hl_attr_result_clear(&r);
            break;
        }
        if (k == 0) {
            attr_shape = r.attr->shape;
            attr_n = hl_shape_numel(&attr_shape);
            out->is_layer = r.is_layer;
            sum = calloc((size_t)attr_n, sizeof *sum);
            sum_sq = calloc((size_t)attr_n, sizeof *sum_sq);
            if (!sum || !sum_sq) {
                hl_attr_result_clear(&r);
                st = hl_error_set(err, HL_ERR_NOMEM, "noise tunnel: out of memory");
                break;
            }
        } else if (!hl_shape_equal(&attr_shape, &r.attr->shape)) {
            hl_attr_result_clear(&r);
            st = hl_error_set(err, HL_ERR_SHAPE,
                              "noise tunnel: the inner method changed its "
                              "output shape between samples");
            break;
        }
        for (int64_t i = 0; i < attr_n; i++) {
            double v = r.attr->data[i];
            sum[i] += v;
            sum_sq[i] += v * v;
        }
        hl_attr_result_clear(&r);
        if (hl_attr_partial_wanted(c) && k + 1 < nt_samples) {
            hl_array *est = hl_array_new(&attr_shape);
            if (!est) {
                st = hl_error_set(err, HL_ERR_NOMEM, "noise tunnel: out of memory");
                break;
            }
            nt_combine(type, sum, sum_sq, k + 1, attr_n, est->data);
            hl_attr_emit(c, est, out->is_layer, k + 1, nt_samples, "samples", 0, 0.0);
            hl_array_free(est);
        }
        st = hl_attr_tick(c, (double)(k + 1) / nt_samples, err);
        if (st != HL_OK)
            break;
    }
    if (st == HL_OK) {
        hl_array *attr = hl_array_new(&attr_shape);
        if (!attr) {
            st = hl_error_set(err, HL_ERR_NOMEM, "noise tunnel: out of memory");
        } else {
            nt_combine(type, sum, sum_sq, nt_samples, attr_n, attr->data);
            out->attr = attr;
            out->has_delta = 0;
            hl_attr_emit(c, attr, out->is_layer, nt_samples, nt_samples,
                         "samples", 0, 0.0);
        }
    }
    free(sum);
    free(sum_sq);
    hl_array_free(noisy);
    return st;
}

hl_status hl_noise_tunnel_run(hl_attr_call *c, hl_method_fn inner,
                              hl_attr_result *out, hl_error *err)
{
    if (!(c->p->nt_stdevs >= 0))
        return hl_error_set(err, HL_ERR_ARG,
                            "noise tunnel: --nt-stdevs must be >= 0");
    return hl_noise_tunnel_with_noise(c, inner, c->p->noise_tunnel,
                                      c->p->nt_samples, NULL, out, err);
}
