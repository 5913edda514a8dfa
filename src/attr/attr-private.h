/* Shared internals of the attribution methods (not for the CLI/GUI).
 *
 * Every method is an hl_method_fn registered in method.c. The dispatcher
 * (hl_attribute) resolves the target, creates one engine run and the seeded
 * generator, times the call, and fills target/logit/probability. Methods use
 * the helpers below (common.c, baseline.c, rng.c) instead of re-writing
 * batching, progress and cancellation.
 */
#ifndef HL_ATTR_PRIVATE_H
#define HL_ATTR_PRIVATE_H

#include "attr.h"
#include "rng.h"

typedef struct hl_attr_call {
    const hl_model *model;
    const hl_array *input;          /* [1,C,H,W] */
    const hl_attr_params *p;        /* = &req->params */
    const hl_attr_request *req;     /* the files' contents */
    const hl_attr_context *ctx;     /* never NULL (dispatcher supplies one) */
    int target;                     /* resolved class index */
    hl_run *run;                    /* a run the method may use freely */
    hl_rng *rng;                    /* seeded from p->seed */
    int output_value;               /* hl_model_output_value(model) */
    int input_value;
    /* Run memory of one batch row, measured on the first (batch-1)
     * forward of a lean run; 0 = unknown (estimated from the shapes). */
    int64_t row_bytes;
    /* The forward of the call's input done by the dispatcher (to resolve
     * the target): which input and the run's hl_run_forward_serial after
     * it, so the method's own forward of that input can be skipped. */
    const hl_array *forwarded_input;
    long forwarded_serial;
} hl_attr_call;

typedef hl_status (*hl_method_fn)(hl_attr_call *c, hl_attr_result *out,
                                  hl_error *err);

/* -------------------------------------------------- common.c helpers */

/* Report fraction done (0..1) and check the cancel flag: returns
 * HL_ERR_CANCELLED (with a message) when raised. */
hl_status hl_attr_tick(hl_attr_call *c, double fraction, hl_error *err);

/* Forward `batch` inputs (each of the input's shape) and backward from the
 * target logit (seed one-hot on c->target for every batch row) with `rule`.
 * grad (batch x input numel) and logits_target (batch) are optional outputs.
 * reference: see hl_run_backward (DeepLift). Uses c->run. */
hl_status hl_attr_target_grad(hl_attr_call *c, const float *inputs, int batch,
                              hl_backward_rule rule, hl_run *reference,
                              float *grad, float *logits_target,
                              hl_error *err);

/* Forward the call's input (c->input, batch 1), unless the run still holds
 * exactly that forward: the dispatcher's forward then serves the method
 * too, and saliency costs one forward and one backward, as in Captum. */
hl_status hl_attr_forward_input(hl_attr_call *c, hl_error *err);

/* Forward only, returning the target logit of each of `batch` inputs.
 * Splits into chunks of at most max_batch (<= 0: no limit). */
hl_status hl_attr_target_logits(hl_attr_call *c, const float *inputs,
                                int batch, int max_batch, float *logits_target,
                                hl_error *err);

/* Layer value id from c->p->layer (node or value name), or an error
 * listing a few valid names. */
hl_status hl_attr_find_layer(hl_attr_call *c, int *value, hl_error *err);

/* ------------------------------------------------- partial.c */

/* Does the caller want intermediate results (ctx->intermediate)? */
int hl_attr_partial_wanted(const hl_attr_call *c);
/* Report attr as the estimate after `done` of `total` units. */
void hl_attr_emit(hl_attr_call *c, const hl_array *attr, int is_layer,
                  int done, int total, const char *unit, int has_delta,
                  double delta);
/* dst[i] = (float)(sum[i] / div), times (x[i] - b[i]) in double when x is
 * given; returns the sum of dst. Final results and intermediates both use
 * it, so the last intermediate is the result bit for bit. */
double hl_attr_sums_to_map(const double *sum, double div, const float *x,
                           const float *b, int64_t numel, float *dst);
/* hl_attr_sums_to_map into an input-shaped array, reported with delta =
 * sum(map) - change when has_delta. No-op unless wanted. */
hl_status hl_attr_emit_sums(hl_attr_call *c, const double *sum, double div,
                            const float *x, const float *b, int done,
                            int total, const char *unit, int has_delta,
                            double change, hl_error *err);
/* A layer-space map reported as hl_attr_store_layer_map would store it. */
hl_status hl_attr_emit_layer(hl_attr_call *c, const float *map,
                             const hl_shape *shape, int done, int total,
                             const char *unit, int has_delta, double delta,
                             hl_error *err);
/* Dyadic coarse-to-fine levels of positions 0..count-1: level L holds the
 * multiples of 2^L, the first and last position are in the coarsest
 * level (hl_attr_coarse_levels, keeping >= `keep` multiples: 4 for path
 * points, 2 (plus the last) for grids of windows). */
int hl_attr_coarse_levels(int count, int keep);
int hl_attr_coarse_level(int pos, int count, int levels);
/* 0..n-1 coarsest level first (multiples of 2^L, without the special
 * last point), ascending within a level; *first = size of the coarsest
 * level (a prefix that is itself a coarser grid). */
hl_status hl_attr_nested_order(int n, int *order, int *first, hl_error *err);
/* The same for n items at grid cells (gy[i], gx[i]) of a rows x cols grid:
 * an item's level is the lower of its row's and column's. */
hl_status hl_attr_grid_order(int n, const int *gy, const int *gx, int rows,
                             int cols, int *order, int *first, hl_error *err);
/* planes of h x w values: those with have[i] == 0 take the value of the
 * nearest set one along the row (rows without any: along the column). */
hl_status hl_attr_fill_nearest(float *v, const unsigned char *have, int planes,
                               int h, int w, hl_error *err);
/* The next batch of a loop over n items at `done`: at most chunk, never
 * straddling the end of the coarsest level (`first`), so the first
 * estimate comes as soon as the coarse level is done. */
int hl_attr_batch_size(int done, int n, int chunk, int first);
/* Should a loop report its estimate after `done` of `total` units? Yes
 * at the end of the coarse level (`first`), then about HL_ATTR_EMITS times
 * over the call (*next, start it at 0), and always at the end: methods
 * with thousands of small batches report a bounded number of pictures. */
#define HL_ATTR_EMITS 24
int hl_attr_emit_due(int done, int total, int first, int *next);
/* Feature groups coarse to fine: each group's centroid on a G x G grid
 * (G = ceil(sqrt(F))) of the H x W planes, ordered by hl_attr_grid_order. */
struct hl_feature_mask;
hl_status hl_attr_feature_order(const struct hl_feature_mask *m, int64_t H,
                                int64_t W, int *order, int *first, hl_error *err);

/* ------------------------------------------------- baseline.c */

/* Build a baseline of the input's shape from a spec (see hl_attr_params
 * baseline); "zero" when spec is NULL or empty. */
hl_status hl_attr_make_baseline(hl_attr_call *c, const char *spec,
                                hl_array **out, hl_error *err);


/* ---- gradient, path, DeepLift, layer and neuron methods; helpers ---- */

/* gradient.c */
hl_status hl_method_saliency(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_input_x_gradient(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_guided_backprop(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_deconvolution(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* path.c */
hl_status hl_method_integrated_gradients(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* deeplift.c */
hl_status hl_method_deep_lift(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* layer.c */
hl_status hl_method_layer_grad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_guided_grad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_activation(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_gradient_x_activation(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_conductance(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_integrated_gradients(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_deep_lift(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* neuron.c */
hl_status hl_method_neuron_gradient(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_integrated_gradients(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_conductance(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_guided_backprop(hl_attr_call *c, hl_attr_result *out, hl_error *err);

/* quadrature.c: IG step positions (alphas) and weights (step sizes) of
 * Captum's approximation methods, n points. Riemann rules need n > 1. */
hl_status hl_attr_quadrature(hl_ig_method method, int n, double *alphas,
                             double *weights, hl_error *err);
/* Legendre-Gauss nodes (ascending) and weights on [-1, 1], like numpy's
 * leggauss. */
void hl_attr_leggauss(int n, double *nodes, double *weights);

/* interpolate.c: LayerAttribution.interpolate (PyTorch F.interpolate,
 * nearest: src = floor(dst * in / out); bilinear: align_corners=False) of
 * n*c maps of ih x iw into oh x ow. */
void hl_attr_interpolate(const float *src, int maps, int ih, int iw,
                         float *dst, int oh, int ow, hl_interp mode);
/* Store a layer-space map (layer shape) in out->attr, upsampled to the
 * input's H x W when c->p->interpolate is set (4-D layers only). */
hl_status hl_attr_store_layer_map(hl_attr_call *c, const float *map,
                                  const hl_shape *shape, hl_attr_result *out,
                                  hl_error *err);

/* common.c */
int64_t hl_attr_input_numel(const hl_attr_call *c); /* per batch row */
/* Steps per engine batch for path methods: p->internal_batch_size, or an
 * automatic size bounding the memory when it is 0. */
int hl_attr_step_batch(const hl_attr_call *c, int n_steps);
/* Perturbed inputs per engine forward: p->perturbations_per_eval, capped
 * by the same memory bound (about 256 MB of run per batch). Only speed
 * and memory depend on it, never the result. */
int hl_attr_eval_batch(const hl_attr_call *c);
/* Rows of `row_bytes` each that fit the automatic memory budget beside
 * `fixed_bytes` kept for the whole call (>= 1). */
int hl_attr_rows_within_budget(int64_t fixed_bytes, int64_t row_bytes);

/* boxed.c: target logits of inputs that differ from c->input only inside
 * a box, by the engine's exact incremental forward when the model allows
 * it (plain forwards otherwise). rows: inputs per engine call, the
 * perturbations per eval within the memory budget, sized with `typical`,
 * a box of the usual size. */
typedef struct hl_attr_boxed {
    hl_incremental *inc;    /* NULL: plain forwards on c->run */
    int value;              /* where the rows start: -1 the input, else a
                               4-D value (hl_incremental_forward_from) */
    int64_t row_floats;     /* floats of one row */
    int rows;
    int64_t classes;
    float *out;             /* [rows, classes] */
} hl_attr_boxed;
hl_status hl_attr_boxed_new(hl_attr_call *c, hl_attr_boxed *b,
                            const hl_box *typical, hl_error *err);
/* The same with rows that are values of `value` (a 4-D value of numel
 * row_floats, the upstream fixed at c->input's), each row also costing
 * extra_row_bytes of the caller's; b->inc is NULL (the caller's plain
 * path) where the forward cannot start there. */
hl_status hl_attr_boxed_new_at(hl_attr_call *c, hl_attr_boxed *b, int value,
                               int64_t row_floats, const hl_box *typical,
                               int64_t extra_row_bytes, hl_error *err);
hl_status hl_attr_boxed_logits(hl_attr_call *c, hl_attr_boxed *b,
                               const float *inputs, const hl_box *boxes,
                               int n, float *logits_target, hl_error *err);
void hl_attr_boxed_free(hl_attr_boxed *b);
/* The value where a layer method reads/differentiates: the layer's output,
 * or its (first data) input with p->attribute_to_layer_input. */
hl_status hl_attr_layer_value(hl_attr_call *c, int *value, hl_error *err);

/* path.c: the straight-line path integral shared by IG-style methods,
 * from `start` (the baseline) to `end` (the input), both of `numel` floats
 * per point (input space, or a layer's space for layer IG). grad_fn fills
 * grads (batch x numel) at `batch` points of the path; total[i] =
 * sum_k weight_k * grad_k[i] (double) with the quadrature of
 * p->ig_method / p->n_steps, in batches of hl_attr_step_batch, ticking
 * progress between batches. */
typedef hl_status (*hl_path_grad_fn)(hl_attr_call *c, const float *points,
                                     int batch, float *grads, void *user,
                                     hl_error *err);
/* emit_fn (optional) reports the estimate total / div after `done` of
 * `units` steps (div = 1 at the end) when intermediates are wanted. Points
 * go in hl_attr_nested_order; with intermediates wanted a Gauss-Legendre
 * path first runs a small rule of its own (reported, then discarded). */
typedef hl_status (*hl_path_emit_fn)(hl_attr_call *c, const double *total,
                                     double div, int done, int units,
                                     void *user, hl_error *err);
hl_status hl_attr_path_integral(hl_attr_call *c, const float *start,
                                const float *end, int64_t numel,
                                hl_path_grad_fn grad_fn, hl_path_emit_fn emit_fn,
                                void *user, double *total, hl_error *err);

/* common.c: `rule` with HL_RULE_RELU_FAMILY when the call's params ask for
 * it (relu-family) and the rule is guided, deconvolution or DeepLift. */
hl_backward_rule hl_attr_rule(const hl_attr_call *c, hl_backward_rule rule);

/* deeplift.c: forward the baseline in a new reference run (*reference,
 * freed by the caller) and the input in c->run, then backward from the
 * target logit with HL_RULE_DEEPLIFT. Afterwards hl_run_grad(c->run, v)
 * are DeepLift multipliers and hl_run_value(*reference, v) the baseline's
 * activations. */
hl_status hl_attr_deeplift_backward(hl_attr_call *c, const float *baseline,
                                    hl_run **reference, hl_error *err);

/* ---- perturbation, surrogate and SHAP methods; replay entry points -- */

/* perturbation.c */
hl_status hl_method_occlusion(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_feature_ablation(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_shapley_value_sampling(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* surrogate.c */
hl_status hl_method_lime(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_kernel_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* shap.c */
hl_status hl_method_gradient_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_deep_lift_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);

/* The surrogate fits of lime (alpha > 0: sklearn's Lasso objective
 * 1/(2 sum w) sum_i w_i (y_i - c - z_i.beta)^2 + alpha |beta|_1) and
 * kernel_shap (alpha = 0: weighted least squares, minimum norm) on n
 * samples z [n x F] row-major, y [n], weights w [n]. */
hl_status hl_attr_fit_surrogate(int n, int F, const double *z,
                                const double *y, const double *w,
                                double alpha, double *beta, double *intercept,
                                hl_error *err);

/* GradientSHAP with explicit draws (for replaying Captum's): baselines is
 * the set [K,C,H,W]; for draw s, baseline_index[s] in 0..K-1, alpha[s] in
 * [0,1] and, when noise != NULL, noise[s * numel ...] added to the input. */
hl_status hl_gradient_shap_with_draws(hl_attr_call *c, const hl_array *baselines,
                                      int n_samples, const int *baseline_index,
                                      const double *alpha, const float *noise,
                                      hl_attr_result *out, hl_error *err);

/* noise_tunnel.c: run `inner` on p->nt_samples noisy copies of the input
 * (noise N(0, p->nt_stdevs^2) from c->rng) and combine per p->noise_tunnel. */
hl_status hl_noise_tunnel_run(hl_attr_call *c, hl_method_fn inner,
                              hl_attr_result *out, hl_error *err);
/* The same with explicit noise [nt_samples x input numel] (NULL: draw it
 * from c->rng with p->nt_stdevs). */
hl_status hl_noise_tunnel_with_noise(hl_attr_call *c, hl_method_fn inner,
                                     hl_noise_tunnel type, int nt_samples,
                                     const float *noise, hl_attr_result *out,
                                     hl_error *err);

/* ---- the rest of Captum's methods and the CAM family (issue 15) ----- */

/* lrp.c */
hl_status hl_method_lrp(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_lrp(hl_attr_call *c, hl_attr_result *out, hl_error *err);

/* layer.c: per-row size of a layer value and its batch-1 shape; the
 * layer's activation and the target's gradient there at the input. */
hl_status hl_attr_layer_shape(hl_attr_call *c, int value, hl_shape *s,
                              int64_t *numel, hl_error *err);
hl_status hl_attr_layer_act_grad(hl_attr_call *c, hl_shape *s, int64_t *numel,
                                 const float **act, const float **grad,
                                 hl_error *err);
/* common.c: softmax probability of the target for `batch` inputs. */
hl_status hl_attr_target_probs(hl_attr_call *c, const float *inputs, int batch,
                               double *probs, hl_error *err);

/* neuron.c: the neuron is element (C,H,W) of the layer value (--neuron
 * addresses the trailing non-batch dims; a layer with fewer dims uses the
 * leading components, the rest must be 0). */
typedef struct hl_neuron_ref {
    int value;          /* layer value id */
    int64_t numel;      /* layer elements per batch row */
    int64_t index;      /* flat index of the neuron within a row */
} hl_neuron_ref;
hl_status hl_attr_find_neuron(hl_attr_call *c, hl_neuron_ref *n, hl_error *err);
/* Backward from the neuron of every row of the run's last forward with
 * `rule` (reference: see hl_run_backward); input gradients into grads
 * (batch x input numel). */
hl_status hl_attr_neuron_backward(hl_attr_call *c, const hl_neuron_ref *n,
                                  int batch, hl_backward_rule rule,
                                  hl_run *reference, float *grads,
                                  hl_error *err);
/* An hl_path_grad_fn: the neuron's (user: hl_neuron_ref) input gradient
 * at `batch` points. */
hl_status hl_attr_neuron_grad(hl_attr_call *c, const float *points, int batch,
                              float *grads, void *user, hl_error *err);
hl_status hl_method_neuron_deconvolution(hl_attr_call *c, hl_attr_result *out, hl_error *err);

/* shap.c: the baseline set of --baselines (else the one --baseline), K
 * rows; GradientSHAP's draws from c->rng (n = --n-samples or Captum's 5:
 * baseline indices, then alphas); a method run on those draws; and
 * GradientSHAP's loop with another gradient function (a neuron's: no
 * convergence delta then). */
hl_status hl_attr_load_baseline_set(hl_attr_call *c, hl_array **set, int *count,
                                    hl_error *err);
hl_status hl_attr_shap_draws(hl_attr_call *c, int K, int *n_samples,
                             int **index, double **alpha, hl_error *err);
typedef hl_status (*hl_shap_draws_fn)(hl_attr_call *c, const hl_array *baselines,
                                      int n_samples, const int *baseline_index,
                                      const double *alpha, hl_attr_result *out,
                                      hl_error *err);
/* Load the set, draw, and run fn on the draws (the three gradient SHAPs). */
hl_status hl_attr_gradient_shap_drawn(hl_attr_call *c, hl_shap_draws_fn fn,
                                      hl_attr_result *out, hl_error *err);
hl_status hl_attr_gradient_shap_loop(hl_attr_call *c, const hl_array *baselines,
                                     int n_samples, const int *baseline_index,
                                     const double *alpha, hl_path_grad_fn grad_fn,
                                     void *user, hl_attr_result *out,
                                     hl_error *err);

/* layer_shap.c: InternalInfluence, LayerGradientShap, LayerDeepLiftShap */
hl_status hl_method_internal_influence(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_gradient_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_layer_deep_lift_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* LayerGradientShap with explicit draws (replaying Captum's). */
hl_status hl_layer_gradient_shap_with_draws(hl_attr_call *c, const hl_array *baselines,
                                            int n_samples, const int *baseline_index,
                                            const double *alpha, hl_attr_result *out,
                                            hl_error *err);
/* neuron_shap.c: NeuronDeepLift, NeuronDeepLiftShap, NeuronGradientShap */
hl_status hl_method_neuron_deep_lift(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_deep_lift_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_gradient_shap(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_neuron_gradient_shap_with_draws(hl_attr_call *c, const hl_array *baselines,
                                             int n_samples, const int *baseline_index,
                                             const double *alpha, hl_attr_result *out,
                                             hl_error *err);
/* layer_ablation.c: LayerFeatureAblation, NeuronFeatureAblation */
hl_status hl_method_layer_feature_ablation(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_neuron_feature_ablation(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* shapley_exact.c: ShapleyValues over every ordering */
hl_status hl_method_shapley_values(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* cam.c: GradCAM++, XGradCAM, Score-CAM */
hl_status hl_method_grad_cam_plus_plus(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_xgrad_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_score_cam(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* rise.c */
hl_status hl_method_rise(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* RISE's masks from c->rng: n masks of H x W (see rise.c), and RISE
 * with explicit masks [n x H*W] (shared by every channel). */
hl_status hl_rise_masks(hl_attr_call *c, int n, int height, int width,
                        float *masks, hl_error *err);
hl_status hl_rise_with_masks(hl_attr_call *c, int n, const float *masks,
                             hl_attr_result *out, hl_error *err);
/* blur_ig.c, guided_ig.c */
hl_status hl_method_blur_ig(hl_attr_call *c, hl_attr_result *out, hl_error *err);
hl_status hl_method_guided_ig(hl_attr_call *c, hl_attr_result *out, hl_error *err);
/* Gaussian blur of every [H,W] plane as scipy.ndimage.gaussian_filter
 * (sigma on H and W, truncate 4, mode constant 0); sigma <= 0 copies. */
hl_status hl_attr_gaussian_blur(const float *src, int planes, int height,
                                int width, double sigma, float *dst,
                                hl_error *err);

#endif
