/* Exact incremental forwards (hl_incremental, run_incremental.c) against
 * full forwards (hl_run_forward, whose kernels test-models.c checks
 * against float64 PyTorch): inputs equal to a clean input except inside
 * a box (windows at the four corners, on the edges, inside, 1x1, the
 * whole map, boxes reaching past the border), batch 1 and 16. Every
 * dynamic float value of every row must match within relative L2 1e-5,
 * the outputs row by row too. On the models where boxes can be followed
 * (convs, pools, residual Adds), a small box must cost less per row than
 * the whole map (so the test cannot pass by recomputing everything).
 *
 * Models: the Captum cases (tinycnn, tinyres: residual Adds, folded BN),
 * the small CNNs of tests/data/models (depthwise, squeeze-excitation,
 * MaxPool, Concat, AveragePool, LayerNorm, Resize, LRN, ...),
 * tests/data/engine/incremental_resnet.onnx (7x7 stride-2 stem, MaxPool,
 * stride-2 residual blocks with 1x1 downsampling, dilated and asymmetric
 * convs, padded AveragePool), the fused activations' cases of
 * tests/data/captum/activations (Swish, Gelu, HardSwish, Mish) and the
 * bundled MobileNet V2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tap.h"

static char src_root[3000];

/* deterministic values in [-1, 1) */
static void fill(float *x, size_t n, unsigned long long seed)
{
    unsigned long long s = seed * 6364136223846793005ULL + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 8388608.0)) - 1.0f;
    }
}

/* Boxes of an H x W map: corners, edges, inside, 1x1, whole, past the
 * border; `count` of them from `first` on (cycling). */
static void make_boxes(int64_t H, int64_t W, int first, int count,
                       hl_box *out)
{
    int64_t h = H / 4 > 0 ? H / 4 : 1, w = W / 4 > 0 ? W / 4 : 1;
    const hl_box all[] = {
        {0, h, 0, w},                 /* top left */
        {0, h, W - w, W},             /* top right */
        {H - h, H, 0, w},             /* bottom left */
        {H - h, H, W - w, W},         /* bottom right */
        {0, h, W / 2 - w / 2, W / 2 - w / 2 + w},   /* top edge */
        {H / 2, H / 2 + h, 0, w},     /* left edge */
        {H / 2 - 1, H / 2 - 1 + h, W / 3, W / 3 + w},  /* inside */
        {H / 3, H / 3 + 1, W / 2 + 1, W / 2 + 2},   /* one pixel */
        {0, H, 0, W},                 /* the whole map */
        {H - h / 2, H + h, -w / 2, w},  /* past the border */
        {1, 1 + h, 3, 3 + 2 * w},     /* odd offsets, wide */
        {H / 5, H / 5 + 2 * h, W - w - 1, W - 1},
    };
    const int n = (int)(sizeof all / sizeof all[0]);
    for (int i = 0; i < count; i++)
        out[i] = all[(first + i) % n];
}

/* The model at path and its input's batch-1 shape; NULL (a failed check
 * naming label) when it does not load. */
static hl_model *load_batch1(const char *path, const char *label, hl_shape *is)
{
    hl_error err = {0};
    hl_model *m = NULL;
    if (hl_model_load_onnx(path, &m, &err) != HL_OK) {
        tap_ok(0, "%s: loads: %s", label, err.msg);
        return NULL;
    }
    *is = m->input_shapes[0];
    is->dims[0] = 1;
    return m;
}

static int check_model(const char *path, const char *label)
{
    hl_error err = {0};
    hl_shape is;
    hl_model *m = load_batch1(path, label, &is);
    if (!m)
        return 0;
    const int64_t C = is.dims[1], H = is.dims[2], W = is.dims[3];
    const size_t numel = (size_t)(C * H * W);
    float *clean = malloc(numel * sizeof(float));
    fill(clean, numel, 7);
    hl_threadpool *pool = hl_threadpool_new(2);
    hl_incremental *inc = NULL;
    hl_status st = hl_incremental_new(m, pool, clean, &inc, &err);
    tap_ok(st == HL_OK, "%s: incremental forward set up%s%s", label,
           st ? ": " : "", st ? err.msg : "");
    if (st != HL_OK) {
        free(clean);
        hl_threadpool_free(pool);
        hl_model_free(m);
        return 0;
    }

    /* a small box costs less per row than the whole map */
    hl_box small = {H / 2, H / 2 + (H / 8 > 0 ? H / 8 : 1), W / 2,
                    W / 2 + (W / 8 > 0 ? W / 8 : 1)};
    hl_box whole = {0, H, 0, W};
    size_t b_small = hl_incremental_row_bytes(inc, &small, &err);
    size_t b_whole = hl_incremental_row_bytes(inc, &whole, &err);

    /* multiply-adds: the whole map recomputes a full forward (the count
     * the loader sums, hl_model_forward_flops), a small box a part of it */
    int nn = hl_model_num_nodes(m);
    double *mc = calloc((size_t)nn, sizeof *mc), *mf = calloc((size_t)nn, sizeof *mf);
    double c_whole = 0, f_whole = 0, c_small = 0, f_small = 0;
    int macs_ok = hl_incremental_node_macs(inc, &whole, mc, mf, &err) == HL_OK;
    for (int k = 0; k < nn; k++)
        c_whole += mc[k], f_whole += mf[k];
    macs_ok &= hl_incremental_node_macs(inc, &small, mc, mf, &err) == HL_OK;
    for (int k = 0; k < nn; k++) {
        c_small += mc[k], f_small += mf[k];
        macs_ok &= mc[k] >= 0 && mc[k] <= mf[k] * (1 + 1e-12);
    }
    double flops = hl_model_forward_flops(m);
    tap_ok(macs_ok && fabs(f_whole - flops) <= 1e-9 * flops &&
           fabs(c_whole - flops) <= 1e-9 * flops && f_small == f_whole &&
           c_small > 0 && c_small <= c_whole,
           "%s: MACs per node: whole map %.4g = the model's %.4g, box %lldx%lld "
           "%.4g (%.1f%%)", label, c_whole, flops, (long long)(small.y1 - small.y0),
           (long long)(small.x1 - small.x0), c_small, 100.0 * c_small / flops);
    free(mc);
    free(mf);

    hl_run *full = hl_run_new_shared(m, pool);
    const int batches[2] = {1, 16};
    int first = 0;
    for (int bi = 0; bi < 2; bi++) {
        const int n = batches[bi];
        for (int rep = 0; rep < (n == 1 ? 12 : 2); rep++, first += n) {
            hl_box boxes[16];
            make_boxes(H, W, first, n, boxes);
            float *inputs = malloc((size_t)n * numel * sizeof(float));
            for (int r = 0; r < n; r++) {
                float *x = inputs + (size_t)r * numel;
                memcpy(x, clean, numel * sizeof(float));
                float patch[1];
                for (int64_t c = 0; c < C; c++)
                    for (int64_t y = boxes[r].y0; y < boxes[r].y1; y++)
                        for (int64_t xx = boxes[r].x0; xx < boxes[r].x1; xx++) {
                            if (y < 0 || y >= H || xx < 0 || xx >= W)
                                continue;
                            fill(patch, 1, (unsigned long long)(r * 131 + y * 17 + xx + c * 1001 + 3));
                            x[(c * H + y) * W + xx] = 2.0f * patch[0];
                        }
            }
            st = hl_incremental_forward(inc, inputs, boxes, n, &err);
            if (st == HL_OK)
                st = hl_run_forward(full, inputs, n, &err);
            int n_values = 0, bad = 0;
            double worst = 0;
            char worst_name[200] = "";
            for (int v = 0; st == HL_OK && v < m->n_values; v++) {
                if (m->values[v].kind != HL_VAL_DYNAMIC || m->values[v].alias >= 0 ||
                    v == m->inputs[0])
                    continue;
                hl_shape s;
                const float *ref = hl_run_value(full, v, &s);
                if (!ref || hl_run_tensor(full, v)->dtype != HL_DT_FLOAT)
                    continue;
                size_t vn = (size_t)hl_shape_numel(&s);
                float *got = malloc(vn * sizeof(float));
                if (hl_incremental_read(inc, v, got, &err) != HL_OK) {
                    bad++;
                    free(got);
                    continue;
                }
                double e = tap_rel_l2(got, ref, (long)vn);
                if (!(e <= 1e-5))
                    bad++;
                if (!(e <= 1e-5) && getenv("HL_DEBUG_INC")) {
                    size_t rn = vn / (size_t)n;
                    for (int r = 0; r < n; r++)
                        tap_diag("  %s row %d box %lld,%lld,%lld,%lld: %.3g", m->values[v].name, r,
                                 (long long)boxes[r].y0, (long long)boxes[r].y1, (long long)boxes[r].x0,
                                 (long long)boxes[r].x1, tap_rel_l2(got + r * rn, ref + r * rn, (long)rn));
                }
                if (!(e <= worst)) {
                    worst = e;
                    snprintf(worst_name, sizeof worst_name, "%s", m->values[v].name);
                }
                n_values++;
                free(got);
            }
            /* the output row by row */
            int out = hl_model_output_value(m);
            int rows_bad = 0;
            if (st == HL_OK) {
                hl_shape os;
                const float *ref = hl_run_value(full, out, &os);
                size_t on = (size_t)hl_shape_numel(&os), row = on / (size_t)n;
                float *got = malloc(on * sizeof(float));
                if (hl_incremental_read(inc, out, got, &err) == HL_OK) {
                    for (int r = 0; r < n; r++)
                        if (!(tap_rel_l2(got + r * row, ref + r * row, (long)row) <= 1e-5))
                            rows_bad++;
                } else {
                    rows_bad = n;
                }
                free(got);
            }
            tap_ok(st == HL_OK && n_values > 0 && bad == 0 && rows_bad == 0,
                   "%s: batch %d, boxes %d..%d: %d values equal the full "
                   "forward (worst relative L2 %.2g at '%s'), outputs of %d "
                   "rows%s%s", label, n, first % 12, (first + n - 1) % 12,
                   n_values, worst, worst_name, n - rows_bad,
                   st ? ": " : "", st ? err.msg : "");
            free(inputs);
        }
    }
    hl_run_free(full);
    hl_incremental_free(inc);
    hl_threadpool_free(pool);
    free(clean);
    hl_model_free(m);
    tap_diag("%s: bytes per row, box %lldx%lld: %.2f MB, whole map: %.2f MB",
             label, (long long)(small.y1 - small.y0),
             (long long)(small.x1 - small.x0), b_small / 1e6, b_whole / 1e6);
    return b_small < b_whole;
}

/* Forwards from a layer (hl_incremental_forward_from): rows of a value
 * that differ from its clean numbers inside a box (a unit set to 0, a
 * corner, the whole map) against whole forwards with that value
 * overridden (hl_run_set_override), output row by row, for every
 * `every`-th 4-D computed value (node outputs and folded convs' pre-BN
 * values). */
static int check_from(const char *path, const char *label, int every)
{
    hl_error err = {0};
    hl_shape is;
    hl_model *m = load_batch1(path, label, &is);
    if (!m)
        return 0;
    const size_t in_numel = (size_t)hl_shape_numel(&is);
    enum { N = 3 };
    float *clean = malloc(in_numel * sizeof(float)), *inputs = malloc(N * in_numel * sizeof(float));
    fill(clean, in_numel, 11);
    for (int r = 0; r < N; r++)
        memcpy(inputs + r * in_numel, clean, in_numel * sizeof(float));
    hl_threadpool *pool = hl_threadpool_new(2);
    hl_incremental *inc = NULL;
    hl_run *one = hl_run_new_shared(m, pool), *full = hl_run_new_shared(m, pool);
    hl_status st = hl_incremental_new(m, pool, clean, &inc, &err);
    if (st == HL_OK)
        st = hl_run_forward(one, clean, 1, &err);
    const int out = hl_model_output_value(m);
    int checked = 0, bad = 0, seen = 0, derived = 0;
    double worst = 0;
    for (int v = 0; st == HL_OK && v < m->n_values; v++) {
        hl_shape s;
        if (v == m->inputs[0] || v == out || !hl_model_value_is_computed(m, v) ||
            hl_model_value_shape(m, v, &s) != HL_OK || s.ndim != 4 ||
            (m->values[v].alias >= 0 && !m->values[v].scale) || !hl_incremental_can_start(inc, v))
            continue;
        if (seen++ % every)
            continue;
        s.dims[0] = 1;
        const int64_t C = s.dims[1], H = s.dims[2], W = s.dims[3], numel = C * H * W;
        const float *a = hl_run_value(one, v, NULL);
        float *rows = malloc((size_t)(N * numel) * sizeof(float));
        for (int r = 0; r < N; r++)
            memcpy(rows + r * numel, a, (size_t)numel * sizeof(float));
        hl_box boxes[N] = { {H / 2, H / 2 + 1, W / 2, W / 2 + 1}, {0, 2, 0, 2}, {0, H, 0, W} };
        rows[0 * numel + (C / 2 * H + H / 2) * W + W / 2] = 0.0f;   /* one unit ablated */
        for (int64_t c = 0; c < C; c++) {
            for (int64_t y = 0; y < 2 && y < H; y++)
                for (int64_t x = 0; x < 2 && x < W; x++)
                    fill(rows + numel + (c * H + y) * W + x, 1, (unsigned long long)(c * 7 + y * 3 + x));
            for (int64_t k = 0; k < H * W; k++)
                rows[2 * numel + c * H * W + k] = 0.0f;           /* every channel... */
        }
        memcpy(rows + 2 * numel + C / 3 * H * W, a + C / 3 * H * W, (size_t)(C - C / 3) * (size_t)(H * W) * sizeof(float));
        st = hl_incremental_forward_from(inc, v, rows, boxes, N, &err);
        hl_shape os;
        const float *ref = NULL;
        if (st == HL_OK)
            st = hl_run_set_override(full, v, rows, &err);
        if (st == HL_OK)
            st = hl_run_forward(full, inputs, N, &err);
        hl_run_clear_overrides(full);
        if (st == HL_OK)
            ref = hl_run_value(full, out, &os);
        if (ref) {
            size_t on = (size_t)hl_shape_numel(&os), row = on / N;
            float *got = malloc(on * sizeof(float));
            st = hl_incremental_read(inc, out, got, &err);
            for (int r = 0; st == HL_OK && r < N; r++) {
                double e = tap_rel_l2(got + r * row, ref + r * row, (long)row);
                if (!(e <= 1e-5))
                    bad++;
                if (!(e <= worst))
                    worst = e;
            }
            free(got);
        }
        checked++;
        derived += m->values[v].scale != NULL;
        free(rows);
    }
    tap_ok(st == HL_OK && checked > 0 && bad == 0, "%s: forwards from %d layers (%d pre-BN), "
           "3 rows each, equal whole forwards with the layer overridden (worst relative L2 "
           "%.2g)%s%s", label, checked, derived, worst, st ? ": " : "", st ? err.msg : "");
    hl_run_free(one);
    hl_run_free(full);
    hl_incremental_free(inc);
    hl_threadpool_free(pool);
    free(clean);
    free(inputs);
    hl_model_free(m);
    return checked;
}

int main(void)
{
    hl_engine_init();
    const char *src = getenv("HL_SOURCE_ROOT");
    snprintf(src_root, sizeof src_root, "%s", src ? src : ".");
    char path[3400];
    static const char *const captum[] = { "tinycnn", "tinyres",
                                          "tinyres_default_export" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/tests/data/captum/%s/model.onnx",
                 src_root, captum[i]);
        tap_ok(check_model(path, captum[i]),
               "%s: a small box costs less than the whole map", captum[i]);
    }
    static const char *const models[] = {
        "tiny_convnext_op13", "tiny_convnext_op17", "tiny_densenet",
        "tiny_efficientnet", "tiny_mobilenet_v3", "tiny_shufflenet",
        "tiny_grey", "tiny_misc", "tiny_upsample", "tiny_groupnorm",
        "tiny_nhwc",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        snprintf(path, sizeof path, "%s/tests/data/models/%s.onnx", src_root,
                 models[i]);
        int cheaper = check_model(path, models[i]);
        tap_diag("%s: a small box %s", models[i],
                 cheaper ? "costs less than the whole map" : "costs as much as the whole map");
    }
    /* the activations fused at load (Swish, Gelu, HardSwish, Mish) */
    static const char *const fused[] = { "silu", "gelu", "gelu_tanh", "hardswish",
                                         "hardswish_hand", "mish" };
    for (size_t i = 0; i < sizeof fused / sizeof fused[0]; i++) {
        snprintf(path, sizeof path, "%s/tests/data/captum/activations/%s.onnx",
                 src_root, fused[i]);
        int cheaper = check_model(path, fused[i]);
        tap_diag("%s: a small box %s", fused[i],
                 cheaper ? "costs less than the whole map" : "costs as much as the whole map");
    }
    snprintf(path, sizeof path, "%s/tests/data/engine/incremental_resnet.onnx",
             src_root);
    tap_ok(check_model(path, "incremental_resnet"),
           "incremental_resnet: a small box costs less than the whole map");
    snprintf(path, sizeof path, "%s/tests/data/captum/tinyres/model.onnx", src_root);
    check_from(path, "tinyres", 1);
    snprintf(path, sizeof path, "%s/tests/data/engine/incremental_resnet.onnx", src_root);
    check_from(path, "incremental_resnet", 1);
    snprintf(path, sizeof path, "%s/data/models/mobilenet_v2.onnx", src_root);
    check_from(path, "mobilenet_v2 (bundled)", 12);
    tap_ok(check_model(path, "mobilenet_v2 (bundled)"),
           "mobilenet_v2 (bundled): a small box costs less than the whole map");
    return tap_done();
}
