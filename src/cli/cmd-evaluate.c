/* heatlens-cli evaluate: how far to trust one method's map on one input:
 * notices, the convergence delta's meaning, Captum's infidelity and
 * sensitivity_max, deletion/insertion curves and the model-randomisation
 * sanity check, as text, JSON and a plots page (PNG, PDF, SVG). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-evaluate.h"
#include "cli-method.h"
#include "cli-options.h"
#include "cli-trust.h"

static void evaluate_help(void)
{
    printf("Usage: %s evaluate (--image IMG | --input-npy X.npy) --method NAME\n"
           "                     [method options] [--metrics LIST] [--json] [--out plot.png]\n"
           "\n"
           "How far to trust a method's map on this input (see docs/trust.md):\n"
           "  infidelity     Captum's infidelity: squared error of the map's linear\n"
           "                 prediction of the logit change under Gaussian noise\n"
           "  sensitivity    Captum's sensitivity_max: largest relative change of the\n"
           "                 map under uniform noise of radius 0.02\n"
           "  deletion       target probability as the most important pixels are\n"
           "                 removed (RISE, Petsiuk et al. 2018): low area is good\n"
           "  insertion      ... as they are added to a blurred image: high area is good\n"
           "  randomization  cascading re-initialisation of the weights from the top\n"
           "                 (Adebayo et al. 2018): a map that stays alike is flagged\n"
           "\n"
           "Options:\n", CLI_PROG);
    cli_input_print_help(stdout, 1);
    printf("  --method NAME          the method (see '%s explain --help')\n"
           "  --metrics LIST         comma-separated, default all: %s\n"
           "  --steps N              deletion/insertion steps (default 50)\n"
           "  --deletion-baseline S  what removed pixels become (default: the method's\n"
           "                         --baseline, or zero)\n"
           "  --insertion-baseline S the image pixels are inserted into (default blur:5)\n"
           "  --samples N            infidelity and sensitivity perturbations (default 10)\n"
           "  --noise-std X          infidelity's Gaussian noise (default 0.003)\n"
           "  --radius X             sensitivity's uniform noise (default 0.02)\n"
           "  --stages N             randomisation stages incl. the original (default 6)\n"
           "  --metric-seed N        seed of the metrics' noise and random weights\n"
           "  --json                 one JSON object on stdout\n"
           "  --out FILE             the plots: .png, .pdf or .svg\n"
           "  --help                 this text\n", CLI_PROG, HL_METRIC_NAMES);
}

/* The evaluate-only options; 1 used, 0 not one of them, -1 error. */
static int evaluate_option(cli_evaluation *e, cli_args *a)
{
    static const char *const names[] = { "metrics", "steps", "deletion-baseline",
        "insertion-baseline", "samples", "noise-std", "radius", "stages", "metric-seed", NULL };
    int k = 0;
    while (names[k] && strcmp(a->name, names[k]) != 0)
        k++;
    if (!names[k])
        return 0;
    const char *v = cli_args_value(a);
    int iv;
    double dv;
    if (!v)
        return -1;
    switch (k) {
    case 0: return cli_metrics_parse(v, &e->opts.metrics) ? 1 : -1;
    case 1: return cli_parse_int("steps", v, 1, 10000, &e->opts.curve_steps) ? 1 : -1;
    case 2:
        snprintf(e->opts.deletion_baseline, sizeof e->opts.deletion_baseline, "%s", v);
        return 1;
    case 3:
        snprintf(e->opts.insertion_baseline, sizeof e->opts.insertion_baseline, "%s", v);
        return 1;
    case 4:
        if (!cli_parse_int("samples", v, 1, 10000, &iv))
            return -1;
        e->opts.infidelity.n_samples = e->opts.sensitivity.n_samples = iv;
        return 1;
    case 5:
        if (!cli_parse_double("noise-std", v, 1e-12, 1e6, &dv))
            return -1;
        e->opts.infidelity.noise_std = dv;
        return 1;
    case 6:
        if (!cli_parse_double("radius", v, 1e-12, 1e6, &dv))
            return -1;
        e->opts.sensitivity.radius = dv;
        return 1;
    case 7:
        return cli_parse_int("stages", v, 2, HL_RANDOMIZATION_MAX_STAGES,
                             &e->opts.randomization.stages) ? 1 : -1;
    default:
        if (!cli_parse_int("metric-seed", v, 0, 2147483647, &iv))
            return -1;
        e->opts.infidelity.seed = e->opts.sensitivity.seed = e->opts.randomization.seed =
            (uint64_t)iv;
        return 1;
    }
}

static int write_plots(const cli_evaluation *e, const cli_input *in, const char *path)
{
    hl_error err = {0};
    hl_viz_meta meta[] = {
        {"heatlens.method", e->result.method},
        {"heatlens.model", hl_model_name(in->model)},
        {"heatlens.image", in->image_path ? in->image_path : in->input_npy},
    };
    if (hl_metric_plots_export(&e->page.plots, path, meta, 3, &err) != HL_OK)
        return cli_fail("%s", err.msg);
    return 0;
}

int cmd_evaluate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        evaluate_help();
        return 0;
    }
    cli_input in;
    cli_input_init(&in);
    cli_method_options mo;
    memset(&mo, 0, sizeof mo);
    cli_evaluation ev;
    cli_evaluation_init(&ev);
    const char *method_name = NULL, *out_path = NULL;
    int json = 0, status = 1;
    hl_attr_result res;
    memset(&res, 0, sizeof res);
    hl_attr_request req;
    memset(&req, 0, sizeof req);
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        int used = cli_input_option(&in, &a);
        if (!used)
            used = evaluate_option(&ev, &a);
        if (!used)
            used = cli_method_option(&mo, &a);
        if (used < 0)
            goto out;
        if (used)
            continue;
        if (strcmp(a.name, "method") == 0) {
            if (!(method_name = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "out") == 0) {
            if (!(out_path = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "json") == 0) {
            json = 1;
        } else {
            cli_fail("evaluate: unknown option '%s'; valid: the input options, --method, "
                     "the method's options, --metrics, --steps, --deletion-baseline, "
                     "--insertion-baseline, --samples, --noise-std, --radius, --stages, "
                     "--metric-seed, --json, --out", a.word);
            goto out;
        }
    }
    if (r < 0)
        goto out;
    hl_error err = {0};
    hl_viz_format fmt;
    if (out_path && hl_viz_format_from_path(out_path, &fmt, &err) != HL_OK) {
        cli_fail("--out: the plots are written as .png, .pdf or .svg, not '%s'", out_path);
        goto out;
    }
    const hl_method_desc *m = cli_method_lookup(method_name);
    if (!m || cli_input_load(&in, 1))
        goto out;
    if (cli_method_request(&mo, m, &in, NULL, &req))
        goto out;
    const hl_attr_params *params = &req.params;
    hl_attr_context ctx = {
        .mean = in.pre.mean, .std = in.pre.std, .pixel_scale = in.pre.scale,
        .image01 = in.image01, .cancel = cli_cancel_flag(), .threads = in.threads,
    };
    if (hl_attribute_request(in.model, &req, in.input, &ctx, &res, &err) != HL_OK) {
        cli_fail("%s: %s", m->name, err.msg[0] ? err.msg : "failed");
        goto out;
    }
    if (cli_evaluate(&ev, &in, m, params, &res, &ctx))
        goto out;
    if (out_path && write_plots(&ev, &in, out_path))
        goto out;
    cli_print_notices(in.model, m->name, params, &res);
    if (json) {
        printf("{\"method\": ");
        cli_json_string(stdout, m->name);
        printf(", \"model\": ");
        cli_json_string(stdout, hl_model_name(in.model));
        printf(", \"input\": ");
        cli_json_string(stdout, in.image_path ? in.image_path : in.input_npy);
        printf(", \"target\": %d, \"label\": ", res.target);
        cli_json_string(stdout, cli_input_label(&in, res.target));
        printf(", \"probability\": %.6g", res.target_prob);
        cli_json_trust(stdout, in.model, m->name, params, &res);
        cli_evaluation_json(stdout, &ev);
        if (out_path) {
            printf(", \"out\": ");
            cli_json_string(stdout, out_path);
        }
        printf("}\n");
    } else {
        printf("%s on %s with %s\n", m->title, in.image_path ? in.image_path : in.input_npy,
               hl_model_name(in.model));
        printf("target:      %d %s (p = %.4f)\n", res.target, cli_input_label(&in, res.target),
               res.target_prob);
        cli_print_delta(m->name, &res);
        cli_evaluation_print(&ev);
        if (out_path)
            printf("wrote        %s\n", out_path);
    }
    status = 0;
out:
    cli_evaluation_clear(&ev);
    hl_attr_result_clear(&res);
    hl_attr_request_clear(&req);
    cli_input_clear(&in);
    return status;
}
