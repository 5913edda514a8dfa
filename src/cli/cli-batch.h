/* heatlens-cli batch, shared between its option/setup half (cmd-batch.c)
 * and its running half (cli-batch-run.c): one loaded model, the methods
 * with their parameters, the images of this shard, the manifest. */
#ifndef HL_CLI_BATCH_H
#define HL_CLI_BATCH_H

#include <glib.h>

#include "attr.h"
#include "evaluation.h"
#include "cli-explain.h"
#include "cli-image-list.h"
#include "cli-manifest.h"
#include "cli-options.h"

#define BATCH_MAX_METHODS 32

typedef struct batch_method {
    const hl_method_desc *desc;
    hl_attr_request req;     /* prepared once; each entry sets the target */
    char **param_pairs;      /* "name=value" of every parameter it uses */
    int uses_target;
} batch_method;

typedef enum { BATCH_FMT_NPY, BATCH_FMT_PNG, BATCH_FMT_SVG, BATCH_FMT_PDF,
               BATCH_N_FORMATS } batch_format;

typedef struct batch_run {
    cli_input in;            /* model, preprocessing, labels (no image) */
    char model_sha256[65];
    batch_method methods[BATCH_MAX_METHODS];
    int n_methods;

    const char *targets;     /* "auto", "top-K" or FILE.csv as given */
    int top_k;               /* K of top-K; 0 otherwise */
    GHashTable *csv;         /* CSV image field -> GPtrArray of target texts */
    GHashTable *csv_index;   /* CSV target text -> class index + 1 */

    int formats[BATCH_N_FORMATS];
    char formats_text[64];   /* "npy,png" as recorded in the manifest */
    explain_viz viz;         /* overlay of the pictures */
    int evaluate;            /* --evaluate: each entry's trust metrics */
    hl_evaluation_opts eval; /* which (--metrics), with evaluate's defaults */
    char eval_text[128];     /* "deletion,insertion": the manifest's "evaluate" */
    char viz_text[256];      /* "" without pictures */

    const char *out_dir;
    cli_image_list images;   /* this shard's */
    char **sha256;           /* per image, computed once (NULL = not yet) */
    GHashTable *done;        /* keys of entries already in the manifest */
    cli_manifest_writer *manifest;

    int jobs, threads_per_job;
    volatile int *stop;      /* finish the current image, then stop */
    const volatile int *cancel; /* stop the running method now */

    /* progress, under lock */
    GMutex lock;
    int next_image;
    int images_finished, entries_total, entries_finished, entries_failed,
        entries_skipped;
    double start;
    int tty, last_len, last_step;
} batch_run;

/* The target requests of an image ("auto", "top:1".."top:K", its CSV
 * values, or "none" when the CSV has no row for it). g_strfreev it. */
char **batch_image_targets(const batch_run *run, const cli_image_item *item);

/* The manifest line of one planned entry, without results. */
void batch_entry_line(const batch_run *run, const cli_image_item *item,
                      const char *sha256, const batch_method *m,
                      const char *target_request, cli_manifest_line *l);

/* Run every image of run->images with run->jobs workers. */
void batch_run_images(batch_run *run);

#endif
