/* libFuzzer harness for the ONNX loader (hl_model_load_onnx_buffer).
 *
 * After a successful load it also runs the model once, at batch 1, forward
 * and backward (one-hot seed on the first output element) when the input is
 * small, so shape inference, plan building and the kernels see whatever the
 * loader accepted. The loader must refuse absurd shapes itself: the harness
 * only bounds the input size, never the intermediate values; the engine's
 * memory limit is set to 64 MiB. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"

#define FUZZ_MAX_INPUT_NUMEL 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_once(const hl_model *m)
{
    hl_shape in_shape;
    hl_model_input_shape(m, &in_shape);
    if (in_shape.ndim < 1)
        return;
    in_shape.dims[0] = 1;
    int64_t numel = hl_shape_numel(&in_shape);
    if (numel <= 0 || numel > FUZZ_MAX_INPUT_NUMEL)
        return;

    hl_run *run = hl_run_new(m, 1);
    float *input = malloc(sizeof(float) * (size_t)numel);
    if (!run || !input)
        goto out;
    /* a fixed, sign-changing ramp: exercises both sides of every Relu */
    for (int64_t i = 0; i < numel; i++)
        input[i] = (float)((i % 17) - 8) * 0.125f;

    hl_error err;
    if (hl_run_forward(run, input, 1, &err) != HL_OK)
        goto out;
    int out_value = hl_model_output_value(m);
    hl_shape out_shape;
    if (!hl_run_value(run, out_value, &out_shape))
        goto out;
    int64_t out_numel = hl_shape_numel(&out_shape);
    if (out_numel <= 0)
        goto out;
    float *seed = calloc((size_t)out_numel, sizeof(float));
    if (seed) {
        seed[0] = 1.0f;
        (void)hl_run_backward(run, out_value, seed, HL_RULE_GRADIENT, NULL,
                              &err);
        (void)hl_run_input_grad(run);
        free(seed);
    }
out:
    free(input);
    hl_run_free(run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The engine's memory limit far under libFuzzer's -rss_limit_mb (2 GB)
     * and small enough for its 10 s timeout under ASan: a small model whose
     * run needs gigabytes (legal under the default limit, half the
     * physical memory) is then refused by the limit, which is what gets
     * exercised, instead of stopping the run as an out-of-memory or a
     * timeout. */
    hl_set_max_memory((uint64_t)64 << 20);
    hl_model *m = NULL;
    hl_error err;
    if (hl_model_load_onnx_buffer(data, size, "fuzz.onnx", &m, &err) != HL_OK)
        return 0;
    run_once(m);
    hl_model_free(m);
    return 0;
}
