/* The library's shared policy, the one the CLI, the report and the window
 * use: logits or probabilities decided from the graph (a final Softmax or
 * LogSoftmax), the default layer of layer and neuron methods (a main-path
 * block output; checked by what "main path" means: overriding that value
 * alone decides the output), and requests as pure data (files read once,
 * keyed by content). Models: tests/data/policy/ (tools/make-policy-models.py)
 * and the bundled MobileNet V2. */
#include <math.h>
#include <unistd.h>

#include "attr-test-util.h"

#define TINY "tests/data/policy/tiny_resnet.onnx"
#define TINY_SOFTMAX "tests/data/policy/tiny_resnet_softmax.onnx"
#define TINY_LOGSOFTMAX "tests/data/policy/tiny_resnet_logsoftmax.onnx"
#define BUNDLED "data/models/mobilenet_v2.onnx"

/* A fixed pseudo-random input of the model's shape. */
static hl_array *random_input(const hl_model *m, unsigned seed)
{
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    hl_array *x = hl_array_new(&s);
    unsigned v = seed * 2654435761u + 1;
    for (int64_t i = 0; x && i < hl_shape_numel(&s); i++) {
        v = v * 1664525u + 1013904223u;
        x->data[i] = (float)((v >> 8) / 16777216.0 * 4.0 - 2.0);
    }
    return x;
}

/* The model's raw output for x (copied into out[n]). */
static int forward_output(const hl_model *m, const hl_array *x, float *out, int n)
{
    hl_run *r = hl_run_new(m, test_threads());
    hl_error err = {0};
    int ok = r && hl_run_forward(r, x->data, 1, &err) == HL_OK;
    hl_shape s;
    const float *y = ok ? hl_run_value(r, hl_model_output_value(m), &s) : NULL;
    ok = y && hl_shape_numel(&s) == n;
    if (ok)
        memcpy(out, y, sizeof(float) * (size_t)n);
    hl_run_free(r);
    return ok;
}

static void classification(void)
{
    hl_model *plain = load_source_model(TINY);
    hl_model *soft = load_source_model(TINY_SOFTMAX);
    hl_model *logsoft = load_source_model(TINY_LOGSOFTMAX);
    hl_model *bundled = load_source_model(BUNDLED);
    if (!plain || !soft || !logsoft || !bundled) {
        tap_ok(0, "policy models load");
        return;
    }
    tap_ok(hl_model_output_kind(plain) == HL_OUTPUT_LOGITS &&
           hl_model_output_kind(bundled) == HL_OUTPUT_LOGITS,
           "a model ending in Gemm or Conv gives logits");
    tap_ok(hl_model_output_kind(soft) == HL_OUTPUT_PROBABILITIES,
           "a model ending in Softmax gives probabilities");
    tap_ok(hl_model_output_kind(logsoft) == HL_OUTPUT_LOG_PROBABILITIES,
           "a model ending in LogSoftmax gives log-probabilities");

    /* Reference: softmax in double of the plain model's logits. */
    enum { K = 10 };
    hl_array *x = random_input(plain, 3);
    float logits[K], y_soft[K], y_log[K];
    double ref[K], p[K], mx = -INFINITY, sum = 0;
    int ok = forward_output(plain, x, logits, K) &&
             forward_output(soft, x, y_soft, K) &&
             forward_output(logsoft, x, y_log, K);
    for (int i = 0; ok && i < K; i++)
        mx = fmax(mx, logits[i]);
    for (int i = 0; ok && i < K; i++)
        sum += ref[i] = exp(logits[i] - mx);
    int top = 0;
    for (int i = 0; ok && i < K; i++) {
        ref[i] /= sum;
        top = ref[i] > ref[top] ? i : top;
    }
    double worst = 0;
    hl_error err = {0};
    const hl_model *models[3] = {plain, soft, logsoft};
    const float *outs[3] = {logits, y_soft, y_log};
    for (int k = 0; ok && k < 3; k++) {
        ok = hl_class_probabilities(models[k], outs[k], K, p, &err) == HL_OK;
        for (int i = 0; ok && i < K; i++)
            worst = fmax(worst, fabs(p[i] - ref[i]));
    }
    tap_ok(ok && worst < 1e-6,
           "the three heads give softmax(logits) within 1e-6 (worst %.2g)", worst);

    /* hl_attribute reports the same probability whatever the head. */
    hl_attr_params prm;
    hl_attr_params_init(&prm);
    double worst_attr = 0;
    int same_target = 1;
    for (int k = 0; ok && k < 3; k++) {
        hl_attr_result res;
        hl_array *a = run_attr(models[k], "saliency", x, &prm, NULL, &res);
        ok = a != NULL;
        same_target &= ok && res.target == top;
        worst_attr = ok ? fmax(worst_attr, fabs(res.target_prob - ref[top])) : 1;
        hl_array_free(a);
    }
    tap_ok(ok && same_target && worst_attr < 1e-6,
           "explain's target and probability agree for logits, Softmax and "
           "LogSoftmax heads (class %d, p %.6f, worst %.2g)", top, ref[top],
           worst_attr);

    float bad[3] = {1, NAN, 2};
    hl_status st = hl_class_probabilities(plain, bad, 3, p, &err);
    tap_ok(st == HL_ERR_ARG && strstr(err.msg, "not finite") &&
           strstr(err.msg, "tiny_resnet.onnx"),
           "a NaN output is refused naming the model (%s)", err.msg);

    const double scores[5] = {0.1, 0.4, 0.2, 0.4, 0.3};
    int order[5] = {-1, -1, -1, -1, -1};
    hl_top_k(scores, 5, 4, order);
    tap_ok(order[0] == 1 && order[1] == 3 && order[2] == 4 && order[3] == 2 &&
           order[4] == -1, "top-k is best first, ties to the lower index");
    hl_array_free(x);
    hl_model_free(plain);
    hl_model_free(soft);
    hl_model_free(logsoft);
    hl_model_free(bundled);
}

/* What "main path" means: with the layer's value taken from input x1,
 * the output for any other input x2 is the output for x1. Returns 1 when
 * it holds (max relative difference <= 1e-5), 0 when not, -1 on error. */
static int decides_output(const hl_model *m, const char *layer)
{
    int v = hl_model_find_value(m, layer);
    hl_array *x1 = random_input(m, 1), *x2 = random_input(m, 2);
    hl_run *r = hl_run_new(m, test_threads());
    hl_error err = {0};
    int result = -1;
    float *saved = NULL, *y1 = NULL;
    hl_shape ls, ys;
    if (v < 0 || !x1 || !x2 || !r || hl_run_forward(r, x1->data, 1, &err) != HL_OK)
        goto out;
    const float *lv = hl_run_value(r, v, &ls);
    const float *yv = hl_run_value(r, hl_model_output_value(m), &ys);
    saved = lv ? malloc(sizeof(float) * (size_t)hl_shape_numel(&ls)) : NULL;
    y1 = yv ? malloc(sizeof(float) * (size_t)hl_shape_numel(&ys)) : NULL;
    if (!saved || !y1)
        goto out;
    memcpy(saved, lv, sizeof(float) * (size_t)hl_shape_numel(&ls));
    memcpy(y1, yv, sizeof(float) * (size_t)hl_shape_numel(&ys));
    if (hl_run_set_override(r, v, saved, &err) != HL_OK ||
        hl_run_forward(r, x2->data, 1, &err) != HL_OK)
        goto out;
    const float *y2 = hl_run_value(r, hl_model_output_value(m), NULL);
    double scale = 0, diff = 0;
    for (int64_t i = 0; i < hl_shape_numel(&ys); i++) {
        scale = fmax(scale, fabs(y1[i]));
        diff = fmax(diff, fabs(y1[i] - y2[i]));
    }
    result = diff <= 1e-5 * fmax(scale, 1e-3);
out:
    if (result < 0)
        tap_diag("override check of %s failed: %s", layer, err.msg);
    free(saved);
    free(y1);
    hl_run_free(r);
    hl_array_free(x1);
    hl_array_free(x2);
    return result;
}

static void default_layer(void)
{
    char name[256] = "";
    hl_error err = {0};
    hl_model *tiny = load_source_model(TINY);
    hl_status st = tiny ? hl_default_layer(tiny, name, sizeof name, &err) : HL_ERR_IO;
    tap_ok(st == HL_OK && strcmp(name, "/layer3/layer3.1/relu_1/Relu") == 0,
           "ResNet-18's topology: the output of layer3[1], Captum's tutorial "
           "block (got %s)", name);
    tap_ok(tiny && decides_output(tiny, name) == 1,
           "overriding it alone decides the output (main path)");
    tap_ok(tiny && decides_output(tiny, "/layer3/layer3.0/downsample/downsample.0/Conv") == 0,
           "the skip path's downsample conv does not (the check can fail)");
    tap_ok(tiny && decides_output(tiny, "/layer3/layer3.1/relu/Relu") == 0,
           "nor does a layer inside a residual block");
    hl_model_free(tiny);

    hl_model *bundled = load_source_model(BUNDLED);
    st = bundled ? hl_default_layer(bundled, name, sizeof name, &err) : HL_ERR_IO;
    hl_shape s = {0};
    if (st == HL_OK)
        hl_model_value_shape(bundled, hl_model_find_value(bundled, name), &s);
    tap_ok(st == HL_OK && s.ndim == 4 && s.dims[2] == 14 && s.dims[3] == 14,
           "the bundled MobileNet V2: a 14x14 layer, one stage before the "
           "final 7x7 (got %s)", name);
    tap_ok(bundled && decides_output(bundled, name) == 1,
           "on its main path");
    hl_model_free(bundled);

    /* Every model of tests/data/models/: a layer of at least 7x7 on the
     * main path whenever the model has one. */
    static const char *const models[] = {
        "tiny_convnext_op17", "tiny_densenet", "tiny_efficientnet",
        "tiny_grey", "tiny_groupnorm", "tiny_misc", "tiny_mobilenet_v3",
        "tiny_nhwc", "tiny_upsample",
        "tiny_shufflenet", NULL};
    for (int i = 0; models[i]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/data/models/%s.onnx", models[i]);
        hl_model *m = load_source_model(rel);
        if (!m) {
            tap_ok(0, "%s loads", models[i]);
            continue;
        }
        st = hl_default_layer(m, name, sizeof name, &err);
        if (st == HL_OK)
            hl_model_value_shape(m, hl_model_find_value(m, name), &s);
        int main_path = st == HL_OK ? decides_output(m, name) : -1;
        tap_ok(st == HL_OK && s.ndim == 4 && s.dims[2] >= 7 && s.dims[3] >= 7 &&
               main_path == 1, "%s: %s is at least 7x7 and on the main path",
               models[i], st == HL_OK ? name : err.msg);
        hl_model_free(m);
    }
}

static int write_array(const char *path, const hl_array *a)
{
    hl_error err = {0};
    return hl_npy_write(path, a, &err) == HL_OK;
}

static void requests(void)
{
    hl_model *m = load_source_model(TINY);
    hl_array *x = m ? random_input(m, 5) : NULL;
    if (!x) {
        tap_ok(0, "policy model loads");
        return;
    }
    hl_array *zeros = hl_array_new(&x->shape), *other = hl_array_copy(x);
    const char *a = "/tmp/hl-policy-baseline-a.npy", *b = "/tmp/hl-policy-baseline-b.npy",
               *c = "/tmp/hl-policy-baseline-c.npy";
    int ok = write_array(a, zeros) && write_array(b, zeros) && write_array(c, other);
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.n_steps = 4;
    hl_attr_request ra, rb, rc, rzero;
    hl_error err = {0};
    snprintf(p.baseline, sizeof p.baseline, "%s", a);
    ok = ok && hl_attr_request_prepare(&ra, m, "integrated_gradients", &p, &err) == HL_OK;
    snprintf(p.baseline, sizeof p.baseline, "%s", b);
    ok = ok && hl_attr_request_prepare(&rb, m, "integrated_gradients", &p, &err) == HL_OK;
    snprintf(p.baseline, sizeof p.baseline, "%s", c);
    ok = ok && hl_attr_request_prepare(&rc, m, "integrated_gradients", &p, &err) == HL_OK;
    snprintf(p.baseline, sizeof p.baseline, "zero");
    ok = ok && hl_attr_request_prepare(&rzero, m, "integrated_gradients", &p, &err) == HL_OK;
    if (!ok) {
        tap_ok(0, "requests prepare: %s", err.msg);
        return;
    }
    char ka[4096], kb[4096], kc[4096];
    hl_attr_request_key(&ra, ka, sizeof ka);
    hl_attr_request_key(&rb, kb, sizeof kb);
    hl_attr_request_key(&rc, kc, sizeof kc);
    tap_ok(hl_attr_request_equal(&ra, &rb) &&
           hl_attr_request_hash(&ra) == hl_attr_request_hash(&rb) &&
           strcmp(ka, kb) == 0 && !strstr(ka, "hl-policy"),
           "one baseline content under two paths: equal requests, one key (%s)", ka);
    tap_ok(!hl_attr_request_equal(&ra, &rc) &&
           hl_attr_request_hash(&ra) != hl_attr_request_hash(&rc) &&
           strcmp(ka, kc) != 0, "another content: another request and key");

    /* The methods never open the file: it is gone when they run. */
    remove(a);
    hl_attr_request copy;
    hl_attr_context ctx = {.threads = test_threads()};
    hl_attr_result r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    ok = hl_attr_request_copy(&copy, &ra, &err) == HL_OK &&
         hl_attribute_request(m, &copy, x, &ctx, &r1, &err) == HL_OK &&
         hl_attribute_request(m, &rzero, x, &ctx, &r2, &err) == HL_OK;
    tap_ok(ok && hl_shape_equal(&r1.attr->shape, &r2.attr->shape) &&
           memcmp(r1.attr->data, r2.attr->data,
                  sizeof(float) * (size_t)hl_shape_numel(&r1.attr->shape)) == 0,
           "a copied request runs after its file is deleted, bit for bit the "
           "zero baseline's IG%s%s", ok ? "" : ": ", ok ? "" : err.msg);
    hl_attr_result_clear(&r1);
    hl_attr_result_clear(&r2);

    /* A wrong file is refused before any compute, naming it. */
    hl_shape small = {4, {1, 3, 8, 8}};
    hl_array *wrong = hl_array_new(&small);
    ok = write_array(a, wrong);
    hl_attr_request bad;
    snprintf(p.baseline, sizeof p.baseline, "%s", a);
    hl_status st = hl_attr_request_prepare(&bad, m, "integrated_gradients", &p, &err);
    tap_ok(ok && st == HL_ERR_SHAPE && strstr(err.msg, a),
           "a baseline of the wrong shape is refused at prepare (%s)", err.msg);

    /* The default layer is part of the prepared request. */
    hl_attr_request lg;
    hl_attr_params_init(&p);
    st = hl_attr_request_prepare(&lg, m, "layer_grad_cam", &p, &err);
    tap_ok(st == HL_OK && strcmp(lg.params.layer, "/layer3/layer3.1/relu_1/Relu") == 0,
           "a layer method's request carries the default layer (%s)", lg.params.layer);
    hl_attr_request_clear(&lg);

    remove(a);
    remove(b);
    remove(c);
    hl_array_free(wrong);
    hl_attr_request_clear(&ra);
    hl_attr_request_clear(&rb);
    hl_attr_request_clear(&rc);
    hl_attr_request_clear(&rzero);
    hl_attr_request_clear(&copy);
    hl_array_free(zeros);
    hl_array_free(other);
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    classification();
    default_layer();
    requests();
    return tap_done();
}
