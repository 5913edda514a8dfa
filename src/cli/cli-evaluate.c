/* The trust metrics of one method as the CLI shows them (cli-evaluate.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-evaluate.h"
#include "label_names.h"

void cli_evaluation_init(cli_evaluation *e)
{
    memset(e, 0, sizeof *e);
    hl_evaluation_opts_init(&e->opts);
    hl_evaluation_init(&e->result);
}

void cli_evaluation_clear(cli_evaluation *e)
{
    hl_evaluation_clear(&e->result);
}

int cli_metrics_parse(const char *list, int *bits)
{
    hl_error err = {0};
    if (hl_metrics_parse(list, bits, &err) != HL_OK) {
        cli_fail("%s", err.msg);
        return 0;
    }
    return 1;
}

int cli_evaluate(cli_evaluation *e, const cli_input *in, const hl_method_desc *m,
                 const hl_attr_params *p, const hl_attr_result *res,
                 const hl_attr_context *ctx)
{
    hl_error err = {0};
    hl_evaluation_clear(&e->result);
    if (hl_evaluate(in->model, in->input, m->name, p, res, ctx, &e->opts, NULL, NULL,
                    &e->result, &err) != HL_OK)
        return cli_fail("%s", err.msg);
    char label[256];
    /* the plot title names the class by its first synonym */
    hl_evaluation_page_build(&e->page, &e->result, m->title,
                             in->image_path ? in->image_path : in->input_npy,
                             hl_label_short(cli_input_label(in, res->target), label,
                                            sizeof label));
    return 0;
}

static void json_doubles(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.6g", i ? ", " : "", isfinite(v[i]) ? v[i] : 0.0);
    fputc(']', f);
}

void cli_evaluation_json(FILE *f, const cli_evaluation *ev)
{
    const hl_evaluation *e = &ev->result;
    if (e->opts.metrics & HL_METRIC_INFIDELITY) {
        if (isnan(e->infidelity)) {
            fprintf(f, ", \"infidelity\": null, \"infidelity_skipped\": ");
            cli_json_string(f, e->infidelity_skipped);
        } else {
            fprintf(f, ", \"infidelity\": %.9g", e->infidelity);
        }
    }
    if (e->opts.metrics & HL_METRIC_SENSITIVITY)
        fprintf(f, ", \"sensitivity_max\": %.9g", e->sensitivity);
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

void cli_evaluation_print(const cli_evaluation *ev)
{
    const hl_evaluation *e = &ev->result;
    if (e->opts.metrics & HL_METRIC_INFIDELITY) {
        if (isnan(e->infidelity))
            printf("infidelity:  %s\n", e->infidelity_skipped);
        else
            printf("infidelity:  %.6g (lower is better)\n", e->infidelity);
    }
    if (e->opts.metrics & HL_METRIC_SENSITIVITY)
        printf("sensitivity: %.6g (max relative change of the map; lower is steadier)\n",
               e->sensitivity);
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
