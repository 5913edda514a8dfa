/* Whole small CNNs built from torchvision's blocks (ShuffleNet V2,
 * EfficientNet MBConv + SE, ConvNeXt at opsets 13 and 17, DenseNet, MobileNet
 * V3 ending in Softmax), exported by torch.onnx: our outputs and input
 * gradients against PyTorch's float64 ones saved next to the models
 * (tests/data/models/make_models.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "npy.h"
#include "tap.h"

static const char *src_root;

static hl_array *load_npy(const char *name, const char *what)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/models/%s.%s.npy", src_root,
             name, what);
    hl_array *a = NULL;
    hl_error err = { 0 };
    if (hl_npy_read(path, &a, &err) != HL_OK) {
        tap_diag("%s", err.msg);
        return NULL;
    }
    return a;
}

/* max |a - b| / max |b| */
static double max_rel(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return num / (den > 1e-30 ? den : 1.0);
}

/* name: the model file (without .onnx); ref: whose reference arrays. */
static void check_model_as(const char *name, const char *ref)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/models/%s.onnx", src_root, name);
    hl_error err = { 0 };
    hl_model *m = NULL;
    hl_array *x = load_npy(ref, "input"), *seed = load_npy(ref, "seed");
    hl_array *yref = load_npy(ref, "logits"), *gref = load_npy(ref, "grad");
    if (!tap_ok(x && seed && yref && gref, "%s: reference arrays", name))
        goto done;
    if (!tap_ok(hl_model_load_onnx(path, &m, &err) == HL_OK, "%s: loads %s",
                name, err.msg)) {
        m = NULL;
        goto done;
    }
    int batch = (int)x->shape.dims[0];
    int out = hl_model_output_value(m);
    for (int threads = 1; threads <= 2; threads++) {
        hl_run *r = hl_run_new(m, threads);
        hl_shape ys;
        const float *y = NULL;
        if (hl_run_forward(r, x->data, batch, &err) == HL_OK)
            y = hl_run_value(r, out, &ys);
        if (!tap_ok(y && hl_shape_equal(&ys, &yref->shape),
                    "%s (%d threads): forward %s", name, threads, err.msg)) {
            hl_run_free(r);
            continue;
        }
        double ey = max_rel(y, yref->data, hl_shape_numel(&ys));
        tap_ok(ey < 1e-5, "%s (%d threads): outputs vs PyTorch float64, max "
               "rel diff %.2e", name, threads, ey);
        const float *g = NULL;
        if (hl_run_backward(r, out, seed->data, HL_RULE_GRADIENT, NULL, &err)
            == HL_OK)
            g = hl_run_input_grad(r);
        if (tap_ok(g != NULL, "%s (%d threads): backward %s", name, threads,
                   err.msg)) {
            double eg = max_rel(g, gref->data, hl_shape_numel(&x->shape));
            tap_ok(eg < 1e-5, "%s (%d threads): input gradient vs PyTorch "
                   "float64 autograd, max rel diff %.2e", name, threads, eg);
        }
        hl_run_free(r);
    }
    /* batch 1 gives the first row of batch 2 */
    {
        hl_run *r = hl_run_new(m, 1);
        hl_shape ys;
        const float *y = NULL;
        if (hl_run_forward(r, x->data, 1, &err) == HL_OK)
            y = hl_run_value(r, out, &ys);
        int64_t k = hl_shape_numel(&yref->shape) / batch;
        double e = y ? max_rel(y, yref->data, k) : 1.0;
        tap_ok(y && e < 1e-5, "%s: batch 1 = first row of batch %d (max rel "
               "diff %.2e)", name, batch, e);
        hl_run_free(r);
    }
done:
    hl_model_free(m);
    hl_array_free(x);
    hl_array_free(seed);
    hl_array_free(yref);
    hl_array_free(gref);
}

static void check_model(const char *name)
{
    check_model_as(name, name);
}

/* The default-domain opsets the loader accepts (7 to 22). */
static void check_opsets(void)
{
    static const struct { const char *dir, *file; int loads; } cases[] = {
        { "engine", "opset18.onnx", 1 },
        { "models", "opset22.onnx", 1 },
        { "models", "opset23.onnx", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/%s/%s", src_root,
                 cases[i].dir, cases[i].file);
        hl_model *m = NULL;
        hl_error err = { 0 };
        hl_status st = hl_model_load_onnx(path, &m, &err);
        if (cases[i].loads)
            tap_ok(st == HL_OK, "%s loads (%s)", cases[i].file, err.msg);
        else
            tap_ok(st == HL_ERR_UNSUPPORTED && strstr(err.msg, cases[i].file) &&
                       strstr(err.msg, "opset 23 is not supported"),
                   "%s refused: \"%s\"", cases[i].file, err.msg);
        hl_model_free(m);
    }
}

/* An [N,C,H,W] input with free H and W is planned at 224 x 224. */
static void check_free_hw(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/models/tiny_misc_dynhw.onnx",
             src_root);
    hl_model *m = NULL;
    hl_error err = { 0 };
    if (!tap_ok(hl_model_load_onnx(path, &m, &err) == HL_OK,
                "tiny_misc_dynhw (free H, W) loads %s", err.msg))
        return;
    hl_shape s;
    hl_model_input_shape(m, &s);
    tap_ok(s.ndim == 4 && s.dims[1] == 3 && s.dims[2] == 224 && s.dims[3] == 224,
           "free H, W planned at 224 x 224");
    float *x = calloc(2 * 3 * 224 * 224, sizeof(float));
    hl_run *r = hl_run_new(m, 2);
    hl_shape ys;
    const float *y = NULL;
    if (x && hl_run_forward(r, x, 2, &err) == HL_OK)
        y = hl_run_value(r, hl_model_output_value(m), &ys);
    tap_ok(y && ys.ndim == 2 && ys.dims[0] == 2 && ys.dims[1] == 10 &&
               y[0] == y[10],
           "runs at 224 x 224: [2,10] outputs, equal rows for equal inputs %s",
           err.msg);
    hl_run_free(r);
    free(x);
    hl_model_free(m);
}

/* An unsupported op: one short line naming node and op and pointing to
 * the list of supported ones. */
static void check_unsupported_message(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/engine/unsupported_op.onnx",
             src_root);
    hl_model *m = NULL;
    hl_error err = { 0 };
    hl_status st = hl_model_load_onnx(path, &m, &err);
    /* short: the op, and where the supported ones are listed */
    tap_ok(st == HL_ERR_UNSUPPORTED && !m && !strchr(err.msg, '\n') &&
               strstr(err.msg, "node '/act2/Celu': unsupported op Celu") &&
               strstr(err.msg, "`heatlens-cli ops`") &&
               strlen(err.msg) < 160,
           "unsupported op message: \"%s\"", err.msg);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    src_root = getenv("HL_SOURCE_ROOT");
    if (!src_root)
        src_root = ".";
    static const char *models[] = {
        "tiny_shufflenet", "tiny_efficientnet", "tiny_convnext_op13",
        "tiny_convnext_op17", "tiny_densenet", "tiny_mobilenet_v3", "tiny_misc", "tiny_groupnorm", "tiny_nhwc", "tiny_upsample", "tiny_grey",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_model(models[i]);
    /* exported with a fixed batch of 1 (Reshape targets [1, 2, 8, ...]),
     * run at batch 2: the leading 1 is read as the batch */
    check_model_as("tiny_shufflenet_fixed", "tiny_shufflenet");
    check_opsets();
    check_free_hw();
    check_unsupported_message();
    return tap_done();
}
