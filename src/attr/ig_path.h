/* The integrated-gradients path, step by step, for teaching: what
 * integrated_gradients sums, kept instead of summed (the IG path explorer).
 *
 * For the straight path x(alpha) = b + alpha (x - b) from the baseline b to
 * the input x, with the quadrature of p->ig_method / p->n_steps (the same
 * alphas and weights as hl_attribute("integrated_gradients")):
 *   step_alpha[k], step_weight[k]  the quadrature points (ascending alpha);
 *   step_prob[k]                    the target's probability at x(alpha_k)
 *                                   (hl_class_probabilities: softmax of
 *                                   logits, or the model's own);
 *   gradient k                      dF_target/dx at x(alpha_k);
 *   curve_alpha[i] = i/(n_curve-1), curve_prob[i], curve_logit[i]: the
 *                   target probability and logit on a uniform grid, for
 *                   drawing the curve between steps.
 * The attribution accumulated up to step k is
 *   (x - b) * sum_{j<=k} weight_j * gradient_j,
 * which at the last step is integrated_gradients' attribution.
 * The target is p->target, or the top-1 class of x when it is -1.
 */
#ifndef HL_IG_PATH_H
#define HL_IG_PATH_H

#include "attr.h"

typedef struct hl_ig_path {
    int target;
    int n_steps;
    double *step_alpha, *step_weight;   /* [n_steps] */
    float *step_prob, *step_logit;      /* [n_steps] */
    int n_curve;
    double *curve_alpha;                /* [n_curve] */
    float *curve_prob, *curve_logit;    /* [n_curve]; the logits at alpha 0
                                           and 1 are F(x') and F(x) */
    hl_array *input, *baseline;         /* [1,C,H,W] copies */
    float *grads;                       /* [n_steps][numel] */
    int64_t numel;                      /* C*H*W */
} hl_ig_path;

/* n_curve >= 2 uniform alphas for the curve. ctx may be NULL; its progress
 * and cancel work as in hl_attribute. On failure *out is left empty. */
hl_status hl_ig_path_compute(const hl_model *model, const hl_array *input,
                             const hl_attr_params *params,
                             const hl_attr_context *ctx, int n_curve,
                             hl_ig_path *out, hl_error *err);
/* b + alpha (x - b) into out (numel floats). */
void hl_ig_path_point(const hl_ig_path *path, double alpha, float *out);
/* The gradient at step k (numel floats, owned by path). */
const float *hl_ig_path_gradient(const hl_ig_path *path, int k);
/* The attribution accumulated over steps 0..k into out (numel floats). */
void hl_ig_path_accumulated(const hl_ig_path *path, int k, float *out);
void hl_ig_path_clear(hl_ig_path *path);

#endif
