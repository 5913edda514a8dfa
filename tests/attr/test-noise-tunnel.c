/* Part-2 noise tunnel: smoothgrad over saliency replayed with Captum's
 * noise against Captum's output; smoothgrad_sq / vargrad against the
 * formulas over per-sample saliency maps; stdevs 0 = plain saliency;
 * seeding; progress and cancellation of long methods. */
#include "attr-test-util.h"

static void smoothgrad_replay(const char *cas, int target)
{
    hl_model *m = case_model(cas);
    hl_array *x = case_npy(cas, "input");
    hl_array *ref = case_npy(cas, "smoothgrad_saliency");
    hl_array *noise = case_npy(cas, "smoothgrad_noise");
    if (!m || !x || !ref || !noise) {
        tap_ok(0, "%s: smoothgrad reference data loads", cas);
        goto out;
    }
    const int n = (int)noise->shape.dims[0];
    const int64_t numel = hl_shape_numel(&x->shape);
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = target;
    test_call t;
    call_init(&t, m, x, &p, target);
    hl_attr_result r[3];
    memset(r, 0, sizeof r);
    hl_error err = {0};
    const hl_noise_tunnel types[3] = {HL_NT_SMOOTHGRAD, HL_NT_SMOOTHGRAD_SQ,
                                      HL_NT_VARGRAD};
    hl_status st = HL_OK;
    for (int k = 0; k < 3 && st == HL_OK; k++)
        st = hl_noise_tunnel_with_noise(&t.c, hl_method_saliency, types[k], n,
                                        noise->data, &r[k], &err);
    double e = st == HL_OK ? tap_rel_l2(r[0].attr->data, ref->data, numel) : 1;
    tap_ok(st == HL_OK && e < 1e-4, "%s: smoothgrad(saliency) with Captum's 25 "
           "noise draws matches Captum (rel L2 %.1e)%s%s", cas, e,
           st == HL_OK ? "" : ": ", st == HL_OK ? "" : err.msg);

    /* Per-sample saliency maps through the public API, then the formulas. */
    double *s1 = calloc((size_t)numel, sizeof *s1);
    double *s2 = calloc((size_t)numel, sizeof *s2);
    hl_array *xn = hl_array_new(&x->shape);
    int ok = st == HL_OK;
    for (int k = 0; ok && k < n; k++) {
        for (int64_t i = 0; i < numel; i++)
            xn->data[i] = x->data[i] + noise->data[k * numel + i];
        hl_array *a = run_method(m, "saliency", xn, &p, NULL);
        ok = a != NULL;
        for (int64_t i = 0; ok && i < numel; i++) {
            s1[i] += a->data[i];
            s2[i] += (double)a->data[i] * a->data[i];
        }
        hl_array_free(a);
    }
    float *sq = malloc((size_t)numel * sizeof *sq);
    float *var = malloc((size_t)numel * sizeof *var);
    for (int64_t i = 0; i < numel; i++) {
        sq[i] = (float)(s2[i] / n);
        var[i] = (float)(s2[i] / n - (s1[i] / n) * (s1[i] / n));
    }
    double esq = ok ? tap_rel_l2(r[1].attr->data, sq, numel) : 1;
    double evar = ok ? tap_rel_l2(r[2].attr->data, var, numel) : 1;
    tap_ok(ok && esq < 1e-5, "%s: smoothgrad_sq = mean of squared saliency "
           "(rel L2 %.1e)", cas, esq);
    tap_ok(ok && evar < 1e-4, "%s: vargrad = variance of saliency (rel L2 %.1e)",
           cas, evar);
    free(s1);
    free(s2);
    free(sq);
    free(var);
    hl_array_free(xn);
    for (int k = 0; k < 3; k++)
        hl_attr_result_clear(&r[k]);
    call_done(&t);
out:
    hl_array_free(x);
    hl_array_free(ref);
    hl_array_free(noise);
    hl_model_free(m);
}

static void through_dispatcher(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    if (!m || !x) {
        tap_ok(0, "tinycnn loads");
        goto out;
    }
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    hl_array *plain = run_method(m, "saliency", x, &p, NULL);
    p.noise_tunnel = HL_NT_SMOOTHGRAD;
    p.nt_stdevs = 0.0f;
    p.nt_samples = 3;
    hl_array *sg0 = run_method(m, "saliency", x, &p, NULL);
    tap_ok(plain && sg0 && arrays_equal(plain, sg0),
           "smoothgrad with stdevs 0 equals plain saliency");
    p.noise_tunnel = HL_NT_VARGRAD;
    hl_array *vg0 = run_method(m, "saliency", x, &p, NULL);
    double maxv = 0;
    for (int i = 0; vg0 && i < 3072; i++)
        maxv = fmax(maxv, fabs(vg0->data[i]));
    tap_ok(vg0 && maxv < 1e-12, "vargrad with stdevs 0 is 0 (max %.1e)", maxv);

    p.noise_tunnel = HL_NT_SMOOTHGRAD;
    p.nt_stdevs = 0.15f;
    p.nt_samples = 4;
    hl_array *a = run_method(m, "saliency", x, &p, NULL);
    hl_array *b = run_method(m, "saliency", x, &p, NULL);
    p.seed = 31337;
    hl_array *c = run_method(m, "saliency", x, &p, NULL);
    tap_ok(a && arrays_equal(a, b), "smoothgrad: same seed, same result");
    tap_ok(a && c && !arrays_equal(a, c), "smoothgrad: another seed, another result");
    tap_ok(a && !arrays_equal(a, plain), "smoothgrad with stdevs 0.15 differs "
           "from plain saliency");
    hl_array_free(plain);
    hl_array_free(sg0);
    hl_array_free(vg0);
    hl_array_free(a);
    hl_array_free(b);
    hl_array_free(c);
out:
    hl_array_free(x);
    hl_model_free(m);
}

typedef struct progress_log {
    int calls, monotone;
    double last;
    volatile int *cancel_after; /* raise the flag after this many calls */
    int limit;
} progress_log;

static void on_progress(void *user, double f)
{
    progress_log *l = user;
    if (f + 1e-12 < l->last)
        l->monotone = 0;
    l->last = f;
    l->calls++;
    if (l->cancel_after && l->calls >= l->limit)
        *l->cancel_after = 1;
}

static void progress_and_cancel(void)
{
    hl_model *m = load_model("captum/tinycnn/model.onnx");
    hl_array *x = load_npy("captum/tinycnn/input.npy");
    if (!m || !x) {
        tap_ok(0, "tinycnn loads");
        goto out;
    }
    const char *methods[] = {"occlusion", "shapley_value_sampling", "kernel_shap",
                             "gradient_shap", "saliency"};
    for (int k = 0; k < 5; k++) {
        hl_attr_params p;
        hl_attr_params_init(&p);
        p.target = 1;
        p.perturbations_per_eval = 8;
        int st3[3] = {3, 4, 4}, win[3] = {3, 8, 8};
        memcpy(p.strides, st3, sizeof st3);
        memcpy(p.window, win, sizeof win);
        p.n_samples = 40;
        p.internal_batch_size = 8;
        if (k == 4) {
            p.noise_tunnel = HL_NT_SMOOTHGRAD;
            p.nt_samples = 6;
        }
        progress_log log = {0, 1, 0, NULL, 0};
        hl_attr_context ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.progress = on_progress;
        ctx.progress_user = &log;
        ctx.threads = TEST_THREADS;
        hl_attr_result r;
        hl_error err = {0};
        hl_status st = hl_attribute(m, methods[k], x, &p, &ctx, &r, &err);
        tap_ok(st == HL_OK && log.calls >= 2 && log.monotone &&
               fabs(log.last - 1.0) < 1e-9,
               "%s%s: progress rises monotonically to 1 (%d reports)", methods[k],
               k == 4 ? " + smoothgrad" : "", log.calls);
        hl_attr_result_clear(&r);

        volatile int cancel = 0;
        progress_log stop = {0, 1, 0, &cancel, 2};
        ctx.progress_user = &stop;
        ctx.cancel = &cancel;
        st = hl_attribute(m, methods[k], x, &p, &ctx, &r, &err);
        tap_ok(st == HL_ERR_CANCELLED && !r.attr && stop.calls == 2,
               "%s: cancelling stops within the batch it was raised in "
               "(%d progress reports)", methods[k], stop.calls);
        hl_attr_result_clear(&r);
    }
out:
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    smoothgrad_replay("tinycnn", 1);
    smoothgrad_replay("tinyres", 7);
    through_dispatcher();
    progress_and_cancel();
    return tap_done();
}
