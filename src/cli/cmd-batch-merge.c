/* heatlens-cli batch-merge: the output folders of `batch --shard I/N` runs
 * into one folder, as the unsharded run would have written it, checking
 * that every planned entry is there exactly once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "attr.h"
#include "cli-commands.h"
#include "cli-manifest.h"
#include "cli-method.h"
#include "cli-options.h"

static void merge_help(void)
{
    printf("Usage: %s batch-merge DIR... --out DIR\n"
           "\n"
           "Merge the output folders of 'batch --shard I/N' runs (each with its\n"
           "manifest.jsonl and batch.json) into one folder: the files of every\n"
           "image, one manifest in the order of the sorted image list, and a\n"
           "batch.json for the whole list. Checks that the folders are shards of\n"
           "the same batch, that every shard is there once and that every planned\n"
           "entry appears exactly once; each missing or duplicate one is reported\n"
           "on its own line and makes the exit status 1 (what is there is merged\n"
           "anyway, so 'batch --resume --out DIR' can finish it).\n"
           "\n"
           "Options:\n"
           "  --out DIR    the merged folder (created; must not hold a manifest)\n"
           "  --help       this text\n"
           "\nExample:\n"
           "  %s batch-merge out/shard-0 out/shard-1 out/shard-2 --out out/all\n",
           CLI_PROG, CLI_PROG);
}

typedef struct merge_source {
    const char *dir;
    cli_batch_plan plan;
    cli_manifest manifest;
} merge_source;

/* Where an entry's line was found. */
typedef struct merge_slot {
    int source;                /* -1: not found */
    const cli_manifest_line *line;
} merge_slot;

static int same_text(const char *a, const char *b)
{
    return g_strcmp0(a, b) == 0;
}

static int same_strv(char **a, char **b)
{
    guint n = a ? g_strv_length(a) : 0;
    if (n != (b ? g_strv_length(b) : 0))
        return 0;
    for (guint i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

/* The shards of one batch agree on everything but their images. */
static int check_same_batch(const merge_source *a, const merge_source *b)
{
    const cli_batch_plan *p = &a->plan, *q = &b->plan;
    const char *what = NULL;
    if (p->n_shards != q->n_shards)
        what = "number of shards";
    else if (p->total != q->total)
        what = "image count";
    else if (!same_strv(p->methods, q->methods))
        what = "methods";
    else if (!same_text(p->model_sha256, q->model_sha256))
        what = "model";
    else if (!same_text(p->targets, q->targets))
        what = "targets";
    else if (!same_text(p->formats, q->formats) || !same_text(p->viz, q->viz))
        what = "formats or overlay";
    if (what)
        return cli_fail("batch-merge: %s and %s are not shards of one batch "
                        "(their %s differ)", a->dir, b->dir, what);
    return 0;
}

static int method_uses_target(const char *name)
{
    const hl_method_desc *m = hl_method_find(name);
    return m && cli_method_uses(m, "target");
}

/* Link (or copy) src to dst. */
static int copy_file(const char *src, const char *dst)
{
    g_unlink(dst);
    if (link(src, dst) == 0)
        return 0;
    char *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(src, &data, &len, &gerr) ||
        !g_file_set_contents(dst, data, (gssize)len, &gerr)) {
        cli_fail("batch-merge: %s", gerr->message);
        g_error_free(gerr);
        g_free(data);
        return 1;
    }
    g_free(data);
    return 0;
}

static int copy_outputs(const merge_source *s, const cli_manifest_line *l,
                        const char *out)
{
    for (int i = 0; l->outputs && l->outputs[i]; i++) {
        char *src = g_build_filename(s->dir, l->outputs[i], NULL);
        char *dst = g_build_filename(out, l->outputs[i], NULL);
        char *dir = g_path_get_dirname(dst);
        int bad = g_mkdir_with_parents(dir, 0755) != 0;
        if (bad)
            cli_fail("batch-merge: cannot create %s: %s", dir, strerror(errno));
        else if (!g_file_test(src, G_FILE_TEST_IS_REGULAR))
            bad = cli_fail("batch-merge: missing file: %s (named by %s's manifest)",
                           src, s->dir);
        else
            bad = copy_file(src, dst);
        g_free(src);
        g_free(dst);
        g_free(dir);
        if (bad)
            return 1;
    }
    return 0;
}

static int load_sources(merge_source *src, int n)
{
    for (int i = 0; i < n; i++) {
        char *plan = g_build_filename(src[i].dir, "batch.json", NULL);
        char *manifest = g_build_filename(src[i].dir, "manifest.jsonl", NULL);
        int bad = cli_batch_plan_read(plan, &src[i].plan) ||
                  cli_manifest_read(manifest, &src[i].manifest);
        g_free(plan);
        g_free(manifest);
        if (bad || (i > 0 && check_same_batch(&src[0], &src[i])))
            return 1;
    }
    return 0;
}

/* Check shards and entries, copy the files, write the manifest and plan.
 * Returns the number of problems (each printed), or -1 on a hard error. */
static int merge(merge_source *src, int n, const char *out)
{
    int problems = 0, n_shards = src[0].plan.n_shards;
    int *shard_dir = g_new(int, n_shards);
    for (int s = 0; s < n_shards; s++)
        shard_dir[s] = -1;
    int *use = g_new0(int, n);
    for (int i = 0; i < n; i++) {
        int s = src[i].plan.shard;
        if (s < 0 || s >= n_shards) {
            cli_fail("batch-merge: %s: shard %d is outside 0..%d", src[i].dir, s,
                     n_shards - 1);
            problems++;
        } else if (shard_dir[s] >= 0) {
            cli_fail("batch-merge: duplicate: shard %d/%d is both %s and %s", s,
                     n_shards, src[shard_dir[s]].dir, src[i].dir);
            problems++;
        } else {
            shard_dir[s] = i;
            use[i] = 1;
        }
    }
    for (int s = 0; s < n_shards; s++)
        if (shard_dir[s] < 0) {
            cli_fail("batch-merge: missing: shard %d/%d (no folder given for it)",
                     s, n_shards);
            problems++;
        }

    /* The lines of each folder by identity; duplicates reported. */
    GHashTable *found = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < n; i++) {
        for (int k = 0; use[i] && k < src[i].manifest.n; k++) {
            const cli_manifest_line *l = &src[i].manifest.lines[k];
            char *id = cli_manifest_identity(l);
            merge_slot *old = g_hash_table_lookup(found, id);
            if (old) {
                cli_fail("batch-merge: duplicate: %s / %s (target %s) in %s and %s",
                         l->stem, l->method, l->target_request,
                         src[old->source].dir, src[i].dir);
                problems++;
                g_free(id);
                continue;
            }
            merge_slot *slot = g_new(merge_slot, 1);
            slot->source = i;
            slot->line = l;
            g_hash_table_insert(found, id, slot);
        }
    }

    /* Walk the planned entries in the order of the whole sorted list. */
    int total = src[0].plan.total;
    cli_plan_image **by_index = g_new0(cli_plan_image *, total + 1);
    for (int i = 0; i < n; i++)
        for (int k = 0; use[i] && k < src[i].plan.n_images; k++) {
            cli_plan_image *im = &src[i].plan.images[k];
            if (im->index >= 0 && im->index < total)
                by_index[im->index] = im;
        }
    GPtrArray *texts = g_ptr_array_new();
    char **methods = src[0].plan.methods;
    int hard = 0, entries = 0, failed = 0;
    for (int g = 0; g < total && !hard; g++) {
        cli_plan_image *im = by_index[g];
        if (!im)
            continue;
        for (int m = 0; methods[m] && !hard; m++) {
            int uses = method_uses_target(methods[m]);
            for (int t = 0; im->targets && im->targets[t]; t++) {
                cli_manifest_line key = {.stem = im->stem, .method = methods[m],
                                         .target_request = uses ? im->targets[t] : "-"};
                char *id = cli_manifest_identity(&key);
                merge_slot *slot = g_hash_table_lookup(found, id);
                g_free(id);
                if (!slot) {
                    cli_fail("batch-merge: missing: %s / %s (target %s) of %s",
                             im->stem, methods[m], key.target_request, im->image);
                    problems++;
                } else {
                    if (copy_outputs(&src[slot->source], slot->line, out)) {
                        hard = 1;
                        break;
                    }
                    g_ptr_array_add(texts, slot->line->text);
                    entries++;
                    failed += slot->line->error != NULL;
                }
                if (!uses)
                    break;
            }
        }
    }
    if (!hard) {
        char *manifest = g_build_filename(out, "manifest.jsonl", NULL);
        hard = cli_manifest_rewrite(manifest, (char *const *)texts->pdata,
                                    (int)texts->len);
        g_free(manifest);
    }
    if (!hard) {
        cli_batch_plan whole = src[0].plan;
        whole.shard = 0;
        whole.n_shards = 1;
        whole.n_images = 0;
        whole.images = g_new0(cli_plan_image, total + 1);
        for (int g = 0; g < total; g++)
            if (by_index[g])
                whole.images[whole.n_images++] = *by_index[g];
        char *plan = g_build_filename(out, "batch.json", NULL);
        hard = cli_batch_plan_write(plan, &whole);
        g_free(plan);
        printf("batch-merge: %d folders, %d of %d images, %d entries (%d with an "
               "error) into %s\n", n, whole.n_images, total, entries, failed, out);
        g_free(whole.images);
    }
    g_ptr_array_free(texts, TRUE);
    g_free(by_index);
    g_hash_table_destroy(found);
    g_free(use);
    g_free(shard_dir);
    return hard ? -1 : problems;
}

int cmd_batch_merge(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        merge_help();
        return 0;
    }
    const char *out = NULL;
    merge_source *src = g_new0(merge_source, argc);
    int n = 0, status = 1;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strncmp(w, "--out=", 6) == 0) {
            out = w + 6;
        } else if (strncmp(w, "--", 2) == 0) {
            cli_fail("batch-merge: unknown option '%s'; valid: --out DIR, --help", w);
            goto done;
        } else {
            src[n++].dir = w;
        }
    }
    if (n == 0 || !out) {
        cli_fail("batch-merge needs the shard folders and --out DIR");
        goto done;
    }
    char *manifest = g_build_filename(out, "manifest.jsonl", NULL);
    GStatBuf st;
    int exists = g_stat(manifest, &st) == 0 && st.st_size > 0;
    g_free(manifest);
    if (exists) {
        cli_fail("batch-merge: %s already holds a manifest; give another --out", out);
        goto done;
    }
    if (load_sources(src, n))
        goto done;
    if (g_mkdir_with_parents(out, 0755) != 0) {
        cli_fail("batch-merge: cannot create %s: %s", out, strerror(errno));
        goto done;
    }
    int problems = merge(src, n, out);
    if (problems > 0)
        cli_fail("batch-merge: %d problem%s (above); the rest is merged", problems,
                 problems == 1 ? "" : "s");
    status = problems != 0;
done:
    for (int i = 0; i < n; i++) {
        cli_batch_plan_clear(&src[i].plan);
        cli_manifest_clear(&src[i].manifest);
    }
    g_free(src);
    return status;
}
