/* Activations exported as small graphs (Sigmoid x Mul for nn.SiLU, the Erf
 * and Tanh forms of nn.GELU, HardSigmoid x Mul and x * relu6(x + 3) / 6
 * for Hardswish, Softplus/Tanh/Mul for nn.Mish) are one activation for
 * attribution (src/engine/fuse_activations.c):
 * - the loader fuses each into one node of the activation's op;
 * - by default DeepLift and Guided Backprop equal Captum 0.7.0 on the torch
 *   module (tests/data/captum/activations, made by
 *   tools/make-activation-cases.py), which hooks none of these modules,
 *   within relative L2 1e-4, with a zero and a random baseline;
 * - with relu_family DeepLift's rescale rule on the whole activation makes
 *   the attributions sum to F(x) - F(baseline) (engine forward of both
 *   inputs) within 1e-3 relative;
 * - an inner value of a fused pattern is refused as a layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define DIR "tests/data/captum/activations"

static const struct {
    const char *name, *fused_op, *inner_value;
} cases[] = {
    { "silu", "Swish", "/a1/Sigmoid_output_0" },
    { "gelu", "Gelu", "/a1/Erf_output_0" },
    { "gelu_tanh", "Gelu", "/a1/Tanh_output_0" },
    { "hardswish", "HardSwish", "/a1/HardSigmoid_output_0" },
    { "hardswish_hand", "HardSwish", "/a1/Clip_output_0" },
    { "mish", "Mish", "/a1/Tanh_output_0" },
};

/* Nodes of op `op` in the loaded graph, and whether any op of the pattern
 * (Sigmoid, Erf, Tanh, HardSigmoid, Softplus, Clip) is left. */
static void count_ops(const hl_model *m, const char *op, int *fused,
                      int *inner)
{
    static const char *inner_ops[] = { "Sigmoid", "Erf", "Tanh",
                                       "HardSigmoid", "Softplus", "Clip" };
    *fused = *inner = 0;
    for (int k = 0; k < hl_model_num_nodes(m); k++) {
        hl_node_info info;
        hl_model_node_info(m, k, &info);
        *fused += strcmp(info.op, op) == 0;
        for (size_t i = 0; i < sizeof inner_ops / sizeof *inner_ops; i++)
            *inner += strcmp(info.op, inner_ops[i]) == 0;
    }
}

static void check_captum(const hl_model *m, const hl_array *x,
                         const char *name, const char *method,
                         const char *baseline, const char *file)
{
    char path[256];
    snprintf(path, sizeof path, DIR "/%s_%s.npy", name, file);
    hl_array *e = load_source_npy(path);
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    if (baseline && strcmp(baseline, "random") == 0)
        snprintf(p.baseline, sizeof p.baseline, "%s",
                 source_path(DIR "/baseline_random.npy"));
    hl_attr_result r;
    hl_array *a = e ? run_attr(m, method, x, &p, NULL, &r) : NULL;
    long n = e ? (long)hl_shape_numel(&e->shape) : 0;
    double err = a && hl_shape_numel(&a->shape) == n
                     ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    tap_ok(err <= 1e-4, "%s: %s%s%s == Captum 0.7 on the torch module "
           "(rel L2 %.3g)", name, method, baseline ? ", baseline " : "",
           baseline ? baseline : "", err);
    hl_array_free(a);
    hl_array_free(e);
}

static void check_completeness(const hl_model *m, const hl_array *x,
                               const char *name, const char *baseline)
{
    hl_array *b = strcmp(baseline, "random") == 0
                      ? load_source_npy(DIR "/baseline_random.npy") : NULL;
    long n = (long)hl_shape_numel(&x->shape);
    float *in2 = calloc((size_t)(2 * n), sizeof(float));
    memcpy(in2, x->data, (size_t)n * sizeof(float));
    if (b)
        memcpy(in2 + n, b->data, (size_t)n * sizeof(float));
    double f[2] = {0, 0};
    int ok = engine_logits(m, in2, 2, 2, f);
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    p.relu_family = 1;
    if (b)
        snprintf(p.baseline, sizeof p.baseline, "%s",
                 source_path(DIR "/baseline_random.npy"));
    hl_attr_result r;
    hl_array *a = ok ? run_attr(m, "deep_lift", x, &p, NULL, &r) : NULL;
    double sum = a ? sum_floats(a->data, n) : NAN, want = f[0] - f[1];
    double rel = fabs(sum - want) / fmax(fabs(want), 1e-12);
    tap_ok(a && rel <= 1e-3, "%s: deep_lift with relu_family, baseline %s: "
           "sum %.6g = F(x) - F(b) %.6g (rel %.2g)", name, baseline, sum,
           want, rel);
    hl_array_free(a);
    hl_array_free(b);
    free(in2);
}

static void check_inner_layer_refused(const hl_model *m, const hl_array *x,
                                      const char *name, const char *value)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    snprintf(p.layer, sizeof p.layer, "%s", value);
    hl_attr_result r;
    hl_error err = {0};
    hl_attr_context ctx = { .threads = test_threads() };
    hl_status st = hl_attribute(m, "layer_activation", x, &p, &ctx, &r, &err);
    tap_ok(st != HL_OK && strstr(err.msg, value),
           "%s: layer '%s' inside the fused activation refused: %s", name,
           value, err.msg);
    if (st == HL_OK)
        hl_attr_result_clear(&r);
}

int main(void)
{
    hl_array *x = load_source_npy(DIR "/input.npy");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *name = cases[i].name;
        char rel[256];
        snprintf(rel, sizeof rel, DIR "/%s.onnx", name);
        hl_model *m = load_source_model(rel);
        if (!tap_ok(m && x, "%s: model and input load", name)) {
            hl_model_free(m);
            continue;
        }
        int fused, inner;
        count_ops(m, cases[i].fused_op, &fused, &inner);
        tap_ok(fused == 2 && inner == 0, "%s: both activations fused into "
               "%s nodes (%d; %d inner nodes left)", name, cases[i].fused_op,
               fused, inner);
        check_captum(m, x, name, "deep_lift", "zeros", "deeplift_zeros");
        check_captum(m, x, name, "deep_lift", "random", "deeplift_random");
        check_captum(m, x, name, "guided_backprop", NULL, "guided_backprop");
        check_completeness(m, x, name, "zeros");
        check_completeness(m, x, name, "random");
        check_inner_layer_refused(m, x, name, cases[i].inner_value);
        hl_model_free(m);
    }
    hl_array_free(x);
    return tap_done();
}
