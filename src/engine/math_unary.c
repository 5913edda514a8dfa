/* Elementwise math of one data input: Sqrt, Abs, Erf, Exp, Log, Neg,
 * Reciprocal, Softplus (timm's Mish = x tanh(softplus(x)) before opset
 * 18), and Pow with a constant exponent (the x^2 and x^0.5 of decomposed
 * LayerNorm and of GELU/softplus exports). Gelu and Mish are activations
 * (activation.c).
 *
 * Unlike the activations these keep their ordinary derivative under every
 * backward rule: they are the inner parts of a function, not one. */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef enum {
    UN_SQRT, UN_ABS, UN_ERF, UN_EXP, UN_LOG, UN_NEG, UN_RECIPROCAL, UN_SOFTPLUS,
    UN_POW,
} unary_kind;

typedef struct {
    unary_kind kind;
    float exponent;   /* UN_POW */
} unary_params;

static hl_status unary_setup(unary_kind kind, hl_node *n, hl_error *err)
{
    hl_status st = hl_params_alloc(n, sizeof(unary_params), err);
    if (st)
        return st;
    ((unary_params *)n->params)->kind = kind;
    return HL_OK;
}

static hl_status unary_init_kind(unary_kind kind, hl_node *n,
                                 const hl_attrs *attrs, const hl_tensor *in,
                                 hl_error *err)
{
    (void)attrs; (void)in;
    if (n->n_in != 1 || n->n_out != 1)
        return hl_error_set(err, HL_ERR_ARG, "expects 1 input and 1 output");
    return unary_setup(kind, n, err);
}

static hl_status pow_init(hl_node *n, const hl_attrs *attrs,
                          const hl_tensor *in, hl_error *err)
{
    (void)attrs;
    if (n->n_in != 2 || n->n_out != 1 || !hl_has_input(n, 1))
        return hl_error_set(err, HL_ERR_ARG, "expects 2 inputs and 1 output");
    /* A run-time exponent would need d/dY = x^y log x and broadcasting;
     * exported models only raise to constants (x^2, x^0.5, x^3). */
    if (hl_shape_numel(&in[1].shape) != 1 || (!in[1].data && !in[1].i64))
        return hl_error_set(err, HL_ERR_UNSUPPORTED,
                            "the exponent (input 'Y') must be a constant "
                            "with one element");
    hl_status st = unary_setup(UN_POW, n, err);
    if (st)
        return st;
    ((unary_params *)n->params)->exponent =
        in[1].data ? in[1].data[0] : (float)in[1].i64[0];
    return HL_OK;
}

static hl_status unary_shape(const hl_node *n, const hl_tensor *in,
                             hl_tensor *out, hl_error *err)
{
    (void)n;
    if (in[0].dtype != HL_DT_FLOAT)
        return hl_error_set(err, HL_ERR_UNSUPPORTED, "input must be float");
    out[0].shape = in[0].shape;
    out[0].dtype = HL_DT_FLOAT;
    return HL_OK;
}

/* The one-element exponent may still raise the rank (NumPy broadcasting). */
static hl_status pow_shape(const hl_node *n, const hl_tensor *in,
                           hl_tensor *out, hl_error *err)
{
    hl_status st = unary_shape(n, in, out, err);
    if (st)
        return st;
    hl_broadcast_shape(&in[0].shape, &in[1].shape, &out[0].shape);
    return HL_OK;
}

static inline float softplus_value(float x)
{
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

/* x^p, with the exact products PyTorch uses for the common exponents. */
static inline float pow_value(float x, float p)
{
    if (p == 2.0f)
        return x * x;
    if (p == 1.0f)
        return x;
    if (p == 0.5f)
        return sqrtf(x);
    if (p == 3.0f)
        return x * x * x;
    return powf(x, p);
}

typedef struct {
    const unary_params *p;
    const float *x, *y, *g;
    float *out;
} unary_job;

static void unary_fwd_range(void *arg, long begin, long end)
{
    unary_job *j = arg;
    const float *x = j->x;
    float *y = j->out;
    float p = j->p->exponent;
    switch (j->p->kind) {
    case UN_SQRT:
        for (long i = begin; i < end; i++) y[i] = sqrtf(x[i]);
        break;
    case UN_ABS:
        for (long i = begin; i < end; i++) y[i] = fabsf(x[i]);
        break;
    case UN_ERF:
        for (long i = begin; i < end; i++) y[i] = erff(x[i]);
        break;
    case UN_EXP:
        for (long i = begin; i < end; i++) y[i] = expf(x[i]);
        break;
    case UN_LOG:
        for (long i = begin; i < end; i++) y[i] = logf(x[i]);
        break;
    case UN_NEG:
        for (long i = begin; i < end; i++) y[i] = -x[i];
        break;
    case UN_RECIPROCAL:
        for (long i = begin; i < end; i++) y[i] = 1.0f / x[i];
        break;
    case UN_SOFTPLUS:   /* log(1 + e^x) without overflow */
        for (long i = begin; i < end; i++) y[i] = softplus_value(x[i]);
        break;
    case UN_POW:
        for (long i = begin; i < end; i++) y[i] = pow_value(x[i], p);
        break;
    }
}

static void unary_forward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                          hl_tensor *out)
{
    long total = (long)hl_shape_numel(&in[0].shape);
    unary_job j = { n->params, in[0].data, NULL, NULL, out[0].data };
    hl_par_for(c, total, total, unary_fwd_range, &j);
}

#define TWO_OVER_SQRT_PI 1.12837916709551257390f

static void unary_bwd_range(void *arg, long begin, long end)
{
    unary_job *j = arg;
    const float *x = j->x, *y = j->y, *g = j->g;
    float *gx = j->out;
    float p = j->p->exponent;
    switch (j->p->kind) {
    case UN_SQRT:   /* d sqrt(x) = 1 / (2 sqrt(x)) */
        for (long i = begin; i < end; i++) gx[i] += g[i] * 0.5f / y[i];
        break;
    case UN_ABS:        /* sign(x), 0 at 0 like PyTorch */
        for (long i = begin; i < end; i++)
            gx[i] += x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0.0f;
        break;
    case UN_ERF:
        for (long i = begin; i < end; i++)
            gx[i] += g[i] * TWO_OVER_SQRT_PI * expf(-x[i] * x[i]);
        break;
    case UN_EXP:
        for (long i = begin; i < end; i++) gx[i] += g[i] * y[i];
        break;
    case UN_LOG:
        for (long i = begin; i < end; i++) gx[i] += g[i] / x[i];
        break;
    case UN_NEG:
        for (long i = begin; i < end; i++) gx[i] -= g[i];
        break;
    case UN_RECIPROCAL:  /* -1/x^2 = -y^2 */
        for (long i = begin; i < end; i++) gx[i] -= g[i] * y[i] * y[i];
        break;
    case UN_SOFTPLUS:   /* sigmoid(x) */
        for (long i = begin; i < end; i++)
            gx[i] += g[i] / (1.0f + expf(-x[i]));
        break;
    case UN_POW:
        if (p == 2.0f)
            for (long i = begin; i < end; i++) gx[i] += g[i] * 2.0f * x[i];
        else if (p == 1.0f)
            for (long i = begin; i < end; i++) gx[i] += g[i];
        else if (p == 0.0f)
            break;
        else
            for (long i = begin; i < end; i++)
                gx[i] += g[i] * p * pow_value(x[i], p - 1.0f);
        break;
    }
}

static void unary_backward(const hl_node *n, hl_op_ctx *c, const hl_tensor *in,
                           const hl_tensor *out, const hl_tensor *gout,
                           hl_tensor *gin)
{
    if (!gout[0].data || !gin[0].data)
        return;
    long total = (long)hl_shape_numel(&in[0].shape);
    unary_job j = { n->params, in[0].data, out[0].data, gout[0].data,
                    gin[0].data };
    hl_par_for(c, total, total, unary_bwd_range, &j);
}

#define UNARY_OP(NAME, KIND, TYPE)                                           \
    static hl_status NAME##_init(hl_node *n, const hl_attrs *attrs,          \
                                 const hl_tensor *in, hl_error *err)         \
    {                                                                        \
        return unary_init_kind(KIND, n, attrs, in, err);                     \
    }                                                                        \
    const hl_op hl_op_##NAME = {                                             \
        .op_type = TYPE, .source = __FILE__, .init = NAME##_init, .shape = unary_shape,          \
        .forward = unary_forward, .backward = unary_backward,                \
        .free_params = hl_params_free,                                       \
    };

UNARY_OP(sqrt, UN_SQRT, "Sqrt")
UNARY_OP(abs, UN_ABS, "Abs")
UNARY_OP(erf, UN_ERF, "Erf")
UNARY_OP(exp, UN_EXP, "Exp")
UNARY_OP(log, UN_LOG, "Log")
UNARY_OP(neg, UN_NEG, "Neg")
UNARY_OP(reciprocal, UN_RECIPROCAL, "Reciprocal")
UNARY_OP(softplus, UN_SOFTPLUS, "Softplus")

const hl_op hl_op_pow = {
    .op_type = "Pow", .source = __FILE__, .init = pow_init, .shape = pow_shape,
    .forward = unary_forward, .backward = unary_backward,
    .free_params = hl_params_free,
};
