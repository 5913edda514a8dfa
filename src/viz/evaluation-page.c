/* The plots page of an evaluation (evaluation-page.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "evaluation-page.h"

void hl_evaluation_metric_line(const hl_evaluation *e, int bit, char *buf,
                               size_t size)
{
    buf[0] = '\0';
    if (!(e->opts.metrics & bit))
        return;
    int done = (e->done & bit) != 0;
    if (bit == HL_METRIC_INFIDELITY) {
        if (!done)
            snprintf(buf, size, "infidelity: measuring");
        else if (isnan(e->infidelity))
            snprintf(buf, size, "infidelity: %s", e->infidelity_skipped);
        else
            snprintf(buf, size,
                     "infidelity %.4g (%d Gaussian perturbations, std %g; lower is better)",
                     e->infidelity, e->opts.infidelity.n_samples, e->opts.infidelity.noise_std);
    } else if (bit == HL_METRIC_SENSITIVITY) {
        if (!done)
            snprintf(buf, size, "sensitivity_max: measuring");
        else
            snprintf(buf, size,
                     "sensitivity_max %.4g (%d uniform perturbations of radius %g; lower is steadier)",
                     e->sensitivity, e->opts.sensitivity.n_samples, e->opts.sensitivity.radius);
    }
}

static void strip(hl_evaluation_page *page, const hl_evaluation *e)
{
    const hl_randomization *r = &e->random;
    for (int s = 0; s < r->n; s++) {
        page->strip_maps[s] = r->maps[s];
        if (s == 0)
            snprintf(page->strip_text[s], sizeof page->strip_text[s], "original");
        else
            snprintf(page->strip_text[s], sizeof page->strip_text[s], "top %d of %d",
                     r->layers[s], r->total_layers);
        page->strip_labels[s] = page->strip_text[s];
    }
    hl_metric_plots *p = &page->plots;
    p->strip_n = r->n;
    p->strip_maps = page->strip_maps;
    p->strip_h = r->h;
    p->strip_w = r->w;
    p->strip_labels = page->strip_labels;
    p->spearman = r->spearman;
    p->ssim = r->ssim;
    /* only a finished check is flagged or passed */
    p->flagged = (e->done & HL_METRIC_RANDOMIZATION) && r->flagged;
}

void hl_evaluation_page_build(hl_evaluation_page *page, const hl_evaluation *e,
                              const char *method_title, const char *image_name,
                              const char *label)
{
    memset(page, 0, sizeof *page);
    snprintf(page->title, sizeof page->title, "%s on %s: %s (%.1f%%)", method_title,
             image_name ? image_name : "input", label ? label : "", 100.0 * e->target_prob);
    int n = 0;
    const int max = HL_EVALUATION_PAGE_LINES - 2;
    for (int i = 0; i < e->notices.n && n < max; i++)
        snprintf(page->lines[n++], sizeof page->lines[0], "Notice: %s", e->notices.line[i]);
    if (e->delta_note[0] && n < max)
        snprintf(page->lines[n++], sizeof page->lines[0], "%s", e->delta_note);
    static const int numbers[] = { HL_METRIC_INFIDELITY, HL_METRIC_SENSITIVITY };
    for (int i = 0; i < 2 && n < max; i++) {
        hl_evaluation_metric_line(e, numbers[i], page->lines[n], sizeof page->lines[0]);
        n += page->lines[n][0] != '\0';
    }
    for (int i = 0; i < n; i++)
        page->line_ptrs[i] = page->lines[i];
    page->plots = (hl_metric_plots){ .title = page->title, .lines = page->line_ptrs,
                                     .n_lines = n };
    int nc = 0;
    for (int k = 0; k < 2; k++) {
        const hl_curve *c = &e->curves[k];
        int points = c->n_done < c->n ? c->n_done : c->n;
        if (points > 0)
            page->curves[nc++] = (hl_plot_curve){ k ? "insertion" : "deletion",
                c->fraction, c->prob, points, points == c->n ? c->auc : NAN };
    }
    page->plots.curves = page->curves;
    page->plots.n_curves = nc;
    strip(page, e);
}
