/* SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to
 * State-of-the-art Superpixel Methods", TPAMI 2012), used by the feature
 * mask spec slic:K. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "feature_mask.h"

#define SLIC_ITERATIONS 10
#define SLIC_MAX_FEATURES 8   /* colour channels used for the distance */

typedef struct slic_center {
    double f[SLIC_MAX_FEATURES];
    double x, y;
} slic_center;

static double srgb_to_linear(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double lab_f(double t)
{
    return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0;
}

/* Per-pixel colour features: CIELAB (D65) for 3 channels, else the raw
 * channels scaled to a 0..100 range like L. feat is [hw][nf]. */
static void colour_features(const float *image, int channels, int64_t hw,
                            double *feat, int nf)
{
    for (int64_t i = 0; i < hw; i++) {
        double *o = feat + i * nf;
        if (channels == 3) {
            double r = srgb_to_linear(image[i]);
            double g = srgb_to_linear(image[hw + i]);
            double b = srgb_to_linear(image[2 * hw + i]);
            double X = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456;
            double Y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
            double Z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754;
            double fx = lab_f(X), fy = lab_f(Y), fz = lab_f(Z);
            o[0] = 116.0 * fy - 16.0;
            o[1] = 500.0 * (fx - fy);
            o[2] = 200.0 * (fy - fz);
        } else {
            for (int c = 0; c < nf; c++)
                o[c] = 100.0 * image[(int64_t)c * hw + i];
        }
    }
}

static double feat_dist2(const double *a, const double *b, int nf)
{
    double d = 0;
    for (int c = 0; c < nf; c++)
        d += (a[c] - b[c]) * (a[c] - b[c]);
    return d;
}

static double gradient_at(const double *feat, int nf, int H, int W, int x,
                          int y)
{
    int xl = x > 0 ? x - 1 : x, xr = x < W - 1 ? x + 1 : x;
    int yu = y > 0 ? y - 1 : y, yd = y < H - 1 ? y + 1 : y;
    return feat_dist2(feat + ((int64_t)y * W + xr) * nf,
                      feat + ((int64_t)y * W + xl) * nf, nf) +
           feat_dist2(feat + ((int64_t)yd * W + x) * nf,
                      feat + ((int64_t)yu * W + x) * nf, nf);
}

/* Relabel 4-connected components; components smaller than min_size take
 * the label of a neighbouring component found before them in raster order
 * (the original SLIC post-processing). Returns the number of labels. */
static int enforce_connectivity(const int32_t *in, int32_t *out, int H, int W,
                                int64_t min_size, int64_t *queue)
{
    int64_t hw = (int64_t)H * W;
    static const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
    for (int64_t i = 0; i < hw; i++)
        out[i] = -1;
    int next = 0;
    for (int64_t start = 0; start < hw; start++) {
        if (out[start] >= 0)
            continue;
        int sx = (int)(start % W), sy = (int)(start / W);
        int32_t adjacent = -1;
        for (int k = 0; k < 4; k++) {
            int nx = sx + dx[k], ny = sy + dy[k];
            if (nx >= 0 && nx < W && ny >= 0 && ny < H &&
                out[(int64_t)ny * W + nx] >= 0)
                adjacent = out[(int64_t)ny * W + nx];
        }
        int64_t head = 0, tail = 0;
        queue[tail++] = start;
        out[start] = next;
        while (head < tail) {
            int64_t p = queue[head++];
            int px = (int)(p % W), py = (int)(p / W);
            for (int k = 0; k < 4; k++) {
                int nx = px + dx[k], ny = py + dy[k];
                if (nx < 0 || nx >= W || ny < 0 || ny >= H)
                    continue;
                int64_t q = (int64_t)ny * W + nx;
                if (out[q] < 0 && in[q] == in[start]) {
                    out[q] = next;
                    queue[tail++] = q;
                }
            }
        }
        if (tail < min_size && adjacent >= 0) {
            for (int64_t i = 0; i < tail; i++)
                out[queue[i]] = adjacent;
        } else {
            next++;
        }
    }
    return next;
}

hl_status hl_slic(const float *image, int channels, int height, int width,
                  int n_segments, double compactness, int32_t *labels,
                  int *n_labels, hl_error *err)
{
    if (!image || channels < 1 || height < 1 || width < 1 || n_segments < 1)
        return hl_error_set(err, HL_ERR_ARG, "slic: bad image or segment count");
    const int H = height, W = width;
    const int64_t hw = (int64_t)H * W;
    const int nf = channels == 3 ? 3
                 : channels < SLIC_MAX_FEATURES ? channels : SLIC_MAX_FEATURES;

    double S = sqrt((double)hw / n_segments);
    int ny = (int)lround(H / S), nx = (int)lround(W / S);
    if (ny < 1)
        ny = 1;
    if (nx < 1)
        nx = 1;
    if (ny > H)
        ny = H;
    if (nx > W)
        nx = W;
    const double step_x = (double)W / nx, step_y = (double)H / ny;
    const double step = sqrt(step_x * step_y);
    const int n_centers = nx * ny;

    double *feat = malloc((size_t)hw * nf * sizeof *feat);
    double *dist = malloc((size_t)hw * sizeof *dist);
    int32_t *assign = malloc((size_t)hw * sizeof *assign);
    int64_t *queue = malloc((size_t)hw * sizeof *queue);
    slic_center *ctr = calloc((size_t)n_centers, sizeof *ctr);
    slic_center *acc = calloc((size_t)n_centers, sizeof *acc);
    int64_t *count = calloc((size_t)n_centers, sizeof *count);
    if (!feat || !dist || !assign || !queue || !ctr || !acc || !count) {
        free(feat); free(dist); free(assign); free(queue);
        free(ctr); free(acc); free(count);
        return hl_error_set(err, HL_ERR_NOMEM, "slic: out of memory");
    }
    colour_features(image, channels, hw, feat, nf);

    /* Grid seeds, each moved to the lowest gradient of its 3x3 patch. */
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            int cx = (int)((i + 0.5) * step_x), cy = (int)((j + 0.5) * step_y);
            int bx = cx, by = cy;
            double best = DBL_MAX;
            for (int yy = cy - 1; yy <= cy + 1; yy++)
                for (int xx = cx - 1; xx <= cx + 1; xx++) {
                    if (xx < 0 || xx >= W || yy < 0 || yy >= H)
                        continue;
                    double g = gradient_at(feat, nf, H, W, xx, yy);
                    if (g < best) {
                        best = g;
                        bx = xx;
                        by = yy;
                    }
                }
            slic_center *c = &ctr[j * nx + i];
            memcpy(c->f, feat + ((int64_t)by * W + bx) * nf, nf * sizeof(double));
            c->x = bx;
            c->y = by;
        }

    const double spatial_w = (compactness / step) * (compactness / step);
    const int reach_x = (int)ceil(step_x), reach_y = (int)ceil(step_y);
    for (int64_t p = 0; p < hw; p++)
        assign[p] = 0;
    for (int it = 0; it < SLIC_ITERATIONS; it++) {
        for (int64_t p = 0; p < hw; p++)
            dist[p] = DBL_MAX;
        for (int k = 0; k < n_centers; k++) {
            const slic_center *c = &ctr[k];
            int x0 = (int)floor(c->x) - reach_x, x1 = (int)ceil(c->x) + reach_x;
            int y0 = (int)floor(c->y) - reach_y, y1 = (int)ceil(c->y) + reach_y;
            if (x0 < 0) x0 = 0;
            if (y0 < 0) y0 = 0;
            if (x1 > W - 1) x1 = W - 1;
            if (y1 > H - 1) y1 = H - 1;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) {
                    int64_t p = (int64_t)y * W + x;
                    double ds = (x - c->x) * (x - c->x) + (y - c->y) * (y - c->y);
                    double d = feat_dist2(feat + p * nf, c->f, nf) + ds * spatial_w;
                    if (d < dist[p]) {
                        dist[p] = d;
                        assign[p] = k;
                    }
                }
        }
        memset(acc, 0, (size_t)n_centers * sizeof *acc);
        memset(count, 0, (size_t)n_centers * sizeof *count);
        for (int64_t p = 0; p < hw; p++) {
            slic_center *a = &acc[assign[p]];
            for (int c = 0; c < nf; c++)
                a->f[c] += feat[p * nf + c];
            a->x += (double)(p % W);
            a->y += (double)(p / W);
            count[assign[p]]++;
        }
        for (int k = 0; k < n_centers; k++) {
            if (!count[k])
                continue;   /* an empty cluster keeps its old centre */
            for (int c = 0; c < nf; c++)
                ctr[k].f[c] = acc[k].f[c] / count[k];
            ctr[k].x = acc[k].x / count[k];
            ctr[k].y = acc[k].y / count[k];
        }
    }

    int64_t min_size = hw / n_centers / 4;
    if (min_size < 1)
        min_size = 1;
    *n_labels = enforce_connectivity(assign, labels, H, W, min_size, queue);

    free(feat); free(dist); free(assign); free(queue);
    free(ctr); free(acc); free(count);
    return HL_OK;
}
