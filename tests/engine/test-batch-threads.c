/* A batch run on two threads gives each image the outputs it gets alone
 * on one thread, and the input gradients the same batch gets on one
 * thread, on the bundled MobileNet V2 (whose convolutions go through
 * oneDNN when it is built in: its shared library scratchpad made some
 * images of a batch wrong at two threads). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tap.h"

#define BATCH 12
#define ROUNDS 3

static double rel_diff(const float *a, const float *b, int64_t n)
{
    double worst = 0, scale = 1e-12;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return worst / scale;
}

int main(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[4096];
    hl_model *m = NULL;
    hl_error err = { 0 };

    hl_engine_init();
    snprintf(path, sizeof path, "%s/data/models/mobilenet_v2.onnx", root ? root : ".");
    if (!tap_ok(hl_model_load_onnx(path, &m, &err) == HL_OK, "loads %s: %s", path, err.msg))
        return tap_done();
    int in_v = hl_model_input_value(m), out_v = hl_model_output_value(m);
    hl_shape xs;
    hl_model_value_shape(m, in_v, &xs);
    int64_t numel = 1;
    for (int d = 1; d < xs.ndim; d++)
        numel *= xs.dims[d];
    float *x = malloc(sizeof(float) * (size_t)(BATCH * numel));
    /* distinct images: a smooth pattern scaled per image, so the classes differ */
    for (int b = 0; b < BATCH; b++)
        for (int64_t i = 0; i < numel; i++)
            x[b * numel + i] = (float)(sin(0.001 * (double)i * (b + 1)) * (0.5 + 0.2 * b));
    hl_run *one = hl_run_new(m, 1), *two = hl_run_new(m, 2);
    float *y1 = NULL, *g1 = malloc(sizeof(float) * (size_t)(BATCH * numel));
    int64_t k = 0;
    for (int b = 0; b < BATCH && one; b++) {
        hl_shape ys;
        if (hl_run_forward(one, x + b * numel, 1, &err) != HL_OK)
            break;
        const float *y = hl_run_value(one, out_v, &ys);
        k = hl_shape_numel(&ys);
        if (!y1)
            y1 = malloc(sizeof(float) * (size_t)(BATCH * k));
        memcpy(y1 + b * k, y, sizeof(float) * (size_t)k);
    }
    /* The input gradients' reference is the same batch on one thread: the
     * kernels are chosen per batch shape (engine-runtime.md), and a batch
     * of one may take another kernel whose last-bit differences flip a
     * ReLU6 sitting on its kink, which moves a whole patch of one image's
     * gradient (measured: 1.9e-3 on one of the 12 images). */
    if (y1 && k > 0 && hl_run_forward(one, x, BATCH, &err) == HL_OK) {
        float *seed = malloc(sizeof(float) * (size_t)(BATCH * k));
        for (int64_t i = 0; i < BATCH * k; i++)
            seed[i] = 1.0f; /* the gradient of the sum of the logits */
        if (hl_run_backward(one, out_v, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK)
            memcpy(g1, hl_run_grad(one, in_v, NULL), sizeof(float) * (size_t)(BATCH * numel));
        else
            k = 0;
        free(seed);
    } else {
        k = 0;
    }
    tap_ok(y1 && k > 0, "each image alone on one thread: %s", err.msg);
    for (int round = 0; y1 && two && round < ROUNDS; round++) {
        hl_shape ys;
        double fw = 1, bw = 1;
        if (hl_run_forward(two, x, BATCH, &err) == HL_OK) {
            fw = rel_diff(hl_run_value(two, out_v, &ys), y1, BATCH * k);
            float *seed = malloc(sizeof(float) * (size_t)(BATCH * k));
            for (int64_t i = 0; i < BATCH * k; i++)
                seed[i] = 1.0f;
            if (hl_run_backward(two, out_v, seed, HL_RULE_GRADIENT, NULL, &err) == HL_OK)
                bw = rel_diff(hl_run_grad(two, in_v, NULL), g1, BATCH * numel);
            free(seed);
        }
        /* (the same kernels; the threads split sums differently) */
        tap_ok(fw < 1e-4, "round %d: a batch of %d on 2 threads, outputs = alone (max rel diff %.2e)",
               round + 1, BATCH, fw);
        tap_ok(bw < 1e-4, "round %d: input gradients = the batch on one thread (max rel diff %.2e)", round + 1, bw);
    }
    hl_run_free(one);
    hl_run_free(two);
    free(x);
    free(y1);
    free(g1);
    hl_model_free(m);
    return tap_done();
}
