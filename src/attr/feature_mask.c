#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feature_mask.h"

void hl_feature_mask_clear(hl_feature_mask *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->start);
    free(m->element);
    memset(m, 0, sizeof *m);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rank of v in the sorted unique list u[0..n). */
static int32_t rank_of(const int64_t *u, int64_t n, int64_t v)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (u[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)lo;
}

/* raw[mask_c * H * W] ids (mask_c = 1 or C) -> compacted, expanded to
 * every channel, plus the per-feature element lists. */
static hl_status finish_mask(const int64_t *raw, int mask_c, int C, int64_t hw,
                             hl_feature_mask *out, hl_error *err)
{
    int64_t raw_n = (int64_t)mask_c * hw;
    int64_t numel = (int64_t)C * hw;
    int64_t *u = malloc((size_t)raw_n * sizeof *u);
    if (!u)
        return hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    memcpy(u, raw, (size_t)raw_n * sizeof *u);
    qsort(u, (size_t)raw_n, sizeof *u, cmp_i64);
    int64_t nu = 0;
    for (int64_t i = 0; i < raw_n; i++)
        if (nu == 0 || u[nu - 1] != u[i])
            u[nu++] = u[i];
    if (nu > INT32_MAX) {
        free(u);
        return hl_error_set(err, HL_ERR_ARG, "feature mask: too many features");
    }

    out->numel = numel;
    out->n_features = (int)nu;
    out->id = malloc((size_t)numel * sizeof *out->id);
    out->start = calloc((size_t)nu + 1, sizeof *out->start);
    out->element = malloc((size_t)numel * sizeof *out->element);
    if (!out->id || !out->start || !out->element) {
        free(u);
        hl_feature_mask_clear(out);
        return hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    }
    for (int c = 0; c < C; c++) {
        const int64_t *src = raw + (mask_c == 1 ? 0 : (int64_t)c * hw);
        int32_t *dst = out->id + (int64_t)c * hw;
        for (int64_t i = 0; i < hw; i++)
            dst[i] = rank_of(u, nu, src[i]);
    }
    free(u);

    /* counting sort of the elements by feature (stable: ascending). */
    for (int64_t i = 0; i < numel; i++)
        out->start[out->id[i] + 1]++;
    for (int f = 0; f < out->n_features; f++)
        out->start[f + 1] += out->start[f];
    int64_t *fill = malloc((size_t)nu * sizeof *fill);
    if (!fill) {
        hl_feature_mask_clear(out);
        return hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    }
    memcpy(fill, out->start, (size_t)nu * sizeof *fill);
    for (int64_t i = 0; i < numel; i++)
        out->element[fill[out->id[i]]++] = i;
    free(fill);
    return HL_OK;
}

static int parse_positive(const char *s, long *v, const char **end)
{
    char *e;
    errno = 0;
    long x = strtol(s, &e, 10);
    if (e == s || errno || x <= 0)
        return 0;
    *v = x;
    *end = e;
    return 1;
}

static hl_status grid_mask(const char *arg, const char *spec, int C, int H,
                           int W, hl_feature_mask *out, hl_error *err)
{
    long n;
    const char *end;
    if (!parse_positive(arg, &n, &end) || *end || n > 1 << 20)
        return hl_error_set(err, HL_ERR_ARG,
                            "feature-mask '%s': grid:N needs a positive "
                            "integer N", spec);
    int64_t hw = (int64_t)H * W;
    int64_t *raw = malloc((size_t)hw * sizeof *raw);
    if (!raw)
        return hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    int64_t cols = (W + n - 1) / n;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            raw[(int64_t)y * W + x] = (y / n) * cols + x / n;
    hl_status st = finish_mask(raw, 1, C, hw, out, err);
    free(raw);
    return st;
}

/* cells:N, an N x N grid of cells over the image whatever its size (cell
 * edges at floor(i H / N)): the coarse masks of shapley_values. */
static hl_status cells_mask(const char *arg, const char *spec, int C, int H,
                            int W, hl_feature_mask *out, hl_error *err)
{
    long n;
    const char *end;
    if (!parse_positive(arg, &n, &end) || *end || n > H || n > W)
        return hl_error_set(err, HL_ERR_ARG,
                            "feature-mask '%s': cells:N needs a positive "
                            "integer N up to the image side (%d)", spec,
                            H < W ? H : W);
    int64_t hw = (int64_t)H * W;
    int64_t *raw = malloc((size_t)hw * sizeof *raw);
    if (!raw)
        return hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            raw[(int64_t)y * W + x] = ((int64_t)y * n / H) * n +
                                      (int64_t)x * n / W;
    hl_status st = finish_mask(raw, 1, C, hw, out, err);
    free(raw);
    return st;
}

hl_status hl_feature_mask_check_shape(const hl_shape *s, const char *name,
                                      int C, int H, int W, int *mask_c,
                                      hl_error *err)
{
    /* Accept [H,W], [1|C,H,W], [1,1|C,H,W]. */
    *mask_c = -1;
    if (s->ndim >= 2 && s->dims[s->ndim - 2] == H && s->dims[s->ndim - 1] == W) {
        if (s->ndim == 2)
            *mask_c = 1;
        else if (s->ndim == 3 && (s->dims[0] == 1 || s->dims[0] == C))
            *mask_c = (int)s->dims[0];
        else if (s->ndim == 4 && s->dims[0] == 1 &&
                 (s->dims[1] == 1 || s->dims[1] == C))
            *mask_c = (int)s->dims[1];
    }
    if (*mask_c < 0) {
        char got[96];
        hl_shape_format(s, got, sizeof got);
        return hl_error_set(err, HL_ERR_SHAPE,
                            "feature mask %s: shape %s does not fit the "
                            "input [1,%d,%d,%d] (use [H,W], [1,1,H,W] or "
                            "[1,C,H,W])", name, got, C, H, W);
    }
    return HL_OK;
}

static hl_status input_chw(const hl_array *input, int *C, int *H, int *W,
                           hl_error *err)
{
    if (!input || input->shape.ndim != 4 || input->shape.dims[0] != 1)
        return hl_error_set(err, HL_ERR_SHAPE,
                            "feature mask: the input must be [1,C,H,W]");
    *C = (int)input->shape.dims[1];
    *H = (int)input->shape.dims[2];
    *W = (int)input->shape.dims[3];
    return HL_OK;
}

hl_status hl_feature_mask_from_ids(const int64_t *ids, const hl_shape *s,
                                   const char *name, const hl_array *input,
                                   hl_feature_mask *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    int C = 0, H = 0, W = 0, mask_c = 0;
    hl_status st = input_chw(input, &C, &H, &W, err);
    if (st == HL_OK)
        st = hl_feature_mask_check_shape(s, name, C, H, W, &mask_c, err);
    if (st != HL_OK)
        return st;
    return finish_mask(ids, mask_c, C, (int64_t)H * W, out, err);
}

/* The picture SLIC segments: the 0..1 image if the caller has it, else the
 * input un-normalised with mean/std, else the input min-max scaled. */
static float *slic_image(const hl_array *input, const hl_attr_context *ctx,
                         int C, int64_t hw)
{
    int64_t n = (int64_t)C * hw;
    float *img = malloc((size_t)n * sizeof *img);
    if (!img)
        return NULL;
    if (ctx && ctx->image01) {
        memcpy(img, ctx->image01, (size_t)n * sizeof *img);
        return img;
    }
    if (ctx && ctx->mean && ctx->std) {
        for (int c = 0; c < C; c++)
            for (int64_t i = 0; i < hw; i++) {
                float v = input->data[c * hw + i] * ctx->std[c] + ctx->mean[c];
                img[c * hw + i] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        return img;
    }
    float lo = input->data[0], hi = input->data[0];
    for (int64_t i = 1; i < n; i++) {
        if (input->data[i] < lo)
            lo = input->data[i];
        if (input->data[i] > hi)
            hi = input->data[i];
    }
    float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
    for (int64_t i = 0; i < n; i++)
        img[i] = (input->data[i] - lo) * scale;
    return img;
}

static hl_status slic_mask(const char *arg, const char *spec,
                           const hl_array *input, const hl_attr_context *ctx,
                           int C, int H, int W, hl_feature_mask *out,
                           hl_error *err)
{
    long k;
    const char *end;
    double compactness = 10.0;
    if (!parse_positive(arg, &k, &end) || k > 1 << 20)
        return hl_error_set(err, HL_ERR_ARG,
                            "feature-mask '%s': slic:K needs a positive "
                            "integer K (slic:K,COMPACTNESS optional)", spec);
    if (*end == ',') {
        char *e2;
        compactness = strtod(end + 1, &e2);
        if (e2 == end + 1 || *e2 || !(compactness > 0))
            return hl_error_set(err, HL_ERR_ARG,
                                "feature-mask '%s': compactness must be a "
                                "positive number", spec);
    } else if (*end) {
        return hl_error_set(err, HL_ERR_ARG,
                            "feature-mask '%s': expected slic:K or "
                            "slic:K,COMPACTNESS", spec);
    }
    int64_t hw = (int64_t)H * W;
    float *img = slic_image(input, ctx, C, hw);
    int32_t *labels = malloc((size_t)hw * sizeof *labels);
    int64_t *raw = malloc((size_t)hw * sizeof *raw);
    hl_status st;
    if (!img || !labels || !raw) {
        st = hl_error_set(err, HL_ERR_NOMEM, "feature mask: out of memory");
    } else {
        int n_labels = 0;
        st = hl_slic(img, C, H, W, (int)k, compactness, labels, &n_labels, err);
        if (st == HL_OK) {
            for (int64_t i = 0; i < hw; i++)
                raw[i] = labels[i];
            st = finish_mask(raw, 1, C, hw, out, err);
        }
    }
    free(img);
    free(labels);
    free(raw);
    return st;
}

hl_status hl_feature_mask_build(const char *spec, const hl_array *input,
                                const hl_attr_context *ctx,
                                hl_feature_mask *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    int C = 0, H = 0, W = 0;
    hl_status st = input_chw(input, &C, &H, &W, err);
    if (st != HL_OK)
        return st;
    if (!spec || !*spec)
        spec = "grid:16";
    if (strncmp(spec, "grid:", 5) == 0)
        return grid_mask(spec + 5, spec, C, H, W, out, err);
    if (strncmp(spec, "cells:", 6) == 0)
        return cells_mask(spec + 6, spec, C, H, W, out, err);
    if (strncmp(spec, "slic:", 5) == 0)
        return slic_mask(spec + 5, spec, input, ctx, C, H, W, out, err);
    size_t len = strlen(spec);
    if (len > 4 && strcmp(spec + len - 4, ".npy") == 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "feature-mask %s: a file is read with the request "
                            "(hl_attr_request_prepare), not here", spec);
    return hl_error_set(err, HL_ERR_ARG,
                        "feature-mask '%s': expected grid:N, cells:N, slic:K "
                        "or a .npy file of integer ids", spec);
}

hl_status hl_feature_mask_for_request(const hl_attr_request *r,
                                      const hl_array *input,
                                      const hl_attr_context *ctx,
                                      hl_feature_mask *out, hl_error *err)
{
    if (r->mask_ids)
        return hl_feature_mask_from_ids(r->mask_ids, &r->mask_shape,
                                        r->params.feature_mask, input, out, err);
    return hl_feature_mask_build(r->params.feature_mask, input, ctx, out, err);
}

hl_status hl_feature_mask_from_element_ids(const int64_t *ids, int64_t numel,
                                           hl_feature_mask *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    if (numel < 1 || numel > INT32_MAX)
        return hl_error_set(err, HL_ERR_ARG, "feature mask: %lld elements",
                            (long long)numel);
    return finish_mask(ids, 1, 1, numel, out, err);
}

hl_box *hl_feature_mask_boxes(const hl_feature_mask *m, int64_t H, int64_t W,
                              hl_box *largest)
{
    hl_box *bb = malloc(sizeof *bb * (size_t)(m->n_features > 0 ? m->n_features : 1));
    if (!bb)
        return NULL;
    *largest = (hl_box){0, 0, 0, 0};
    for (int f = 0; f < m->n_features; f++) {
        hl_box b = {H, 0, W, 0};
        for (int64_t k = m->start[f]; k < m->start[f + 1]; k++) {
            int64_t e = m->element[k] % (H * W), y = e / W, x = e % W;
            b.y0 = y < b.y0 ? y : b.y0;
            b.y1 = y + 1 > b.y1 ? y + 1 : b.y1;
            b.x0 = x < b.x0 ? x : b.x0;
            b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
        }
        bb[f] = b;
        if ((b.y1 - b.y0) * (b.x1 - b.x0) >
            (largest->y1 - largest->y0) * (largest->x1 - largest->x0))
            *largest = b;
    }
    return bb;
}
