/* Baselines (reference inputs) for IG, DeepLift, conductance...:
 * zero | NUMBER | black | white | blur:SIGMA | uniform | FILE.npy. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attr-private.h"

#define BASELINE_FORMS "zero | NUMBER | black | white | blur:SIGMA | uniform | FILE.npy"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return 0;
    *out = v;
    return 1;
}

/* A constant pixel (0..255) pushed through the model's normalisation:
 * (pixel * scale - mean[c]) / std[c], channel by channel. */
static void fill_pixel(hl_attr_call *c, hl_array *b, double pixel)
{
    const hl_attr_context *ctx = c->ctx;
    double scale = ctx->pixel_scale > 0 ? ctx->pixel_scale : 1.0 / 255.0;
    int64_t channels = b->shape.dims[1];
    int64_t plane = hl_shape_numel(&b->shape) / (channels > 0 ? channels : 1);
    for (int64_t ch = 0; ch < channels; ch++) {
        double mean = ctx->mean ? ctx->mean[ch] : 0.0;
        double sd = ctx->std ? ctx->std[ch] : 1.0;
        float v = (float)((pixel * scale - mean) / sd);
        for (int64_t i = 0; i < plane; i++)
            b->data[ch * plane + i] = v;
    }
}

/* Separable Gaussian blur of every channel plane (kernel radius
 * ceil(3 sigma), edge pixels repeated at the border). */
static hl_status blur(const hl_array *in, hl_array *out, double sigma,
                      hl_error *err)
{
    const hl_shape *s = &in->shape;
    if (s->ndim != 4)
        return hl_error_set(err, HL_ERR_SHAPE, "--baseline blur: needs a [1,C,H,W] input");
    int64_t planes = s->dims[0] * s->dims[1], h = s->dims[2], w = s->dims[3];
    int radius = (int)ceil(3.0 * sigma);
    if (radius < 1)
        radius = 1;
    if (radius > 1000)
        radius = 1000;
    float *kernel = malloc(sizeof(float) * (size_t)(2 * radius + 1));
    float *tmp = malloc(sizeof(float) * (size_t)(h * w));
    if (!kernel || !tmp) {
        free(kernel);
        free(tmp);
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (blur baseline)");
    }
    double sum = 0.0;
    for (int k = -radius; k <= radius; k++)
        sum += exp(-0.5 * k * k / (sigma * sigma));
    for (int k = -radius; k <= radius; k++)
        kernel[k + radius] = (float)(exp(-0.5 * k * k / (sigma * sigma)) / sum);
    for (int64_t p = 0; p < planes; p++) {
        const float *src = in->data + p * h * w;
        float *dst = out->data + p * h * w;
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double acc = 0.0;
                for (int k = -radius; k <= radius; k++) {
                    int64_t xx = x + k;
                    xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                    acc += kernel[k + radius] * src[y * w + xx];
                }
                tmp[y * w + x] = (float)acc;
            }
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double acc = 0.0;
                for (int k = -radius; k <= radius; k++) {
                    int64_t yy = y + k;
                    yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
                    acc += kernel[k + radius] * tmp[yy * w + x];
                }
                dst[y * w + x] = (float)acc;
            }
    }
    free(kernel);
    free(tmp);
    return HL_OK;
}

hl_status hl_attr_make_baseline(hl_attr_call *c, const char *spec,
                                hl_array **out, hl_error *err)
{
    *out = NULL;
    while (spec && isspace((unsigned char)*spec))
        spec++;
    if (!spec || !spec[0])
        spec = "zero";
    hl_array *b = hl_array_new(&c->input->shape);
    if (!b)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory (baseline)");
    int64_t n = hl_shape_numel(&b->shape);
    hl_status st = HL_OK;
    double v;

    if (strcasecmp(spec, "zero") == 0 || strcasecmp(spec, "zeros") == 0) {
        /* already zero-filled */
    } else if (strcasecmp(spec, "black") == 0) {
        fill_pixel(c, b, 0.0);
    } else if (strcasecmp(spec, "white") == 0) {
        fill_pixel(c, b, 255.0);
    } else if (strncasecmp(spec, "blur:", 5) == 0) {
        if (!parse_number(spec + 5, &v) || v <= 0.0 || v > 300.0)
            st = hl_error_set(err, HL_ERR_ARG, "--baseline %s: SIGMA must be a number in (0, 300] pixels", spec);
        else
            st = blur(c->input, b, v, err);
    } else if (strcasecmp(spec, "uniform") == 0) {
        /* Uniform noise over the input's own value range, from the run's
         * seeded generator. */
        float lo = c->input->data[0], hi = c->input->data[0];
        for (int64_t i = 1; i < n; i++) {
            float x = c->input->data[i];
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        for (int64_t i = 0; i < n; i++)
            b->data[i] = lo + (float)(hl_rng_uniform(c->rng) * (double)(hi - lo));
    } else if (ends_with(spec, ".npy")) {
        /* read by hl_attr_request_prepare; the request carries it */
        const hl_array *f = c->req ? c->req->baseline : NULL;
        if (!f) {
            st = hl_error_set(err, HL_ERR_ARG, "--baseline %s: the file was not read with the request", spec);
        } else if (hl_shape_numel(&f->shape) != n) {
            char a[64], bb[64];
            st = hl_error_set(err, HL_ERR_SHAPE, "--baseline %s: shape %s does not match the input %s",
                              spec, hl_shape_format(&f->shape, a, sizeof a),
                              hl_shape_format(&c->input->shape, bb, sizeof bb));
        } else {
            memcpy(b->data, f->data, sizeof(float) * (size_t)n);
        }
    } else if (parse_number(spec, &v)) {
        for (int64_t i = 0; i < n; i++)
            b->data[i] = (float)v;
    } else {
        st = hl_error_set(err, HL_ERR_ARG, "--baseline: unknown baseline '%s' (valid: %s)",
                          spec, BASELINE_FORMS);
    }
    if (st != HL_OK) {
        hl_array_free(b);
        return st;
    }
    *out = b;
    return HL_OK;
}
