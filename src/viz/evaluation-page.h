/* The plots page of an evaluation (attr's evaluation.h): its title, the
 * lines of numbers with what each means, the deletion/insertion charts and
 * the randomisation strip, laid out as an hl_metric_plots (metric-plots.h)
 * that `evaluate --out`, `report --evaluate` and the window's metrics page
 * all draw. A running evaluation (hl_evaluation_copy of a partial one)
 * gives a page with what is finished so far. */
#ifndef HL_EVALUATION_PAGE_H
#define HL_EVALUATION_PAGE_H

#include "evaluation.h"
#include "metric-plots.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HL_EVALUATION_PAGE_LINES 12

typedef struct hl_evaluation_page {
    char title[256];
    char lines[HL_EVALUATION_PAGE_LINES][512];
    const char *line_ptrs[HL_EVALUATION_PAGE_LINES];
    hl_plot_curve curves[2];
    const float *strip_maps[HL_RANDOMIZATION_MAX_STAGES];
    char strip_text[HL_RANDOMIZATION_MAX_STAGES][64];
    const char *strip_labels[HL_RANDOMIZATION_MAX_STAGES];
    hl_metric_plots plots;   /* what to draw; points into this page and e */
} hl_evaluation_page;

/* Fill page from e (which must outlive it): "<method title> on <image>:
 * <label> (<p>%)", the notices, the delta's meaning, one line per number
 * metric with what it measures. label: the class's short name. */
void hl_evaluation_page_build(hl_evaluation_page *page, const hl_evaluation *e,
                              const char *method_title, const char *image_name,
                              const char *label);

/* The line of a number metric ("infidelity 0.0123 (10 Gaussian ...; lower
 * is better)"), or of why it is missing; "" for the other metrics. */
void hl_evaluation_metric_line(const hl_evaluation *e, int bit, char *buf,
                               size_t size);

#ifdef __cplusplus
}
#endif
#endif
