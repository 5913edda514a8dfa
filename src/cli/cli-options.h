/* Pieces shared by the heatlens-cli commands: argument scanning, the
 * one-line error convention, and the model + input + preprocessing + labels
 * bundle that predict, explain and report all load the same way. */
#ifndef HL_CLI_OPTIONS_H
#define HL_CLI_OPTIONS_H

#include <stdio.h>

#include "engine.h"
#include "image.h"
#include "preprocess.h"

#define CLI_PROG "heatlens-cli"

/* Print "heatlens-cli: <message>" on stderr as one line; returns 1 (the exit
 * status of a failed command) so callers can `return cli_fail(...)`. */
int cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The last line cli_fail printed on the calling thread ("" if none). */
const char *cli_last_error(void);

/* ------------------------------------------------------ argument scanning */

/* A cursor over argv[first..argc). cli_args_next() splits "--name=value"
 * and returns the option name without its dashes ("top"), or NULL at the
 * end. A word that is not an option is an error reported by the caller. */
typedef struct cli_args {
    int argc;
    char **argv;
    int index;           /* next argv slot */
    char name[128];      /* current option name, without "--" */
    const char *inline_value; /* value after '=' or NULL */
    const char *word;    /* the raw argv word of the current option */
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv, int first);
/* Returns 1 with a->name set, 0 at the end, -1 (message printed) when the
 * word is not an option. */
int cli_args_next(cli_args *a);
/* The value of the current option: the inline "=value" or the next word.
 * NULL (message printed) when it is missing. */
const char *cli_args_value(cli_args *a);
/* For boolean flags: "=value" or a following true/false/yes/no/on/off/1/0
 * word; otherwise "true" without consuming anything. */
const char *cli_args_flag_value(cli_args *a);

/* Parse helpers: print the one-line error and return 0 on failure. */
int cli_parse_int(const char *option, const char *text, long min, long max,
                  int *out);
int cli_parse_double(const char *option, const char *text, double min,
                     double max, double *out);

/* Is `--help` / `-h` anywhere among argv[first..)? */
int cli_wants_help(int argc, char **argv, int first);

/* ------------------------------------------------------ model and input */

#define CLI_MAX_PREPROCESS_OVERRIDES 8

typedef struct cli_input {
    /* what the user asked for */
    const char *model_path;      /* NULL = the bundled model */
    const char *image_path;
    const char *input_npy;
    const char *labels_path;     /* NULL = from the model */
    struct { const char *key, *value; } overrides[CLI_MAX_PREPROCESS_OVERRIDES];
    int n_overrides;
    int threads;                 /* <= 0 = all processors */

    /* what was loaded */
    char resolved_model[4096];
    hl_model *model;
    hl_preprocess pre;
    hl_image *photo;             /* NULL with --input-npy */
    hl_array *input;             /* [1,C,H,W] model-input tensor */
    hl_crop_map map;             /* photo <-> input (valid with photo) */
    float *image01;              /* [3,H,W] unnormalised crop or NULL */
    int n_classes;               /* K of the [N,K] output (cli_input_load) */
    int n_labels;
    char **labels;               /* n_labels entries, owned */
} cli_input;

void cli_input_init(cli_input *in);
void cli_input_clear(cli_input *in);

/* If `name` is one of the shared options (model, image, input-npy, labels,
 * mean, std, input-size, resize, scale, channel-order, threads), consume
 * its value and return 1; 0 if it is not one of them; -1 on error (message
 * printed). */
int cli_input_option(cli_input *in, cli_args *a);

/* Load the model (and, when need_input, the image or .npy, preprocessed,
 * and the labels). Returns 0, or 1 with the message printed. */
int cli_input_load(cli_input *in, int need_input);

/* The per-image half of cli_input_load: read in->image_path (or
 * in->input_npy), preprocess it with in->pre and check it fits the loaded
 * model; a previous image is freed first. Returns 0, or 1 (printed). */
int cli_input_load_image(cli_input *in);
/* Free the image half only (photo, input, image01). */
void cli_input_clear_image(cli_input *in);

/* Just the model (for `layers`). */
int cli_input_load_model(cli_input *in);

/* Label of class k ("class k" when unknown). */
const char *cli_input_label(const cli_input *in, int k);

/* The help lines for the shared options (for each command's --help). */
void cli_input_print_help(FILE *f, int with_image);

/* The bundled model: $HEATLENS_DATADIR, then the installed datadir or the
 * source tree's data/ (whichever has it). Fills buf; returns 0 if found. */
int cli_find_data_file(const char *relative, char *buf, size_t size);

/* ------------------------------------------------------ output helpers */

/* Write s as a JSON string literal (with quotes). */
void cli_json_string(FILE *f, const char *s);

/* A progress bar on stderr when it is a terminal; silent otherwise. */
typedef struct cli_progress {
    int enabled;
    const char *label;
    int last_permille;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label);
void cli_progress_update(void *user, double fraction);  /* hl_attr_context.progress */
void cli_progress_done(cli_progress *p);

/* Seconds from a monotonic clock. */
double cli_now(void);

#endif
