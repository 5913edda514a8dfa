/* The trust metrics of one method (cli-evaluate.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-evaluate.h"
#include "label_names.h"

static const char *const metric_names[] = {
    "infidelity", "sensitivity", "deletion", "insertion", "randomization", NULL };

void cli_evaluation_init(cli_evaluation *e)
{
    memset(e, 0, sizeof *e);
    e->metrics = CLI_METRIC_ALL;
    hl_infidelity_opts_init(&e->infidelity);
    hl_sensitivity_opts_init(&e->sensitivity);
    hl_randomization_opts_init(&e->randomization);
    e->curve_steps = 50;
    e->infidelity_value = e->sensitivity_value = NAN;
}

void cli_evaluation_clear(cli_evaluation *e)
{
    hl_curve_clear(&e->curves[0]);
    hl_curve_clear(&e->curves[1]);
    hl_randomization_clear(&e->random);
}

int cli_metrics_parse(const char *list, int *bits)
{
    *bits = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        int bit = -1;
        for (int i = 0; metric_names[i]; i++)
            if (strlen(metric_names[i]) == len && strncmp(p, metric_names[i], len) == 0)
                bit = 1 << i;
        if (len == 3 && strncmp(p, "all", 3) == 0)
            bit = CLI_METRIC_ALL;
        if (bit < 0) {
            cli_fail("--metrics: unknown metric '%.*s'; valid: %s, all", (int)len, p,
                     CLI_METRIC_NAMES);
            return 0;
        }
        *bits |= bit;
        p += len + (p[len] == ',');
    }
    if (!*bits) {
        cli_fail("--metrics: no metric given; valid: %s, all", CLI_METRIC_NAMES);
        return 0;
    }
    return 1;
}

static int method_has(const hl_method_desc *m, const char *param)
{
    for (int i = 0; m->params[i]; i++)
        if (strcmp(m->params[i], param) == 0)
            return 1;
    return 0;
}

static int run_curves(cli_evaluation *e, const hl_metric_input *mi,
                      const hl_method_desc *m, const hl_attr_params *p,
                      const hl_attr_result *res)
{
    hl_error err = {0};
    for (int k = 0; k < 2; k++) {
        if (!(e->metrics & (k ? CLI_METRIC_INSERTION : CLI_METRIC_DELETION)))
            continue;
        const char *spec = k ? (e->insertion_baseline ? e->insertion_baseline : "blur:5")
                             : e->deletion_baseline ? e->deletion_baseline
                             : method_has(m, "baseline") && p->baseline[0] ? p->baseline : "zero";
        hl_array *base = NULL;
        hl_status st = hl_metric_curve_baseline(mi, spec, &base, &err);
        if (st == HL_OK)
            st = hl_metric_curve(mi, res->attr, base, k ? HL_CURVE_INSERTION : HL_CURVE_DELETION,
                                 e->curve_steps, &e->curves[k], &err);
        hl_array_free(base);
        if (st != HL_OK)
            return cli_fail("%s: %s", k ? "insertion" : "deletion", err.msg);
    }
    return 0;
}

static void build_plots(cli_evaluation *e, const cli_input *in, const hl_method_desc *m,
                        const hl_attr_params *p, const hl_attr_result *res)
{
    char label[256];
    /* the plot title names the class by its first synonym */
    snprintf(e->title, sizeof e->title, "%s on %s: %s (%.1f%%)", m->title,
             in->image_path ? in->image_path : in->input_npy ? in->input_npy : "input",
             hl_label_short(cli_input_label(in, res->target), label, sizeof label),
             100.0 * res->target_prob);
    int n = 0;
    hl_notices notes;
    hl_attr_notices(in->model, m->name, p, &notes);
    for (int i = 0; i < notes.n && n < 10; i++)
        snprintf(e->lines[n++], sizeof e->lines[0], "Notice: %s", notes.line[i]);
    char buf[448];
    if (hl_attr_delta_note(m->name, res, buf, sizeof buf) >= 0 && n < 10)
        snprintf(e->lines[n++], sizeof e->lines[0], "%s", buf);
    if (e->metrics & CLI_METRIC_INFIDELITY && n < 10) {
        if (isnan(e->infidelity_value))
            snprintf(e->lines[n], sizeof e->lines[0], "infidelity: %s", e->skipped[0]);
        else
            snprintf(e->lines[n], sizeof e->lines[0],
                     "infidelity %.4g (%d Gaussian perturbations, std %g; lower is better)",
                     e->infidelity_value, e->infidelity.n_samples, e->infidelity.noise_std);
        n++;
    }
    if (e->metrics & CLI_METRIC_SENSITIVITY && n < 10)
        snprintf(e->lines[n++], sizeof e->lines[0],
                 "sensitivity_max %.4g (%d uniform perturbations of radius %g; lower is steadier)",
                 e->sensitivity_value, e->sensitivity.n_samples, e->sensitivity.radius);
    for (int i = 0; i < n; i++)
        e->line_ptrs[i] = e->lines[i];
    e->plots = (hl_metric_plots){ .title = e->title, .lines = e->line_ptrs, .n_lines = n };
    int nc = 0;
    for (int k = 0; k < 2; k++)
        if (e->curves[k].n)
            e->plot_curves[nc++] = (hl_plot_curve){ k ? "insertion" : "deletion",
                e->curves[k].fraction, e->curves[k].prob, e->curves[k].n, e->curves[k].auc };
    e->plots.curves = e->plot_curves;
    e->plots.n_curves = nc;
    const hl_randomization *r = &e->random;
    for (int s = 0; s < r->n; s++) {
        e->strip_maps[s] = r->maps[s];
        if (s == 0)
            snprintf(e->strip_text[s], sizeof e->strip_text[s], "original");
        else
            snprintf(e->strip_text[s], sizeof e->strip_text[s], "top %d of %d", r->layers[s],
                     r->total_layers);
        e->strip_labels[s] = e->strip_text[s];
    }
    e->plots.strip_n = r->n;
    e->plots.strip_maps = e->strip_maps;
    e->plots.strip_h = r->h;
    e->plots.strip_w = r->w;
    e->plots.strip_labels = e->strip_labels;
    e->plots.spearman = r->spearman;
    e->plots.ssim = r->ssim;
    e->plots.flagged = r->flagged;
}

int cli_evaluate(cli_evaluation *e, const cli_input *in, const hl_method_desc *m,
                 const hl_attr_params *p, const hl_attr_result *res,
                 const hl_attr_context *ctx)
{
    e->method = m->name;
    hl_metric_input mi = { in->model, in->input, res->target, ctx };
    hl_attr_params pt = *p;
    pt.target = res->target;
    hl_error err = {0};
    if (e->metrics & CLI_METRIC_INFIDELITY) {
        if (hl_shape_numel(&res->attr->shape) != hl_shape_numel(&in->input->shape))
            snprintf(e->skipped[0], sizeof e->skipped[0],
                     "not computed: Captum's infidelity needs a map of the input's shape (%s gives a layer map)",
                     m->name);
        else if (hl_metric_infidelity(&mi, res->attr, &e->infidelity, &e->infidelity_value,
                                      &err) != HL_OK)
            return cli_fail("infidelity: %s", err.msg);
    }
    if (e->metrics & CLI_METRIC_SENSITIVITY &&
        hl_metric_sensitivity_max(&mi, m->name, &pt, &e->sensitivity, &e->sensitivity_value,
                                  &err) != HL_OK)
        return cli_fail("sensitivity: %s", err.msg);
    if (run_curves(e, &mi, m, &pt, res))
        return 1;
    if (e->metrics & CLI_METRIC_RANDOMIZATION &&
        hl_sanity_randomization(in->model, in->input, m->name, &pt, ctx, &e->randomization,
                                &e->random, &err) != HL_OK)
        return cli_fail("randomization: %s", err.msg);
    build_plots(e, in, m, p, res);
    return 0;
}

static void json_doubles(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.6g", i ? ", " : "", isfinite(v[i]) ? v[i] : 0.0);
    fputc(']', f);
}

void cli_evaluation_json(FILE *f, const cli_evaluation *e)
{
    if (e->metrics & CLI_METRIC_INFIDELITY) {
        if (isnan(e->infidelity_value)) {
            fprintf(f, ", \"infidelity\": null, \"infidelity_skipped\": ");
            cli_json_string(f, e->skipped[0]);
        } else {
            fprintf(f, ", \"infidelity\": %.9g", e->infidelity_value);
        }
    }
    if (e->metrics & CLI_METRIC_SENSITIVITY)
        fprintf(f, ", \"sensitivity_max\": %.9g", e->sensitivity_value);
    for (int k = 0; k < 2; k++) {
        const hl_curve *c = &e->curves[k];
        if (!c->n)
            continue;
        fprintf(f, ", \"%s\": {\"auc\": %.6g, \"fraction\": ", k ? "insertion" : "deletion",
                c->auc);
        json_doubles(f, c->fraction, c->n);
        fprintf(f, ", \"probability\": ");
        json_doubles(f, c->prob, c->n);
        fputc('}', f);
    }
    const hl_randomization *r = &e->random;
    if (r->n) {
        fprintf(f, ", \"randomization\": {\"flagged\": %s, \"layers\": %d, \"stages\": [",
                r->flagged ? "true" : "false", r->total_layers);
        for (int s = 0; s < r->n; s++) {
            fprintf(f, "%s{\"randomized_layers\": %d, \"lowest_layer\": ", s ? ", " : "",
                    r->layers[s]);
            cli_json_string(f, r->top_layer[s]);
            fprintf(f, ", \"spearman\": %.6g, \"ssim\": %.6g}",
                    isfinite(r->spearman[s]) ? r->spearman[s] : 0.0,
                    isfinite(r->ssim[s]) ? r->ssim[s] : 0.0);
        }
        fprintf(f, "]}");
    }
}

void cli_evaluation_print(const cli_evaluation *e)
{
    if (e->metrics & CLI_METRIC_INFIDELITY) {
        if (isnan(e->infidelity_value))
            printf("infidelity:  %s\n", e->skipped[0]);
        else
            printf("infidelity:  %.6g (lower is better)\n", e->infidelity_value);
    }
    if (e->metrics & CLI_METRIC_SENSITIVITY)
        printf("sensitivity: %.6g (max relative change of the map; lower is steadier)\n",
               e->sensitivity_value);
    if (e->curves[0].n)
        printf("deletion:    AUC %.4f (lower is better)\n", e->curves[0].auc);
    if (e->curves[1].n)
        printf("insertion:   AUC %.4f (higher is better)\n", e->curves[1].auc);
    const hl_randomization *r = &e->random;
    for (int s = 1; s < r->n; s++)
        printf("random %2d/%d: down to %-24s Spearman %6.3f  SSIM %6.3f\n", r->layers[s],
               r->total_layers, r->top_layer[s], r->spearman[s], r->ssim[s]);
    if (r->n)
        printf("sanity:      %s\n", r->flagged
               ? "FLAGGED: the map stays alike when the weights are destroyed; it does not explain the model"
               : "passed: the map changes when the weights are destroyed");
}
