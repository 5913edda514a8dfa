/* LRP and LayerLRP (issue 15) against Captum 0.7's own outputs
 * (tests/data/captum/round2/tinycnn: lrp_epsilon.npy, lrp_gamma_conv.npy,
 * layer_lrp.npy; the calls are in manifest.json there) within relative L2
 * 1e-4, and Captum's refusal of tinyres (a residual Add and a Clip (ReLU6)
 * have no rule): one line naming such a node. With a rule chosen for those
 * ops, epsilon-LRP (epsilon -> 0) of a ReLU network equals input x gradient
 * (Ancona et al., ICLR 2018, Proposition 1), checked on tinyres. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-test-util.h"

#define REL_TOL 1e-4

static void compare(const hl_array *a, const char *file, const char *what)
{
    char rel[256];
    snprintf(rel, sizeof rel, "captum/round2/tinycnn/%s", file);
    hl_array *e = load_npy(rel);
    int shape_ok = a && e && hl_shape_numel(&a->shape) == hl_shape_numel(&e->shape);
    double err = shape_ok ? tap_rel_l2(a->data, e->data, (long)hl_shape_numel(&e->shape)) : INFINITY;
    tap_ok(shape_ok && err <= REL_TOL, "tinycnn %s == Captum %s (rel L2 %.3g <= %.0e)",
           what, file, err, REL_TOL);
    hl_array_free(e);
}

static void tinycnn(void)
{
    hl_model *m = case_model("tinycnn");
    hl_array *x = case_npy("tinycnn", "input");
    if (!tap_ok(m && x, "tinycnn: model and input load"))
        goto done;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 1;
    strcpy(p.layer, "/conv2/Conv_output_0");
    hl_attr_result r;
    hl_array *a = run_method(m, "lrp", x, &p, &r);
    compare(a, "lrp_epsilon.npy", "lrp (default rules)");
    /* Captum's convergence delta (manifest: 0.12527751922607422) is
     * F(x)[T] - sum(relevance); ours is sum - F(x)[T] */
    tap_ok(a && fabs(-r.delta - 0.12527751922607422) < 1e-4,
           "tinycnn lrp convergence delta %.6f == -Captum's 0.125278", r.delta);
    hl_array_free(a);

    hl_attr_params q = p;
    strcpy(q.lrp_conv, "gamma:0.25");
    strcpy(q.lrp_linear, "epsilon:0.25");
    a = run_method(m, "lrp", x, &q, NULL);
    compare(a, "lrp_gamma_conv.npy", "lrp (conv gamma 0.25, linear epsilon 0.25)");
    hl_array_free(a);

    a = run_method(m, "layer_lrp", x, &p, NULL);
    compare(a, "layer_lrp.npy", "layer_lrp at conv2");
    hl_array_free(a);

    hl_error err = {0};
    strcpy(q.lrp_conv, "gamma:x");
    tap_ok(hl_attribute(m, "lrp", x, &q, &(hl_attr_context){ .threads = 1 }, &r, &err) != HL_OK &&
           strstr(err.msg, "--lrp-conv") && strstr(err.msg, "gamma:x"),
           "a bad rule is refused naming the parameter: %s", err.msg);
done:
    hl_array_free(x);
    hl_model_free(m);
}

/* The refusal names a node of the model that is an Add or a Clip. */
static int names_unruled_node(const hl_model *m, const char *msg)
{
    for (int k = 0; k < hl_model_num_nodes(m); k++) {
        hl_node_info ni;
        hl_model_node_info(m, k, &ni);
        char quoted[300];
        snprintf(quoted, sizeof quoted, "node '%s' (%s)", ni.name, ni.op);
        if ((strcmp(ni.op, "Add") == 0 || strcmp(ni.op, "Clip") == 0) && strstr(msg, quoted))
            return 1;
    }
    return 0;
}

static void tinyres(void)
{
    hl_model *m = case_model("tinyres");
    hl_array *x = case_npy("tinyres", "input");
    if (!tap_ok(m && x, "tinyres: model and input load"))
        goto done;
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.target = 7;
    strcpy(p.layer, "/res/conv2/Conv_output_0");
    const char *methods[] = { "lrp", "layer_lrp" };
    for (int i = 0; i < 2; i++) {
        hl_attr_result r;
        hl_error err = {0};
        hl_status st = hl_attribute(m, methods[i], x, &p, &(hl_attr_context){ .threads = 1 },
                                    &r, &err);
        tap_ok(st != HL_OK && names_unruled_node(m, err.msg) && !strchr(err.msg, '\n'),
               "tinyres %s refused, as by Captum, on one line naming the node: %s",
               methods[i], err.msg);
        if (st == HL_OK)
            hl_attr_result_clear(&r);
    }
    hl_attr_params q = p;
    strcpy(q.lrp_other, "epsilon");
    hl_array *lrp = run_method(m, "lrp", x, &q, NULL);
    hl_array *ixg = run_method(m, "input_x_gradient", x, &p, NULL);
    double e = lrp && ixg ? tap_rel_l2(lrp->data, ixg->data, (long)hl_shape_numel(&x->shape))
                          : INFINITY;
    tap_ok(e <= REL_TOL, "tinyres lrp with --lrp-other epsilon == input x gradient "
           "(rel L2 %.3g)", e);
    hl_array_free(lrp);
    hl_array_free(ixg);
done:
    hl_array_free(x);
    hl_model_free(m);
}

int main(void)
{
    tinycnn();
    tinyres();
    return tap_done();
}
