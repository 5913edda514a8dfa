/* heatlens-cli batch: running the images (workers, outputs, manifest lines,
 * progress). The options and the setup are in cmd-batch.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-batch.h"
#include "npy.h"

static const char *const format_ext[BATCH_N_FORMATS] = {"npy", "png", "svg", "pdf"};

char **batch_image_targets(const batch_run *run, const cli_image_item *item)
{
    GPtrArray *t = g_ptr_array_new();
    if (run->top_k > 0) {
        for (int r = 1; r <= run->top_k; r++)
            g_ptr_array_add(t, g_strdup_printf("top:%d", r));
    } else if (run->csv) {
        char *base = g_path_get_basename(item->path);
        char *stem = cli_path_stem(item->path);
        GPtrArray *rows = g_hash_table_lookup(run->csv, item->path);
        if (!rows)
            rows = g_hash_table_lookup(run->csv, base);
        if (!rows)
            rows = g_hash_table_lookup(run->csv, stem);
        for (guint i = 0; rows && i < rows->len; i++)
            g_ptr_array_add(t, g_strdup(g_ptr_array_index(rows, i)));
        if (t->len == 0)
            g_ptr_array_add(t, g_strdup("none"));
        g_free(base);
        g_free(stem);
    } else {
        g_ptr_array_add(t, g_strdup("auto"));
    }
    g_ptr_array_add(t, NULL);
    return (char **)g_ptr_array_free(t, FALSE);
}

void batch_entry_line(const batch_run *run, const cli_image_item *item,
                      const char *sha256, const batch_method *m,
                      const char *target_request, cli_manifest_line *l)
{
    memset(l, 0, sizeof *l);
    l->image = (char *)item->path;
    l->stem = (char *)item->stem;
    l->image_sha256 = (char *)sha256;
    l->model = (char *)run->in.resolved_model;
    l->model_sha256 = (char *)run->model_sha256;
    l->method = (char *)m->desc->name;
    l->params = m->param_pairs;
    l->targets = (char *)run->targets;
    l->target_request = (char *)(m->uses_target ? target_request : "-");
    l->formats = (char *)run->formats_text;
    l->viz = (char *)run->viz_text;
    l->probability = -1;
    l->evaluate = run->evaluate ? (char *)run->eval_text : NULL;
    cli_manifest_line_no_metrics(l);
}

/* ------------------------------------------------------------ progress */

/* The bar on a terminal; `partial` is the fraction of the running entry
 * done (with one job; 0 otherwise). Called under run->lock. */
static void progress_bar(batch_run *run, double partial)
{
    double elapsed = cli_now() - run->start;
    double done = run->entries_finished + partial;
    int total = run->entries_total;
    double rate = elapsed > 0 ? run->images_finished / elapsed : 0;
    double eta = done > 0 ? elapsed / done * (total - done) : 0;
    enum { WIDTH = 28 };
    char bar[WIDTH + 1];
    int filled = total > 0 ? (int)(done / total * WIDTH) : WIDTH;
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[WIDTH] = '\0';
    int eta_s = (int)(eta + 0.5);
    char line[256];
    int len = snprintf(line, sizeof line,
                       "[%s] %d/%d images  %.2f img/s  ETA %d:%02d:%02d  %d failed",
                       bar, run->images_finished, run->images.n, rate,
                       eta_s / 3600, eta_s / 60 % 60, eta_s % 60,
                       run->entries_failed);
    fprintf(stderr, "\r%s%*s", line, run->last_len > len ? run->last_len - len : 0, "");
    run->last_len = len;
    fflush(stderr);
}

/* After each image: the bar, or one plain line when not on a terminal. */
static void progress_show(batch_run *run, const cli_image_item *item, int ok,
                          int failed, int skipped, double seconds)
{
    if (run->tty) {
        progress_bar(run, 0);
        return;
    }
    printf("[%d/%d] %s: %d done, %d failed, %d skipped, %.2f s\n",
           run->images_finished, run->images.n, item->path, ok, failed,
           skipped, seconds);
    fflush(stdout);
}

/* hl_attr_context.progress of a method: the bar moves within long
 * entries (IG, occlusion) when one job runs; redrawn every 1/200. */
static void entry_progress(void *user, double fraction)
{
    batch_run *run = user;
    int step = (int)(fraction * 200);
    if (!run->tty || run->jobs > 1 || step == run->last_step)
        return;
    g_mutex_lock(&run->lock);
    run->last_step = step;
    progress_bar(run, fraction > 1 ? 1 : fraction > 0 ? fraction : 0);
    g_mutex_unlock(&run->lock);
}

/* ------------------------------------------------------------ one entry */

typedef struct batch_entry {
    const batch_method *m;
    char *request;
    cli_manifest_line line;   /* template (borrowed strings) */
    int skip;
} batch_entry;

static int write_line(batch_run *run, cli_manifest_line *l)
{
    char *text = cli_manifest_format(l);
    int status = cli_manifest_append(run->manifest, text);
    g_free(text);
    return status;
}

static void fail_entry(batch_run *run, batch_entry *e, const char *message)
{
    e->line.error = (char *)message;
    e->line.outputs = (char *[]){NULL};
    write_line(run, &e->line);
}

/* Write the result's files (fsynced) and return their names relative to the
 * batch folder; NULL with the message in cli_last_error() on failure. */
static char **write_outputs(batch_run *run, const cli_input *in,
                            const batch_method *m, const hl_attr_params *p,
                            const hl_attr_result *res, const char *stem,
                            const char *name)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    char *dir = g_build_filename(run->out_dir, stem, NULL);
    int bad = g_mkdir_with_parents(dir, 0755) != 0;
    if (bad)
        cli_fail("%s: cannot create: %s", dir, strerror(errno));
    for (int f = 0; !bad && f < BATCH_N_FORMATS; f++) {
        if (!run->formats[f])
            continue;
        char *file = g_strdup_printf("%s.%s", name, format_ext[f]);
        char *path = g_build_filename(dir, file, NULL);
        if (f == BATCH_FMT_NPY) {
            hl_error err = {0};
            if (hl_npy_write(path, res->attr, &err) != HL_OK)
                bad = cli_fail("%s", err.msg);
        } else {
            explain_viz v = run->viz;
            v.out_path = path;
            bad = explain_write_picture(&v, in, m->desc, p, res);
        }
        if (!bad && cli_fsync_path(path) != 0)
            bad = cli_fail("%s: cannot sync: %s", path, strerror(errno));
        g_ptr_array_add(names, g_build_filename(stem, file, NULL));
        g_free(file);
        g_free(path);
    }
    if (!bad)
        cli_fsync_path(dir);
    g_free(dir);
    if (bad) {
        g_ptr_array_free(names, TRUE);
        return NULL;
    }
    g_ptr_array_add(names, NULL);
    g_ptr_array_set_free_func(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

/* batch --evaluate: the entry's metrics (the library's evaluation, as
 * `evaluate` computes them) into its line. HL_ERR_CANCELLED when the run
 * was cancelled; a failed evaluation is the entry's error (line.error, to
 * be g_free'd). */
static hl_status evaluate_entry(batch_run *run, const cli_input *in, batch_entry *e,
                                const hl_attr_params *p, const hl_attr_result *res,
                                const hl_attr_context *ctx)
{
    hl_attr_context quiet = *ctx;
    quiet.progress = NULL;
    hl_evaluation ev;
    hl_error err = {0};
    hl_status st = hl_evaluate(in->model, in->input, e->m->desc->name, p, res, &quiet,
                               &run->eval, NULL, NULL, &ev, &err);
    cli_manifest_line *l = &e->line;
    if (st == HL_ERR_CANCELLED || (st != HL_OK && *run->cancel)) {
        hl_evaluation_clear(&ev);
        return HL_ERR_CANCELLED;
    }
    if (st != HL_OK) {
        l->error = g_strdup_printf("%s: %s: %s", in->image_path, e->m->desc->name, err.msg);
    } else {
        l->infidelity = ev.infidelity;
        l->sensitivity = ev.sensitivity;
        l->deletion_auc = ev.curves[0].n ? ev.curves[0].auc : NAN;
        l->insertion_auc = ev.curves[1].n ? ev.curves[1].auc : NAN;
        if (ev.random.n) {
            l->randomization_spearman = ev.random.spearman[ev.random.n - 1];
            l->randomization_flagged = ev.random.flagged;
        }
    }
    hl_evaluation_clear(&ev);
    return HL_OK;
}

/* Run one entry; 0 when its line is written (done or failed), -1 when the
 * run was cancelled (no line: --resume redoes it). */
static int run_entry(batch_run *run, const cli_input *in, batch_entry *e,
                     int target)
{
    /* The prepared request with this entry's target; its files are
     * shared, read only, by every entry and job. */
    hl_attr_request r = e->m->req;
    r.params.target = target;
    const hl_attr_params *p = &r.params;
    hl_attr_context ctx = {
        .mean = in->pre.mean, .std = in->pre.std, .pixel_scale = in->pre.scale,
        .image01 = in->image01, .cancel = run->cancel,
        .threads = run->threads_per_job, .progress = entry_progress,
        .progress_user = run,
    };
    hl_attr_result res;
    memset(&res, 0, sizeof res);
    hl_error err = {0};
    hl_status st = hl_attribute_request(in->model, &r, in->input, &ctx, &res,
                                        &err);
    if (st == HL_ERR_CANCELLED || (st != HL_OK && *run->cancel)) {
        hl_attr_result_clear(&res);
        return -1;
    }
    if (st != HL_OK) {
        cli_fail("%s: %s: %s", in->image_path, e->m->desc->name,
                 err.msg[0] ? err.msg : hl_status_name(st));
        fail_entry(run, e, cli_last_error());
        return 0;
    }
    if (run->evaluate) {
        st = evaluate_entry(run, in, e, p, &res, &ctx);
        if (st != HL_OK) {
            hl_attr_result_clear(&res);
            return -1;
        }
        if (e->line.error) {
            fail_entry(run, e, e->line.error);
            g_free(e->line.error);
            e->line.error = NULL;
            hl_attr_result_clear(&res);
            return 0;
        }
    }
    char *name = strcmp(e->request, "auto") == 0 || !e->m->uses_target
                     ? g_strdup(e->m->desc->name)
                     : g_strdup_printf("%s-%d", e->m->desc->name, res.target);
    char **outputs = write_outputs(run, in, e->m, p, &res, e->line.stem, name);
    g_free(name);
    if (!outputs) {
        fail_entry(run, e, cli_last_error());
    } else {
        cli_manifest_line *l = &e->line;
        l->has_target = 1;
        l->target = res.target;
        l->label = (char *)cli_input_label(in, res.target);
        l->probability = res.target_prob;
        l->has_delta = res.has_delta;
        l->delta = res.delta;
        l->seconds = res.seconds;
        l->outputs = outputs;
        write_line(run, l);
        l->outputs = NULL;
        g_strfreev(outputs);
    }
    hl_attr_result_clear(&res);
    return 0;
}

/* The classes of the top-K requests, best first (ties: lower index). */
static int rank_classes(batch_run *run, const cli_input *in, int *ranked)
{
    hl_error err = {0};
    hl_run *r = hl_run_new(in->model, run->threads_per_job);
    if (!r)
        return cli_fail("%s: out of memory for the engine run", in->image_path);
    if (hl_run_forward(r, in->input->data, 1, &err) != HL_OK) {
        hl_run_free(r);
        return cli_fail("%s: %s", in->image_path, err.msg);
    }
    hl_shape shape;
    const float *out = hl_run_value(r, hl_model_output_value(in->model), &shape);
    int n = out ? (int)hl_shape_numel(&shape) : 0;
    int k = run->top_k < n ? run->top_k : n;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int c = 0; c < n; c++) {
            int taken = 0;
            for (int q = 0; q < j; q++)
                taken |= ranked[q] == c;
            if (!taken && (best < 0 || out[c] > out[best]))
                best = c;
        }
        ranked[j] = best;
    }
    for (int j = k; j < run->top_k; j++)
        ranked[j] = -1;
    hl_run_free(r);
    return 0;
}

/* The class of a target request; -1 = auto; -2 = not available. */
static int request_class(const batch_run *run, const char *request,
                         const int *ranked)
{
    if (strcmp(request, "auto") == 0 || strcmp(request, "-") == 0)
        return -1;
    if (strncmp(request, "top:", 4) == 0)
        return ranked ? ranked[atoi(request + 4) - 1] : -2;
    gpointer v = run->csv_index ? g_hash_table_lookup(run->csv_index, request) : NULL;
    return v ? GPOINTER_TO_INT(v) - 1 : -2;
}

/* ------------------------------------------------------------ one image */

static int plan_entries(batch_run *run, const cli_image_item *item,
                        const char *sha, batch_entry *entries, int max)
{
    char **requests = batch_image_targets(run, item);
    int n = 0;
    for (int i = 0; i < run->n_methods; i++) {
        const batch_method *m = &run->methods[i];
        for (int t = 0; requests[t] && n < max; t++) {
            if (!m->uses_target && t > 0)
                break;
            batch_entry *e = &entries[n++];
            e->m = m;
            e->request = g_strdup(m->uses_target ? requests[t] : "-");
            batch_entry_line(run, item, sha, m, e->request, &e->line);
            e->line.target_request = e->request;
            char *key = cli_manifest_key(&e->line);
            e->skip = run->done && g_hash_table_contains(run->done, key);
            g_free(key);
        }
    }
    g_strfreev(requests);
    return n;
}

/* Returns the number of entries left undone by a cancel (0 normally). */
static int batch_image(batch_run *run, int index, int *ok, int *failed,
                       int *skipped)
{
    const cli_image_item *item = &run->images.items[index];
    char **requests = batch_image_targets(run, item);
    int max = run->n_methods * (int)g_strv_length(requests);
    g_strfreev(requests);
    batch_entry *entries = g_new0(batch_entry, max);
    char errbuf[1024] = "";
    if (!run->sha256[index]) {
        char hex[65];
        if (cli_sha256_file(item->path, hex) == 0) {
            run->sha256[index] = g_strdup(hex);
        } else {
            cli_fail("%s: cannot read: %s", item->path, strerror(errno));
            snprintf(errbuf, sizeof errbuf, "%s", cli_last_error());
        }
    }
    int n = plan_entries(run, item, run->sha256[index], entries, max);
    int pending = 0, left = 0;
    for (int i = 0; i < n; i++)
        pending += !entries[i].skip;
    *skipped = n - pending;
    cli_input in = run->in;
    in.photo = NULL;
    in.input = NULL;
    in.image01 = NULL;
    in.input_npy = NULL;
    in.image_path = item->path;
    int *ranked = NULL;
    if (pending && !errbuf[0] && cli_input_load_image(&in) != 0)
        snprintf(errbuf, sizeof errbuf, "%s", cli_last_error());
    if (pending && !errbuf[0] && run->top_k > 0) {
        ranked = g_new0(int, run->top_k);
        if (rank_classes(run, &in, ranked) != 0)
            snprintf(errbuf, sizeof errbuf, "%s", cli_last_error());
    }
    for (int i = 0; i < n; i++) {
        batch_entry *e = &entries[i];
        if (e->skip)
            continue;
        if (errbuf[0] || strcmp(e->request, "none") == 0) {
            if (!errbuf[0])
                cli_fail("%s: %s has no target for this image", item->path,
                         run->targets);
            fail_entry(run, e, errbuf[0] ? errbuf : cli_last_error());
            (*failed)++;
            continue;
        }
        int target = request_class(run, e->request, ranked);
        if (target == -2) {
            cli_fail("%s: the model has fewer classes than %s asks for",
                     item->path, run->targets);
            fail_entry(run, e, cli_last_error());
            (*failed)++;
            continue;
        }
        if (*run->cancel) {
            left++;
            continue;
        }
        if (run_entry(run, &in, e, target) != 0)
            left++;
        else if (e->line.error)
            (*failed)++;
        else
            (*ok)++;
    }
    g_free(ranked);
    cli_input_clear_image(&in);
    for (int i = 0; i < n; i++)
        g_free(entries[i].request);
    g_free(entries);
    return left;
}

static gpointer worker(gpointer data)
{
    batch_run *run = data;
    for (;;) {
        g_mutex_lock(&run->lock);
        int index = run->next_image;
        if (*run->stop || index >= run->images.n) {
            g_mutex_unlock(&run->lock);
            break;
        }
        run->next_image++;
        g_mutex_unlock(&run->lock);

        int ok = 0, failed = 0, skipped = 0;
        double t0 = cli_now();
        int left = batch_image(run, index, &ok, &failed, &skipped);
        g_mutex_lock(&run->lock);
        if (left == 0)
            run->images_finished++;
        run->entries_finished += ok + failed;
        run->entries_failed += failed;
        run->entries_skipped += skipped;
        run->entries_total -= skipped;
        if (left == 0)
            progress_show(run, &run->images.items[index], ok, failed, skipped,
                          cli_now() - t0);
        g_mutex_unlock(&run->lock);
    }
    return NULL;
}

void batch_run_images(batch_run *run)
{
    g_mutex_init(&run->lock);
    run->start = cli_now();
    run->tty = isatty(STDERR_FILENO);
    GThread *threads[64];
    int jobs = run->jobs < 64 ? run->jobs : 64;
    for (int j = 1; j < jobs; j++)
        threads[j] = g_thread_new("batch-job", worker, run);
    worker(run);
    for (int j = 1; j < jobs; j++)
        g_thread_join(threads[j]);
    if (run->tty && run->last_len) {
        fprintf(stderr, "\r%*s\r", run->last_len, "");
        fflush(stderr);
    }
    g_mutex_clear(&run->lock);
}
