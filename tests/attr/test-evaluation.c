/* The evaluation decided once (src/attr/evaluation.h), against formulas:
 * the metric names and --metrics lists; the curve-baseline rule (the
 * method's own baseline for deletion, else zero; blur:5 for insertion;
 * the options win); hl_evaluate's deletion and insertion curves on a
 * linear model (p = sigmoid(sum of the pixels kept), an independent
 * float64 formula here); the watcher: fractions that never go back, each
 * partial curve a prefix of the final one bit for bit, `done` growing;
 * cancellation keeps what was finished. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"
#include "evaluation.h"

static double linear_weight(int i)
{
    return (double)(i * 7 % 16 + 1) / 8.0;
}

static void names_and_lists(void)
{
    int bits = 0;
    hl_error err = {0};
    tap_ok(hl_metrics_parse("deletion,insertion", &bits, &err) == HL_OK &&
           bits == (HL_METRIC_DELETION | HL_METRIC_INSERTION), "--metrics deletion,insertion");
    tap_ok(hl_metrics_parse("all", &bits, &err) == HL_OK && bits == HL_METRIC_ALL, "--metrics all");
    tap_ok(hl_metrics_parse("deletion,faithfulness", &bits, &err) == HL_ERR_ARG &&
           strstr(err.msg, "'faithfulness'") && strstr(err.msg, HL_METRIC_NAMES),
           "an unknown metric is named with the valid ones: %s", err.msg);
    tap_ok(hl_metrics_parse("", &bits, &err) == HL_ERR_ARG && strstr(err.msg, "no metric"),
           "an empty list is refused: %s", err.msg);
    int all = 1;
    for (int i = 0; i < HL_METRIC_COUNT; i++) {
        int back = 0;
        all &= hl_metrics_parse(hl_metric_name(1 << i), &back, &err) == HL_OK && back == 1 << i;
    }
    tap_ok(all && !hl_metric_name(3) && !hl_metric_name(0), "each bit's name parses back to it");
}

static void baseline_rule(void)
{
    hl_evaluation_opts o;
    hl_evaluation_opts_init(&o);
    hl_attr_params p;
    hl_attr_params_init(&p);
    snprintf(p.baseline, sizeof p.baseline, "black");
    tap_ok(strcmp(hl_evaluation_curve_baseline(&o, HL_CURVE_DELETION, "integrated_gradients", &p),
                  "black") == 0, "deletion: integrated_gradients' own baseline");
    tap_ok(strcmp(hl_evaluation_curve_baseline(&o, HL_CURVE_DELETION, "saliency", &p), "zero") == 0,
           "deletion: zero for a method without a baseline");
    tap_ok(strcmp(hl_evaluation_curve_baseline(&o, HL_CURVE_INSERTION, "integrated_gradients", &p),
                  "blur:5") == 0, "insertion: blur:5");
    snprintf(o.deletion_baseline, sizeof o.deletion_baseline, "white");
    snprintf(o.insertion_baseline, sizeof o.insertion_baseline, "zero");
    tap_ok(strcmp(hl_evaluation_curve_baseline(&o, HL_CURVE_DELETION, "integrated_gradients", &p),
                  "white") == 0 &&
           strcmp(hl_evaluation_curve_baseline(&o, HL_CURVE_INSERTION, "saliency", &p), "zero") == 0,
           "the options' baselines win");
    tap_ok(o.curve_steps == 50 && o.infidelity.n_samples == 10 && o.sensitivity.n_samples == 10 &&
           fabs(o.sensitivity.radius - 0.02) < 1e-12 && o.randomization.stages == 6 &&
           o.metrics == HL_METRIC_ALL, "defaults: Captum's (10 samples, radius 0.02), 50 steps, 6 stages");
}

typedef struct watched {
    int calls, bad_fraction, growing_done;
    double last_fraction;
    int last_done;
    hl_evaluation copies[64];
    int n_copies;
    int cancel_after;         /* raise *cancel after this many copies (0 = never) */
    volatile int *cancel;
} watched;

static void watch(void *user, double fraction, const hl_evaluation *e)
{
    watched *w = user;
    w->calls++;
    w->bad_fraction |= fraction < w->last_fraction - 1e-12 || fraction < 0 || fraction > 1;
    w->last_fraction = fraction;
    w->growing_done &= (e->done & w->last_done) == w->last_done;
    w->last_done = e->done;
    hl_error err = {0};
    if (w->n_copies < 64 && hl_evaluation_copy(&w->copies[w->n_copies], e, &err) == HL_OK)
        w->n_copies++;
    if (w->cancel_after && w->n_copies >= w->cancel_after)
        *w->cancel = 1;
}

/* p after switching the first m pixels of the true order (formula). */
static double kept_sum(const int *order, int m, int insertion)
{
    double on = 0.0;
    for (int r = 0; r < 16; r++)
        if ((r < m) == insertion)
            on += linear_weight(order[r]);
    return 1.0 / (1.0 + exp(-on));
}

static void curves_and_watch(void)
{
    hl_model *m = load_source_model("tests/data/trust/linear.onnx");
    hl_shape s = { 4, { 1, 1, 4, 4 } };
    hl_array *x = hl_array_new(&s), *map = hl_array_new(&s);
    if (!tap_ok(m && x && map, "linear model loads"))
        return;
    for (int i = 0; i < 16; i++) {
        x->data[i] = 1.0f;
        map->data[i] = (float)linear_weight(i);
    }
    hl_attr_result res;
    memset(&res, 0, sizeof res);
    res.attr = map;
    res.target = 0;
    hl_attr_params p;
    hl_attr_params_init(&p);
    hl_evaluation_opts o;
    hl_evaluation_opts_init(&o);
    o.metrics = HL_METRIC_DELETION | HL_METRIC_INSERTION;
    o.curve_steps = 40;     /* 41 points: 3 batches of 16 */
    snprintf(o.insertion_baseline, sizeof o.insertion_baseline, "zero");
    watched *w = calloc(1, sizeof *w);
    w->growing_done = 1;
    hl_evaluation e;
    hl_error err = {0};
    hl_status st = hl_evaluate(m, x, "saliency", &p, &res, NULL, &o, watch, w, &e, &err);
    if (!tap_ok(st == HL_OK && e.curves[0].n == 41 && e.curves[1].n == 41,
                "hl_evaluate: deletion and insertion, 41 points each %s", err.msg))
        goto done;
    tap_ok(strcmp(e.curve_baseline[0], "zero") == 0 && strcmp(e.curve_baseline[1], "zero") == 0 &&
           e.done == o.metrics && isnan(e.infidelity) && isnan(e.sensitivity) && e.random.n == 0,
           "only the metrics asked, with the baselines used recorded");
    int order[16];
    for (int i = 0; i < 16; i++)
        order[i] = i;
    for (int i = 0; i < 16; i++)
        for (int j = i + 1; j < 16; j++)
            if (linear_weight(order[j]) > linear_weight(order[i])) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int k = 0; k < 2; k++) {
        double worst = 0.0, auc = 0.0;
        for (int step = 0; step <= 40; step++) {
            int mm = (int)lround(step * 16.0 / 40.0);
            double pf = kept_sum(order, mm, k);
            worst = fmax(worst, fabs(pf - e.curves[k].prob[step]));
            worst = fmax(worst, fabs(e.curves[k].fraction[step] - mm / 16.0));
            if (step) {
                int mp = (int)lround((step - 1) * 16.0 / 40.0);
                auc += 0.5 * (pf + kept_sum(order, mp, k)) * (mm - mp) / 16.0;
            }
        }
        tap_ok(worst < 1e-6 && fabs(auc - e.curves[k].auc) < 1e-6,
               "%s curve = sigmoid of the kept weights (max err %.2e), AUC %.6f = %.6f",
               k ? "insertion" : "deletion", worst, e.curves[k].auc, auc);
    }
    /* the watcher: partial curves are prefixes of the final ones */
    int partial = 0, prefix = 1;
    for (int c = 0; c < w->n_copies; c++)
        for (int k = 0; k < 2; k++) {
            const hl_curve *pc = &w->copies[c].curves[k];
            if (pc->n > 0 && pc->n < 41) {
                partial++;
                prefix &= isnan(pc->auc);
            }
            for (int i = 0; i < pc->n; i++)
                prefix &= pc->prob[i] == e.curves[k].prob[i] &&
                          pc->fraction[i] == e.curves[k].fraction[i];
        }
    tap_ok(w->calls >= 6 && !w->bad_fraction && w->last_fraction == 1.0 && w->growing_done,
           "watcher: %d calls, fraction never goes back and ends at 1, done only grows", w->calls);
    tap_ok(partial >= 4 && prefix,
           "watcher: %d partial curves, each a prefix of the final one, without an area", partial);
    /* cancelled during insertion: deletion stays */
    for (int c = 0; c < w->n_copies; c++)
        hl_evaluation_clear(&w->copies[c]);
    memset(w, 0, sizeof *w);
    w->growing_done = 1;
    volatile int cancel = 0;
    w->cancel = &cancel;
    w->cancel_after = 6;
    hl_attr_context ctx = { .cancel = &cancel };
    hl_evaluation e2;
    st = hl_evaluate(m, x, "saliency", &p, &res, &ctx, &o, watch, w, &e2, &err);
    tap_ok(st == HL_ERR_CANCELLED && (e2.done & HL_METRIC_DELETION) && e2.curves[0].n == 41 &&
           !(e2.done & HL_METRIC_INSERTION),
           "cancelled in the insertion curve: the deletion curve is kept (status %d, done %d)",
           (int)st, e2.done);
    hl_evaluation_clear(&e2);
done:
    for (int c = 0; c < w->n_copies; c++)
        hl_evaluation_clear(&w->copies[c]);
    free(w);
    hl_evaluation_clear(&e);
    hl_array_free(x);
    hl_array_free(map);
    hl_model_free(m);
}

int main(void)
{
    names_and_lists();
    baseline_rule();
    curves_and_watch();
    return tap_done();
}
