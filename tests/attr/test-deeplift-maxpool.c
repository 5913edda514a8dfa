/* DeepLift's MaxPool rule against Captum 0.7.0's own outputs
 * (tests/data/captum/deeplift_maxpool/, made by make_cases.py there): a
 * MaxPool after a Concat of ReLUs (SqueezeNet Fire-like, with a ReLU-fed
 * MaxPool below it, where Captum keeps the plain gradient) and one after an
 * Add, and GoogLeNet's Inception structure (a pool whose input also feeds
 * two Conv branches, where Captum's hook replaces the whole summed
 * gradient; and one whose input is a hooked MaxPool's output), each with a
 * zero and a random baseline, within relative L2 1e-4.
 * The plain gradient through the pools (the rule missing) is far off. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define DIR "tests/data/captum/deeplift_maxpool"

static void check_case(const char *model, const char *baseline)
{
    char rel[256], file[256];
    snprintf(rel, sizeof rel, DIR "/%s.onnx", model);
    hl_model *m = load_source_model(rel);
    hl_array *x = load_source_npy(DIR "/input.npy");
    snprintf(file, sizeof file, DIR "/%s_deeplift_%s.npy", model, baseline);
    hl_array *e = load_source_npy(file);
    if (!tap_ok(m && x && e, "%s %s: model, input and reference load", model,
                baseline))
        goto done;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    if (strcmp(baseline, "random") == 0)
        snprintf(p.baseline, sizeof p.baseline, "%s",
                 source_path(DIR "/baseline_random.npy"));
    hl_attr_result r;
    hl_array *a = run_attr(m, "deep_lift", x, &p, NULL, &r);
    long n = (long)hl_shape_numel(&e->shape);
    int shape_ok = a && hl_shape_numel(&a->shape) == n;
    double err = shape_ok ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    tap_ok(err <= 1e-4, "%s deep_lift, %s baseline == Captum 0.7 (rel L2 %.3g)",
           model, baseline, err);
    hl_array_free(a);
done:
    hl_array_free(e);
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    check_case("fire", "zeros");
    check_case("fire", "random");
    check_case("addpool", "zeros");
    check_case("addpool", "random");
    check_case("inception", "zeros");
    check_case("inception", "random");
    return tap_done();
}
