/* The trust metrics of one method on one input as the CLI shows them
 * (`evaluate`, `report --evaluate`, `batch --evaluate`): the library's
 * evaluation (evaluation.h: which metrics, settings, the curve baselines)
 * and its plots page (evaluation-page.h), printed as text or JSON. */
#ifndef HL_CLI_EVALUATE_H
#define HL_CLI_EVALUATE_H

#include <stdio.h>

#include "cli-options.h"
#include "evaluation-page.h"

typedef struct cli_evaluation {
    hl_evaluation_opts opts;  /* settings (the options) */
    hl_evaluation result;     /* after cli_evaluate */
    hl_evaluation_page page;  /* its plots */
} cli_evaluation;

void cli_evaluation_init(cli_evaluation *e);
void cli_evaluation_clear(cli_evaluation *e);
/* "--metrics a,b": the bits; 0 with the message printed on error. */
int cli_metrics_parse(const char *list, int *bits);

/* Compute the chosen metrics for the attribution `res` of method m with
 * params p (target resolved) on in; fills e's result and page. Returns
 * 0, or 1 with the message printed. */
int cli_evaluate(cli_evaluation *e, const cli_input *in, const hl_method_desc *m,
                 const hl_attr_params *p, const hl_attr_result *res,
                 const hl_attr_context *ctx);

/* The results as JSON fields (", \"infidelity\": ..."), as text lines. */
void cli_evaluation_json(FILE *f, const cli_evaluation *e);
void cli_evaluation_print(const cli_evaluation *e);

#endif
