/* heatlens-cli explain: one attribution method on one input, written as a
 * raw .npy and/or a picture (PNG, PDF, SVG). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "label_names.h"
#include "cli-commands.h"
#include "cli-explain.h"
#include "cli-method.h"
#include "cli-options.h"
#include "cli-trust.h"
#include "cli-viz.h"
#include "npy.h"
#include "viz.h"

/* Print `text` (comma-separated words) wrapped at 79 columns, every line
 * indented by `indent` (the first line continues after `first_used`). */
static void print_wrapped(const char *text, int indent, int first_used)
{
    int col = first_used;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ' ');
        int len = end ? (int)(end - p) : (int)strlen(p);
        if (col > indent && col + 1 + len > 79) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, p);
        col += len;
        p += len;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

static const char *param_metavar(const hl_param_desc *d)
{
    switch (d->type) {
    case HL_PARAM_INT: return "N";
    case HL_PARAM_FLOAT: return "X";
    case HL_PARAM_BOOL: return "[true|false]";
    case HL_PARAM_INT3: return "C,H,W";
    case HL_PARAM_U64: return "N";
    case HL_PARAM_ENUM: return "NAME";
    default: return "SPEC";
    }
}

static void print_param(const hl_param_desc *d)
{
    char flag[96], text[1024];
    snprintf(flag, sizeof flag, "--%s %s", d->name, param_metavar(d));
    if (strlen(flag) > 22)
        printf("  %s\n  %-22s ", flag, "");
    else
        printf("  %-22s ", flag);
    size_t len = (size_t)snprintf(text, sizeof text, "%s", d->help ? d->help : "");
    for (int c = 0; d->choices && d->choices[c] && len < sizeof text; c++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s",
                                c ? ", " : "; one of ", d->choices[c]);
    print_wrapped(text, 25, 25);
}

static int method_has_param(const hl_method_desc *m, const char *name)
{
    for (int i = 0; m->params && m->params[i]; i++)
        if (strcmp(m->params[i], name) == 0)
            return 1;
    return 0;
}

/* `explain --method NAME --help`: one method in detail. */
static void method_help(const hl_method_desc *m)
{
    printf("%s (%s, %s group)\n  %s\n\nOptions:\n", m->name, m->title,
           hl_group_name(m->group), m->description ? m->description : "");
    if (method_has_param(m, "target"))
        printf("  %-22s class to explain (default auto = the top-1 class)\n",
               "--target auto|INDEX");
    if (m->needs_layer)
        printf("  %-22s node or output name (default: the last main-path block\n"
               "  %-22s output of at least 7x7 before the final downsampling)\n",
               "--layer NAME", "");
    for (int i = 0; m->params && m->params[i]; i++) {
        const hl_param_desc *d = hl_param_find(m->params[i]);
        if (d && strcmp(d->name, "target") != 0 && strcmp(d->name, "layer") != 0)
            print_param(d);
    }
    hl_attr_params p;
    char defaults[1024];
    hl_attr_params_init_for_method(&p, m->name);
    cli_format_params(m, &p, defaults, sizeof defaults);
    if (defaults[0]) {
        printf("\nDefaults: ");
        print_wrapped(defaults, 10, 10);
    }
}

static void explain_help(const char *method_name)
{
    const hl_method_desc *m = method_name ? hl_method_find(method_name) : NULL;
    if (m) {
        method_help(m);
        return;
    }
    printf("Usage: %s explain [--model FILE.onnx] (--image IMG | --input-npy X.npy)\n"
           "                    --method NAME [--target auto|INDEX] [--layer NAME]\n"
           "                    [method options] [--raw OUT.npy] [--json] [--threads N]\n"
           "                    [--out FILE.png|.pdf|.svg [--viz MODE] [--sign SIGN]\n"
           "                     [--outlier-perc P] [--cmap NAME] [--alpha A]]\n"
           "                    [--progress-frames DIR]\n"
           "\n"
           "Attribute the model's decision for one class to the input pixels (or\n"
           "to a layer) with one of Captum's methods.\n"
           "\n"
           "Input options:\n", CLI_PROG);
    cli_input_print_help(stdout, 1);
    printf("\nMethods (%s explain --method NAME --help for one in detail):\n",
           CLI_PROG);
    for (int i = 0; i < hl_method_count(); i++) {
        const hl_method_desc *md = hl_method_get(i);
        printf("  %-28s %s\n", md->name, md->title);
    }
    printf("\nMethod options (each method uses some of them):\n"
           "  %-22s class to explain (default auto = the top-1 class)\n"
           "  %-22s node or output name for layer/neuron methods\n"
           "  %-22s (default: the last main-path block output >= 7x7\n"
           "  %-22s before the final downsampling)\n",
           "--target auto|INDEX", "--layer NAME", "", "");
    for (int i = 0; i < hl_param_count(); i++) {
        const hl_param_desc *d = hl_param_get(i);
        if (strcmp(d->name, "target") != 0 && strcmp(d->name, "layer") != 0)
            print_param(d);
    }
    printf("\nOutput options:\n"
           "  --raw OUT.npy          write the attribution as float32 .npy\n"
           "  --json                 print target, label, probability, delta, seconds as JSON\n"
           "  --out FILE             the attribution over the photo (.png .pdf .svg)\n"
           "  --progress-frames DIR  also every intermediate estimate, drawn like --out,\n"
           "                         as DIR/frame-001.png, frame-002.png, ... (the last\n"
           "                         is the result)\n"
           "  --viz MODE             default heat_map; one of");
    print_wrapped(hl_viz_mode_names(), 25, 47);
    printf("  --sign SIGN            default: the method's (all for signed maps,\n"
           "                         absolute_value for saliency, positive for\n"
           "                         CAMs and RISE); one of");
    print_wrapped(hl_viz_sign_names(), 25, 46);
    printf("  --outlier-perc P       percent of the largest values clipped (default 2)\n"
           "  --cmap NAME            default: the method's (see --sign), or");
    print_wrapped(hl_colormap_names(), 25, 61);
    printf("  --alpha A              overlay opacity for blended_heat_map (default 0.5)\n"
           "  --help                 this text\n"
           "\nExample:\n"
           "  %s explain --image cat.png --method integrated_gradients --n-steps 200 \\\n"
           "      --out ig.png --viz blended_heat_map --sign all\n", CLI_PROG);
}

int explain_viz_option(explain_viz *v, cli_args *a)
{
    if (strcmp(a->name, "out") == 0)
        return (v->out_path = cli_args_value(a)) ? 1 : -1;
    return cli_viz_option(&v->given, a);
}

int explain_viz_resolve(explain_viz *v)
{
    hl_error err = {0};
    hl_viz_options_init(&v->opts);
    if (!v->out_path && !v->frames_dir) {
        if (cli_viz_given(&v->given))
            return cli_fail("--viz, --sign, --cmap, --outlier-perc and --alpha "
                            "need --out FILE.png|.pdf|.svg");
        return 0;
    }
    hl_viz_format fmt;
    if (v->out_path && hl_viz_format_from_path(v->out_path, &fmt, &err) != HL_OK)
        return cli_fail("--out: %s", err.msg);
    if (v->frames_dir && mkdir(v->frames_dir, 0777) != 0 && errno != EEXIST)
        return cli_fail("--progress-frames: cannot create directory '%s': %s",
                        v->frames_dir, strerror(errno));
    return cli_viz_resolve(&v->given, v->opts.mode, &v->opts);
}

/* What one picture shows: the map, its class, the caption after the
 * method's title, the file. */
typedef struct explain_picture {
    const hl_array *attr;
    int target;
    const char *caption;       /* "(78.3%)" or "(step 40/200)" */
    const char *path;
    const char *prob;          /* the class probability, NULL for a frame */
    int quiet;                 /* no note about an all-zero map */
} explain_picture;

/* Draw the attribution over the photo (or the input tensor's picture). */
static int write_map(const explain_viz *v, const cli_input *in,
                         const hl_method_desc *m, const hl_attr_params *p,
                         const explain_picture *pic)
{
    hl_error err = {0};
    int status = 1;
    hl_viz_norm *norm = NULL;
    hl_image *own_photo = NULL;
    int in_h = (int)in->input->shape.dims[2], in_w = (int)in->input->shape.dims[3];
    hl_array *shown = hl_attr_on_input_grid(pic->attr, in_h, in_w);
    if (!shown) {
        cli_fail("cannot draw an attribution of this shape; use --raw");
        goto out;
    }
    /* the method's sign and colormap unless --sign / --cmap chose */
    hl_viz_options opts = cli_viz_for_method(&v->given, &v->opts, m->name);
    if (hl_viz_normalize(shown, opts.sign, opts.outlier_perc, &norm,
                         &err) != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }
    if (hl_viz_norm_is_zero(norm) && !pic->quiet)
        fprintf(stderr, "%s: note: the attribution is zero everywhere; the map "
                "is neutral\n", CLI_PROG);
    const hl_image *photo = in->photo;
    const hl_crop_map *map = in->photo ? &in->map : NULL;
    if (!photo) {
        photo = own_photo = cli_image_from_input(in->input, &in->pre);
        if (!photo && opts.mode != HL_VIZ_HEAT_MAP) {
            cli_fail("--viz %s needs a 3-channel input; use --viz heat_map",
                     hl_viz_mode_name(opts.mode));
            goto out;
        }
    }
    char title[512], params[1024], target[64], label[256];
    /* the label's first synonym in the title; the full one in metadata */
    snprintf(title, sizeof title, "%s - %s %s", m->title,
             hl_label_short(cli_input_label(in, pic->target), label, sizeof label),
             pic->caption);
    hl_viz_view view = {.photo = photo, .map = map, .norm = norm,
                        .opts = opts, .title = title, .show_colorbar = 1,
                        .show_raw_range = 1};
    cli_format_params(m, p, params, sizeof params);
    snprintf(target, sizeof target, "%d %s", pic->target,
             cli_input_label(in, pic->target));
    hl_viz_meta meta[9] = {
        {"heatlens.method", m->name},
        {"heatlens.params", params},
        {"heatlens.model", hl_model_name(in->model)},
        {"heatlens.image", in->image_path ? in->image_path : in->input_npy},
        {"heatlens.target", target},
        {"heatlens.sign", hl_viz_sign_name(opts.sign)},
        {"heatlens.cmap", hl_colormap_name(hl_colormap_resolve(opts.cmap, opts.sign))},
    };
    int n_meta = 7;
    if (pic->prob)
        meta[n_meta++] = (hl_viz_meta){"heatlens.probability", pic->prob};
    if (p->layer[0])
        meta[n_meta++] = (hl_viz_meta){"heatlens.layer", p->layer};
    if (hl_viz_export(&view, pic->path, HL_VIZ_FORMAT_AUTO, 0, 0, meta,
                      n_meta, &err) != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }
    status = 0;
out:
    hl_image_free(own_photo);
    hl_viz_norm_free(norm);
    hl_array_free(shown);
    return status;
}

/* --progress-frames: every intermediate estimate as DIR/frame-NNN.png.
 * The progress line's state comes first so cli_progress_update can take
 * the whole struct as its user pointer. */
typedef struct explain_frames {
    cli_progress progress;
    const explain_viz *viz;
    const cli_input *in;
    const hl_method_desc *m;
    const hl_attr_params *p;
    int written, failed;
    double start, first;       /* monotonic seconds: the call, frame 1 */
} explain_frames;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int write_frame(explain_frames *f, const hl_array *attr, int target,
                       const char *caption)
{
    char path[4096];
    if (f->written == 0)
        f->first = now_seconds() - f->start;
    snprintf(path, sizeof path, "%s/frame-%03d.png", f->viz->frames_dir,
             f->written + 1);
    explain_picture pic = {attr, target, caption, path, NULL, 1};
    if (write_map(f->viz, f->in, f->m, f->p, &pic))
        return 1;
    f->written++;
    return 0;
}

static void on_estimate(void *user, const hl_attr_partial *e)
{
    explain_frames *f = user;
    if (f->failed || !f->viz->frames_dir)
        return;
    char caption[96];
    snprintf(caption, sizeof caption, "(%d/%d %s)", e->done, e->total, e->unit);
    f->failed = write_frame(f, e->attr, e->target, caption);
}

int explain_write_picture(const explain_viz *v, const cli_input *in,
                          const hl_method_desc *m, const hl_attr_params *p,
                          const hl_attr_result *res)
{
    char caption[32], prob[32];
    snprintf(caption, sizeof caption, "(%.1f%%)", res->target_prob * 100.0);
    snprintf(prob, sizeof prob, "%.6f", res->target_prob);
    explain_picture pic = {res->attr, res->target, caption, v->out_path, prob, 0};
    return write_map(v, in, m, p, &pic);
}

static double attr_sum(const hl_array *a)
{
    double s = 0;
    int64_t n = hl_shape_numel(&a->shape);
    for (int64_t i = 0; i < n; i++)
        s += a->data[i];
    return s;
}

/* What explain did, as JSON or as text on stdout. */
static void print_outcome(int json, const cli_input *in, const hl_method_desc *m,
                          const cli_method_options *mo,
                          const hl_attr_params *params,
                          const hl_attr_result *res, const char *raw_path,
                          const char *out_path)
{
    char shape[96];
    hl_shape_format(&res->attr->shape, shape, sizeof shape);
    double sum = attr_sum(res->attr);
    if (json) {
        printf("{\"method\": ");
        cli_json_string(stdout, m->name);
        printf(", \"model\": ");
        cli_json_string(stdout, hl_model_name(in->model));
        printf(", \"input\": ");
        cli_json_string(stdout, in->image_path ? in->image_path : in->input_npy);
        printf(", \"target\": %d, \"label\": ", res->target);
        cli_json_string(stdout, cli_input_label(in, res->target));
        printf(", \"probability\": %.6g, \"logit\": %.6g", res->target_prob,
               res->target_logit);
        if (params->layer[0]) {
            printf(", \"layer\": ");
            cli_json_string(stdout, params->layer);
        }
        if (params->has_neuron)
            printf(", \"neuron\": [%d, %d, %d]", params->neuron[0],
                   params->neuron[1], params->neuron[2]);
        cli_json_trust(stdout, in->model, m->name, params, res);
        printf(", \"seconds\": %.6f, \"shape\": [", res->seconds);
        for (int d = 0; d < res->attr->shape.ndim; d++)
            printf("%s%lld", d ? ", " : "", (long long)res->attr->shape.dims[d]);
        printf("], \"sum\": %.6g", isfinite(sum) ? sum : 0.0);
        if (raw_path) {
            printf(", \"raw\": ");
            cli_json_string(stdout, raw_path);
        }
        if (out_path) {
            printf(", \"out\": ");
            cli_json_string(stdout, out_path);
        }
        printf("}\n");
    } else {
        printf("%s on %s with %s\n", m->title,
               in->image_path ? in->image_path : in->input_npy,
               hl_model_name(in->model));
        if (params->layer[0])
            printf("layer:       %s%s\n", params->layer,
                   mo->layer ? "" : " (chosen automatically)");
        if (params->has_neuron)
            printf("neuron:      %d,%d,%d\n", params->neuron[0], params->neuron[1],
                   params->neuron[2]);
        /* Layer and neuron methods without a class still show the
         * model's verdict, labelled as such. */
        printf("%-12s %d %s (p = %.4f)\n",
               method_has_param(m, "target") ? "target:" : "prediction:",
               res->target, cli_input_label(in, res->target), res->target_prob);
        printf("attribution: %s, sum %.6g\n", shape, sum);
        cli_print_delta(m->name, res);
        printf("time:        %.3f s\n", res->seconds);
        if (raw_path)
            printf("wrote        %s\n", raw_path);
        if (out_path)
            printf("wrote        %s\n", out_path);
    }
}

int cmd_explain(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        const char *name = NULL;
        for (int i = 1; i + 1 < argc; i++)
            if (strcmp(argv[i], "--method") == 0)
                name = argv[i + 1];
        explain_help(name);
        return 0;
    }
    cli_input in;
    cli_input_init(&in);
    cli_method_options mo;
    memset(&mo, 0, sizeof mo);
    explain_viz viz;
    memset(&viz, 0, sizeof viz);
    const char *method_name = NULL, *raw_path = NULL;
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
            used = explain_viz_option(&viz, &a);
        if (!used)
            used = cli_method_option(&mo, &a);
        if (used < 0)
            goto out;
        if (used)
            continue;
        if (strcmp(a.name, "method") == 0) {
            if (!(method_name = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "progress-frames") == 0) {
            if (!(viz.frames_dir = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "raw") == 0) {
            if (!(raw_path = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "json") == 0) {
            json = 1;
        } else {
            cli_fail("explain: unknown option '%s'; valid: the input options, "
                     "--method, --target, --layer, --raw, --json, --out, "
                     "--progress-frames, --viz, "
                     "--sign, --outlier-perc, --cmap, --alpha and the method "
                     "options of '%s explain --help'", a.word, CLI_PROG);
            goto out;
        }
    }
    if (r < 0)
        goto out;
    /* Everything that can be checked without the model first. */
    const hl_method_desc *m = cli_method_lookup(method_name);
    if (!m || explain_viz_resolve(&viz) || cli_input_load(&in, 1))
        goto out;
    if (cli_method_request(&mo, m, &in, NULL, &req))
        goto out;
    const hl_attr_params *params = &req.params;

    explain_frames frames = {.viz = &viz, .in = &in, .m = m, .p = params};
    cli_progress_init(&frames.progress, m->name);
    hl_attr_context ctx = {
        .mean = in.pre.mean, .std = in.pre.std, .pixel_scale = in.pre.scale,
        .image01 = in.image01, .progress = cli_progress_update,
        .progress_user = &frames, .cancel = cli_cancel_flag(),
        .threads = in.threads,
        .intermediate = viz.frames_dir ? on_estimate : NULL,
    };
    hl_error err = {0};
    frames.start = now_seconds();
    hl_status st = hl_attribute_request(in.model, &req, in.input, &ctx, &res,
                                        &err);
    cli_progress_done(&frames.progress);
    if (st != HL_OK) {
        cli_fail("%s: %s", m->name, err.msg[0] ? err.msg : hl_status_name(st));
        goto out;
    }
    if (frames.failed)
        goto out;
    /* A method that does not loop gives its result as the one frame. */
    if (viz.frames_dir && frames.written == 0 &&
        write_frame(&frames, res.attr, res.target, "(result)"))
        goto out;
    if (raw_path && hl_npy_write(raw_path, res.attr, &err) != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }
    if (viz.out_path && explain_write_picture(&viz, &in, m, params, &res))
        goto out;

    cli_print_notices(in.model, m->name, params, &res);
    print_outcome(json, &in, m, &mo, params, &res, raw_path, viz.out_path);
    if (viz.frames_dir && !json)
        printf("frames:      %d in %s, the first after %.3f s\n", frames.written,
               viz.frames_dir, frames.first);
    status = 0;
out:
    hl_attr_result_clear(&res);
    hl_attr_request_clear(&req);
    cli_input_clear(&in);
    return status;
}
