/* LRP on a Conv followed by a BatchNorm, which the loader folds into one
 * Conv (fold_bn.c), against Captum 0.7's LRP on the unfolded torch module
 * (tests/data/captum/lrp_bn, tools/make-lrp-bn-cases.py), where one rule
 * acts on the Conv and another on the BatchNorm: epsilon everywhere,
 * gamma 0.25 and z+ (alpha1-beta0) on the Convs, and gamma on the
 * BatchNorms too; some BN scales are negative, where a rule on the folded
 * weights would differ. Within relative L2 1e-4. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attr-test-util.h"

#define DIR "tests/data/captum/lrp_bn"

static void check(const hl_model *m, const hl_array *x, const char *name,
                  const char *conv, const char *bn)
{
    char rel[256];
    snprintf(rel, sizeof rel, DIR "/lrp_%s.npy", name);
    hl_array *e = load_source_npy(rel);
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 2;
    snprintf(p.lrp_conv, sizeof p.lrp_conv, "%s", conv);
    snprintf(p.lrp_batchnorm, sizeof p.lrp_batchnorm, "%s", bn);
    hl_attr_result r;
    hl_array *a = e ? run_attr(m, "lrp", x, &p, NULL, &r) : NULL;
    long n = e ? (long)hl_shape_numel(&e->shape) : 0;
    double err = a && hl_shape_numel(&a->shape) == n
                     ? tap_rel_l2(a->data, e->data, n) : INFINITY;
    tap_ok(err <= 1e-4, "lrp, conv %s, batchnorm %s (BN folded at load) == "
           "Captum 0.7 on the unfolded module (rel L2 %.3g)", conv, bn, err);
    hl_array_free(a);
    hl_array_free(e);
}

int main(void)
{
    hl_model *m = load_source_model(DIR "/model.onnx");
    hl_array *x = load_source_npy(DIR "/input.npy");
    if (tap_ok(m && x, "model and input load")) {
        int bn_nodes = 0;
        for (int k = 0; k < hl_model_num_nodes(m); k++) {
            hl_node_info info;
            hl_model_node_info(m, k, &info);
            bn_nodes += strcmp(info.op, "BatchNormalization") == 0;
        }
        tap_ok(bn_nodes == 0, "both BatchNorms folded into their Convs "
               "(%d left)", bn_nodes);
        check(m, x, "epsilon", "epsilon", "epsilon");
        check(m, x, "gamma", "gamma:0.25", "epsilon");
        check(m, x, "zplus", "z+", "epsilon");
        check(m, x, "bn_gamma", "gamma:0.25", "gamma:0.25");
    }
    hl_array_free(x);
    hl_model_free(m);
    return tap_done();
}
