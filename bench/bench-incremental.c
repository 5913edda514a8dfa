/* bench-incremental: how much of a full forward the exact incremental
 * forward recomputes per occlusion window, per group of layers (by the
 * size of their output map), and what that bounds.
 *
 *   bench-incremental [--model FILE.onnx] [--strides 8,8] [--window 15,15]
 *                     [--threads N] [--captum-seconds S]
 *
 * For every window of an occlusion over H x W (all channels, as the seed
 * call's 3,15,15 window on an RGB input), hl_incremental_node_macs
 * propagates the window's box through the graph without computing and
 * counts each node's multiply-adds (hl_model_forward_flops' count: MACs
 * of convs and matrix ops, output elements of the rest) against a full
 * batch-1 forward's. It then times full forwards at batch 16 (the
 * occlusion's batch) for our throughput per row, and prints the lowest
 * time any exact incremental scheme could take if it computed only those
 * MACs at that throughput (no crops, no small-GEMM loss, no overhead):
 * windows x fraction x full-forward time per row. With --captum-seconds
 * (Captum's measured occlusion time for the same call) it prints that
 * bound as a ratio. Not a test: no thresholds; it prints numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "bench-clock.h"

#ifndef HL_SOURCE_ROOT
#define HL_SOURCE_ROOT "."
#endif

#define MAX_GROUPS 16

typedef struct group {
    int64_t h;              /* output map height (1: rank-2 or 1x1) */
    int nodes;
    double full, computed;  /* MACs: one full forward; summed over windows */
} group;

static int parse2(const char *s, int v[2])
{
    return sscanf(s, "%d,%d", &v[0], &v[1]) == 2 && v[0] > 0 && v[1] > 0;
}

static void fill_input(float *x, size_t n)
{
    unsigned long long s = 0x5eedULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
    }
}

static int group_of(group *g, int *ng, const hl_shape *s)
{
    int64_t h = s->ndim == 4 ? s->dims[2] : 1;
    for (int i = 0; i < *ng; i++)
        if (g[i].h == h)
            return i;
    if (*ng == MAX_GROUPS)
        return MAX_GROUPS - 1;
    memset(&g[*ng], 0, sizeof g[*ng]);
    g[*ng].h = h;
    return (*ng)++;
}

/* Median wall ms per row of a full forward at batch `batch`. */
static double full_ms_per_row(const hl_model *m, const float *x1, int64_t numel,
                              int batch, int threads)
{
    float *x = malloc(sizeof(float) * (size_t)(numel * batch));
    hl_run *run = hl_run_new(m, threads);
    double t[5];
    int n = 0;
    hl_error err = {0};
    for (int b = 0; x && b < batch; b++)
        memcpy(x + b * numel, x1, sizeof(float) * (size_t)numel);
    for (int k = 0; k < 6 && x && run; k++) {
        double t0 = now();
        if (hl_run_forward(run, x, batch, &err) != HL_OK)
            break;
        if (k > 0)   /* the first call plans the run */
            t[n++] = (now() - t0) * 1e3 / batch;
    }
    hl_run_free(run);
    free(x);
    return n ? median(t, n) : 0.0;
}

int main(int argc, char **argv)
{
    const char *model_path = HL_SOURCE_ROOT "/data/models/mobilenet_v2.onnx";
    int stride[2] = {8, 8}, win[2] = {15, 15}, threads = 0;
    double captum_s = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        int ok = 1;
        if (strcmp(argv[i], "--model") == 0)
            model_path = argv[i + 1];
        else if (strcmp(argv[i], "--strides") == 0)
            ok = parse2(argv[i + 1], stride);
        else if (strcmp(argv[i], "--window") == 0)
            ok = parse2(argv[i + 1], win);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--captum-seconds") == 0)
            captum_s = atof(argv[i + 1]);
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "bench-incremental: bad option %s\n", argv[i]);
            return 2;
        }
    }
    hl_engine_init();
    hl_model *m = NULL;
    hl_error err = {0};
    if (hl_model_load_onnx(model_path, &m, &err) != HL_OK) {
        fprintf(stderr, "bench-incremental: %s\n", err.msg);
        return 1;
    }
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    const int64_t numel = hl_shape_numel(&s), H = s.dims[2], W = s.dims[3];
    float *x = malloc(sizeof(float) * (size_t)numel);
    fill_input(x, (size_t)numel);
    hl_incremental *inc = NULL;
    if (hl_incremental_new(m, NULL, x, &inc, &err) != HL_OK) {
        fprintf(stderr, "bench-incremental: %s\n", err.msg);
        return 1;
    }
    const int nn = hl_model_num_nodes(m);
    double *comp = calloc((size_t)nn, sizeof *comp);
    double *full = calloc((size_t)nn, sizeof *full);
    int *gk = calloc((size_t)nn, sizeof *gk);
    group g[MAX_GROUPS];
    int ng = 0;
    const int64_t ny = (H - win[0] + stride[0] - 1) / stride[0] + 1;
    const int64_t nx = (W - win[1] + stride[1] - 1) / stride[1] + 1;
    double total_full = 0, total_comp = 0;
    for (int64_t wy = 0; wy < ny; wy++)
        for (int64_t wx = 0; wx < nx; wx++) {
            hl_box b = {wy * stride[0], wy * stride[0] + win[0],
                        wx * stride[1], wx * stride[1] + win[1]};
            if (hl_incremental_node_macs(inc, &b, comp, full, &err) != HL_OK) {
                fprintf(stderr, "bench-incremental: %s\n", err.msg);
                return 1;
            }
            for (int k = 0; k < nn; k++) {
                if (wy == 0 && wx == 0) {
                    hl_node_info info;
                    hl_model_node_info(m, k, &info);
                    gk[k] = group_of(g, &ng, &info.shape);
                    g[gk[k]].nodes += full[k] > 0;
                    g[gk[k]].full += full[k];
                    total_full += full[k];
                }
                g[gk[k]].computed += comp[k];
                total_comp += comp[k];
            }
        }
    const double nw = (double)(ny * nx);
    printf("%s: %lld x %lld windows of %dx%d, strides %d,%d\n", model_path,
           (long long)ny, (long long)nx, win[0], win[1], stride[0], stride[1]);
    printf("%-14s %6s %14s %18s %9s\n", "output map", "nodes", "full MMAC",
           "recomputed/window", "fraction");
    for (int i = 0; i < ng; i++)
        printf("%4lldx%-9lld %6d %14.1f %18.1f %8.1f%%\n", (long long)g[i].h,
               (long long)g[i].h, g[i].nodes, g[i].full * 1e-6,
               g[i].computed / nw * 1e-6,
               g[i].full > 0 ? 100.0 * g[i].computed / nw / g[i].full : 0.0);
    const double frac = total_comp / nw / total_full;
    printf("%-14s %6s %14.1f %18.1f %8.1f%%\n", "whole forward", "",
           total_full * 1e-6, total_comp / nw * 1e-6, 100.0 * frac);
    double row = full_ms_per_row(m, x, numel, 16, threads);
    double bound = nw * frac * row * 1e-3;
    printf("full forward at batch 16: %.2f ms per row (wall, median of 5); "
           "plain forwards of every window: %.2f s\n", row, nw * row * 1e-3);
    printf("exact incremental bound (recomputed MACs at that throughput): "
           "%.2f s", bound);
    if (captum_s > 0)
        printf(" = %.3fx Captum's %.2f s", bound / captum_s, captum_s);
    printf("\n");
    hl_incremental_free(inc);
    hl_model_free(m);
    free(x);
    free(comp);
    free(full);
    free(gk);
    return 0;
}
