/* Elementwise nonlinearities: Relu, LeakyRelu, PRelu, Clip, Sigmoid,
 * HardSigmoid, HardSwish, Tanh, Elu, and the smooth gated ones: Swish
 * (SiLU, x sigmoid(alpha x)), Gelu (opset 20, exact or tanh
 * approximation) and Mish (opset 18, x tanh(softplus(x))). The last three
 * and HardSwish are also what fuse_activations.c makes of the small graphs
 * torch.onnx.export writes for nn.SiLU, nn.GELU, nn.Hardswish and nn.Mish.
 *
 * Backward rules follow Captum 0.7: GUIDED and DECONV change only Relu;
 * DEEPLIFT (rescale) replaces the local derivative of Relu, Sigmoid, Tanh,
 * Elu and LeakyRelu by (y - y_ref) / (x - x_ref), falling back to the
 * ordinary gradient where |x - x_ref| < 1e-10. Captum hooks none of
 * nn.SiLU, nn.GELU, nn.Hardswish, nn.Mish: they keep their plain gradient.
 * With HL_RULE_RELU_FAMILY (ctx->relu_family) GUIDED and DECONV change
 * Clip too (relu(g) gated by lo < x < hi; relu(g)) and DEEPLIFT rescales
 * every kind here, each as one activation. */
#include <math.h>
#include <string.h>
#include "kernels.h"

/* Lets GCC turn the x > 0 ? a : b selects into vector blends (we never
 * rely on floating-point exception flags). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#define DEEPLIFT_EPS 1e-10

typedef enum {
    ACT_RELU, ACT_LEAKYRELU, ACT_CLIP, ACT_SIGMOID, ACT_HARDSIGMOID,
    ACT_HARDSWISH, ACT_TANH, ACT_ELU, ACT_SWISH, ACT_GELU, ACT_GELU_TANH,
    ACT_MISH,
} act_kind;

typedef struct {
    act_kind kind;
    float alpha, beta;  /* LeakyRelu/Elu/Swish alpha; HardSigmoid alpha, beta */
    float lo, hi;       /* Clip bounds from attributes or constant inputs */
} act_params;

static hl_status act_init_kind(act_kind kind, hl_node *n, const hl_attrs *attrs,
                               const hl_tensor *in, hl_error *err)
{
    if (n->n_in < 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 output");
    hl_status st = hl_params_alloc(n, sizeof(act_params), err);
    if (st)
        return st;
    act_params *p = n->params;
    p->kind = kind;
    switch (kind) {
    case ACT_LEAKYRELU: p->alpha = hl_attrs_float(attrs, "alpha", 0.01f); break;
    case ACT_ELU: p->alpha = hl_attrs_float(attrs, "alpha", 1.0f); break;
    case ACT_SWISH: p->alpha = hl_attrs_float(attrs, "alpha", 1.0f); break;
    case ACT_GELU: {
        const char *approx = hl_attrs_string(attrs, "approximate", "none");
        if (strcmp(approx, "tanh") == 0)
            p->kind = ACT_GELU_TANH;
        else if (strcmp(approx, "none") != 0)
            return hl_error_set(err, HL_ERR_UNSUPPORTED,
                                "attribute 'approximate' = '%s' (none or "
                                "tanh)", approx);
        break;
    }
    case ACT_HARDSIGMOID:
        p->alpha = hl_attrs_float(attrs, "alpha", 0.2f);
        p->beta = hl_attrs_float(attrs, "beta", 0.5f);
        break;
    case ACT_CLIP:
        p->lo = -INFINITY;
        p->hi = INFINITY;
        if (n->opset < 11) {
            p->lo = hl_attrs_float(attrs, "min", -INFINITY);
            p->hi = hl_attrs_float(attrs, "max", INFINITY);
        } else {
            /* constant bounds are read here; others at run time */
            if (hl_has_input(n, 1) && in[1].data)
                p->lo = in[1].data[0];
            if (hl_has_input(n, 2) && in[2].data)
                p->hi = in[2].data[0];
        }
        break;
    default:
        break;
    }
    return HL_OK;
}

static hl_status act_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    (void)n;
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static inline float softplus_of(float x)
{
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

#define SQRT_2_OVER_PI 0.79788456080286535588f
#define INV_SQRT_2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

/* sqrt(2/pi) (x + 0.044715 x^3), the tanh argument of approximate GELU */
static inline float gelu_tanh_arg(float x)
{
    return SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
}

typedef struct {
    const act_params *p;
    const float *x;
    float *y;
} act_fwd_job;

/* Loops take their constants into locals and restrict pointers so that
 * they vectorise (y may not alias the parameters). */
static void act_fwd_range(void *arg, long begin, long end)
{
    act_fwd_job *j = arg;
    const float *restrict x = j->x;
    float *restrict y = j->y;
    const float alpha = j->p->alpha, beta = j->p->beta;
    const float lo = j->p->lo, hi = j->p->hi;
    switch (j->p->kind) {
    case ACT_RELU:
        for (long i = begin; i < end; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case ACT_LEAKYRELU:
        for (long i = begin; i < end; i++) y[i] = x[i] >= 0 ? x[i] : alpha * x[i];
        break;
    case ACT_CLIP:
        for (long i = begin; i < end; i++) {
            float v = x[i] < lo ? lo : x[i];
            y[i] = v > hi ? hi : v;
        }
        break;
    case ACT_SIGMOID:
        for (long i = begin; i < end; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case ACT_HARDSIGMOID:
        for (long i = begin; i < end; i++) {
            float v = alpha * x[i] + beta;
            v = v < 0 ? 0.0f : v;
            y[i] = v > 1 ? 1.0f : v;
        }
        break;
    case ACT_HARDSWISH:
        for (long i = begin; i < end; i++) {
            float v = x[i] * (1.0f / 6.0f) + 0.5f;
            v = v < 0 ? 0.0f : v;
            v = v > 1 ? 1.0f : v;
            y[i] = x[i] * v;
        }
        break;
    case ACT_TANH:
        for (long i = begin; i < end; i++) y[i] = tanhf(x[i]);
        break;
    case ACT_ELU:
        for (long i = begin; i < end; i++)
            y[i] = x[i] > 0 ? x[i] : alpha * expm1f(x[i]);
        break;
    case ACT_SWISH:
        for (long i = begin; i < end; i++)
            y[i] = x[i] / (1.0f + expf(-alpha * x[i]));
        break;
    case ACT_GELU:
        for (long i = begin; i < end; i++)
            y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * INV_SQRT_2));
        break;
    case ACT_GELU_TANH:
        for (long i = begin; i < end; i++)
            y[i] = 0.5f * x[i] * (1.0f + tanhf(gelu_tanh_arg(x[i])));
        break;
    case ACT_MISH:
        for (long i = begin; i < end; i++)
            y[i] = x[i] * tanhf(softplus_of(x[i]));
        break;
    }
}

static void act_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                        hl_tensor *out)
{
    act_params *p = n->params;
    act_params local = *p;
    /* Clip bounds may come from non-constant inputs at run time */
    if (p->kind == ACT_CLIP && n->opset >= 11) {
        if (hl_has_input(n, 1) && in[1].data) local.lo = in[1].data[0];
        if (hl_has_input(n, 2) && in[2].data) local.hi = in[2].data[0];
    }
    long total = (long)hl_shape_numel(&in[0].shape);
    act_fwd_job j = { &local, in[0].data, out[0].data };
    hl_par_for(c, total, total, act_fwd_range, &j);
}

/* Local derivative dy/dx at x (y = forward output). */
static inline float act_deriv(const act_params *p, float x, float y)
{
    switch (p->kind) {
    case ACT_RELU: return x > 0 ? 1.0f : 0.0f;
    case ACT_LEAKYRELU: return x >= 0 ? 1.0f : p->alpha;
    case ACT_CLIP: return x > p->lo && x < p->hi ? 1.0f : 0.0f;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_HARDSIGMOID: {
        float v = p->alpha * x + p->beta;
        return v > 0 && v < 1 ? p->alpha : 0.0f;
    }
    case ACT_HARDSWISH:
        return x < -3.0f ? 0.0f : x <= 3.0f ? x / 3.0f + 0.5f : 1.0f;
    case ACT_TANH: return 1.0f - y * y;
    case ACT_ELU: return x > 0 ? 1.0f : y + p->alpha;
    case ACT_SWISH: {   /* s + alpha x s (1 - s), s = sigmoid(alpha x) */
        float s = 1.0f / (1.0f + expf(-p->alpha * x));
        return s + p->alpha * x * s * (1.0f - s);
    }
    case ACT_GELU:      /* Phi(x) + x phi(x) */
        return 0.5f * (1.0f + erff(x * INV_SQRT_2)) +
               x * INV_SQRT_2PI * expf(-0.5f * x * x);
    case ACT_GELU_TANH: {
        float t = tanhf(gelu_tanh_arg(x));
        float du = SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * x * x);
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
    }
    case ACT_MISH: {    /* tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x) */
        float t = tanhf(softplus_of(x));
        float sg = 1.0f / (1.0f + expf(-x));
        return t + x * (1.0f - t * t) * sg;
    }
    }
    return 0.0f;
}

typedef struct {
    const act_params *p;
    hl_backward_rule rule;
    int guided_like;    /* Relu, or Clip under HL_RULE_RELU_FAMILY */
    const float *x, *y, *g;
    float *gx;
    /* DeepLift reference (NULL unless rule == DEEPLIFT) */
    const float *xr, *yr;
    long ref_period;    /* elements per sample when the reference has batch 1 */
    const float *eps_g; /* hl_op_ctx.eps_grad (NULL: g), period eps_period */
    long eps_period;
} act_bwd_job;

static void act_bwd_range(void *arg, long begin, long end)
{
    act_bwd_job *j = arg;
    const act_params *p = j->p;
    const float *x = j->x, *y = j->y, *g = j->g;
    float *gx = j->gx;
    if (j->guided_like && j->rule == HL_RULE_GUIDED) {
        const float lo = p->kind == ACT_CLIP ? p->lo : 0.0f;
        const float hi = p->kind == ACT_CLIP ? p->hi : INFINITY;
        for (long i = begin; i < end; i++)
            {
                float t = ((x[i] > lo) & (x[i] < hi) & (g[i] > 0)) ? g[i]
                                                                  : 0.0f;
                gx[i] += t;
            }
        return;
    }
    if (j->guided_like && j->rule == HL_RULE_DECONV) {
        for (long i = begin; i < end; i++)
            {
                float t = g[i] > 0 ? g[i] : 0.0f;
                gx[i] += t;
            }
        return;
    }
    if (j->xr) {
        for (long i = begin; i < end; i++) {
            long r = j->ref_period ? i % j->ref_period : i;
            double dx = (double)x[i] - (double)j->xr[r];
            if (fabs(dx) < DEEPLIFT_EPS)
                gx[i] += (j->eps_g ? j->eps_g[i % j->eps_period] : g[i]) *
                         act_deriv(p, x[i], y[i]);
            else
                gx[i] += (float)((double)g[i] *
                                 ((double)y[i] - (double)j->yr[r]) / dx);
        }
        return;
    }
    const float *restrict xs = x, *restrict ys = y, *restrict gs = g;
    float *restrict gxs = gx;
    const float alpha = p->alpha, lo = p->lo, hi = p->hi;
    switch (p->kind) {
    case ACT_RELU:
        for (long i = begin; i < end; i++)
            gxs[i] += (float)(xs[i] > 0) * gs[i];
        return;
    case ACT_LEAKYRELU:
        for (long i = begin; i < end; i++)
            gxs[i] += xs[i] >= 0 ? gs[i] : alpha * gs[i];
        return;
    case ACT_CLIP:
        for (long i = begin; i < end; i++)
            gxs[i] += (float)((xs[i] > lo) & (xs[i] < hi)) * gs[i];
        return;
    case ACT_SIGMOID:
        for (long i = begin; i < end; i++)
            gxs[i] += gs[i] * ys[i] * (1.0f - ys[i]);
        return;
    case ACT_TANH:
        for (long i = begin; i < end; i++)
            gxs[i] += gs[i] * (1.0f - ys[i] * ys[i]);
        return;
    default:
        for (long i = begin; i < end; i++)
            gxs[i] += gs[i] * act_deriv(p, xs[i], ys[i]);
    }
}

/* Whether DeepLift's rescale rule applies: the op table says (HL_OP_RESCALE). */
static int act_rescaled(const hl_node *n)
{
    return (hl_op_get(n->op)->flags & HL_OP_RESCALE) != 0;
}

static void act_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                         const hl_tensor *out, const hl_tensor *gout,
                         hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    act_params *p = n->params;
    act_params local = *p;
    if (p->kind == ACT_CLIP && n->opset >= 11) {
        if (hl_has_input(n, 1) && in[1].data) local.lo = in[1].data[0];
        if (hl_has_input(n, 2) && in[2].data) local.hi = in[2].data[0];
    }
    long total = (long)hl_shape_numel(&in[0].shape);
    int family = c && c->relu_family;
    act_bwd_job j = { &local, c ? c->rule : HL_RULE_GRADIENT,
                      p->kind == ACT_RELU || (family && p->kind == ACT_CLIP),
                      in[0].data, out[0].data, gout[0].data, gin[0].data,
                      NULL, NULL, 0, NULL, 0 };
    /* the rescale rule: Captum's activations, every one with the option */
    if (j.rule == HL_RULE_DEEPLIFT && (family || act_rescaled(n)) &&
        c->ref_in &&
        c->ref_out && c->ref_in[0].data && c->ref_out[0].data) {
        j.xr = c->ref_in[0].data;
        j.yr = c->ref_out[0].data;
        long ref_total = (long)hl_shape_numel(&c->ref_in[0].shape);
        if (ref_total != total) {
            /* reference of batch 1 broadcast over this batch */
            j.ref_period = ref_total;
        }
        if (c->eps_grad && c->eps_period > 0) {
            j.eps_g = c->eps_grad;
            j.eps_period = c->eps_period;
        }
    }
    hl_par_for(c, total, total, act_bwd_range, &j);
}

/* Relu and Clip look at x only through (x > lo && x < hi) in backward
 * (act_deriv, and the guided/deconvolution rules of Relu), so a lean run
 * keeps that bit mask instead of x. The Clip bounds exactly as
 * act_init_kind and act_forward read them; bounds computed by forward
 * (in[i].data == NULL) give no mask. */
static int relu_mask_bounds(const hl_node *n, const hl_attrs *attrs,
                            const hl_tensor *in, float *lo, float *hi)
{
    (void)n; (void)attrs; (void)in;
    *lo = 0.0f;
    *hi = INFINITY;
    return 1;
}

static int clip_mask_bounds(const hl_node *n, const hl_attrs *attrs,
                            const hl_tensor *in, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (n->opset < 11) {
        *lo = hl_attrs_float(attrs, "min", -INFINITY);
        *hi = hl_attrs_float(attrs, "max", INFINITY);
        return 1;
    }
    for (int i = 1; i <= 2 && i < n->n_in; i++) {
        if (n->in[i] < 0)
            continue;
        if (!in[i].data)
            return 0;
        if (i == 1)
            *lo = in[i].data[0];
        else
            *hi = in[i].data[0];
    }
    return 1;
}

#define ACT_OP(NAME, KIND, TYPE, FLAGS, READS, MASK, LRP)                    \
    static hl_status NAME##_init(hl_node *n, const hl_attrs *attrs,          \
                                 const hl_tensor *in, hl_error *err)         \
    {                                                                        \
        return act_init_kind(KIND, n, attrs, in, err);                       \
    }                                                                        \
    const hl_op hl_op_##NAME = {                                             \
        .op_type = TYPE, .source = __FILE__, .lrp = LRP,                     \
        .flags = (FLAGS) | HL_OP_RESCALE_FAMILY,                             \
        .bwd_reads = READS, .mask_bounds = MASK,                             \
        .init = NAME##_init, .shape = act_shape,                             \
        .forward = act_forward, .backward = act_backward,                    \
        .region = hl_region_pointwise,                                       \
        .free_params = hl_params_free,                                       \
    };

/* The gated activations: no rule of their own in Captum (plain gradient,
 * no LRP rule), and the small graphs torch.onnx.export writes for them
 * (fuse_patterns.c) fused into one node at load. */
#define ACT_OP_PATTERNS(NAME, KIND, TYPE, PATTERNS)                          \
    static hl_status NAME##_init(hl_node *n, const hl_attrs *attrs,          \
                                 const hl_tensor *in, hl_error *err)         \
    {                                                                        \
        return act_init_kind(KIND, n, attrs, in, err);                       \
    }                                                                        \
    const hl_op hl_op_##NAME = {                                             \
        .op_type = TYPE, .source = __FILE__, .lrp = HL_LRP_OTHER,            \
        .flags = HL_OP_RESCALE_FAMILY, .patterns = PATTERNS,                 \
        .init = NAME##_init, .shape = act_shape,                             \
        .forward = act_forward, .backward = act_backward,                    \
        .region = hl_region_pointwise,                                       \
        .free_params = hl_params_free,                                       \
    };

ACT_OP(relu, ACT_RELU, "Relu", HL_OP_GUIDED | HL_OP_RESCALE | HL_OP_DEEPLIFT_HOOKED,
       HL_BWD_READS_INPUTS, relu_mask_bounds, HL_LRP_PASS)
ACT_OP(leakyrelu, ACT_LEAKYRELU, "LeakyRelu", HL_OP_RESCALE | HL_OP_DEEPLIFT_HOOKED, HL_BWD_READS_ALL,
       NULL, HL_LRP_OTHER)
ACT_OP(clip, ACT_CLIP, "Clip", HL_OP_RELU_FAMILY, HL_BWD_READS_INPUTS,
       clip_mask_bounds, HL_LRP_OTHER)
ACT_OP(sigmoid, ACT_SIGMOID, "Sigmoid", HL_OP_RESCALE | HL_OP_DEEPLIFT_HOOKED, HL_BWD_READS_ALL, NULL,
       HL_LRP_OTHER)
ACT_OP(hardsigmoid, ACT_HARDSIGMOID, "HardSigmoid", 0, HL_BWD_READS_ALL, NULL, HL_LRP_OTHER)
ACT_OP_PATTERNS(hardswish, ACT_HARDSWISH, "HardSwish", hl_patterns_hardswish)
ACT_OP(tanh, ACT_TANH, "Tanh", HL_OP_RESCALE | HL_OP_DEEPLIFT_HOOKED, HL_BWD_READS_ALL, NULL,
       HL_LRP_PASS)
ACT_OP(elu, ACT_ELU, "Elu", HL_OP_RESCALE | HL_OP_DEEPLIFT_HOOKED, HL_BWD_READS_ALL, NULL, HL_LRP_OTHER)
ACT_OP_PATTERNS(swish, ACT_SWISH, "Swish", hl_patterns_swish)
ACT_OP_PATTERNS(gelu, ACT_GELU, "Gelu", hl_patterns_gelu)
ACT_OP_PATTERNS(mish, ACT_MISH, "Mish", hl_patterns_mish)

/* ------------------------------------------------------------- PRelu */
/* y = x (x >= 0), slope * x otherwise; slope broadcasts onto x. */

static hl_status prelu_init(hl_node *n, const hl_attrs *attrs,
                            const hl_tensor *in, hl_error *err)
{
    (void)attrs; (void)in;
    /* an input named "" is an omitted one: the slope is required */
    if (n->n_in != 2 || !hl_has_input(n, 1) || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG,
                            "expects 2 inputs (input, slope) and 1 output");
    return HL_OK;
}

static hl_status prelu_shape(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    hl_status fs = hl_require_float_inputs(n, in, err);
    if (fs)
        return fs;
    (void)n;
    hl_shape s;
    char a[96], b[96];
    if (hl_broadcast_shape(&in[0].shape, &in[1].shape, &s) ||
        !hl_shape_equal(&s, &in[0].shape))
        return hl_error_set(err, HL_ERR_SHAPE,
                            "slope %s does not broadcast to input %s",
                            hl_shape_format(&in[1].shape, b, sizeof b),
                            hl_shape_format(&in[0].shape, a, sizeof a));
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

static void prelu_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          hl_tensor *out)
{
    (void)n; (void)c;
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &in[1].shape);
    int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
    const float *x = in[0].data, *s = in[1].data;
    float *y = out[0].data;
    for (int64_t r = 0; r < bc.total / inner; r++) {
        int64_t oa, ob;
        hl_bcast_row(&bc, r, &oa, &ob);
        for (int64_t k = 0; k < inner; k++) {
            float v = x[oa + k];
            y[oa + k] = v >= 0 ? v : v * s[ob + k * sb];
        }
    }
}

static void prelu_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           const hl_tensor *out, const hl_tensor *gout,
                           hl_tensor *gin)
{
    (void)n; (void)c; (void)out;
    if (!gout[0].data)
        return;
    hl_bcast bc;
    hl_bcast_init(&bc, &in[0].shape, &in[1].shape);
    int64_t inner = bc.dims[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
    const float *x = in[0].data, *s = in[1].data, *g = gout[0].data;
    for (int64_t r = 0; r < bc.total / inner; r++) {
        int64_t oa, ob;
        hl_bcast_row(&bc, r, &oa, &ob);
        for (int64_t k = 0; k < inner; k++) {
            float v = x[oa + k];
            if (gin[0].data)
                gin[0].data[oa + k] += v >= 0 ? g[oa + k]
                                              : g[oa + k] * s[ob + k * sb];
            if (gin[1].data && v < 0)
                gin[1].data[ob + k * sb] += g[oa + k] * v;
        }
    }
}

const hl_op hl_op_prelu = {
    .op_type = "PRelu", .source = __FILE__, .init = prelu_init, .shape = prelu_shape,
    .forward = prelu_forward, .backward = prelu_backward,
};
