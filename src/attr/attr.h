/* Attribution methods (Captum's algorithms) on the engine API.
 *
 * One entry point, hl_attribute(), takes a method name and an
 * hl_attr_params struct; a table of parameter descriptors (hl_param_desc)
 * lets the CLI parse "--n-steps 200" and the window build its parameter
 * panel without knowing each method. One file per method family:
 * gradient.c (saliency, input_x_gradient, guided_backprop, deconvolution),
 * path.c (integrated_gradients), deeplift.c, layer.c (layer_* and
 * guided_grad_cam), neuron.c, perturbation.c (occlusion, feature_ablation,
 * shapley_value_sampling), surrogate.c (lime, kernel_shap), shap.c
 * (gradient_shap, deep_lift_shap), noise_tunnel.c, baseline.c,
 * feature_mask.c, method.c (registry + dispatch), params.c (descriptors);
 * layer_shap.c (internal_influence, layer_gradient_shap,
 * layer_deep_lift_shap), neuron_shap.c (neuron_deep_lift[_shap],
 * neuron_gradient_shap), layer_ablation.c (layer_/neuron_feature_ablation),
 * shapley_exact.c (shapley_values), cam.c (grad_cam_plus_plus, xgrad_cam,
 * score_cam), rise.c, blur_ig.c, guided_ig.c, lrp.c (lrp, layer_lrp).
 */
#ifndef HL_ATTR_H
#define HL_ATTR_H

#include <stdint.h>
#include "../engine/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------- parameters */

typedef enum {
    HL_IG_GAUSSLEGENDRE = 0,
    HL_IG_RIEMANN_LEFT,
    HL_IG_RIEMANN_RIGHT,
    HL_IG_RIEMANN_MIDDLE,
    HL_IG_RIEMANN_TRAPEZOID,
} hl_ig_method;

typedef enum {
    HL_NT_NONE = 0, HL_NT_SMOOTHGRAD, HL_NT_SMOOTHGRAD_SQ, HL_NT_VARGRAD,
} hl_noise_tunnel;

typedef enum { HL_INTERP_NONE = 0, HL_INTERP_NEAREST, HL_INTERP_BILINEAR } hl_interp;

/* Every parameter of every method, with Captum's defaults from
 * hl_attr_params_init(). Plain data (fixed-size strings) so it can be
 * copied, compared and used as a cache key; init memsets it first. */
typedef struct hl_attr_params {
    int target;                 /* class index; -1 = top-1 ("auto") */
    char layer[256];            /* node or value name for layer/neuron methods */
    int neuron[3];              /* C,H,W index into the layer (neuron_*) */
    int has_neuron;

    /* Baseline spec: "zero" | number | "black" | "white" | "blur:SIGMA" |
     * "uniform" | FILE.npy. black/white/blur need the preprocessing, given
     * through hl_attr_context (mean/std). */
    char baseline[512];

    int n_steps;                /* IG, conductance: 50 */
    hl_ig_method ig_method;     /* gausslegendre */
    int internal_batch_size;    /* 0 = all steps in one batch */
    int saliency_abs;           /* 1 */
    int relu_attributions;      /* GradCAM: 0 */
    int relu_family;            /* guided, deconvolution and DeepLift rules
                                   at every ReLU-family activation
                                   (HL_RULE_RELU_FAMILY): 0 */
    int attribute_to_layer_input; /* 0 */
    hl_interp interpolate;      /* layer maps: none (keep layer shape) */

    int strides[3];             /* occlusion C,H,W: 3,8,8 */
    int window[3];              /* occlusion sliding_window_shapes: 3,15,15 */
    int perturbations_per_eval; /* 16 */
    char feature_mask[512];     /* "grid:N" | "cells:N" | "slic:K" | FILE.npy;
                                   grid:16 (shapley_values: cells:3) */
    char layer_mask[512];       /* layer_feature_ablation: "units" (every
                                   element its own feature, Captum's
                                   default) | "channels" | FILE.npy of ids
                                   broadcast to the layer; units */
    int n_samples;              /* shapley 25, lime/kernel_shap 200... */
    float stdevs;               /* gradient_shap 0.0, noise tunnel 1.0 */
    char baselines_npy[512];    /* gradient_shap / deep_lift_shap set */

    hl_noise_tunnel noise_tunnel; /* wraps gradient methods */
    int nt_samples;             /* 5 (Captum's default) */
    float nt_stdevs;            /* 1.0 */

    uint64_t seed;              /* every random choice; default 0x5eed */

    int n_masks;                /* rise: random masks, 2000 */
    int mask_cells;             /* rise: grid cells per side, 7 */
    float mask_prob;            /* rise: probability a cell is kept, 0.5 */
    float max_sigma;            /* blur_ig: largest blur, 50 pixels */

    /* lrp, layer_lrp: the rule per layer class, "epsilon[:E]" |
     * "gamma[:G]" | "alpha1beta0" | "z+" | "identity" | "none" (Captum's
     * defaults: epsilon 1e-9 on conv, linear, pool, batchnorm; none on
     * other ops, which are then refused) */
    char lrp_conv[32], lrp_linear[32], lrp_pool[32], lrp_batchnorm[32];
    char lrp_other[32];
} hl_attr_params;

void hl_attr_params_init(hl_attr_params *p);
/* hl_attr_params_init, then the defaults one method has of its own
 * (hl_method_param_default): what the CLI, its help and the window's
 * panel start from for that method. */
void hl_attr_params_init_for_method(hl_attr_params *p, const char *method);
/* The method changes from `from` to `to` (the window's panel): each
 * parameter still at from's default takes to's; a value the user chose
 * stays. */
void hl_attr_params_switch_method(hl_attr_params *p, const char *from,
                                  const char *to);

/* An estimate of the final attribution, reported between batches by every
 * method that loops (path methods, perturbation, sampling, surrogate, noise
 * tunnel) when hl_attr_context.intermediate is set. Each is a valid
 * estimate of the same quantity as the final result, in the same shape and
 * space (hl_attr_result.attr): path methods visit quadrature points in a
 * nested coarse-to-fine order (Gauss-Legendre: a small rule first),
 * occlusion and feature ablation perturb a coarse subset first (pixels not
 * reached yet take the nearest reached pixel's value), sampling methods
 * report their running estimate. The last one reported (done == total) is
 * bit for bit the result the call returns. */
typedef struct hl_attr_partial {
    const hl_array *attr;  /* valid during the callback only */
    int is_layer;          /* as hl_attr_result.is_layer */
    int target;            /* the class explained */
    int done, total;       /* units of work done / of the whole call */
    const char *unit;      /* "steps", "windows", "features", "samples" */
    int has_delta;
    double delta;          /* convergence delta of this estimate */
} hl_attr_partial;

/* What the caller knows about the input beyond the model (for baselines
 * that live in pixel space and for superpixel masks). */
typedef struct hl_attr_context {
    const float *mean;          /* per-channel normalisation, NULL = none */
    const float *std;
    float pixel_scale;          /* model input = (pixel*scale - mean)/std;
                                   pixel in 0..255 ; e.g. 1/255 */
    /* The unnormalised model-input image as [C,H,W] floats in 0..1 (for
     * slic:K); NULL if unknown (then SLIC runs on the input tensor). */
    const float *image01;
    /* Progress and cancellation, polled between batches. */
    void (*progress)(void *user, double fraction);
    void *progress_user;
    /* Optional: intermediate estimates (hl_attr_partial), same user. The
     * final result does not depend on whether this is set (within 1e-6
     * relative L2; Gauss-Legendre rules then spend a few extra steps on
     * the small first rule). */
    void (*intermediate)(void *user, const hl_attr_partial *estimate);
    const volatile int *cancel; /* non-zero = stop with HL_ERR_CANCELLED */
    int threads;                /* engine threads, <= 0 = all */
    /* A pool the caller keeps for all its calls (the window's worker): the
     * method's runs share it (hl_run_new_shared) instead of each starting
     * threads of its own. NULL = runs make their own (`threads`). Calls
     * sharing a pool must not run at the same time. */
    hl_threadpool *threadpool;
} hl_attr_context;

/* A run for a method under `ctx`: on its shared pool, else its own. */
hl_run *hl_attr_run_new(const hl_model *m, const hl_attr_context *ctx);

/* ------------------------------------------------------------ results */

typedef struct hl_attr_result {
    hl_array *attr;        /* [1,C,H,W] for input methods; the layer's shape
                              (or [1,1,H,W] after interpolate) otherwise */
    int target;            /* the class actually explained */
    float target_logit;    /* F(x)[target] */
    float target_prob;     /* softmax(F(x))[target] */
    int has_delta;
    double delta;          /* convergence delta (IG, DeepLift, ...) */
    double delta_reference; /* what the attributions should sum to:
                              F(x) - F(baseline) (trust.h) */
    double seconds;
    int is_layer;          /* attr is in layer space (no interpolate) */
} hl_attr_result;

void hl_attr_result_clear(hl_attr_result *r);

/* ------------------------------------------------------------ requests */

struct hl_method_desc;

/* A request as pure data: the method, its parameters with the policy
 * applied (the default layer filled in, hl_default_layer) and the contents
 * of the files the parameters name, read and checked against the model
 * input before any compute. Methods never open files. Build it with
 * hl_attr_request_prepare (the CLI, the report and the window's worker all
 * do), free it with hl_attr_request_clear. */
typedef struct hl_attr_request {
    const struct hl_method_desc *method;
    hl_attr_params params;
    hl_array *baseline;        /* params.baseline = FILE.npy: its values */
    hl_array *baselines;       /* params.baselines_npy: [K,C,H,W] */
    int64_t *mask_ids;         /* params.feature_mask = FILE.npy: the ids */
    hl_shape mask_shape;       /* of mask_ids */
    int64_t *layer_mask_ids;   /* params.layer_mask = FILE.npy: the ids */
    hl_shape layer_mask_shape; /* of layer_mask_ids */
} hl_attr_request;

/* Look the method up, apply the default layer when a layer or neuron
 * method has none, read and check the files. params NULL = Captum's
 * defaults. On error r is left empty (clear is still safe). */
hl_status hl_attr_request_prepare(hl_attr_request *r, const hl_model *model,
                                  const char *method,
                                  const hl_attr_params *params, hl_error *err);
void hl_attr_request_clear(hl_attr_request *r);
/* Before a run: one line (to stderr, a status bar) when the request ablates
 * so many features one by one that it takes minutes (layer_feature_ablation
 * with every unit of a large layer its own feature): how many, and the
 * quicker choice (--layer-mask channels). Returns 1 when a line was
 * written, 0 (buf empty) when the request is quick enough. */
#define HL_ATTR_MANY_FEATURES 4096
int hl_attr_request_cost_note(const hl_attr_request *r, const hl_model *model,
                              char *buf, size_t size);
/* Deep copy (dst is overwritten, not cleared first). */
hl_status hl_attr_request_copy(hl_attr_request *dst, const hl_attr_request *src,
                               hl_error *err);
/* Content identity: the method, the parameters it uses and the contents of
 * its files, never their paths (a file rewritten under the same name is a
 * new request; the same array under two names is one). */
uint64_t hl_attr_request_hash(const hl_attr_request *r);
int hl_attr_request_equal(const hl_attr_request *a, const hl_attr_request *b);
/* "method|target=auto|layer=...|baseline=file" plus "|files=HASH" when
 * files are carried: a text key for caches (unique by content). */
void hl_attr_request_key(const hl_attr_request *r, char *buf, size_t size);

/* Run a prepared request on `input` ([1,C,H,W], model-input space). */
hl_status hl_attribute_request(const hl_model *model, const hl_attr_request *r,
                               const hl_array *input,
                               const hl_attr_context *ctx,
                               hl_attr_result *out, hl_error *err);

/* hl_attr_request_prepare + hl_attribute_request in one call. */
hl_status hl_attribute(const hl_model *model, const char *method,
                       const hl_array *input, const hl_attr_params *params,
                       const hl_attr_context *ctx, hl_attr_result *out,
                       hl_error *err);

/* ------------------------------------------------------------ policy */

/* What a classifier's output holds, decided once from the graph
 * (classify.c): the node producing the output (looking through Reshape,
 * Flatten, Squeeze, Unsqueeze) is Softmax -> probabilities, LogSoftmax ->
 * log-probabilities, anything else -> logits. */
typedef enum {
    HL_OUTPUT_LOGITS = 0, HL_OUTPUT_PROBABILITIES, HL_OUTPUT_LOG_PROBABILITIES,
} hl_output_kind;

hl_output_kind hl_model_output_kind(const hl_model *m);
const char *hl_output_kind_name(hl_output_kind kind);
/* HL_OK when the n values are finite; else HL_ERR_ARG with one line
 * "<model>: <what> is NaN for this input (weight W of node X contains
 * NaN)", or that the weights are finite and a value overflowed. The one
 * finiteness rule for outputs, probabilities and attributions. */
hl_status hl_check_finite(const hl_model *m, const float *v, int64_t n,
                          const char *what, hl_error *err);
/* Class probabilities of the n outputs `out` of m by that rule (softmax
 * in double of logits, exp of log-probabilities, probabilities as they
 * are). A NaN or Inf output is HL_ERR_ARG naming the model. */
hl_status hl_class_probabilities(const hl_model *m, const float *out, int n,
                                 double *prob, hl_error *err);
/* Indices of the k largest of prob[n], best first (ties: lower index). */
void hl_top_k(const double *prob, int n, int k, int *order);

/* How a layer map is laid over the input everywhere (the CLI's pictures,
 * the report, the window's default --interpolate): Captum's
 * LayerAttribution.interpolate default, nearest. */
#define HL_ATTR_DISPLAY_INTERP HL_INTERP_NEAREST

/* attr on the input's in_h x in_w grid: a copy when it already is, else
 * every map upsampled with HL_ATTR_DISPLAY_INTERP. NULL when out of memory
 * or not spatial. */
hl_array *hl_attr_on_input_grid(const hl_array *attr, int in_h, int in_w);

/* The layer a layer or neuron method explains when none is named
 * (default_layer.c): the last main-path block output (activation, or
 * residual merge not followed by one) of at least 7x7 finer than the final
 * feature map. Writes the node name. */
hl_status hl_default_layer(const hl_model *m, char *name, size_t size,
                           hl_error *err);

/* The channel of `layer` ([1,C,H,W]) that fires most at cell (h, w) for
 * input (default_neuron.c); a clipped activation tied at the layer's
 * maximum (ReLU6 at 6: zero gradient) is passed over. */
hl_status hl_strongest_channel(const hl_model *m, const hl_array *input,
                               const char *layer, int h, int w, int *channel,
                               float *activation, hl_error *err);
/* The neuron a neuron method explains when none is named: the centre cell
 * of the layer's grid, its strongest channel. */
hl_status hl_default_neuron(const hl_model *m, const hl_array *input,
                            const char *layer, int neuron[3], hl_error *err);

/* ------------------------------------------------------------ registry */

typedef enum {
    HL_GROUP_GRADIENT, HL_GROUP_PATH, HL_GROUP_PERTURBATION,
    HL_GROUP_LAYER, HL_GROUP_NEURON,
} hl_method_group;

typedef enum {
    HL_PARAM_INT, HL_PARAM_FLOAT, HL_PARAM_BOOL, HL_PARAM_STRING,
    HL_PARAM_ENUM, HL_PARAM_INT3, HL_PARAM_LAYER, HL_PARAM_U64,
} hl_param_type;

/* One user-settable parameter: CLI flag "--name", GUI widget. */
typedef struct hl_param_desc {
    const char *name;          /* "n-steps" */
    hl_param_type type;
    size_t offset;             /* offsetof(hl_attr_params, field) */
    double min, max;           /* for INT/FLOAT/INT3 */
    const char *const *choices;/* NULL-terminated, for ENUM (index = value) */
    const char *help;          /* one line */
} hl_param_desc;

typedef struct hl_method_desc {
    const char *name;          /* Captum name in snake_case */
    const char *title;         /* "Integrated Gradients" */
    hl_method_group group;
    const char *description;   /* one line */
    const char *const *params; /* NULL-terminated param names it uses */
    int needs_layer;           /* layer_* / neuron_* / guided_grad_cam */
    int needs_neuron;
    int has_delta;
    int stochastic;
} hl_method_desc;

int hl_method_count(void);
const hl_method_desc *hl_method_get(int index);
const hl_method_desc *hl_method_find(const char *name);
/* "saliency, input_x_gradient, ..." for error messages. */
const char *hl_method_names(void);
/* The default of parameter `param` that method `method` has of its own,
 * as a CLI value ("cells:3" for shapley_values' feature-mask), or NULL
 * when it takes hl_attr_params_init's. */
const char *hl_method_param_default(const char *method, const char *param);

int hl_param_count(void);
const hl_param_desc *hl_param_get(int index);
const hl_param_desc *hl_param_find(const char *name);
/* Captum's default number of samples of a method, what n_samples = 0
 * stands for (0: the method takes no samples). */
int hl_param_n_samples_default(const char *method);
/* The words a special value stands for, shown in place of the number
 * (window): n-samples 0 -> "default (5)" for gradient_shap, internal-batch-
 * size 0 -> "automatic", an empty baselines (value 0) -> "none: the one
 * Baseline"; NULL for an ordinary value. Written into buf. */
const char *hl_param_value_name(const char *method, const hl_param_desc *d,
                                double value, char *buf, size_t size);
/* Parse a textual value ("200", "3,8,8", "true", "riemann_left") into p. */
hl_status hl_param_set(hl_attr_params *p, const hl_param_desc *d,
                       const char *value, hl_error *err);
/* Format the current value of d in p (for reports/metadata). */
void hl_param_format(const hl_attr_params *p, const hl_param_desc *d,
                     char *buf, size_t size);

const char *hl_group_name(hl_method_group g);

#ifdef __cplusplus
}
#endif
#endif
