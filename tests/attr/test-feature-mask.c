/* Feature masks of the perturbation methods: grid:N, .npy ids
 * (shapes, types, compaction, channel broadcast) and slic:K superpixels on
 * synthetic images with known regions. */
#include "attr-test-util.h"
#include "feature_mask.h"
#include "npy.h"

static hl_array *blank(int C, int H, int W)
{
    hl_shape s = {4, {1, C, H, W}};
    return hl_array_new(&s);
}

static void grid_masks(void)
{
    hl_array *x = blank(3, 10, 7);
    hl_feature_mask m;
    hl_error err = {0};
    hl_status st = hl_feature_mask_build("grid:3", x, NULL, &m, &err);
    int ok = st == HL_OK && m.n_features == 12 && m.numel == 210;
    for (int c = 0; ok && c < 3; c++)
        for (int y = 0; y < 10; y++)
            for (int xx = 0; xx < 7; xx++)
                ok &= m.id[(c * 10 + y) * 7 + xx] == (y / 3) * 3 + xx / 3;
    tap_ok(ok, "grid:3 on 10x7: id = (y/3)*ceil(7/3) + x/3 on every channel, "
           "12 features");
    /* Element lists: every element exactly once, under its own feature. */
    int lists_ok = ok && m.start[0] == 0 && m.start[12] == 210;
    for (int f = 0; lists_ok && f < 12; f++)
        for (int64_t k = m.start[f]; k < m.start[f + 1]; k++)
            lists_ok &= m.id[m.element[k]] == f &&
                        (k == m.start[f] || m.element[k] > m.element[k - 1]);
    tap_ok(lists_ok, "grid:3: per-feature element lists are complete and sorted");
    hl_feature_mask_clear(&m);

    st = hl_feature_mask_build("grid:0", x, NULL, &m, &err);
    tap_ok(st == HL_ERR_ARG, "grid:0 is refused (%s)", err.msg);
    st = hl_feature_mask_build("squares", x, NULL, &m, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "grid:N"),
           "an unknown spec is refused with the valid forms (%s)", err.msg);
    hl_array_free(x);
}

/* cells:N: an N x N grid of cells at any image size, and shapley_values'
 * own default (cells:3, within exact Shapley's 12-group bound), decided in
 * the library and followed when the method changes. */
static void cells_masks(void)
{
    hl_array *x = blank(3, 10, 7);
    hl_feature_mask m;
    hl_error err = {0};
    hl_status st = hl_feature_mask_build("cells:3", x, NULL, &m, &err);
    int ok = st == HL_OK && m.n_features == 9;
    for (int c = 0; ok && c < 3; c++)
        for (int y = 0; y < 10; y++)
            for (int xx = 0; xx < 7; xx++)
                ok &= m.id[(c * 10 + y) * 7 + xx] == (y * 3 / 10) * 3 + xx * 3 / 7;
    tap_ok(ok, "cells:3 on 10x7: id = floor(3y/10)*3 + floor(3x/7), 9 features");
    hl_feature_mask_clear(&m);
    st = hl_feature_mask_build("cells:8", x, NULL, &m, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "cells:N"),
           "cells:8 on a 7-pixel-wide image is refused (%s)", err.msg);
    hl_array_free(x);

    hl_attr_params p;
    hl_attr_params_init_for_method(&p, "shapley_values");
    tap_ok(strcmp(p.feature_mask, "cells:3") == 0,
           "shapley_values' default feature mask is cells:3 (%s)", p.feature_mask);
    hl_attr_params_init_for_method(&p, "feature_ablation");
    tap_ok(strcmp(p.feature_mask, "grid:16") == 0,
           "feature_ablation keeps grid:16 (%s)", p.feature_mask);
    hl_attr_params_switch_method(&p, "feature_ablation", "shapley_values");
    int to_shap = strcmp(p.feature_mask, "cells:3") == 0;
    hl_attr_params_switch_method(&p, "shapley_values", "occlusion");
    tap_ok(to_shap && strcmp(p.feature_mask, "grid:16") == 0,
           "switching methods moves a mask left at the default (grid:16 -> "
           "cells:3 -> grid:16)");
    strcpy(p.feature_mask, "slic:5");
    hl_attr_params_switch_method(&p, "feature_ablation", "shapley_values");
    tap_ok(strcmp(p.feature_mask, "slic:5") == 0,
           "a mask the user chose stays when the method changes (%s)",
           p.feature_mask);
}

/* A mask file the way a request carries it: the ids read once
 * (hl_attr_request_prepare does this), then the mask built from them. */
static hl_status mask_from_file(const char *path, const hl_array *x,
                                hl_feature_mask *m, hl_error *err)
{
    int64_t *ids = NULL;
    hl_shape s;
    memset(m, 0, sizeof *m);
    hl_status st = hl_npy_read_int64(path, &ids, &s, err);
    if (st == HL_OK)
        st = hl_feature_mask_from_ids(ids, &s, path, x, m, err);
    free(ids);
    return st;
}

static void npy_masks(void)
{
    hl_array *x = blank(3, 32, 32);
    hl_feature_mask m;
    hl_error err = {0};
    /* Captum's reference mask: int64 [1,1,32,32], id = (y//4)*8 + x//4. */
    hl_status st = mask_from_file(
        data_path("captum/tinycnn/feature_mask_4x4.npy"), x, &m, &err);
    int ok = st == HL_OK && m.n_features == 64;
    for (int c = 0; ok && c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int xx = 0; xx < 32; xx++)
                ok &= m.id[(c * 32 + y) * 32 + xx] == (y / 4) * 8 + xx / 4;
    tap_ok(ok, "int64 [1,1,H,W] mask is read and broadcast over the channels%s%s",
           st == HL_OK ? "" : ": ", st == HL_OK ? "" : err.msg);
    hl_feature_mask_clear(&m);
    hl_array_free(x);

    /* int32 [H,W] with gapped ids: compacted in order. */
    x = blank(2, 2, 3);
    int32_t ids[6] = {100, 5, 9, 9, 5, 100};
    int64_t shape2[2] = {2, 3};
    const char *path = "/tmp/hl-test-mask-gaps.npy";
    ok = write_npy_int32(path, shape2, 2, ids);
    st = ok ? mask_from_file(path, x, &m, &err) : HL_ERR_IO;
    const int32_t want[12] = {2, 0, 1, 1, 0, 2, 2, 0, 1, 1, 0, 2};
    ok = st == HL_OK && m.n_features == 3 &&
         memcmp(m.id, want, sizeof want) == 0;
    tap_ok(ok, "int32 [H,W] ids 5, 9, 100 become 0, 1, 2 on both channels");
    hl_feature_mask_clear(&m);

    /* [1,C,H,W]: a different id per channel. */
    int32_t per_channel[12] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3};
    int64_t shape4[4] = {1, 2, 2, 3};
    ok = write_npy_int32(path, shape4, 4, per_channel);
    st = ok ? mask_from_file(path, x, &m, &err) : HL_ERR_IO;
    ok = st == HL_OK && m.n_features == 4 &&
         memcmp(m.id, per_channel, sizeof per_channel) == 0;
    tap_ok(ok, "int32 [1,C,H,W] mask keeps its per-channel ids");
    hl_feature_mask_clear(&m);

    /* Wrong shape: refused, naming the file. */
    int64_t shape_bad[2] = {3, 2};
    ok = write_npy_int32(path, shape_bad, 2, ids);
    st = mask_from_file(path, x, &m, &err);
    tap_ok(ok && st == HL_ERR_SHAPE && strstr(err.msg, path),
           "a [3,2] mask for a 2x3 input is refused naming the file (%s)", err.msg);
    remove(path);
    st = mask_from_file("/nonexistent/mask.npy", x, &m, &err);
    tap_ok(st != HL_OK, "a missing mask file is an error (%s)", err.msg);
    st = hl_feature_mask_build(path, x, NULL, &m, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "read with the request"),
           "a mask file is never opened while building the mask (%s)", err.msg);
    hl_array_free(x);
}

/* 4-connected? (every label one component) */
static int labels_connected(const int32_t *lab, int H, int W, int n)
{
    int32_t *comp = malloc((size_t)H * W * sizeof *comp);
    int *stack = malloc((size_t)H * W * sizeof *stack);
    int *count = calloc((size_t)n, sizeof *count);
    for (int i = 0; i < H * W; i++)
        comp[i] = -1;
    int ok = 1;
    for (int s = 0; s < H * W && ok; s++) {
        if (comp[s] >= 0)
            continue;
        if (++count[lab[s]] > 1)
            ok = 0;
        int top = 0;
        stack[top++] = s;
        comp[s] = 1;
        while (top) {
            int p = stack[--top], px = p % W, py = p / W;
            const int nb[4][2] = {{px - 1, py}, {px + 1, py}, {px, py - 1}, {px, py + 1}};
            for (int k = 0; k < 4; k++) {
                int qx = nb[k][0], qy = nb[k][1];
                if (qx < 0 || qy < 0 || qx >= W || qy >= H)
                    continue;
                int q = qy * W + qx;
                if (comp[q] < 0 && lab[q] == lab[s]) {
                    comp[q] = 1;
                    stack[top++] = q;
                }
            }
        }
    }
    for (int i = 0; i < n; i++)
        ok &= count[i] == 1;
    free(comp);
    free(stack);
    free(count);
    return ok;
}

static void slic_blocks(void)
{
    /* 64x64, 4x4 blocks of 16 clearly different colours, mild noise. */
    enum { H = 64, W = 64 };
    static float img[3 * H * W];
    hl_rng r;
    hl_rng_seed(&r, 5);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int b = (y / 16) * 4 + x / 16;
            float col[3] = {(b & 1) ? 0.9f : 0.1f, (b & 2) ? 0.85f : 0.15f,
                            0.2f + 0.2f * (b >> 2)};
            for (int c = 0; c < 3; c++)
                img[(c * H + y) * W + x] = col[c] + 0.02f * (float)hl_rng_normal(&r);
        }
    int32_t lab[H * W];
    int n = 0;
    hl_error err = {0};
    hl_status st = hl_slic(img, 3, H, W, 16, 10.0, lab, &n, &err);
    tap_ok(st == HL_OK && n >= 12 && n <= 20, "slic:16 on 16 colour blocks gives "
           "about 16 segments (%d)", n);
    tap_ok(st == HL_OK && labels_connected(lab, H, W, n),
           "every SLIC segment is one 4-connected region");
    /* Purity: the share of pixels whose segment's majority block is theirs. */
    int pure = 0;
    for (int s = 0; st == HL_OK && s < n; s++) {
        int votes[16] = {0}, best = 0;
        for (int i = 0; i < H * W; i++)
            if (lab[i] == s)
                votes[((i / W) / 16) * 4 + (i % W) / 16]++;
        for (int b = 0; b < 16; b++)
            if (votes[b] > best)
                best = votes[b];
        pure += best;
    }
    tap_ok(st == HL_OK && pure >= 0.95 * H * W, "SLIC segments follow the "
           "colour blocks (%.1f%% pure)", 100.0 * pure / (H * W));

    /* A smooth ramp with K = 50: about 50 compact connected segments. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                img[(c * H + y) * W + x] = (float)(x + y * (c + 1)) / (4.0f * W);
    st = hl_slic(img, 3, H, W, 50, 10.0, lab, &n, &err);
    tap_ok(st == HL_OK && n >= 30 && n <= 75 && labels_connected(lab, H, W, n),
           "slic:50 on a ramp: %d connected segments", n);

    /* Through the mask builder, from the normalised input with mean/std. */
    hl_array *x = blank(3, H, W);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < H * W; i++)
            x->data[c * H * W + i] = (img[c * H * W + i] - mean[c]) / sd[c];
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.mean = mean;
    ctx.std = sd;
    hl_feature_mask m;
    st = hl_feature_mask_build("slic:50", x, &ctx, &m, &err);
    int same = st == HL_OK && m.n_features >= 30 && m.n_features <= 75;
    for (int i = 0; same && i < H * W; i++)
        same = m.id[i] == m.id[2 * H * W + i];
    tap_ok(same, "slic:50 via the mask builder (un-normalised input): %d "
           "segments, the same on every channel", st == HL_OK ? m.n_features : -1);
    hl_feature_mask_clear(&m);
    st = hl_feature_mask_build("slic:many", x, &ctx, &m, &err);
    tap_ok(st == HL_ERR_ARG, "slic:many is refused (%s)", err.msg);
    hl_array_free(x);
}

int main(void)
{
    hl_engine_init();
    grid_masks();
    cells_masks();
    npy_masks();
    slic_blocks();
    return tap_done();
}
