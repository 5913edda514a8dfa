/* The evaluation of one map (evaluation.h): the metrics chosen, run in
 * one order (infidelity, sensitivity, deletion, insertion,
 * randomisation), each reported to the watcher as it progresses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation.h"

static const char *const metric_names[HL_METRIC_COUNT] = {
    "infidelity", "sensitivity", "deletion", "insertion", "randomization" };

const char *hl_metric_name(int bit)
{
    for (int i = 0; i < HL_METRIC_COUNT; i++)
        if (bit == 1 << i)
            return metric_names[i];
    return NULL;
}

hl_status hl_metrics_parse(const char *list, int *bits, hl_error *err)
{
    *bits = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        int bit = -1;
        for (int i = 0; i < HL_METRIC_COUNT; i++)
            if (strlen(metric_names[i]) == len && strncmp(p, metric_names[i], len) == 0)
                bit = 1 << i;
        if (len == 3 && strncmp(p, "all", 3) == 0)
            bit = HL_METRIC_ALL;
        if (bit < 0)
            return hl_error_set(err, HL_ERR_ARG, "--metrics: unknown metric '%.*s'; valid: %s, all",
                                (int)len, p, HL_METRIC_NAMES);
        *bits |= bit;
        p += len + (p[len] == ',');
    }
    if (!*bits)
        return hl_error_set(err, HL_ERR_ARG, "--metrics: no metric given; valid: %s, all",
                            HL_METRIC_NAMES);
    return HL_OK;
}

void hl_evaluation_opts_init(hl_evaluation_opts *o)
{
    memset(o, 0, sizeof *o);
    o->metrics = HL_METRIC_ALL;
    hl_infidelity_opts_init(&o->infidelity);
    hl_sensitivity_opts_init(&o->sensitivity);
    hl_randomization_opts_init(&o->randomization);
    o->curve_steps = 50;
}

static int method_uses(const char *method, const char *param)
{
    const hl_method_desc *m = hl_method_find(method);
    for (int i = 0; m && m->params[i]; i++)
        if (strcmp(m->params[i], param) == 0)
            return 1;
    return 0;
}

const char *hl_evaluation_curve_baseline(const hl_evaluation_opts *o,
                                         hl_curve_kind kind,
                                         const char *method,
                                         const hl_attr_params *p)
{
    if (kind == HL_CURVE_INSERTION)
        return o && o->insertion_baseline[0] ? o->insertion_baseline : "blur:5";
    if (o && o->deletion_baseline[0])
        return o->deletion_baseline;
    return method_uses(method, "baseline") && p && p->baseline[0] ? p->baseline : "zero";
}

void hl_evaluation_init(hl_evaluation *e)
{
    memset(e, 0, sizeof *e);
    hl_evaluation_opts_init(&e->opts);
    e->target = -1;
    e->infidelity = e->sensitivity = NAN;
}

void hl_evaluation_clear(hl_evaluation *e)
{
    if (!e)
        return;
    hl_curve_clear(&e->curves[0]);
    hl_curve_clear(&e->curves[1]);
    hl_randomization_clear(&e->random);
}

static hl_status copy_curve(hl_curve *dst, const hl_curve *src, hl_error *err)
{
    memset(dst, 0, sizeof *dst);
    int n = src->n_done < src->n ? src->n_done : src->n;
    if (n <= 0 || !src->fraction || !src->prob)
        return HL_OK;
    dst->fraction = malloc((size_t)n * sizeof *dst->fraction);
    dst->prob = malloc((size_t)n * sizeof *dst->prob);
    if (!dst->fraction || !dst->prob) {
        hl_curve_clear(dst);
        return hl_error_set(err, HL_ERR_NOMEM, "evaluation: out of memory");
    }
    memcpy(dst->fraction, src->fraction, (size_t)n * sizeof *dst->fraction);
    memcpy(dst->prob, src->prob, (size_t)n * sizeof *dst->prob);
    dst->kind = src->kind;
    dst->n = dst->n_done = n;
    /* the area only once the curve is whole */
    dst->auc = n == src->n ? src->auc : NAN;
    return HL_OK;
}

hl_status hl_evaluation_copy(hl_evaluation *dst, const hl_evaluation *src,
                             hl_error *err)
{
    *dst = *src;
    memset(dst->curves, 0, sizeof dst->curves);
    memset(dst->random.maps, 0, sizeof dst->random.maps);
    hl_status st = HL_OK;
    for (int k = 0; st == HL_OK && k < 2; k++)
        st = copy_curve(&dst->curves[k], &src->curves[k], err);
    size_t hw = (size_t)src->random.h * (size_t)src->random.w;
    for (int s = 0; st == HL_OK && s < src->random.n; s++) {
        if (!src->random.maps[s])
            continue;
        dst->random.maps[s] = malloc(hw * sizeof *dst->random.maps[s]);
        if (!dst->random.maps[s])
            st = hl_error_set(err, HL_ERR_NOMEM, "evaluation: out of memory");
        else
            memcpy(dst->random.maps[s], src->random.maps[s], hw * sizeof *dst->random.maps[s]);
    }
    if (st != HL_OK)
        hl_evaluation_clear(dst);
    return st;
}

/* The watcher's view of the library's progress ticks: the running
 * metric's fraction placed among the chosen ones (equal shares). */
typedef struct watch_state {
    hl_evaluation_watch watch;
    void *user;
    hl_evaluation *e;
    int index, count;
} watch_state;

static void on_progress(void *user, double fraction)
{
    watch_state *w = user;
    if (w->watch)
        w->watch(w->user, (w->index + fraction) / w->count, w->e);
}

static void stage_start(watch_state *w, int bit)
{
    w->e->running = bit;
    on_progress(w, 0.0);
}

static void stage_done(watch_state *w, int bit)
{
    w->e->done |= bit;
    w->e->running = 0;
    w->index++;
    on_progress(w, 0.0);
}

static hl_status prefix(hl_status st, const char *what, hl_error *err)
{
    if (st != HL_OK && st != HL_ERR_CANCELLED && strncmp(err->msg, what, strlen(what)) != 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        hl_error_set(err, st, "%s: %s", what, msg);
    }
    return st;
}

static hl_status run_curves(hl_evaluation *e, const hl_metric_input *mi,
                            const hl_array *attr, const hl_attr_params *p,
                            watch_state *w, hl_error *err)
{
    for (int k = 0; k < 2; k++) {
        int bit = k ? HL_METRIC_INSERTION : HL_METRIC_DELETION;
        if (!(e->opts.metrics & bit))
            continue;
        hl_curve_kind kind = k ? HL_CURVE_INSERTION : HL_CURVE_DELETION;
        const char *spec = hl_evaluation_curve_baseline(&e->opts, kind, e->method, p);
        snprintf(e->curve_baseline[k], sizeof e->curve_baseline[k], "%s", spec);
        stage_start(w, bit);
        hl_array *base = NULL;
        hl_status st = hl_metric_curve_baseline(mi, spec, &base, err);
        if (st == HL_OK)
            st = hl_metric_curve(mi, attr, base, kind, e->opts.curve_steps, &e->curves[k], err);
        hl_array_free(base);
        if (st != HL_OK)
            return prefix(st, hl_metric_name(bit), err);
        stage_done(w, bit);
    }
    return HL_OK;
}

hl_status hl_evaluate(const hl_model *model, const hl_array *input,
                      const char *method, const hl_attr_params *p,
                      const hl_attr_result *res, const hl_attr_context *ctx,
                      const hl_evaluation_opts *o, hl_evaluation_watch watch,
                      void *watch_user, hl_evaluation *out, hl_error *err)
{
    hl_evaluation_init(out);
    if (o)
        out->opts = *o;
    if (!model || !input || !method || !res || !res->attr)
        return hl_error_set(err, HL_ERR_ARG, "evaluate: missing model, input, method or map");
    snprintf(out->method, sizeof out->method, "%s", method);
    out->target = res->target;
    out->target_prob = res->target_prob;
    hl_attr_notices(model, method, p, res, &out->notices);
    if (hl_attr_delta_note(method, res, out->delta_note, sizeof out->delta_note) < 0)
        out->delta_note[0] = '\0';

    hl_attr_context inner = { 0 };
    if (ctx)
        inner = *ctx;
    watch_state w = { watch, watch_user, out, 0, 0 };
    for (int i = 0; i < HL_METRIC_COUNT; i++)
        w.count += (out->opts.metrics >> i) & 1;
    if (w.count == 0)
        w.count = 1;
    inner.progress = on_progress;
    inner.progress_user = &w;
    hl_metric_input mi = { model, input, res->target, &inner };
    hl_attr_params pt;
    if (p)
        pt = *p;
    else
        hl_attr_params_init(&pt);
    pt.target = res->target;
    hl_status st = HL_OK;

    if (out->opts.metrics & HL_METRIC_INFIDELITY) {
        stage_start(&w, HL_METRIC_INFIDELITY);
        if (hl_shape_numel(&res->attr->shape) != hl_shape_numel(&input->shape))
            snprintf(out->infidelity_skipped, sizeof out->infidelity_skipped,
                     "not computed: Captum's infidelity needs a map of the input's shape (%s gives a layer map)",
                     method);
        else
            st = prefix(hl_metric_infidelity(&mi, res->attr, &out->opts.infidelity,
                                             &out->infidelity, err), "infidelity", err);
        if (st != HL_OK)
            return st;
        stage_done(&w, HL_METRIC_INFIDELITY);
    }
    if (out->opts.metrics & HL_METRIC_SENSITIVITY) {
        stage_start(&w, HL_METRIC_SENSITIVITY);
        st = prefix(hl_metric_sensitivity_max(&mi, method, &pt, &out->opts.sensitivity,
                                              &out->sensitivity, err), "sensitivity", err);
        if (st != HL_OK)
            return st;
        stage_done(&w, HL_METRIC_SENSITIVITY);
    }
    st = run_curves(out, &mi, res->attr, &pt, &w, err);
    if (st != HL_OK)
        return st;
    if (out->opts.metrics & HL_METRIC_RANDOMIZATION) {
        stage_start(&w, HL_METRIC_RANDOMIZATION);
        st = prefix(hl_sanity_randomization(model, input, method, &pt, &inner,
                                            &out->opts.randomization, &out->random, err),
                    "randomization", err);
        if (st != HL_OK)
            return st;
        stage_done(&w, HL_METRIC_RANDOMIZATION);
    }
    return HL_OK;
}
