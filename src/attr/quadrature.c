/* Step positions (alphas) and step sizes (weights) of Captum's IG
 * approximation methods (captum/attr/_utils/approximation_methods.py).
 *
 * gausslegendre: numpy's leggauss nodes t and weights w on [-1,1] mapped to
 * alpha = (1+t)/2, weight = w/2, in double as numpy computes them.
 * Riemann rules: alphas from torch.linspace in float32 (reproduced bit for
 * bit, see linspace_f32), weights 1/n in double (Python floats), the
 * trapezoid's first and last halved. */
#include <math.h>
#include <stdlib.h>

#include "attr-private.h"

/* Legendre polynomial P_n(x) and its derivative by the three-term
 * recurrence. */
static void legendre_eval(int n, double x, double *p, double *dp, double *pm1)
{
    double p0 = 1.0, p1 = x;
    if (n == 0) {
        *p = 1.0;
        *dp = 0.0;
        *pm1 = 0.0;
        return;
    }
    for (int k = 2; k <= n; k++) {
        double pk = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = pk;
    }
    *p = p1;
    *pm1 = p0;
    /* P'_n(x) = n (x P_n - P_{n-1}) / (x^2 - 1); nodes are never +-1. */
    *dp = n * (x * p1 - p0) / (x * x - 1.0);
}

void hl_attr_leggauss(int n, double *nodes, double *weights)
{
    if (n <= 0)
        return;
    /* Roots by Newton iteration from Tricomi's initial guesses, in
     * descending order; stored ascending. */
    for (int i = 0; i < n; i++) {
        double x = cos(M_PI * (i + 0.75) / (n + 0.5));
        double p, dp, pm1;
        for (int it = 0; it < 100; it++) {
            legendre_eval(n, x, &p, &dp, &pm1);
            double dx = p / dp;
            x -= dx;
            if (fabs(dx) < 1e-17)
                break;
        }
        legendre_eval(n, x, &p, &dp, &pm1);
        nodes[n - 1 - i] = x;
        /* numpy: w = 1 / (P_{n-1}(x) P'_n(x)), normalised below (equal to
         * 2 / ((1 - x^2) P'_n(x)^2) at the roots). */
        weights[n - 1 - i] = n > 1 ? 1.0 / (pm1 * dp) : 2.0;
    }
    /* Symmetrise and normalise the way numpy's leggauss does, so both agree
     * to the last bits: w = (w + w[::-1])/2, x = (x - x[::-1])/2,
     * w *= 2 / sum(w). */
    double *x2 = malloc(sizeof(double) * 2 * (size_t)n);
    if (x2) {
        double *w2 = x2 + n;
        for (int i = 0; i < n; i++) {
            x2[i] = (nodes[i] - nodes[n - 1 - i]) / 2.0;
            w2[i] = (weights[i] + weights[n - 1 - i]) / 2.0;
        }
        double sum = 0.0;
        for (int i = 0; i < n; i++)
            sum += w2[i];
        for (int i = 0; i < n; i++) {
            nodes[i] = x2[i];
            weights[i] = w2[i] * (2.0 / sum);
        }
        free(x2);
    }
}

/* torch.linspace(start, end, n) for float32 on x86-64 CPU (PyTorch 1.13):
 * the first half counts up from start, the second half down from end,
 * step = (end - start) / (n - 1) in float. Blocks of 16 (two AVX2 vectors
 * of 8) compute a base with a fused multiply-add and then base + j*step;
 * the tail is scalar (fused). Matches Captum's recorded alphas exactly. */
static void linspace_f32(double start_d, double end_d, int n, double *out)
{
    const float start = (float)start_d, end = (float)end_d;
    const float step = (end - start) / (float)(n - 1);
    const int half = n / 2;
    int idx = 0;
    while (idx + 16 <= n) {
        for (int v = 0; v < 2; v++) {
            float base = idx < half ? fmaf(step, (float)idx, start)
                                    : fmaf(-step, (float)(n - idx - 1), end);
            for (int j = 0; j < 8; j++) {
                volatile float jstep = (float)j * step; /* rounded product */
                out[idx + j] = (double)(base + jstep);
            }
            idx += 8;
        }
    }
    for (; idx < n; idx++) {
        float v = idx < half ? fmaf(step, (float)idx, start)
                             : fmaf(-step, (float)(n - idx - 1), end);
        out[idx] = (double)v;
    }
}

hl_status hl_attr_quadrature(hl_ig_method method, int n, double *alphas,
                             double *weights, hl_error *err)
{
    if (n < 1)
        return hl_error_set(err, HL_ERR_ARG, "n-steps must be at least 1 (got %d)", n);
    if (method == HL_IG_GAUSSLEGENDRE) {
        hl_attr_leggauss(n, alphas, weights);
        for (int i = 0; i < n; i++) {
            alphas[i] = 0.5 * (1.0 + alphas[i]);
            weights[i] = 0.5 * weights[i];
        }
        return HL_OK;
    }
    if (n < 2)
        return hl_error_set(err, HL_ERR_ARG,
                            "n-steps must be > 1 for the Riemann methods (got %d)", n);
    for (int i = 0; i < n; i++)
        weights[i] = 1.0 / n;
    switch (method) {
    case HL_IG_RIEMANN_TRAPEZOID:
        weights[0] /= 2.0;
        weights[n - 1] /= 2.0;
        linspace_f32(0.0, 1.0, n, alphas);
        break;
    case HL_IG_RIEMANN_LEFT:
        linspace_f32(0.0, 1.0 - 1.0 / n, n, alphas);
        break;
    case HL_IG_RIEMANN_RIGHT:
        linspace_f32(1.0 / n, 1.0, n, alphas);
        break;
    case HL_IG_RIEMANN_MIDDLE:
        linspace_f32(1.0 / (2.0 * n), 1.0 - 1.0 / (2.0 * n), n, alphas);
        break;
    default:
        return hl_error_set(err, HL_ERR_ARG, "unknown ig-method %d", (int)method);
    }
    return HL_OK;
}
