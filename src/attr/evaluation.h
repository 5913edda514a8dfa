/* The evaluation of one map: which trust metrics (trust.h) are run, with
 * which settings, and their results, decided once here for
 * `heatlens-cli evaluate`, `report --evaluate`, `batch --evaluate` and the
 * window's metrics page (docs/trust.md).
 *
 * The one rule this file adds: what the deletion and insertion curves
 * move pixels to (hl_evaluation_curve_baseline). Deletion replaces pixels
 * by the method's own baseline when it has one (that is what the map was
 * computed against), else by zero (the mean colour after normalisation);
 * insertion adds them to a blurred copy (blur:5), as RISE does, since
 * inserting into the zero image scores the colours more than the map.
 *
 * Plain C11, headless; randomness is seeded (the options' seeds). */
#ifndef HL_EVALUATION_H
#define HL_EVALUATION_H

#include "trust.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The metrics, as bits; their names are hl_metric_name(bit). */
enum {
    HL_METRIC_INFIDELITY = 1 << 0,
    HL_METRIC_SENSITIVITY = 1 << 1,
    HL_METRIC_DELETION = 1 << 2,
    HL_METRIC_INSERTION = 1 << 3,
    HL_METRIC_RANDOMIZATION = 1 << 4,
    HL_METRIC_ALL = (1 << 5) - 1,
};
#define HL_METRIC_COUNT 5
#define HL_METRIC_NAMES "infidelity, sensitivity, deletion, insertion, randomization"

/* "deletion" for HL_METRIC_DELETION; NULL for anything but one bit. */
const char *hl_metric_name(int bit);
/* "deletion,insertion" or "all" -> bits; an unknown or empty list is an
 * error naming the valid ones. */
hl_status hl_metrics_parse(const char *list, int *bits, hl_error *err);

typedef struct hl_evaluation_opts {
    int metrics;                    /* HL_METRIC_* bits (all) */
    hl_infidelity_opts infidelity;  /* Captum's defaults (trust.h) */
    hl_sensitivity_opts sensitivity;
    hl_randomization_opts randomization;
    int curve_steps;                /* 50 */
    char deletion_baseline[512];    /* "" = hl_evaluation_curve_baseline's rule */
    char insertion_baseline[512];   /* "" = the rule */
} hl_evaluation_opts;
void hl_evaluation_opts_init(hl_evaluation_opts *o);

/* The baseline spec (as --baseline) of a curve for `method` run with
 * params p: the options' own when set, else the rule above. */
const char *hl_evaluation_curve_baseline(const hl_evaluation_opts *o,
                                         hl_curve_kind kind,
                                         const char *method,
                                         const hl_attr_params *p);

typedef struct hl_evaluation {
    hl_evaluation_opts opts;        /* as run */
    char method[64];
    int target;
    double target_prob;
    hl_notices notices;             /* hl_attr_notices of the method */
    char delta_note[512];           /* hl_attr_delta_note, "" without delta */
    int done;                       /* HL_METRIC_* bits finished */
    double infidelity;              /* NaN when not computed */
    char infidelity_skipped[160];   /* why not, for a layer map */
    double sensitivity;             /* NaN when not computed */
    char curve_baseline[2][512];    /* what deletion / insertion used */
    hl_curve curves[2];             /* deletion, insertion (n = 0: none) */
    hl_randomization random;        /* n = 0: not run */
    int running;                    /* the metric bit being computed (0 = none) */
} hl_evaluation;

void hl_evaluation_init(hl_evaluation *e);
void hl_evaluation_clear(hl_evaluation *e);
/* A deep copy of src as it is now (curves cut to their n_done points when
 * still running); dst must be cleared afterwards. */
hl_status hl_evaluation_copy(hl_evaluation *dst, const hl_evaluation *src,
                             hl_error *err);

/* Optional observer of a running evaluation, called on the computing
 * thread: `fraction` of the whole (0..1) and the evaluation as it stands
 * (a curve with its first n_done points, the randomisation stages done so
 * far, `done` bits). It must not keep pointers into e: copy it
 * (hl_evaluation_copy) to show it elsewhere. */
typedef void (*hl_evaluation_watch)(void *user, double fraction,
                                    const hl_evaluation *e);

/* Run the chosen metrics for the attribution `res` of `method` (params p,
 * as run) on `input`; ctx: threads, pool, cancel (its progress callback is
 * not called; use watch). The target is res->target. On error the message
 * starts with the metric's name ("deletion: ..."); out keeps what was
 * finished before. Clear out with hl_evaluation_clear either way. */
hl_status hl_evaluate(const hl_model *model, const hl_array *input,
                      const char *method, const hl_attr_params *p,
                      const hl_attr_result *res, const hl_attr_context *ctx,
                      const hl_evaluation_opts *o, hl_evaluation_watch watch,
                      void *watch_user, hl_evaluation *out, hl_error *err);

#ifdef __cplusplus
}
#endif
#endif
