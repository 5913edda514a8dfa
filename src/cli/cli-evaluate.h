/* The trust metrics of one method on one input, computed for `evaluate`
 * and `report --evaluate`: which metrics, their settings, the results, and
 * the plots page (viz/metric-plots.h) built from them. */
#ifndef HL_CLI_EVALUATE_H
#define HL_CLI_EVALUATE_H

#include <stdio.h>

#include "cli-options.h"
#include "metric-plots.h"
#include "trust.h"

enum {
    CLI_METRIC_INFIDELITY = 1 << 0,
    CLI_METRIC_SENSITIVITY = 1 << 1,
    CLI_METRIC_DELETION = 1 << 2,
    CLI_METRIC_INSERTION = 1 << 3,
    CLI_METRIC_RANDOMIZATION = 1 << 4,
    CLI_METRIC_ALL = (1 << 5) - 1,
};
#define CLI_METRIC_NAMES "infidelity, sensitivity, deletion, insertion, randomization"

typedef struct cli_evaluation {
    /* settings */
    int metrics;                  /* CLI_METRIC_* bits */
    hl_infidelity_opts infidelity;
    hl_sensitivity_opts sensitivity;
    hl_randomization_opts randomization;
    int curve_steps;              /* 50 */
    const char *deletion_baseline;  /* NULL: the method's baseline, or zero */
    const char *insertion_baseline; /* NULL: blur:5 */
    /* results */
    const char *method;
    double infidelity_value, sensitivity_value; /* NaN when not computed */
    char skipped[2][160];         /* why infidelity / curves were skipped */
    hl_curve curves[2];           /* deletion, insertion (n = 0: none) */
    hl_randomization random;
    /* plots page data */
    char title[256];
    char lines[12][512];
    const char *line_ptrs[12];
    hl_plot_curve plot_curves[2];
    const float *strip_maps[HL_RANDOMIZATION_MAX_STAGES];
    char strip_text[HL_RANDOMIZATION_MAX_STAGES][64];
    const char *strip_labels[HL_RANDOMIZATION_MAX_STAGES];
    hl_metric_plots plots;
} cli_evaluation;

void cli_evaluation_init(cli_evaluation *e);
void cli_evaluation_clear(cli_evaluation *e);
/* "--metrics a,b": the bits; 0 with the message printed on error. */
int cli_metrics_parse(const char *list, int *bits);

/* Compute the chosen metrics for the attribution `res` of method m with
 * params p (target resolved) on in; fills e's results and plots. Returns
 * 0, or 1 with the message printed. */
int cli_evaluate(cli_evaluation *e, const cli_input *in, const hl_method_desc *m,
                 const hl_attr_params *p, const hl_attr_result *res,
                 const hl_attr_context *ctx);

/* The results as JSON fields (", \"infidelity\": ..."), as text lines. */
void cli_evaluation_json(FILE *f, const cli_evaluation *e);
void cli_evaluation_print(const cli_evaluation *e);

#endif
