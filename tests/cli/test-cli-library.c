/* The same requests through heatlens-cli and through the library path the
 * window's worker takes (hl_preprocess_apply, hl_class_probabilities +
 * hl_top_k for the prediction, hl_attr_request_prepare +
 * hl_attribute_request for the attribution, the window's default
 * interpolation): the same target, probability, layer and attribution.
 * Usage: test-cli-library HEATLENS_CLI (HL_SOURCE_ROOT locates the data). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr/attr-test-util.h"
#include "image.h"
#include "npy.h"
#include "preprocess.h"

static const char *cli;
static char root[2048];

static const char *src(const char *rel)
{
    static char buf[4][4096];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, 4096, "%s/%s", root, rel);
    return b;
}

/* stdout of a command (at most size - 1 bytes); 0 when it failed. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    return pclose(p) == 0;
}

static int json_number(const char *json, const char *key, double *v)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *k = strstr(json, pat);
    char *end;
    if (!k)
        return 0;
    *v = strtod(k + strlen(pat), &end);
    return end != k + strlen(pat);
}

static void json_string(const char *json, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *k = strstr(json, pat);
    out[0] = '\0';
    if (!k)
        return;
    k += strlen(pat);
    const char *e = strchr(k, '"');
    if (e && (size_t)(e - k) < size) {
        memcpy(out, k, (size_t)(e - k));
        out[e - k] = '\0';
    }
}

/* What the worker computes: the input, the prediction, the attribution. */
typedef struct window_path {
    hl_array *input;
    float *image01;
    int top;
    double top_prob;
    hl_attr_request req;
    hl_attr_result res;
} window_path;

static int run_window_path(const hl_model *m, const char *image, const char *method,
                           const hl_attr_params *user, window_path *w, hl_error *err)
{
    hl_image *photo = NULL;
    hl_preprocess pre;
    hl_crop_map map;
    memset(w, 0, sizeof *w);
    int ok = hl_image_load(image, &photo, err) == HL_OK &&
             hl_preprocess_for_model(m, &pre, err) == HL_OK &&
             hl_preprocess_apply(&pre, photo, &w->input, &map, &w->image01, err) == HL_OK;
    hl_image_free(photo);
    int n = 0;
    ok = ok && hl_model_classes(m, &n, err) == HL_OK;
    /* prediction: the worker's run_predict */
    hl_run *run = ok ? hl_run_new(m, 1) : NULL;
    ok = run && hl_run_forward(run, w->input->data, 1, err) == HL_OK;
    double *probs = ok ? malloc(sizeof(double) * (size_t)n) : NULL;
    ok = probs && hl_class_probabilities(m, hl_run_value(run, hl_model_output_value(m), NULL),
                                         n, probs, err) == HL_OK;
    if (ok) {
        hl_top_k(probs, n, 1, &w->top);
        w->top_prob = probs[w->top];
    }
    free(probs);
    hl_run_free(run);
    /* the window's parameters: Captum's defaults, its display interpolation */
    hl_attr_params p = *user;
    p.interpolate = HL_ATTR_DISPLAY_INTERP;
    hl_attr_context ctx = {.mean = pre.mean, .std = pre.std,
                           .pixel_scale = pre.scale, .image01 = w->image01,
                           .threads = 1};
    ok = ok && hl_attr_request_prepare(&w->req, m, method, &p, err) == HL_OK &&
         hl_attribute_request(m, &w->req, w->input, &ctx, &w->res, err) == HL_OK;
    return ok;
}

static void window_path_clear(window_path *w)
{
    hl_array_free(w->input);
    free(w->image01);
    hl_attr_request_clear(&w->req);
    hl_attr_result_clear(&w->res);
}

static double max_rel_diff(const hl_array *a, const hl_array *b)
{
    if (!a || !b || !hl_shape_equal(&a->shape, &b->shape))
        return INFINITY;
    double scale = 1e-12, diff = 0;
    for (int64_t i = 0; i < hl_shape_numel(&a->shape); i++) {
        scale = fmax(scale, fabs(a->data[i]));
        diff = fmax(diff, fabs(a->data[i] - b->data[i]));
    }
    return diff / scale;
}

/* A scratch file of this process: worktrees on one machine run this test
 * at the same time, so a fixed name in /tmp is shared between them. */
static const char *tmp_path(const char *what)
{
    static char buf[4][256];
    static int slot;
    char *b = buf[slot++ % 4];
    const char *dir = getenv("TMPDIR");
    snprintf(b, 256, "%s/hl-cli-library-%d-%s.npy", dir && *dir ? dir : "/tmp", (int)getpid(), what);
    return b;
}

/* One request both ways; cli_opts are the CLI's words for *p. */
static void same_both_ways(const char *model_rel, const char *method,
                           const hl_attr_params *p, const char *cli_opts)
{
    const char *image = src("data/samples/cat.png");
    const char *raw = tmp_path("raw");
    char cmd[8192], json[8192], predict[8192];
    hl_error err = {0};
    hl_model *m = NULL;
    window_path w;
    snprintf(cmd, sizeof cmd, "'%s' explain --model '%s' --image '%s' --method %s %s "
             "--json --raw %s --threads 1", cli, src(model_rel), image, method,
             cli_opts, raw);
    int ok = run(cmd, json, sizeof json);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s' --image '%s' --top 1 --json "
             "--threads 1", cli, src(model_rel), image);
    ok = ok && run(cmd, predict, sizeof predict);
    ok = ok && hl_model_load_onnx(src(model_rel), &m, &err) == HL_OK &&
         run_window_path(m, image, method, p, &w, &err);
    if (!ok) {
        tap_ok(0, "%s on %s runs both ways: %s", method, model_rel, err.msg);
        hl_model_free(m);
        return;
    }
    double target = -1, prob = -1, pred_index = -1, pred_prob = -1;
    char layer[512];
    json_number(json, "target", &target);
    json_number(json, "probability", &prob);
    json_string(json, "layer", layer, sizeof layer);
    json_number(predict, "index", &pred_index);
    json_number(predict, "probability", &pred_prob);
    tap_ok((int)pred_index == w.top && fabs(pred_prob - w.top_prob) <= 1e-5 * w.top_prob,
           "%s: predict and the worker's prediction agree (class %d, %.6g vs %.6g)",
           model_rel, w.top, pred_prob, w.top_prob);
    tap_ok((int)target == w.res.target &&
           fabs(prob - w.res.target_prob) <= 1e-5 * w.res.target_prob,
           "%s %s: the same target and probability (%d, %.6g vs %.6g)", model_rel,
           method, w.res.target, prob, (double)w.res.target_prob);
    tap_ok(strcmp(layer, w.req.params.layer) == 0, "%s %s: the same layer ('%s')",
           model_rel, method, layer);
    /* the CLI writes the raw map; its pictures lay it on the input grid
     * the way the window's request does */
    hl_array *cli_raw = NULL, *shown = NULL;
    ok = hl_npy_read(raw, &cli_raw, &err) == HL_OK;
    if (ok)
        shown = hl_attr_on_input_grid(cli_raw, (int)w.input->shape.dims[2],
                                      (int)w.input->shape.dims[3]);
    double d = max_rel_diff(shown, w.res.attr);
    tap_ok(ok && d <= 1e-6, "%s %s: the same attribution on the input grid "
           "(max relative difference %.2g)", model_rel, method, d);
    hl_array_free(cli_raw);
    hl_array_free(shown);
    remove(raw);
    window_path_clear(&w);
    hl_model_free(m);
}

int main(int argc, char **argv)
{
    hl_engine_init();
    if (argc < 2)
        return fprintf(stderr, "usage: test-cli-library HEATLENS_CLI\n"), 2;
    cli = argv[1];
    const char *r = getenv("HL_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");

    hl_attr_params p;
    hl_attr_params_init(&p);
    same_both_ways("data/models/mobilenet_v2.onnx", "saliency", &p, "");
    same_both_ways("data/models/mobilenet_v2.onnx", "layer_grad_cam", &p, "");
    same_both_ways("tests/data/policy/tiny_resnet_softmax.onnx", "layer_grad_cam", &p, "");

    /* files the request reads: a baseline and a feature mask */
    hl_shape s = {4, {1, 3, 224, 224}};
    hl_array *base = hl_array_new(&s);
    for (int64_t i = 0; base && i < hl_shape_numel(&s); i++)
        base->data[i] = (float)((i % 7) - 3) * 0.1f;
    hl_shape ms = {2, {224, 224}};
    hl_array *mask = hl_array_new(&ms);
    for (int64_t i = 0; mask && i < hl_shape_numel(&ms); i++)
        mask->data[i] = (float)((i / 224) / 56 * 4 + (i % 224) / 56);
    hl_error err = {0};
    char bpath[256], mpath[256];
    snprintf(bpath, sizeof bpath, "%s", tmp_path("baseline"));
    snprintf(mpath, sizeof mpath, "%s", tmp_path("mask"));
    /* the mask as int32 ids (feature masks are integer arrays) */
    int ok = hl_npy_write(bpath, base, &err) == HL_OK;
    int32_t *ids = malloc(sizeof(int32_t) * 224 * 224);
    for (int64_t i = 0; ids && i < 224 * 224; i++)
        ids[i] = (int32_t)mask->data[i];
    const int64_t mask_dims[2] = {224, 224};
    ok = ids && write_npy_int32(mpath, mask_dims, 2, ids) && ok;
    free(ids);
    tap_ok(ok, "baseline and mask files written");
    char opts[1024];
    hl_attr_params ig = p;
    ig.n_steps = 8;
    snprintf(ig.baseline, sizeof ig.baseline, "%s", bpath);
    snprintf(opts, sizeof opts, "--n-steps 8 --baseline %s", bpath);
    same_both_ways("tests/data/policy/tiny_resnet_softmax.onnx", "integrated_gradients",
                   &ig, opts);
    hl_attr_params fa = p;
    snprintf(fa.feature_mask, sizeof fa.feature_mask, "%s", mpath);
    snprintf(opts, sizeof opts, "--feature-mask %s", mpath);
    same_both_ways("tests/data/policy/tiny_resnet.onnx", "feature_ablation", &fa, opts);
    remove(bpath);
    remove(mpath);
    hl_array_free(base);
    hl_array_free(mask);
    return tap_done();
}
