/* Part-1 attribution methods against Captum 0.7's own outputs
 * (tests/data/captum/<case>/, see manifest.json there): every
 * deterministic method within relative L2 1e-4, convergence deltas against
 * the recorded ones, LayerAttribution.interpolate on Captum's GradCAM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define REL_TOL 1e-4
/* IG riemann_trapezoid n=200 is tested at 1e-3: its reference cannot be
 * reproduced to 1e-4 by an evaluation that does not round exactly like
 * PyTorch's oneDNN convolutions. Measured with tools/ig-step-replay.py
 * (per-step gradients from PyTorch float32, PyTorch float64 and Heatlens):
 * - tinyres: PyTorch's own float64 evaluation differs from Captum's
 *   float32 reference by 6.7e-4 (steps 35 and 170 put a ReLU/MaxPool input
 *   within float32 rounding of its kink); and step 0 is the all-zero
 *   baseline, where MaxPool windows hold exactly tied values: OpenBLAS's
 *   Haswell/Zen sgemm kernels round a column differently by its position
 *   (1 ulp), which breaks those ties (Heatlens 7e-4 with them, 1.6e-4 with
 *   the position-independent SkylakeX/Cooperlake kernels).
 * - tinycnn: one step (57) where a conv output is 1.3e-8 below zero in
 *   float64 and our float32 sum lands above it (1.2e-4; every other step
 *   agrees with PyTorch within 3e-7).
 * The quadrature itself is checked bit for bit in test-attr-units. */
#define TRAPEZOID_TOL 1e-3

typedef struct parity_case {
    const char *name;
    int target;
    const char *layer;
} parity_case;

static char *json;
static const char *dir;

static hl_array *ref(const char *file)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/%s", dir, file);
    return load_source_npy(rel);
}

/* Compare one method's output with the reference file; check the delta
 * against the manifest when `delta` is non-NULL. */
static void check_tol(const hl_model *m, const hl_array *x, const char *method,
                      const hl_attr_params *p, const char *file, const char *what,
                      double tol)
{
    hl_attr_result r;
    hl_array *a = run_attr(m, method, x, p, NULL, &r);
    hl_array *e = ref(file);
    if (!a || !e) {
        tap_ok(0, "%s %s: %s", dir, what, a ? "reference missing" : "method failed");
        hl_array_free(a);
        hl_array_free(e);
        return;
    }
    long n = (long)hl_shape_numel(&e->shape);
    int shape_ok = hl_shape_numel(&a->shape) == n && a->shape.ndim == e->shape.ndim;
    double err = shape_ok ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    char sa[64], se[64];
    tap_ok(shape_ok && err <= tol, "%s %s == Captum (%s: rel L2 %.3g <= %.0e, shape %s vs %s)",
           dir, what, file, err, tol, hl_shape_format(&a->shape, sa, sizeof sa),
           hl_shape_format(&e->shape, se, sizeof se));

    double ref_delta;
    if (manifest_numbers(json, file, "convergence_delta", &ref_delta, 1) == 1) {
        double ref_sum = 0;
        manifest_numbers(json, file, "attr_sum", &ref_sum, 1);
        double tol = 2e-4 * (1.0 + fabs(ref_sum));
        tap_ok(r.has_delta && fabs(r.delta - ref_delta) <= tol,
               "%s %s convergence delta %.6g vs Captum %.6g (tol %.2g)", dir, what,
               r.delta, ref_delta, tol);
    }
    hl_array_free(a);
    hl_array_free(e);
}

static void check(const hl_model *m, const hl_array *x, const char *method,
                  const hl_attr_params *p, const char *file, const char *what)
{
    check_tol(m, x, method, p, file, what, REL_TOL);
}

static void interpolate_reference(const char *src_file, const char *dst_file,
                                  hl_interp mode)
{
    hl_array *s = ref(src_file), *e = ref(dst_file);
    if (!s || !e) {
        tap_ok(0, "%s interpolate %s: missing files", dir, dst_file);
        hl_array_free(s);
        hl_array_free(e);
        return;
    }
    float *d = malloc(sizeof(float) * (size_t)hl_shape_numel(&e->shape));
    hl_attr_interpolate(s->data, 1, (int)s->shape.dims[2], (int)s->shape.dims[3], d,
                        (int)e->shape.dims[2], (int)e->shape.dims[3], mode);
    double err = tap_rel_l2(d, e->data, (long)hl_shape_numel(&e->shape));
    tap_ok(err <= 1e-6, "%s LayerAttribution.interpolate(%s) == Captum %s (rel L2 %.3g)",
           dir, src_file, dst_file, err);
    free(d);
    hl_array_free(s);
    hl_array_free(e);
}

static void run_case(const parity_case *pc)
{
    char rel[512];
    dir = pc->name;
    snprintf(rel, sizeof rel, "tests/data/captum/%s/manifest.json", pc->name);
    json = read_source_text(rel);
    snprintf(rel, sizeof rel, "tests/data/captum/%s/model.onnx", pc->name);
    hl_model *m = load_source_model(rel);
    snprintf(rel, sizeof rel, "tests/data/captum/%s", pc->name);
    hl_array *x = NULL;
    {
        char r2[600];
        snprintf(r2, sizeof r2, "%s/input.npy", rel);
        x = load_source_npy(r2);
    }
    static char dirbuf[600];
    snprintf(dirbuf, sizeof dirbuf, "tests/data/captum/%s", pc->name);
    dir = dirbuf;
    if (!tap_ok(json && m && x, "%s: manifest, model and input load", pc->name))
        goto done;

    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = pc->target;

    /* auto target = the top-1 class Captum was asked about */
    {
        hl_attr_params pa;
        hl_attr_params_init(&pa);
        hl_attr_result r;
        hl_array *a = run_attr(m, "saliency", x, &pa, NULL, &r);
        double logit = 0;
        manifest_numbers(json, "ig_gausslegendre_50.npy", "target_logit", &logit, 1);
        tap_ok(a && r.target == pc->target, "%s: auto target = %d (got %d, logit %.5f, p %.4f)",
               pc->name, pc->target, r.target, (double)r.target_logit, (double)r.target_prob);
        hl_array_free(a);
    }

    p.saliency_abs = 1;
    check(m, x, "saliency", &p, "saliency_abs.npy", "saliency abs");
    p.saliency_abs = 0;
    check(m, x, "saliency", &p, "saliency_signed.npy", "saliency signed");
    p.saliency_abs = 1;
    check(m, x, "input_x_gradient", &p, "input_x_gradient.npy", "input_x_gradient");
    check(m, x, "integrated_gradients", &p, "ig_gausslegendre_50.npy", "IG gausslegendre 50");
    {
        hl_attr_params q = p;
        q.n_steps = 200;
        q.ig_method = HL_IG_RIEMANN_TRAPEZOID;
        check_tol(m, x, "integrated_gradients", &q, "ig_riemann_trapezoid_200.npy",
                  "IG riemann_trapezoid 200", TRAPEZOID_TOL);
        q.internal_batch_size = 7; /* chunks of 7 steps: same numbers */
        check_tol(m, x, "integrated_gradients", &q, "ig_riemann_trapezoid_200.npy",
                  "IG riemann_trapezoid 200, internal batch 7", TRAPEZOID_TOL);
    }
    check(m, x, "guided_backprop", &p, "guided_backprop.npy", "guided_backprop");
    check(m, x, "deconvolution", &p, "deconvolution.npy", "deconvolution");
    check(m, x, "deep_lift", &p, "deeplift.npy", "deep_lift");

    strcpy(p.layer, pc->layer);
    check(m, x, "layer_grad_cam", &p, "layer_gradcam.npy", "layer_grad_cam");
    p.interpolate = HL_INTERP_NEAREST;
    check(m, x, "layer_grad_cam", &p, "layer_gradcam_upsampled_nearest.npy",
          "layer_grad_cam upsampled nearest");
    p.interpolate = HL_INTERP_BILINEAR;
    check(m, x, "layer_grad_cam", &p, "layer_gradcam_upsampled_bilinear.npy",
          "layer_grad_cam upsampled bilinear");
    p.relu_attributions = 1;
    p.interpolate = HL_INTERP_NONE;
    check(m, x, "layer_grad_cam", &p, "layer_gradcam_relu.npy", "layer_grad_cam relu");
    p.interpolate = HL_INTERP_NEAREST;
    check(m, x, "layer_grad_cam", &p, "layer_gradcam_relu_upsampled_nearest.npy",
          "layer_grad_cam relu upsampled nearest");
    p.interpolate = HL_INTERP_BILINEAR;
    check(m, x, "layer_grad_cam", &p, "layer_gradcam_relu_upsampled_bilinear.npy",
          "layer_grad_cam relu upsampled bilinear");
    p.relu_attributions = 0;
    p.interpolate = HL_INTERP_NONE;
    check(m, x, "guided_grad_cam", &p, "guided_gradcam.npy", "guided_grad_cam");
    check(m, x, "layer_activation", &p, "layer_activation.npy", "layer_activation");
    check(m, x, "layer_conductance", &p, "layer_conductance.npy", "layer_conductance 50");

    interpolate_reference("layer_gradcam.npy", "layer_gradcam_upsampled_nearest.npy", HL_INTERP_NEAREST);
    interpolate_reference("layer_gradcam.npy", "layer_gradcam_upsampled_bilinear.npy", HL_INTERP_BILINEAR);
    interpolate_reference("layer_gradcam_relu.npy", "layer_gradcam_relu_upsampled_bilinear.npy",
                          HL_INTERP_BILINEAR);
done:
    free(json);
    json = NULL;
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    /* One engine thread, as Captum's reference run (torch_threads 1): with
     * two threads the conv sums split differently and, in tinyres's
     * conductance, one of 6144 elements lands on the other side of a ReLU
     * kink (|diff| 1.3e-4 there, rel L2 2.4e-4; measured at dev time). */
    if (!getenv("HL_TEST_THREADS"))
        setenv("HL_TEST_THREADS", "1", 1);
    const parity_case cases[] = {
        { "tinycnn", 1, "/conv2/Conv_output_0" },
        { "tinyres", 7, "/res/conv2/Conv_output_0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
    return tap_done();
}
