/* heatlens-cli report: several methods side by side on one page. */
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-method.h"
#include "cli-options.h"
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
           "  --sign SIGN            %s (default absolute_value)\n"
           "  --outlier-perc P       percent of the largest values clipped (default 2)\n"
           "  --cmap NAME            %s\n"
           "  --alpha A              overlay opacity (default 0.5)\n"
           "  --cell-size N          side of each picture in pixels (default 300)\n"
           "  --help                 this text\n",
           REPORT_DEFAULT_METHODS, hl_method_names(), hl_viz_mode_names(),
           hl_viz_sign_names(), hl_colormap_names());
}

typedef struct report_item {
    const hl_method_desc *method;
    hl_attr_request req;   /* prepared: default layer, files read */
    hl_attr_result result;
    hl_array *shown;       /* the attribution on the input grid */
    char param_text[1024];
} report_item;

int cmd_report(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        report_help();
        return 0;
    }
    cli_input in;
    cli_input_init(&in);
    cli_method_options mo;
    memset(&mo, 0, sizeof mo);
    const char *methods_arg = REPORT_DEFAULT_METHODS, *out_path = NULL;
    const char *mode = NULL, *sign = NULL, *cmap = NULL, *outlier = NULL,
               *alpha = NULL;
    int cell_size = 0, status = 1, n_items = 0;
    report_item *items = calloc(REPORT_MAX_METHODS, sizeof *items);
    char *methods_copy = NULL;
    hl_image *own_photo = NULL;
    hl_error err = {0};
    if (!items)
        return cli_fail("out of memory");

    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        int used = cli_input_option(&in, &a);
        if (used < 0)
            goto out;
        if (used)
            continue;
        const char **slot = NULL;
        if (strcmp(a.name, "methods") == 0 || strcmp(a.name, "method") == 0)
            slot = &methods_arg;
        else if (strcmp(a.name, "out") == 0)
            slot = &out_path;
        else if (strcmp(a.name, "viz") == 0)
            slot = &mode;
        else if (strcmp(a.name, "sign") == 0)
            slot = &sign;
        else if (strcmp(a.name, "cmap") == 0)
            slot = &cmap;
        else if (strcmp(a.name, "outlier-perc") == 0)
            slot = &outlier;
        else if (strcmp(a.name, "alpha") == 0)
            slot = &alpha;
        if (slot) {
            if (!(*slot = cli_args_value(&a)))
                goto out;
            continue;
        }
        if (strcmp(a.name, "target") == 0 || strcmp(a.name, "layer") == 0) {
            if (cli_method_option(&mo, &a) < 0)
                goto out;
        } else if (strcmp(a.name, "cell-size") == 0) {
            const char *v = cli_args_value(&a);
            if (!v || !cli_parse_int("cell-size", v, 64, 2000, &cell_size))
                goto out;
        } else {
            cli_fail("report: unknown option '%s'; valid: the input options, "
                     "--methods, --target, --layer, --out, --viz, --sign, "
                     "--outlier-perc, --cmap, --alpha, --cell-size, --help",
                     a.word);
            goto out;
        }
    }
    if (r < 0)
        goto out;

    /* Check everything cheap before the first method runs. */
    if (!out_path) {
        cli_fail("report needs --out FILE.pdf, FILE.png or FILE.svg");
        goto out;
    }
    hl_viz_format fmt;
    if (hl_viz_format_from_path(out_path, &fmt, &err) != HL_OK) {
        cli_fail("--out: a report is written as .pdf, .png or .svg, not '%s'", out_path);
        goto out;
    }
    hl_report_info info;
    memset(&info, 0, sizeof info);
    hl_viz_options_init(&info.opts);
    info.opts.mode = HL_VIZ_BLENDED_HEAT_MAP;
    if ((mode && hl_viz_mode_from_name(mode, &info.opts.mode, &err) != HL_OK) ||
        (sign && hl_viz_sign_from_name(sign, &info.opts.sign, &err) != HL_OK) ||
        (cmap && hl_colormap_from_name(cmap, &info.opts.cmap, &err) != HL_OK)) {
        cli_fail("%s", err.msg);
        goto out;
    }
    double d;
    if (outlier) {
        if (!cli_parse_double("outlier-perc", outlier, 0, 100, &d))
            goto out;
        info.opts.outlier_perc = d;
    }
    if (alpha) {
        if (!cli_parse_double("alpha", alpha, 0, 1, &d))
            goto out;
        info.opts.alpha_overlay = d;
    }
    if (hl_viz_check(NULL, &info.opts, &err) != HL_OK) {
        cli_fail("--viz/--sign: %s", err.msg);
        goto out;
    }

    methods_copy = strdup(methods_arg);
    if (!methods_copy) {
        cli_fail("out of memory");
        goto out;
    }
    for (char *save = NULL, *name = strtok_r(methods_copy, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        if (n_items == REPORT_MAX_METHODS) {
            cli_fail("at most %d methods fit on a report page", REPORT_MAX_METHODS);
            goto out;
        }
        if (!(items[n_items].method = cli_method_lookup(name)))
            goto out;
        n_items++;
    }
    if (n_items == 0) {
        cli_fail("--methods is empty; valid: %s", hl_method_names());
        goto out;
    }
    if (cli_input_load(&in, 1))
        goto out;
    for (int i = 0; i < n_items; i++) {
        report_item *it = &items[i];
        cli_method_options these = mo;
        if (!it->method->needs_layer)
            these.layer = NULL;   /* --layer is for the layer methods only */
        int uses_target = 0;
        for (int k = 0; it->method->params && it->method->params[k]; k++)
            uses_target |= strcmp(it->method->params[k], "target") == 0;
        if (!uses_target)
            these.target = NULL;
        if (cli_method_request(&these, it->method, &in, NULL, &it->req))
            goto out;
        cli_format_params(it->method, &it->req.params, it->param_text,
                          sizeof it->param_text);
    }

    /* Run the methods. */
    int in_h = (int)in.input->shape.dims[2], in_w = (int)in.input->shape.dims[3];
    const volatile int *cancel = cli_cancel_flag();
    double total = 0;
    for (int i = 0; i < n_items; i++) {
        report_item *it = &items[i];
        char label[64];
        snprintf(label, sizeof label, "[%d/%d] %s", i + 1, n_items, it->method->name);
        cli_progress progress;
        cli_progress_init(&progress, label);
        cli_progress_update(&progress, 0);
        hl_attr_context ctx = {
            .mean = in.pre.mean, .std = in.pre.std, .pixel_scale = in.pre.scale,
            .image01 = in.image01, .progress = cli_progress_update,
            .progress_user = &progress, .cancel = cancel, .threads = in.threads,
        };
        hl_status st = hl_attribute_request(in.model, &it->req, in.input,
                                            &ctx, &it->result, &err);
        cli_progress_done(&progress);
        if (st != HL_OK) {
            cli_fail("%s: %s", it->method->name,
                     err.msg[0] ? err.msg : hl_status_name(st));
            goto out;
        }
        if (progress.enabled)
            fprintf(stderr, "%-36s %8.2f s\n", label, it->result.seconds);
        total += it->result.seconds;
        it->shown = hl_attr_on_input_grid(it->result.attr, in_h, in_w);
        if (!it->shown) {
            cli_fail("%s: cannot draw an attribution of this shape",
                     it->method->name);
            goto out;
        }
    }

    /* Lay out the page. */
    hl_report_panel *panels = calloc((size_t)n_items, sizeof *panels);
    char (*titles)[300] = calloc((size_t)n_items, sizeof *titles);
    if (!panels || !titles) {
        free(panels);
        free(titles);
        cli_fail("out of memory");
        goto out;
    }
    for (int i = 0; i < n_items; i++) {
        report_item *it = &items[i];
        if (it->req.params.layer[0]) {
            /* The panel is narrow: the last two parts of a long node name
             * ("expanded_conv_9/expand/Relu6" -> "expand/Relu6"). */
            const char *layer = it->req.params.layer;
            const char *cut = strrchr(layer, '/');
            if (cut && cut > layer) {
                const char *p = cut - 1;
                while (p > layer && *p != '/')
                    p--;
                if (*p == '/')
                    layer = p + 1;
            }
            snprintf(titles[i], sizeof titles[i], "%s (%s)", it->method->title,
                     layer);
        }
        else
            snprintf(titles[i], sizeof titles[i], "%s", it->method->title);
        panels[i].title = titles[i];
        panels[i].params = it->param_text;
        panels[i].attr = it->shown;
        panels[i].seconds = it->result.seconds;
        panels[i].has_delta = it->result.has_delta;
        panels[i].delta = it->result.delta;
    }
    /* The class of the page: from the first method that explains one. */
    int first = 0;
    for (int i = 0; i < n_items; i++) {
        int uses_target = 0;
        for (int k = 0; items[i].method->params && items[i].method->params[k]; k++)
            uses_target |= strcmp(items[i].method->params[k], "target") == 0;
        if (uses_target) {
            first = i;
            break;
        }
    }
    int target = items[first].result.target;
    info.image_name = in.image_path ? in.image_path : in.input_npy;
    info.photo = in.photo;
    info.map = in.photo ? &in.map : NULL;
    if (!info.photo) {
        info.photo = own_photo = cli_image_from_input(in.input, &in.pre);
        if (!info.photo) {
            free(panels);
            free(titles);
            cli_fail("a report needs a 3-channel picture; give --image");
            goto out;
        }
    }
    info.model_name = hl_model_name(in.model);
    info.target_label = cli_input_label(&in, target);
    info.target_index = target;
    info.probability = target >= 0 ? items[first].result.target_prob : -1;
    info.cell_size = cell_size;
    hl_status st = hl_report_write(out_path, &info, panels, n_items, &err);
    free(panels);
    free(titles);
    if (st != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }

    /* The summary (stdout: also what a log file or a pipe receives). */
    printf("%s on %s, target %d %s (p = %.4f)\n", hl_model_name(in.model),
           info.image_name, target, info.target_label, info.probability);
    for (int i = 0; i < n_items; i++) {
        report_item *it = &items[i];
        printf("  %-34s %8.2f s", it->method->name, it->result.seconds);
        if (it->result.has_delta)
            printf("   delta %.3g", it->result.delta);
        if (it->req.params.layer[0])
            printf("   layer %s", it->req.params.layer);
        printf("\n");
    }
    printf("wrote %s (%d methods, %.2f s)\n", out_path, n_items, total);
    status = 0;
out:
    for (int i = 0; i < n_items; i++) {
        hl_attr_result_clear(&items[i].result);
        hl_attr_request_clear(&items[i].req);
        hl_array_free(items[i].shown);
    }
    free(items);
    free(methods_copy);
    hl_image_free(own_photo);
    cli_input_clear(&in);
    return status;
}
