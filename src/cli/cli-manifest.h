/* A batch folder's two files.
 *
 * manifest.jsonl: one JSON object per line and per (image, method,
 * target), appended as each entry's files are written and synced, the
 * line itself written with one write() and synced, so after a crash the
 * manifest names only complete files; a torn last line (no newline, or not
 * JSON) is ignored when the manifest is read.
 *
 * batch.json: what the run was asked to do (model, methods, targets,
 * formats, overlay, shard) and the images of its shard, so batch-merge can
 * tell missing entries from duplicate ones and gallery can redo the
 * preprocessing. Written (temporary file + rename) before the first image.
 *
 * An entry's identity is (stem, method, target request): one output file
 * set. Its key adds everything the files depend on (image SHA-256, model
 * SHA-256, parameters, formats, overlay): --resume skips an entry whose key
 * is already in the manifest. */
#ifndef HL_CLI_MANIFEST_H
#define HL_CLI_MANIFEST_H

#include <stddef.h>

/* ------------------------------------------------------------ one line */

typedef struct cli_manifest_line {
    char *text;             /* the JSON line without '\n' (after parsing) */
    char *image;            /* the input as listed */
    char *stem;             /* its output folder */
    char *image_sha256;     /* NULL when the file could not be read */
    char *model, *model_sha256;
    char *method;
    char **params;          /* "name=value" in the method's order, NULL-ended */
    char *targets;          /* the run's --targets */
    char *target_request;   /* "auto", "top:R", a CSV value, "-" (no class) */
    char *formats;          /* "npy,png" */
    char *viz;              /* overlay settings of the pictures, or "" */
    int has_target;
    int target;
    char *label;
    double probability;     /* < 0: unknown */
    int has_delta;
    double delta;
    double seconds;
    char **outputs;         /* relative to the batch folder, NULL-ended */
    char *error;            /* NULL: done */
    /* batch --evaluate (evaluation.h): the metrics asked, as
     * "deletion,insertion" (NULL: not evaluated; part of the key), and
     * their numbers, NaN when not computed */
    char *evaluate;
    double infidelity, sensitivity, deletion_auc, insertion_auc;
    double randomization_spearman;  /* the last stage's */
    int randomization_flagged;      /* -1: not run */
} cli_manifest_line;

/* Numbers of a line unknown (NaN, flag -1): what a new line starts with. */
void cli_manifest_line_no_metrics(cli_manifest_line *l);

/* The JSON text of a line (no newline); g_free it. */
char *cli_manifest_format(const cli_manifest_line *l);

/* Parse one line; 0, or -1 with *why (g_free it) set. */
int cli_manifest_parse(const char *text, cli_manifest_line *out, char **why);

/* Identity and key as described above (g_free them). */
char *cli_manifest_identity(const cli_manifest_line *l);
char *cli_manifest_key(const cli_manifest_line *l);

void cli_manifest_line_clear(cli_manifest_line *l);

/* ------------------------------------------------------------ the file */

typedef struct cli_manifest {
    cli_manifest_line *lines;
    int n;
    int torn;               /* a torn last line was left out */
} cli_manifest;

/* Read path; a missing file is an empty manifest. A line that is not a
 * manifest line, other than a torn last one, is an error naming its line
 * number. Returns 0, or 1 (printed). */
int cli_manifest_read(const char *path, cli_manifest *m);
void cli_manifest_clear(cli_manifest *m);

/* Replace path by these lines (temporary file, fsync, rename, fsync of the
 * folder). Returns 0, or 1 (printed). */
int cli_manifest_rewrite(const char *path, char *const *texts, int n);

typedef struct cli_manifest_writer cli_manifest_writer;

/* Open path for appending (created if missing). NULL (printed) on error. */
cli_manifest_writer *cli_manifest_open(const char *path);
/* Append text + '\n' with one write() and fsync; several threads may call
 * it. Returns 0, or 1 (printed). */
int cli_manifest_append(cli_manifest_writer *w, const char *text);
void cli_manifest_close(cli_manifest_writer *w);

/* ------------------------------------------------------------ batch.json */

typedef struct cli_plan_image {
    int index;              /* in the whole sorted list */
    char *image, *stem;
    char **targets;         /* target requests of this image, NULL-ended */
} cli_plan_image;

typedef struct cli_batch_plan {
    char *model, *model_sha256;
    char **methods;         /* NULL-ended */
    char *targets, *formats, *viz;
    char **preprocess;      /* "key=value" preprocessing options, NULL-ended */
    char *labels;           /* --labels or NULL */
    int shard, n_shards;
    int total;              /* images of the whole list */
    cli_plan_image *images; /* this shard's */
    int n_images;
} cli_batch_plan;

int cli_batch_plan_write(const char *path, const cli_batch_plan *p);
/* Returns 0, or 1 (printed, naming the file). */
int cli_batch_plan_read(const char *path, cli_batch_plan *p);
void cli_batch_plan_clear(cli_batch_plan *p);

/* ------------------------------------------------------------ files */

/* SHA-256 of a file's bytes as 64 lowercase hex digits (GLib's GChecksum).
 * Returns 0, or -1 with errno set. */
int cli_sha256_file(const char *path, char hex[65]);

/* fsync a file or a folder by path. Returns 0, or -1 with errno set. */
int cli_fsync_path(const char *path);

#endif
