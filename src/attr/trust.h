/* How far to trust an attribution map: notices, the meaning of the
 * convergence delta, faithfulness metrics and the model-randomisation
 * sanity check (see docs/trust.md).
 *
 * notices.c  when a method reduces to a simpler one on the loaded graph
 *            (Guided Backprop without ReLU = the gradient, DeepLift without
 *            a nonlinearity its rescale rule handles = Input x Gradient),
 *            and the convergence delta relative to F(x) - F(baseline);
 * metrics.c  Captum's infidelity and sensitivity_max (number for number);
 * curves.c   deletion and insertion curves (Petsiuk et al., RISE, 2018);
 * sanity.c   cascading model randomisation (Adebayo et al., NeurIPS 2018)
 *            with Spearman rank correlation and SSIM (similarity.c).
 * Plain C11; every function is headless and seeded where random.
 */
#ifndef HL_TRUST_H
#define HL_TRUST_H

#include "attr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- notices */

#define HL_NOTICES_MAX 4
typedef struct hl_notices {
    int n;
    char line[HL_NOTICES_MAX][448];  /* the full sentence */
    char brief[HL_NOTICES_MAX][96];  /* under a picture: "= the plain gradient (no ReLU)" */
    /* the parameter setting that lifts it, as "name=value" for
     * hl_param_set ("relu-family=true"), or "" when none does */
    char offer[HL_NOTICES_MAX][48];
} hl_notices;

/* The notices for `method` on `model` (p: its parameters, may be NULL; the
 * layer of neuron methods limits the search to the nodes before it); with
 * the result r (may be NULL), also what its map says (zero everywhere). */
void hl_attr_notices(const hl_model *model, const char *method,
                     const hl_attr_params *p, const hl_attr_result *r,
                     hl_notices *out);

/* |delta| / |F(x) - F(baseline)| of a result with a delta (NaN when it has
 * none or F(x) = F(baseline)). */
double hl_attr_delta_relative(const hl_attr_result *r);
/* Relative delta above which the hint is given (5%). */
#define HL_DELTA_LARGE 0.05
/* One line: the delta, what it is relative to and, when large, what to
 * raise ("raise --n-steps"). Returns 1 when the delta is large, 0 when not,
 * -1 (empty line) when the result has no delta. */
int hl_attr_delta_note(const char *method, const hl_attr_result *r,
                       char *buf, size_t size);

/* ------------------------------------------------------------- metrics */

/* What every metric needs: the model, the input [1,C,H,W], the class
 * (resolved, >= 0) and the attribution context (threads, cancel). */
typedef struct hl_metric_input {
    const hl_model *model;
    const hl_array *input;
    int target;
    const hl_attr_context *ctx;  /* may be NULL */
} hl_metric_input;

/* captum.metrics.infidelity with perturb(x) = (noise_k, x - noise_k):
 * mean_k (sum(attr * noise_k) - (F(x) - F(x - noise_k)))^2, F = target
 * logit; with normalize, attr is scaled first by the beta minimising it.
 * noise: [n_samples x numel] or NULL = Gaussian N(0, noise_std^2) drawn
 * from `seed`. attr must have the input's element count. */
typedef struct hl_infidelity_opts {
    int n_samples;      /* 10 (Captum's default n_perturb_samples) */
    double noise_std;   /* 0.003 (Captum's documented perturb example) */
    int normalize;      /* 0 */
    uint64_t seed;
    const float *noise; /* replay (tests), else NULL */
} hl_infidelity_opts;
void hl_infidelity_opts_init(hl_infidelity_opts *o);
hl_status hl_metric_infidelity(const hl_metric_input *in, const hl_array *attr,
                               const hl_infidelity_opts *o, double *value,
                               hl_error *err);

/* captum.metrics.sensitivity_max (Frobenius norm): max over k of
 * |expl(x + noise_k) - expl(x)| / |expl(x)|, expl = hl_attribute(method,
 * params with target = in->target). noise: [n_samples x numel] or NULL =
 * uniform in (-radius, radius) drawn from `seed`. */
typedef struct hl_sensitivity_opts {
    int n_samples;      /* 10 */
    double radius;      /* 0.02 */
    uint64_t seed;
    const float *noise;
} hl_sensitivity_opts;
void hl_sensitivity_opts_init(hl_sensitivity_opts *o);
hl_status hl_metric_sensitivity_max(const hl_metric_input *in,
                                    const char *method,
                                    const hl_attr_params *params,
                                    const hl_sensitivity_opts *o,
                                    double *value, hl_error *err);

/* ------------------------------------------------------------- curves */

typedef enum { HL_CURVE_DELETION = 0, HL_CURVE_INSERTION } hl_curve_kind;

/* Deletion: pixels (H x W positions, all channels at once) go from the
 * input to `baseline` in decreasing order of the attribution (laid on the
 * input grid by hl_attr_on_input_grid, then summed over channels);
 * insertion: from the baseline to the input in the same order. The target
 * probability (hl_class_probabilities) is measured after each of n_steps equal steps, so
 * curve has n_steps + 1 points at fractions 0, 1/n, ..., 1; auc is the
 * trapezoid area over the fraction. Ties keep the pixel order (stable). */
typedef struct hl_curve {
    hl_curve_kind kind;
    int n;              /* points */
    int n_done;         /* points measured so far (= n once finished; a
                           progress callback may read the first n_done) */
    double *fraction;   /* [n] */
    double *prob;       /* [n] */
    double auc;
} hl_curve;
void hl_curve_clear(hl_curve *c);
hl_status hl_metric_curve(const hl_metric_input *in, const hl_array *attr,
                          const hl_array *baseline, hl_curve_kind kind,
                          int n_steps, hl_curve *out, hl_error *err);
/* The baseline of a curve from a spec (as --baseline: "zero", "blur:5",
 * "black", FILE.npy ...) for `in`. */
hl_status hl_metric_curve_baseline(const hl_metric_input *in, const char *spec,
                                   hl_array **out, hl_error *err);

/* --------------------------------------------------- similarity (maps) */

/* Spearman rank correlation of two arrays (average ranks for ties; NaN
 * when one is constant). */
double hl_spearman(const float *a, const float *b, int64_t n);
/* SSIM of two h x w maps as skimage.metrics.structural_similarity with its
 * defaults (7x7 uniform window, K1 0.01, K2 0.03, sample covariance, mean
 * over the windows inside the map) and the given data range. */
double hl_ssim(const float *a, const float *b, int h, int w, double range);
/* The per-pixel magnitude of a map the sanity check compares: sum over
 * channels of |attr|, as h x w (map [1,C,h,w] or [C,h,w]); malloc'd. */
float *hl_map_magnitude(const hl_array *attr, int *h, int *w);

/* ------------------------------------------------- randomisation check */

/* A map of the model on the input (the method, or any function in tests). */
typedef hl_status (*hl_map_fn)(const hl_model *model, const hl_array *input,
                               void *user, hl_array **map, hl_error *err);

typedef struct hl_randomization_opts {
    int stages;          /* 6: cuts from the top layer down */
    uint64_t seed;
    double flag_below;   /* 0.5: flagged when the last stage's Spearman >= it */
} hl_randomization_opts;
void hl_randomization_opts_init(hl_randomization_opts *o);

#define HL_RANDOMIZATION_MAX_STAGES 64
typedef struct hl_randomization {
    int n;                          /* stages incl. stage 0 (the original) */
    int layers[HL_RANDOMIZATION_MAX_STAGES]; /* weighted layers randomised */
    char top_layer[HL_RANDOMIZATION_MAX_STAGES][96]; /* lowest one reached */
    double spearman[HL_RANDOMIZATION_MAX_STAGES];
    double ssim[HL_RANDOMIZATION_MAX_STAGES];
    float *maps[HL_RANDOMIZATION_MAX_STAGES]; /* magnitudes, h x w each */
    int h, w;
    int total_layers;
    int flagged;         /* the map did not change with the weights */
} hl_randomization;
void hl_randomization_clear(hl_randomization *r);

/* Cascading randomisation: stage s re-initialises the top
 * round(s * L / (stages - 1)) of the L weighted layers (seeded), the map is
 * recomputed and compared (magnitudes) with the original's. */
hl_status hl_sanity_randomization_fn(const hl_model *model,
                                     const hl_array *input, hl_map_fn fn,
                                     void *user,
                                     const hl_randomization_opts *o,
                                     const hl_attr_context *ctx,
                                     hl_randomization *out, hl_error *err);
/* The same for an attribution method (the target stays the original
 * model's class: params->target must be resolved, >= 0). */
hl_status hl_sanity_randomization(const hl_model *model, const hl_array *input,
                                  const char *method,
                                  const hl_attr_params *params,
                                  const hl_attr_context *ctx,
                                  const hl_randomization_opts *o,
                                  hl_randomization *out, hl_error *err);

#ifdef __cplusplus
}
#endif
#endif
