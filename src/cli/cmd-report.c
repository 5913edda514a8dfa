/* heatlens-cli report: several methods side by side on one page. */
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-evaluate.h"
#include "cli-method.h"
#include "cli-options.h"
#include "cli-trust.h"
#include "cli-viz.h"
#include "viz.h"

#define REPORT_MAX_METHODS 16
#define REPORT_DEFAULT_METHODS "integrated_gradients,occlusion,layer_grad_cam"

static void report_help(void)
{
    printf("Usage: %s report (--image IMG | --input-npy X.npy) [--model FILE.onnx]\n"
           "                   [--methods A,B,...] [--target auto|INDEX] [--layer NAME]\n"
           "                   --out report.pdf|report.png\n"
           "\n"
           "Run several attribution methods with their usual settings and lay them\n"
           "out on one page next to the original photo, each with its colour bar,\n"
           "parameters, time and convergence delta.\n"
           "Settings: the same as explain's: Captum's defaults (occlusion strides\n"
           "3,8,8 and window 3,15,15); layer methods on --layer or, without it, the\n"
           "default layer (the last main-path block output of at least 7x7 before\n"
           "the final downsampling); layer maps upsampled nearest, as Captum.\n"
           "\n"
           "Options:\n", CLI_PROG);
    cli_input_print_help(stdout, 1);
    printf("  --methods A,B,...      methods (default %s); valid:\n"
           "                         %s\n"
           "  --target auto|INDEX    class to explain (default: the top-1 class)\n"
           "  --layer NAME           layer for the layer methods\n"
           "  --out FILE             .pdf, .png or .svg\n"
           "  --viz MODE             %s (default blended_heat_map)\n"
           "  --sign SIGN            %s (default: each method's, as explain's)\n"
           "  --outlier-perc P       percent of the largest values clipped (default 2)\n"
           "  --cmap NAME            %s (default: each method's)\n"
           "  --alpha A              overlay opacity (default 0.5)\n"
           "  --cell-size N          side of each picture in pixels (default 300)\n"
           "  --paper fit|a4|letter  the page: the content's size (default) or a\n"
           "                         standard sheet, the content scaled to fit\n"
           "  --evaluate             add a metrics section (see '%s evaluate --help')\n"
           "  --metrics LIST         the metrics of --evaluate (default all)\n"
           "  --help                 this text\n",
           REPORT_DEFAULT_METHODS, hl_method_names(), hl_viz_mode_names(),
           hl_viz_sign_names(), hl_colormap_names(), CLI_PROG);
}

typedef struct report_item {
    const hl_method_desc *method;
    hl_attr_request req;   /* prepared: default layer, files read */
    hl_attr_result result;
    hl_array *shown;       /* the attribution on the input grid */
    char param_text[1024];
    char title[300];
    char notice[160];      /* under the picture (cli_panel_notice) */
    hl_viz_options opts;   /* the overlay: the method's sign and colormap
                              unless --sign / --cmap chose */
    cli_evaluation *eval;  /* --evaluate */
} report_item;

/* Everything a report run holds, freed by report_clear. */
typedef struct report {
    cli_input in;
    cli_method_options mo;
    cli_viz viz;
    const char *methods_arg, *out_path;
    int cell_size;
    hl_paper paper;          /* --paper */
    int evaluate, metrics;   /* --evaluate, --metrics (HL_METRIC_*) */
    report_item items[REPORT_MAX_METHODS];
    int n_items;
    hl_report_info info;
    hl_image *own_photo;
    double total;
} report;

static void report_clear(report *rp)
{
    for (int i = 0; i < rp->n_items; i++) {
        hl_attr_result_clear(&rp->items[i].result);
        hl_attr_request_clear(&rp->items[i].req);
        hl_array_free(rp->items[i].shown);
        if (rp->items[i].eval)
            cli_evaluation_clear(rp->items[i].eval);
        free(rp->items[i].eval);
    }
    hl_image_free(rp->own_photo);
    cli_input_clear(&rp->in);
}

static int uses_target(const hl_method_desc *m)
{
    for (int k = 0; m->params && m->params[k]; k++)
        if (strcmp(m->params[k], "target") == 0)
            return 1;
    return 0;
}

/* The command line; 0, or 1 (printed). */
static int report_parse(report *rp, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        int used = cli_input_option(&rp->in, &a);
        if (!used)
            used = cli_viz_option(&rp->viz, &a);
        if (used < 0)
            return 1;
        if (used)
            continue;
        const char **slot = NULL;
        if (strcmp(a.name, "methods") == 0 || strcmp(a.name, "method") == 0)
            slot = &rp->methods_arg;
        else if (strcmp(a.name, "out") == 0)
            slot = &rp->out_path;
        if (slot) {
            if (!(*slot = cli_args_value(&a)))
                return 1;
        } else if (strcmp(a.name, "target") == 0 || strcmp(a.name, "layer") == 0) {
            if (cli_method_option(&rp->mo, &a) < 0)
                return 1;
        } else if (strcmp(a.name, "evaluate") == 0) {
            rp->evaluate = 1;
        } else if (strcmp(a.name, "metrics") == 0) {
            const char *v = cli_args_value(&a);
            if (!v || !cli_metrics_parse(v, &rp->metrics))
                return 1;
        } else if (strcmp(a.name, "cell-size") == 0) {
            const char *v = cli_args_value(&a);
            if (!v || !cli_parse_int("cell-size", v, 64, 2000, &rp->cell_size))
                return 1;
        } else if (strcmp(a.name, "paper") == 0) {
            const char *v = cli_args_value(&a);
            hl_error perr = { 0 };
            if (!v)
                return 1;
            if (hl_paper_from_name(v, &rp->paper, &perr) != HL_OK)
                return cli_fail("--%s", perr.msg);
        } else {
            return cli_fail("report: unknown option '%s'; valid: the input "
                            "options, --methods, --target, --layer, --out, "
                            "--viz, --sign, --outlier-perc, --cmap, --alpha, "
                            "--cell-size, --paper, --evaluate, --metrics, --help", a.word);
        }
    }
    return r < 0;
}

/* Everything cheap, before the first method runs: the output, the
 * overlay, the method names; then the input and one request per method. */
static int report_prepare(report *rp)
{
    hl_error err = {0};
    if (!rp->out_path)
        return cli_fail("report needs --out FILE.pdf, FILE.png or FILE.svg");
    hl_viz_format fmt;
    if (hl_viz_format_from_path(rp->out_path, &fmt, &err) != HL_OK)
        return cli_fail("--out: a report is written as .pdf, .png or .svg, "
                        "not '%s'", rp->out_path);
    if (cli_viz_resolve(&rp->viz, HL_VIZ_BLENDED_HEAT_MAP, &rp->info.opts))
        return 1;
    char names[1024];
    if (strlen(rp->methods_arg) >= sizeof names)
        return cli_fail("--methods: the list is too long (%zu characters)",
                        strlen(rp->methods_arg));
    snprintf(names, sizeof names, "%s", rp->methods_arg);
    for (char *save = NULL, *name = strtok_r(names, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        if (rp->n_items == REPORT_MAX_METHODS)
            return cli_fail("at most %d methods fit on a report page",
                            REPORT_MAX_METHODS);
        if (!(rp->items[rp->n_items].method = cli_method_lookup(name)))
            return 1;
        rp->n_items++;
    }
    if (rp->n_items == 0)
        return cli_fail("--methods is empty; valid: %s", hl_method_names());
    if (cli_input_load(&rp->in, 1))
        return 1;
    for (int i = 0; i < rp->n_items; i++) {
        report_item *it = &rp->items[i];
        cli_method_options these = rp->mo;
        if (!it->method->needs_layer)
            these.layer = NULL;   /* --layer is for the layer methods only */
        if (!uses_target(it->method))
            these.target = NULL;
        if (cli_method_request(&these, it->method, &rp->in, NULL, &it->req))
            return 1;
        cli_format_params(it->method, &it->req.params, it->param_text,
                          sizeof it->param_text);
    }
    return 0;
}

/* The metrics of one method for the report's metrics section. */
static int report_evaluate(report_item *it, const cli_input *in, int metrics,
                           const hl_attr_context *ctx)
{
    it->eval = malloc(sizeof *it->eval);
    if (!it->eval)
        return cli_fail("out of memory");
    cli_evaluation_init(it->eval);
    it->eval->opts.metrics = metrics;
    hl_attr_context quiet = *ctx;
    quiet.progress = NULL;
    return cli_evaluate(it->eval, in, it->method, &it->req.params, &it->result,
                        &quiet);
}

/* Run the methods, each laid on the input grid. */
static int report_run(report *rp)
{
    cli_input *in = &rp->in;
    hl_error err = {0};
    int in_h = (int)in->input->shape.dims[2], in_w = (int)in->input->shape.dims[3];
    const volatile int *cancel = cli_cancel_flag();
    for (int i = 0; i < rp->n_items; i++) {
        report_item *it = &rp->items[i];
        char label[64];
        snprintf(label, sizeof label, "[%d/%d] %s", i + 1, rp->n_items,
                 it->method->name);
        cli_progress progress;
        cli_progress_init(&progress, label);
        cli_progress_update(&progress, 0);
        hl_attr_context ctx = {
            .mean = in->pre.mean, .std = in->pre.std, .pixel_scale = in->pre.scale,
            .image01 = in->image01, .progress = cli_progress_update,
            .progress_user = &progress, .cancel = cancel, .threads = in->threads,
        };
        hl_status st = hl_attribute_request(in->model, &it->req, in->input,
                                            &ctx, &it->result, &err);
        cli_progress_done(&progress);
        if (st != HL_OK)
            return cli_fail("%s: %s", it->method->name,
                            err.msg[0] ? err.msg : hl_status_name(st));
        if (progress.enabled)
            fprintf(stderr, "%-36s %8.2f s\n", label, it->result.seconds);
        rp->total += it->result.seconds;
        it->shown = hl_attr_on_input_grid(it->result.attr, in_h, in_w);
        if (!it->shown)
            return cli_fail("%s: cannot draw an attribution of this shape",
                            it->method->name);
        cli_panel_notice(in->model, it->method->name, &it->req.params,
                         &it->result, it->notice, sizeof it->notice);
        if (rp->evaluate && report_evaluate(it, in, rp->metrics, &ctx))
            return 1;
    }
    return 0;
}

/* "Layer GradCAM (expand/Relu6)": the panel is narrow, so the last two
 * parts of a long node name ("expanded_conv_9/expand/Relu6"). */
static void panel_title(report_item *it)
{
    const char *layer = it->req.params.layer;
    if (!layer[0]) {
        snprintf(it->title, sizeof it->title, "%s", it->method->title);
        return;
    }
    const char *cut = strrchr(layer, '/');
    if (cut && cut > layer) {
        const char *p = cut - 1;
        while (p > layer && *p != '/')
            p--;
        if (*p == '/')
            layer = p + 1;
    }
    snprintf(it->title, sizeof it->title, "%s (%s)", it->method->title, layer);
}

/* Lay out and write the page; the class is the first target method's. */
static int report_page(report *rp)
{
    hl_error err = {0};
    hl_report_panel panels[REPORT_MAX_METHODS];
    memset(panels, 0, sizeof panels);
    int first = 0;
    for (int i = rp->n_items - 1; i >= 0; i--)
        if (uses_target(rp->items[i].method))
            first = i;
    for (int i = 0; i < rp->n_items; i++) {
        report_item *it = &rp->items[i];
        panel_title(it);
        panels[i].title = it->title;
        panels[i].params = it->param_text;
        panels[i].attr = it->shown;
        panels[i].seconds = it->result.seconds;
        panels[i].has_delta = it->result.has_delta;
        panels[i].delta = it->result.delta;
        panels[i].notice = it->notice;
        it->opts = cli_viz_for_method(&rp->viz, &rp->info.opts, it->method->name);
        panels[i].opts = &it->opts;
    }
    const hl_metric_plots *plots[REPORT_MAX_METHODS];
    for (int i = 0; rp->evaluate && i < rp->n_items; i++)
        plots[i] = &rp->items[i].eval->page.plots;
    rp->info.evaluations = rp->evaluate ? plots : NULL;
    rp->info.n_evaluations = rp->evaluate ? rp->n_items : 0;
    cli_input *in = &rp->in;
    hl_report_info *info = &rp->info;
    int target = rp->items[first].result.target;
    info->image_name = in->image_path ? in->image_path : in->input_npy;
    info->photo = in->photo;
    info->map = in->photo ? &in->map : NULL;
    if (!info->photo) {
        info->photo = rp->own_photo = cli_image_from_input(in->input, &in->pre);
        if (!info->photo)
            return cli_fail("a report needs a 3-channel picture; give --image");
    }
    info->model_name = hl_model_name(in->model);
    info->target_label = cli_input_label(in, target);
    info->target_index = target;
    info->probability = target >= 0 ? rp->items[first].result.target_prob : -1;
    info->cell_size = rp->cell_size;
    info->paper = rp->paper;
    if (hl_report_write(rp->out_path, info, panels, rp->n_items, &err) != HL_OK)
        return cli_fail("%s", err.msg);
    return 0;
}

/* The summary (stdout: also what a log file or a pipe receives). */
static void report_summary(const report *rp)
{
    const hl_report_info *info = &rp->info;
    printf("%s on %s, target %d %s (p = %.4f)\n", hl_model_name(rp->in.model),
           info->image_name, info->target_index, info->target_label,
           info->probability);
    for (int i = 0; i < rp->n_items; i++) {
        const report_item *it = &rp->items[i];
        printf("  %-34s %8.2f s", it->method->name, it->result.seconds);
        if (it->result.has_delta)
            printf("   delta %.3g", it->result.delta);
        if (it->req.params.layer[0])
            printf("   layer %s", it->req.params.layer);
        printf("\n");
    }
    printf("wrote %s (%d methods, %.2f s)\n", rp->out_path, rp->n_items,
           rp->total);
}

int cmd_report(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        report_help();
        return 0;
    }
    report *rp = calloc(1, sizeof *rp);
    if (!rp)
        return cli_fail("out of memory");
    cli_input_init(&rp->in);
    rp->methods_arg = REPORT_DEFAULT_METHODS;
    rp->metrics = HL_METRIC_ALL;
    int status = report_parse(rp, argc, argv) || report_prepare(rp) ||
                 report_run(rp) || report_page(rp);
    if (status == 0)
        report_summary(rp);
    report_clear(rp);
    free(rp);
    return status;
}
