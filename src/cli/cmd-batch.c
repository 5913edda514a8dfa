/* heatlens-cli batch: many images, one loaded model. This half parses the
 * options, loads the model, prepares the methods, targets, formats and the
 * output folder (resume included) and reports; cli-batch-run.c runs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-batch.h"
#include "cli-commands.h"
#include "cli-method.h"

static void batch_help(void)
{
    printf("Usage: %s batch (--images DIR | --list FILE.txt) --methods A,B,...\n"
           "                  [--targets auto|top-K|FILE.csv] [method options]\n"
           "                  --out DIR [--formats npy,png,svg,pdf] [--shard I/N]\n"
           "                  [--resume] [--threads N] [--jobs N] [overlay options]\n"
           "\n"
           "Explain every image of a folder or a list with one or more methods,\n"
           "loading the model once. Writes DIR/<image stem>/<method>.<format> and\n"
           "DIR/manifest.jsonl, one line per image, method and target (input and\n"
           "model SHA-256, every parameter, target, label, probability, delta,\n"
           "seconds, output files, error), plus DIR/batch.json (what was asked).\n"
           "A bad image gets its error line and the batch goes on. Ctrl-C (or\n"
           "SIGTERM) stops after the current image; a second Ctrl-C stops at once.\n"
           "Either way the manifest names only complete files: --resume goes on.\n"
           "\n"
           "Options:\n"
           "  --images DIR           the .png, .jpg, .jpeg and .bmp files of DIR\n"
           "  --list FILE.txt        one image path per line ('#' comments)\n"
           "  --methods A,B,...      methods (%s batch --help lists them)\n"
           "  --targets SPEC         auto (top-1 class, default), top-K (the K most\n"
           "                         probable classes), or FILE.csv with lines\n"
           "                         'image,target' (file name, stem or path; class\n"
           "                         index or label; several lines per image allowed)\n"
           "  --out DIR              output folder (created)\n"
           "  --formats LIST         npy, png, svg, pdf (default npy,png)\n"
           "  --shard I/N            only images I, I+N, I+2N, ... of the sorted list\n"
           "                         (0 <= I < N); merge the shards with batch-merge\n"
           "  --resume               skip entries already in DIR/manifest.jsonl with the\n"
           "                         same image SHA-256, model and parameters\n"
           "  --jobs N               images run at once, the threads split between\n"
           "                         them (default 1)\n"
           "  --evaluate             add each entry's trust metrics to its manifest\n"
           "                         line, as '%s evaluate' computes them\n"
           "  --metrics LIST         the metrics of --evaluate (default all): %s\n"
           "  --layer NAME           layer of the layer methods (default: as explain)\n"
           "  method options         as in '%s explain --help'; each applies to the\n"
           "                         methods that use it\n"
           "  --viz, --sign, --cmap, --outlier-perc, --alpha\n"
           "                         the pictures' overlay, as in explain\n"
           "  --help                 this text\n"
           "\nModel and preprocessing options:\n", CLI_PROG, CLI_PROG, CLI_PROG,
           HL_METRIC_NAMES, CLI_PROG);
    cli_input_print_help(stdout, 0);
    printf("\nMethods: %s\n"
           "\nExit status: 0 all done, 1 some entries failed (see the manifest) or\n"
           "bad options, 130 stopped by Ctrl-C or SIGTERM.\n"
           "\nExample:\n"
           "  %s batch --images photos/ --methods saliency,layer_grad_cam \\\n"
           "      --targets top-3 --out explained/ --jobs 2\n",
           hl_method_names(), CLI_PROG);
}

/* ------------------------------------------------------------ signals */

static volatile int stop_requested;
static volatile int cancel_requested;

static void on_stop_signal(int sig)
{
    static const char first[] = "\nheatlens-cli: batch: stopping after the "
                                "current image (Ctrl-C again: stop now)\n";
    if (!stop_requested) {
        stop_requested = 1;
        if (write(STDERR_FILENO, first, sizeof first - 1) < 0)
            stop_requested = 1;
        return;
    }
    cancel_requested = 1;
    signal(sig, SIG_DFL);  /* a third time ends the process */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ------------------------------------------------------------ options */

typedef struct batch_options {
    const char *images, *list, *methods, *out, *formats, *shard;
    int resume, jobs, metrics_given;
    cli_method_options mo;
} batch_options;

static int batch_option(batch_options *o, batch_run *run, cli_args *a)
{
    const char **slot = NULL;
    if (strcmp(a->name, "images") == 0)
        slot = &o->images;
    else if (strcmp(a->name, "list") == 0)
        slot = &o->list;
    else if (strcmp(a->name, "methods") == 0 || strcmp(a->name, "method") == 0)
        slot = &o->methods;
    else if (strcmp(a->name, "out") == 0)
        slot = &o->out;
    else if (strcmp(a->name, "formats") == 0)
        slot = &o->formats;
    else if (strcmp(a->name, "shard") == 0)
        slot = &o->shard;
    else if (strcmp(a->name, "targets") == 0)
        slot = &run->targets;
    if (slot)
        return (*slot = cli_args_value(a)) ? 1 : -1;
    if (strcmp(a->name, "resume") == 0) {
        o->resume = 1;
        return 1;
    }
    if (strcmp(a->name, "evaluate") == 0) {
        run->evaluate = 1;
        return 1;
    }
    if (strcmp(a->name, "metrics") == 0) {
        const char *v = cli_args_value(a);
        hl_error err = {0};
        if (!v)
            return -1;
        if (hl_metrics_parse(v, &run->eval.metrics, &err) != HL_OK) {
            cli_fail("%s", err.msg);
            return -1;
        }
        o->metrics_given = 1;
        return 1;
    }
    if (strcmp(a->name, "jobs") == 0) {
        const char *v = cli_args_value(a);
        return v && cli_parse_int("jobs", v, 1, 64, &o->jobs) ? 1 : -1;
    }
    if (strcmp(a->name, "target") == 0) {
        cli_fail("batch takes --targets auto|top-K|FILE.csv (not --target)");
        return -1;
    }
    int used = cli_input_option(&run->in, a);
    if (!used)
        used = explain_viz_option(&run->viz, a);
    if (!used)
        used = cli_method_option(&o->mo, a);
    if (!used) {
        cli_fail("batch: unknown option '%s'; valid: --images, --list, --methods, "
                 "--targets, --out, --formats, --shard, --resume, --jobs, --evaluate, --metrics, the "
                 "model options, --layer, the method options of '%s explain "
                 "--help' and --viz, --sign, --cmap, --outlier-perc, --alpha",
                 a->word, CLI_PROG);
        return -1;
    }
    return used;
}

static int parse_methods(batch_run *run, const char *text)
{
    if (!text)
        return cli_fail("give the methods with --methods A,B,...; valid: %s",
                        hl_method_names());
    char **names = g_strsplit_set(text, ", ", -1);
    int status = 0;
    for (int i = 0; names[i] && !status; i++) {
        if (!names[i][0])
            continue;
        const hl_method_desc *m = cli_method_lookup(names[i]);
        if (!m)
            status = 1;
        for (int j = 0; m && j < run->n_methods; j++)
            if (run->methods[j].desc == m)
                status = cli_fail("--methods names %s twice", m->name);
        if (!status && run->n_methods == BATCH_MAX_METHODS)
            status = cli_fail("at most %d methods per batch", BATCH_MAX_METHODS);
        if (!status)
            run->methods[run->n_methods++].desc = m;
    }
    g_strfreev(names);
    if (!status && run->n_methods == 0)
        status = cli_fail("--methods is empty; valid: %s", hl_method_names());
    return status;
}

/* Each method gets the options it uses; an option no method uses is an
 * error (as explain's for its one method). */
static int method_params(batch_run *run, const cli_method_options *mo)
{
    for (int k = 0; k < mo->n; k++) {
        int used = 0;
        for (int i = 0; i < run->n_methods; i++)
            used |= cli_method_uses(run->methods[i].desc, mo->items[k].desc->name);
        if (!used)
            return cli_fail("option --%s applies to none of the methods given",
                            mo->items[k].desc->name);
    }
    int any_layer = 0;
    for (int i = 0; i < run->n_methods; i++)
        any_layer |= run->methods[i].desc->needs_layer;
    if (mo->layer && !any_layer)
        return cli_fail("--layer applies to none of the methods given (only "
                        "layer and neuron methods take one)");
    for (int i = 0; i < run->n_methods; i++) {
        batch_method *m = &run->methods[i];
        cli_method_options these;
        memset(&these, 0, sizeof these);
        for (int k = 0; k < mo->n; k++)
            if (cli_method_uses(m->desc, mo->items[k].desc->name))
                these.items[these.n++] = mo->items[k];
        these.layer = m->desc->needs_layer ? mo->layer : NULL;
        if (cli_method_request(&these, m->desc, &run->in, NULL, &m->req))
            return 1;
        m->uses_target = cli_method_uses(m->desc, "target");
        GPtrArray *pairs = g_ptr_array_new();
        for (int k = 0; m->desc->params && m->desc->params[k]; k++) {
            const hl_param_desc *d = hl_param_find(m->desc->params[k]);
            if (!d || strcmp(d->name, "target") == 0)
                continue;
            char value[1024];
            hl_param_format(&m->req.params, d, value, sizeof value);
            g_ptr_array_add(pairs, g_strdup_printf("%s=%s", d->name, value));
        }
        if (m->desc->needs_layer && !cli_method_uses(m->desc, "layer"))
            g_ptr_array_add(pairs, g_strdup_printf("layer=%s", m->req.params.layer));
        g_ptr_array_add(pairs, NULL);
        m->param_pairs = (char **)g_ptr_array_free(pairs, FALSE);
    }
    return 0;
}

static int parse_formats(batch_run *run, const char *text)
{
    static const char *const names[BATCH_N_FORMATS] = {"npy", "png", "svg", "pdf"};
    char **words = g_strsplit_set(text ? text : "npy,png", ", ", -1);
    int status = 0;
    for (int i = 0; words[i] && !status; i++) {
        if (!words[i][0])
            continue;
        int f = 0;
        while (f < BATCH_N_FORMATS && g_ascii_strcasecmp(words[i], names[f]) != 0)
            f++;
        if (f == BATCH_N_FORMATS)
            status = cli_fail("--formats: unknown format '%s'; valid: npy, png, "
                              "svg, pdf", words[i]);
        else
            run->formats[f] = 1;
    }
    g_strfreev(words);
    size_t len = 0;
    run->formats_text[0] = '\0';
    for (int f = 0; f < BATCH_N_FORMATS; f++)
        if (run->formats[f])
            len += (size_t)snprintf(run->formats_text + len,
                                    sizeof run->formats_text - len, "%s%s",
                                    len ? "," : "", names[f]);
    if (!status && len == 0)
        status = cli_fail("--formats is empty; valid: npy, png, svg, pdf");
    if (status)
        return 1;
    /* Overlay options are checked as explain checks them for one picture. */
    int pictures = run->formats[BATCH_FMT_PNG] || run->formats[BATCH_FMT_SVG] ||
                   run->formats[BATCH_FMT_PDF];
    explain_viz *v = &run->viz;
    if (!pictures) {
        if (cli_viz_given(&v->given))
            return cli_fail("--viz, --sign, --cmap, --outlier-perc and --alpha "
                            "need png, svg or pdf in --formats");
        return 0;
    }
    v->out_path = "picture.png";
    if (explain_viz_resolve(v))
        return 1;
    v->out_path = NULL;
    /* sign and cmap not given: each method's (hl_viz_method_defaults) */
    snprintf(run->viz_text, sizeof run->viz_text,
             "viz=%s sign=%s cmap=%s outlier-perc=%g alpha=%g",
             hl_viz_mode_name(v->opts.mode),
             v->given.sign ? hl_viz_sign_name(v->opts.sign) : "method",
             v->given.cmap ? hl_colormap_name(v->opts.cmap) : "method",
             v->opts.outlier_perc, v->opts.alpha_overlay);
    return 0;
}

/* The class of a target text, as explain's --target reads it. */
static int resolve_target(batch_run *run, const char *text, int *index)
{
    for (int i = 0; i < run->n_methods; i++) {
        if (!run->methods[i].uses_target)
            continue;
        cli_method_options o;
        memset(&o, 0, sizeof o);
        o.target = text;
        hl_attr_request r;
        if (cli_method_request(&o, run->methods[i].desc, &run->in, NULL, &r))
            return 1;
        *index = r.params.target;
        hl_attr_request_clear(&r);
        return 0;
    }
    *index = -1;
    return 0;
}

static int parse_targets(batch_run *run)
{
    const char *t = run->targets ? run->targets : "auto";
    run->targets = t;
    if (strcmp(t, "auto") == 0)
        return 0;
    if (strncmp(t, "top-", 4) == 0)
        return cli_parse_int("targets", t + 4, 1, 1000, &run->top_k) ? 0 : 1;
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(t, &text, NULL, &gerr)) {
        cli_fail("--targets: '%s' is not auto, top-K or a readable CSV file (%s)",
                 t, gerr->message);
        g_error_free(gerr);
        return 1;
    }
    run->csv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)g_ptr_array_unref);
    run->csv_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    int status = 0;
    for (int i = 0; lines[i] && !status; i++) {
        char *line = g_strstrip(lines[i]);
        if (!line[0] || line[0] == '#' ||
            (i == 0 && g_ascii_strncasecmp(line, "image,", 6) == 0))
            continue;
        char *comma = strchr(line, ',');
        if (!comma) {
            status = cli_fail("%s:%d: expected 'image,target'", t, i + 1);
            break;
        }
        *comma = '\0';
        char *image = g_strstrip(line), *target = g_strstrip(comma + 1);
        int index;
        if (!image[0] || !target[0]) {
            status = cli_fail("%s:%d: expected 'image,target'", t, i + 1);
            break;
        }
        if (resolve_target(run, target, &index)) {
            status = 1;
            break;
        }
        g_hash_table_replace(run->csv_index, g_strdup(target),
                             GINT_TO_POINTER(index + 1));
        GPtrArray *rows = g_hash_table_lookup(run->csv, image);
        if (!rows) {
            rows = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(run->csv, g_strdup(image), rows);
        }
        int seen = 0;
        for (guint k = 0; k < rows->len; k++)
            seen |= strcmp(g_ptr_array_index(rows, k), target) == 0;
        if (!seen)
            g_ptr_array_add(rows, g_strdup(target));
    }
    g_strfreev(lines);
    return status;
}

/* ------------------------------------------------------------ resume */

typedef struct planned {
    int image, method;
    char *request;
} planned;

static void planned_free(gpointer p)
{
    g_free(((planned *)p)->request);
    g_free(p);
}

/* Keep the manifest's finished entries this run would redo identically;
 * drop failed ones (tried again), stale ones (the image, model or
 * parameters changed) and a torn last line. */
static int prepare_resume(batch_run *run, const char *path)
{
    cli_manifest m;
    if (cli_manifest_read(path, &m))
        return 1;
    GHashTable *plan = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             planned_free);
    for (int i = 0; i < run->images.n; i++) {
        char **requests = batch_image_targets(run, &run->images.items[i]);
        for (int k = 0; k < run->n_methods; k++)
            for (int t = 0; requests[t]; t++) {
                const batch_method *bm = &run->methods[k];
                if (!bm->uses_target && t > 0)
                    break;
                cli_manifest_line l;
                batch_entry_line(run, &run->images.items[i], NULL, bm,
                                 requests[t], &l);
                planned *p = g_new0(planned, 1);
                p->image = i;
                p->method = k;
                p->request = g_strdup(l.target_request);
                g_hash_table_replace(plan, cli_manifest_identity(&l), p);
            }
        g_strfreev(requests);
    }
    run->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **kept = g_new0(char *, m.n + 1);
    int n_kept = 0;
    for (int i = 0; i < m.n; i++) {
        cli_manifest_line *line = &m.lines[i];
        if (line->error)
            continue;
        char *identity = cli_manifest_identity(line);
        planned *p = g_hash_table_lookup(plan, identity);
        g_free(identity);
        if (!p) {
            kept[n_kept++] = line->text;
            continue;
        }
        const cli_image_item *item = &run->images.items[p->image];
        if (!run->sha256[p->image]) {
            char hex[65];
            if (cli_sha256_file(item->path, hex) != 0)
                continue;
            run->sha256[p->image] = g_strdup(hex);
        }
        cli_manifest_line want;
        batch_entry_line(run, item, run->sha256[p->image],
                         &run->methods[p->method], p->request, &want);
        char *key = cli_manifest_key(&want), *have = cli_manifest_key(line);
        if (strcmp(key, have) == 0 && !g_hash_table_contains(run->done, key)) {
            kept[n_kept++] = line->text;
            g_hash_table_add(run->done, key);
        } else {
            g_free(key);
        }
        g_free(have);
    }
    int status = 0;
    if (n_kept != m.n || m.torn)
        status = cli_manifest_rewrite(path, kept, n_kept);
    if (m.n || m.torn)
        printf("resume: %d of %d manifest lines kept%s\n", n_kept, m.n,
               m.torn ? " (a torn last line dropped)" : "");
    g_free(kept);
    g_hash_table_destroy(plan);
    cli_manifest_clear(&m);
    return status;
}

/* ------------------------------------------------------------ setup */

static int write_plan(batch_run *run, const char *path, int shard, int n_shards)
{
    cli_batch_plan p;
    memset(&p, 0, sizeof p);
    p.model = run->in.resolved_model;
    p.model_sha256 = run->model_sha256;
    p.methods = g_new0(char *, run->n_methods + 1);
    for (int i = 0; i < run->n_methods; i++)
        p.methods[i] = (char *)run->methods[i].desc->name;
    p.targets = (char *)run->targets;
    p.formats = run->formats_text;
    p.viz = run->viz_text;
    p.preprocess = g_new0(char *, run->in.n_overrides + 1);
    for (int i = 0; i < run->in.n_overrides; i++)
        p.preprocess[i] = g_strdup_printf("%s=%s", run->in.overrides[i].key,
                                          run->in.overrides[i].value);
    p.labels = (char *)run->in.labels_path;
    p.shard = shard;
    p.n_shards = n_shards;
    p.total = run->images.total;
    p.n_images = run->images.n;
    p.images = g_new0(cli_plan_image, run->images.n + 1);
    for (int i = 0; i < run->images.n; i++) {
        p.images[i].index = run->images.items[i].index;
        p.images[i].image = run->images.items[i].path;
        p.images[i].stem = run->images.items[i].stem;
        p.images[i].targets = batch_image_targets(run, &run->images.items[i]);
    }
    int status = cli_batch_plan_write(path, &p);
    for (int i = 0; i < run->images.n; i++)
        g_strfreev(p.images[i].targets);
    g_free(p.images);
    g_strfreev(p.preprocess);
    g_free(p.methods);
    return status;
}

static int open_output(batch_run *run, int resume, int shard, int n_shards)
{
    if (g_mkdir_with_parents(run->out_dir, 0755) != 0)
        return cli_fail("--out: cannot create %s: %s", run->out_dir,
                        strerror(errno));
    char *manifest = g_build_filename(run->out_dir, "manifest.jsonl", NULL);
    char *plan = g_build_filename(run->out_dir, "batch.json", NULL);
    int status = 0;
    GStatBuf st;
    if (!resume && g_stat(manifest, &st) == 0 && st.st_size > 0)
        status = cli_fail("%s exists; add --resume to go on with it, or give "
                          "another --out", manifest);
    if (!status && resume)
        status = prepare_resume(run, manifest);
    if (!status)
        status = write_plan(run, plan, shard, n_shards);
    if (!status && !(run->manifest = cli_manifest_open(manifest)))
        status = 1;
    g_free(manifest);
    g_free(plan);
    return status;
}

static int parse_shard(const char *text, int *shard, int *n_shards)
{
    *shard = 0;
    *n_shards = 1;
    if (!text)
        return 0;
    char extra;
    if (sscanf(text, "%d/%d%c", shard, n_shards, &extra) != 2 ||
        *n_shards < 1 || *shard < 0 || *shard >= *n_shards)
        return cli_fail("--shard: '%s' is not I/N with 0 <= I < N (e.g. 0/4)",
                        text);
    return 0;
}

static void run_clear(batch_run *run)
{
    for (int i = 0; i < run->n_methods; i++) {
        g_strfreev(run->methods[i].param_pairs);
        hl_attr_request_clear(&run->methods[i].req);
    }
    for (int i = 0; run->sha256 && i < run->images.n; i++)
        g_free(run->sha256[i]);
    g_free(run->sha256);
    cli_image_list_clear(&run->images);
    if (run->csv)
        g_hash_table_destroy(run->csv);
    if (run->csv_index)
        g_hash_table_destroy(run->csv_index);
    if (run->done)
        g_hash_table_destroy(run->done);
    cli_manifest_close(run->manifest);
    cli_input_clear(&run->in);
}

static int setup(batch_run *run, batch_options *o, int *shard, int *n_shards)
{
    if (run->in.image_path || run->in.input_npy)
        return cli_fail("batch takes --images DIR or --list FILE.txt, not "
                        "--image or --input-npy");
    if (!o->images == !o->list)
        return cli_fail("give the images with --images DIR or --list FILE.txt "
                        "(one of them)");
    if (!o->out)
        return cli_fail("give the output folder with --out DIR");
    run->out_dir = o->out;
    run->jobs = o->jobs > 0 ? o->jobs : 1;
    if (parse_methods(run, o->methods) || parse_formats(run, o->formats) ||
        parse_shard(o->shard, shard, n_shards))
        return 1;
    if (o->images ? cli_image_list_from_dir(o->images, &run->images)
                  : cli_image_list_from_file(o->list, &run->images))
        return 1;
    if (o->metrics_given && !run->evaluate)
        return cli_fail("batch: --metrics chooses the metrics of --evaluate; add --evaluate");
    for (int i = 0; run->evaluate && i < HL_METRIC_COUNT; i++)
        if (run->eval.metrics & (1 << i)) {
            size_t len = strlen(run->eval_text);
            snprintf(run->eval_text + len, sizeof run->eval_text - len, "%s%s",
                     len ? "," : "", hl_metric_name(1 << i));
        }
    cli_image_list_shard(&run->images, *shard, *n_shards);
    run->sha256 = g_new0(char *, run->images.n + 1);
    if (cli_input_load(&run->in, 0) || method_params(run, &o->mo) ||
        parse_targets(run))
        return 1;
    if (cli_sha256_file(run->in.resolved_model, run->model_sha256) != 0)
        return cli_fail("%s: cannot read: %s", run->in.resolved_model,
                        strerror(errno));
    int total = run->in.threads > 0 ? run->in.threads : (int)g_get_num_processors();
    if (run->jobs > run->images.n && run->images.n > 0)
        run->jobs = run->images.n;
    run->threads_per_job = total / run->jobs > 0 ? total / run->jobs : 1;
    return open_output(run, o->resume, *shard, *n_shards);
}

int cmd_batch(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        batch_help();
        return 0;
    }
    batch_run *run = g_new0(batch_run, 1);
    batch_options o;
    memset(&o, 0, sizeof o);
    cli_input_init(&run->in);
    hl_evaluation_opts_init(&run->eval);
    int status = 1, shard = 0, n_shards = 1;
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0)
        if (batch_option(&o, run, &a) < 0)
            break;
    if (r != 0 || setup(run, &o, &shard, &n_shards))
        goto out;

    /* Every image of this shard counts its entries, skipped ones included;
     * the workers take skipped ones off as they find them. */
    for (int i = 0; i < run->images.n; i++) {
        char **t = batch_image_targets(run, &run->images.items[i]);
        int n_t = (int)g_strv_length(t);
        for (int k = 0; k < run->n_methods; k++)
            run->entries_total += run->methods[k].uses_target ? n_t : 1;
        g_strfreev(t);
    }
    install_signals();
    run->stop = &stop_requested;
    run->cancel = &cancel_requested;
    batch_run_images(run);

    double seconds = cli_now() - run->start;
    printf("batch: %d of %d images, %d entries done, %d failed, %d skipped, "
           "%.1f s (%.2f images/s)\n", run->images_finished, run->images.n,
           run->entries_finished - run->entries_failed, run->entries_failed,
           run->entries_skipped, seconds,
           seconds > 0 ? run->images_finished / seconds : 0.0);
    if (stop_requested) {
        cli_fail("batch: stopped after %d of %d images; the output is "
                 "consistent, add --resume to finish", run->images_finished,
                 run->images.n);
        status = 130;
    } else if (run->entries_failed) {
        cli_fail("batch: %d %s failed; the errors are in %s/manifest.jsonl",
                 run->entries_failed, run->entries_failed == 1 ? "entry" : "entries",
                 run->out_dir);
    } else {
        status = 0;
    }
out:
    run_clear(run);
    g_free(run);
    return status;
}
