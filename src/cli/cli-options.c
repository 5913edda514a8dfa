/* Shared CLI plumbing: argument cursor, errors, loading model + input. */
#include "cli-options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "npy.h"

#ifndef HL_SOURCE_DATADIR
#define HL_SOURCE_DATADIR "data"
#endif
#ifndef HL_DATADIR
#define HL_DATADIR "/usr/local/share/heatlens"
#endif

#define CLI_DEFAULT_MODEL "models/mobilenet_v2.onnx"
/* The bundled 1001 ImageNet labels (line 0 "background"): the names of any
 * 1000- or 1001-class model that carries none of its own. */
#define CLI_IMAGENET_LABELS "models/mobilenet_v2.labels.txt"

/* The last message of cli_fail on this thread (batch keeps it per entry). */
static _Thread_local char last_error[1024];

const char *cli_last_error(void)
{
    return last_error;
}

int cli_fail(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One line, whatever the message held. */
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    memcpy(last_error, line, sizeof last_error);
    fflush(stdout);
    /* On a terminal, clear a progress bar drawn on the line first. */
    fprintf(stderr, "%s%s: %s\n", isatty(STDERR_FILENO) ? "\r\033[K" : "",
            CLI_PROG, line);
    return 1;
}

/* ------------------------------------------------------ argument scanning */

void cli_args_init(cli_args *a, int argc, char **argv, int first)
{
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->index = first;
}

int cli_args_next(cli_args *a)
{
    if (a->index >= a->argc)
        return 0;
    const char *w = a->argv[a->index++];
    a->word = w;
    a->inline_value = NULL;
    if (strncmp(w, "--", 2) != 0 || w[2] == '\0') {
        if (strcmp(w, "-h") == 0) {
            snprintf(a->name, sizeof a->name, "help");
            return 1;
        }
        cli_fail("unexpected argument '%s' (options start with --; try --help)", w);
        return -1;
    }
    const char *name = w + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    if (len >= sizeof a->name) {
        cli_fail("option '%.40s...' is too long", w);
        return -1;
    }
    memcpy(a->name, name, len);
    a->name[len] = '\0';
    /* Accept --n_steps as --n-steps: Captum users type underscores. */
    for (char *c = a->name; *c; c++)
        if (*c == '_')
            *c = '-';
    if (eq)
        a->inline_value = eq + 1;
    return 1;
}

const char *cli_args_value(cli_args *a)
{
    if (a->inline_value)
        return a->inline_value;
    if (a->index >= a->argc) {
        cli_fail("option --%s needs a value", a->name);
        return NULL;
    }
    return a->argv[a->index++];
}

static int is_bool_word(const char *w)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on",
                                        "off", "1", "0", NULL};
    for (int i = 0; words[i]; i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

const char *cli_args_flag_value(cli_args *a)
{
    if (a->inline_value)
        return a->inline_value;
    if (a->index < a->argc && is_bool_word(a->argv[a->index]))
        return a->argv[a->index++];
    return "true";
}

int cli_parse_int(const char *option, const char *text, long min, long max,
                  int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0') {
        cli_fail("--%s: '%s' is not an integer", option, text);
        return 0;
    }
    if (v < min || v > max) {
        cli_fail("--%s: %ld is out of range [%ld, %ld]", option, v, min, max);
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* --max-memory N[K|M|G]: the engine's memory limit (binary units). */
static int parse_max_memory(const char *text)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    double unit = 1;
    if (end && (*end == 'K' || *end == 'k'))
        unit = 1024.0;
    else if (end && (*end == 'M' || *end == 'm'))
        unit = 1024.0 * 1024;
    else if (end && (*end == 'G' || *end == 'g'))
        unit = 1024.0 * 1024 * 1024;
    if (unit > 1)
        end++;
    if (errno || end == text || *end != '\0' || !isfinite(v) || v < 1 ||
        v * unit > 1e18) {
        cli_fail("--max-memory: '%s' is not a size such as 2G or 512M", text);
        return 0;
    }
    hl_set_max_memory((uint64_t)(v * unit));
    return 1;
}

int cli_parse_double(const char *option, const char *text, double min,
                     double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v)) {
        cli_fail("--%s: '%s' is not a number", option, text);
        return 0;
    }
    if (v < min || v > max) {
        cli_fail("--%s: %g is out of range [%g, %g]", option, v, min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_wants_help(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------ model and input */

void cli_input_init(cli_input *in)
{
    memset(in, 0, sizeof *in);
    in->threads = 0;
}

static void free_labels(cli_input *in)
{
    for (int i = 0; i < in->n_labels; i++)
        free(in->labels[i]);
    free(in->labels);
    in->labels = NULL;
    in->n_labels = 0;
}

void cli_input_clear(cli_input *in)
{
    free_labels(in);
    free(in->image01);
    hl_array_free(in->input);
    hl_image_free(in->photo);
    hl_model_free(in->model);
    cli_input_init(in);
}

static const char *const preprocess_keys[] = {
    "input-size", "resize", "mean", "std", "scale", "channel-order", NULL};

int cli_input_option(cli_input *in, cli_args *a)
{
    const char *n = a->name;
    const char **slot = NULL;
    if (strcmp(n, "model") == 0)
        slot = &in->model_path;
    else if (strcmp(n, "image") == 0)
        slot = &in->image_path;
    else if (strcmp(n, "input-npy") == 0)
        slot = &in->input_npy;
    else if (strcmp(n, "labels") == 0)
        slot = &in->labels_path;
    if (slot) {
        const char *v = cli_args_value(a);
        if (!v)
            return -1;
        *slot = v;
        return 1;
    }
    if (strcmp(n, "max-memory") == 0) {
        const char *v = cli_args_value(a);
        return v && parse_max_memory(v) ? 1 : -1;
    }
    if (strcmp(n, "threads") == 0) {
        const char *v = cli_args_value(a);
        if (!v || !cli_parse_int(n, v, 0, 1024, &in->threads))
            return -1;
        return 1;
    }
    for (int i = 0; preprocess_keys[i]; i++) {
        if (strcmp(n, preprocess_keys[i]) != 0)
            continue;
        const char *v = cli_args_value(a);
        if (!v)
            return -1;
        if (in->n_overrides == CLI_MAX_PREPROCESS_OVERRIDES) {
            cli_fail("too many preprocessing options");
            return -1;
        }
        in->overrides[in->n_overrides].key = preprocess_keys[i];
        in->overrides[in->n_overrides].value = v;
        in->n_overrides++;
        return 1;
    }
    return 0;
}

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

int cli_find_data_file(const char *relative, char *buf, size_t size)
{
    const char *env = getenv("HEATLENS_DATADIR");
    const char *dirs[3];
    int n = 0;
    if (env && *env)
        dirs[n++] = env;
    dirs[n++] = HL_SOURCE_DATADIR;
    dirs[n++] = HL_DATADIR;
    for (int i = 0; i < n; i++) {
        snprintf(buf, size, "%s/%s", dirs[i], relative);
        if (file_exists(buf))
            return 0;
    }
    snprintf(buf, size, "%s/%s", HL_DATADIR, relative);
    return -1;
}

int cli_input_load_model(cli_input *in)
{
    hl_error err = {0};
    if (in->model)
        return 0;
    if (in->model_path) {
        snprintf(in->resolved_model, sizeof in->resolved_model, "%s",
                 in->model_path);
    } else if (cli_find_data_file(CLI_DEFAULT_MODEL, in->resolved_model,
                                  sizeof in->resolved_model) != 0) {
        return cli_fail("no --model given and the bundled model is missing "
                        "(looked in %s and %s)", HL_SOURCE_DATADIR, HL_DATADIR);
    }
    if (hl_model_load_onnx(in->resolved_model, &in->model, &err) != HL_OK) {
        in->model = NULL;
        return cli_fail("%s", err.msg[0] ? err.msg : hl_status_name(err.status));
    }
    return 0;
}

/* Labels from --labels (one per line), from the model, or ImageNet's for
 * a 1000/1001-class model without labels. */
static int load_labels(cli_input *in)
{
    int n = in->n_classes;
    if (n <= 0)
        return 0;
    hl_error err = {0};
    hl_labels *l = NULL;
    if (in->labels_path) {
        if (hl_labels_from_file(in->labels_path, n, &l, &err) != HL_OK)
            return cli_fail("%s", err.msg);
    } else {
        char imagenet[4096];
        int have_imagenet = cli_find_data_file(CLI_IMAGENET_LABELS, imagenet,
                                               sizeof imagenet) == 0;
        l = hl_labels_for_model_or_imagenet(in->model, in->resolved_model, n,
                                            have_imagenet ? imagenet : NULL);
    }
    if (!l || l->n != n)
        return cli_fail("out of memory");
    /* the library fills every entry ("class K" when unnamed) */
    in->labels = l->names;
    in->n_labels = l->n;
    free(l);
    return 0;
}

static int load_photo(cli_input *in);
static int prepare_input(cli_input *in);

/* A .npy given as [C,H,W] or [1,C,H,W] that must match the model input. */
static int load_input_npy(cli_input *in)
{
    hl_error err = {0};
    hl_array *a = NULL;
    if (hl_npy_read(in->input_npy, &a, &err) != HL_OK)
        return cli_fail("%s", err.msg[0] ? err.msg : hl_status_name(err.status));
    hl_shape want;
    hl_model_input_shape(in->model, &want);
    if (want.ndim > 0)
        want.dims[0] = 1;
    if (a->shape.ndim == want.ndim - 1) {   /* add the batch dimension */
        for (int d = a->shape.ndim; d > 0; d--)
            a->shape.dims[d] = a->shape.dims[d - 1];
        a->shape.dims[0] = 1;
        a->shape.ndim++;
    }
    int ok = a->shape.ndim == want.ndim;
    for (int d = 0; ok && d < want.ndim; d++)
        if (want.dims[d] > 0 && want.dims[d] != a->shape.dims[d])
            ok = 0;
    if (!ok) {
        char got[96], exp[96];
        hl_shape_format(&a->shape, got, sizeof got);
        hl_shape_format(&want, exp, sizeof exp);
        hl_array_free(a);
        return cli_fail("%s: shape %s does not match the model input %s",
                        in->input_npy, got, exp);
    }
    in->input = a;
    return 0;
}

int cli_input_load(cli_input *in, int need_input)
{
    hl_error err = {0};
    if (need_input && !in->image_path && !in->input_npy)
        return cli_fail("give an input: --image FILE or --input-npy FILE.npy");
    if (in->image_path && in->input_npy)
        return cli_fail("--image and --input-npy exclude each other");
    /* the photo first: a file that is no photo is refused before the
     * model's load (seconds for a large one) */
    if (need_input && in->image_path && load_photo(in))
        return 1;
    if (cli_input_load_model(in))
        return 1;
    if (hl_preprocess_for_model(in->model, &in->pre, &err) != HL_OK ||
        hl_model_classes(in->model, &in->n_classes, &err) != HL_OK)
        return cli_fail("%s", err.msg);
    for (int i = 0; i < in->n_overrides; i++)
        if (hl_preprocess_set(&in->pre, in->overrides[i].key,
                              in->overrides[i].value, &err) != HL_OK)
        {
            /* "mean: bad value" -> "--mean: bad value" */
            const char *key = in->overrides[i].key, *msg = err.msg;
            size_t len = strlen(key);
            if (strncmp(msg, key, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ')
                msg += len + 2;
            return cli_fail("--%s: %s", key, msg);
        }
    if (load_labels(in))
        return 1;
    if (!need_input)
        return 0;
    return in->input_npy ? load_input_npy(in) : prepare_input(in);
}

void cli_input_clear_image(cli_input *in)
{
    free(in->image01);
    hl_array_free(in->input);
    hl_image_free(in->photo);
    in->image01 = NULL;
    in->input = NULL;
    in->photo = NULL;
}

int cli_input_load_image(cli_input *in)
{
    cli_input_clear_image(in);
    if (in->input_npy)
        return load_input_npy(in);
    if (load_photo(in))
        return 1;
    return prepare_input(in);
}

static int load_photo(cli_input *in)
{
    hl_error err = {0};
    if (hl_image_load(in->image_path, &in->photo, &err) != HL_OK) {
        in->photo = NULL;
        return cli_fail("%s", err.msg[0] ? err.msg : hl_status_name(err.status));
    }
    return 0;
}

/* in->photo preprocessed for the model into in->input. */
static int prepare_input(cli_input *in)
{
    hl_error err = {0};
    if (hl_preprocess_apply(&in->pre, in->photo, &in->input, &in->map,
                            &in->image01, &err) != HL_OK) {
        in->input = NULL;
        in->image01 = NULL;
        return cli_fail("%s", err.msg);
    }
    /* A fixed-size model input must match (--input-size can break it). */
    hl_shape want;
    hl_model_input_shape(in->model, &want);
    int fits = want.ndim == in->input->shape.ndim;
    for (int d = 1; fits && d < want.ndim; d++)
        if (want.dims[d] > 0 && want.dims[d] != in->input->shape.dims[d])
            fits = 0;
    if (!fits) {
        char got[96], exp[96];
        hl_shape_format(&in->input->shape, got, sizeof got);
        hl_shape_format(&want, exp, sizeof exp);
        return cli_fail("the preprocessed image %s does not fit the model "
                        "input %s (check --input-size)", got, exp);
    }
    return 0;
}

const char *cli_input_label(const cli_input *in, int k)
{
    if (k >= 0 && k < in->n_labels && in->labels[k])
        return in->labels[k];
    return "?";
}

void cli_input_print_help(FILE *f, int with_image)
{
    fprintf(f,
            "  --model FILE.onnx      the classifier (default: the bundled MobileNet V2)\n");
    if (with_image)
        fprintf(f,
                "  --image IMG            a PNG, JPEG or BMP photo, preprocessed for the model\n"
                "  --input-npy X.npy      a preprocessed float32 [1,C,H,W] tensor, used as is\n");
    fprintf(f,
            "  --labels FILE          class names, one per line (default: from the model)\n"
            "  --input-size W,H       override the model input size\n"
            "  --resize shorter:N|stretch  resize policy before the centre crop\n"
            "  --mean R,G,B           normalisation mean (0..1 pixel units)\n"
            "  --std R,G,B            normalisation standard deviation\n"
            "  --scale S              pixel (0..255) scale, e.g. 1/255\n"
            "  --channel-order rgb|bgr\n"
            "  --threads N            engine threads (default: all processors)\n"
            "  --max-memory N[K|M|G]  memory limit of the engine (default: half of RAM)\n");
}

/* ------------------------------------------------------ output helpers */

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*c < 0x20)
                fprintf(f, "\\u%04x", *c);
            else
                fputc(*c, f);
        }
    }
    fputc('"', f);
}

void cli_progress_init(cli_progress *p, const char *label)
{
    p->enabled = isatty(STDERR_FILENO);
    p->label = label;
    p->last_permille = -1;
}

void cli_progress_update(void *user, double fraction)
{
    cli_progress *p = user;
    if (!p || !p->enabled)
        return;
    if (!(fraction >= 0))
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    int permille = (int)(fraction * 1000);
    if (permille == p->last_permille)
        return;
    p->last_permille = permille;
    enum { WIDTH = 30 };
    int filled = (int)(fraction * WIDTH);
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%-36.36s [%s] %5.1f%%", p->label ? p->label : "",
            bar, fraction * 100.0);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->enabled && p->last_permille >= 0) {
        fprintf(stderr, "\r%*s\r", 78, "");
        fflush(stderr);
    }
    p->last_permille = -1;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
