/* Class labels of a model: metadata, a labels file next to the model, or
 * class numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "preprocess.h"

hl_status hl_model_classes(const hl_model *m, int *n_classes, hl_error *err)
{
    hl_shape s;
    const char *name = m && hl_model_name(m) ? hl_model_name(m) : "model";
    if (!m || hl_model_value_shape(m, hl_model_output_value(m), &s) != HL_OK)
        return hl_error_set(err, HL_ERR_ARG, "%s: the output's shape is unknown", name);
    int scores = s.ndim >= 2 && s.dims[1] >= 2 && s.dims[1] < (1 << 24);
    for (int i = 2; scores && i < s.ndim; i++)
        scores = s.dims[i] == 1;
    if (!scores) {
        char buf[128];
        return hl_error_set(err, HL_ERR_SHAPE,
                            "%s is not an image classifier: its output is %s, "
                            "not class scores [N,K]",
                            name, hl_shape_format(&s, buf, sizeof buf));
    }
    *n_classes = (int)s.dims[1];
    return HL_OK;
}

void hl_labels_free(hl_labels *l)
{
    if (!l)
        return;
    if (l->names)
        for (int i = 0; i < l->n; i++)
            free(l->names[i]);
    free(l->names);
    free(l);
}

/* Split text into lines (\n or \r\n); a final empty line is dropped. Sets
 * *out only when there are exactly n lines. Returns 0 on out of memory. */
static int split_lines(const char *text, int n, hl_labels **out)
{
    int lines = 0;
    size_t len = strlen(text);
    if (len == 0)
        return 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            lines++;
    if (text[len - 1] != '\n')
        lines++;
    if (lines != n)
        return 1;
    hl_labels *l = calloc(1, sizeof *l);
    if (!l)
        return 0;
    l->names = calloc((size_t)n, sizeof(char *));
    if (!l->names) {
        free(l);
        return 0;
    }
    l->n = n;
    const char *s = text;
    for (int i = 0; i < n; i++) {
        const char *e = strchr(s, '\n');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        size_t keep = k;
        if (keep > 0 && s[keep - 1] == '\r')
            keep--;
        /* made printable (hl_printable): labels come from files and are
         * printed to terminals and labels; \xNN takes 4 bytes a byte */
        char *raw = malloc(keep + 1);
        l->names[i] = malloc(4 * keep + 1);
        if (!raw || !l->names[i]) {
            free(raw);
            hl_labels_free(l);
            return 0;
        }
        memcpy(raw, s, keep);
        raw[keep] = '\0';
        hl_printable(raw, l->names[i], 4 * keep + 1);
        free(raw);
        s += k + (e ? 1 : 0);
    }
    *out = l;
    return 1;
}

/* A labels file as text, through the one file reader; NULL when it
 * cannot be read or holds a NUL byte (not a text file). */
static char *read_text(const char *path, hl_error *err)
{
    unsigned char *buf;
    size_t len;
    if (hl_file_read(path, "labels", HL_MAX_LABELS_BYTES, 0, NULL, NULL,
                     &buf, &len, err) != HL_OK)
        return NULL;
    if (strlen((char *)buf) != len) {
        hl_error_set(err, HL_ERR_PARSE, "%s: not a text file", path);
        free(buf);
        return NULL;
    }
    return (char *)buf;
}

static int try_file(const char *path, int n, hl_labels **out)
{
    char *text = read_text(path, NULL);
    if (!text)
        return 1;
    int ok = split_lines(text, n, out);
    free(text);
    return ok;
}

/* dir of model_path (with the slash) + name; NULL on out of memory. */
static char *beside(const char *model_path, const char *name)
{
    const char *slash = strrchr(model_path, '/');
    size_t dlen = slash ? (size_t)(slash - model_path) + 1 : 0;
    char *p = malloc(dlen + strlen(name) + 1);
    if (!p)
        return NULL;
    memcpy(p, model_path, dlen);
    strcpy(p + dlen, name);
    return p;
}

/* The model's own labels (metadata, a file named by it or beside it).
 * *found = 0 when none has n_classes lines; returns 0 on out of memory. */
static int labels_of_model(const hl_model *m, const char *model_path,
                           int n_classes, hl_labels **found)
{
    hl_labels *l = NULL;
    *found = NULL;
    const char *meta = m ? hl_model_metadata(m, "heatlens.labels") : NULL;
    if (meta && n_classes > 0 && !split_lines(meta, n_classes, &l))
        return 0;
    const char *file = m ? hl_model_metadata(m, "heatlens.labels_file") : NULL;
    if (!l && file && model_path && n_classes > 0 && !strchr(file, '/')) {
        char *p = beside(model_path, file);
        if (!p || !try_file(p, n_classes, &l)) {
            free(p);
            return 0;
        }
        free(p);
    }
    if (!l && model_path && n_classes > 0) {
        size_t len = strlen(model_path);
        char *p = malloc(len + sizeof ".labels.txt");
        if (!p)
            return 0;
        memcpy(p, model_path, len + 1);
        if (len > 5 && !strcmp(p + len - 5, ".onnx")) {
            strcpy(p + len - 5, ".labels.txt");
            if (!try_file(p, n_classes, &l)) {
                free(p);
                return 0;
            }
        }
        if (!l) {
            memcpy(p, model_path, len);
            strcpy(p + len, ".labels.txt");
            if (!try_file(p, n_classes, &l)) {
                free(p);
                return 0;
            }
        }
        free(p);
    }
    *found = l;
    return 1;
}

/* The one "background" rule: TF-slim's ImageNet files have 1001 lines,
 * line 0 "background"; a model of n_classes = lines - 1 outputs
 * (torchvision, timm, the ONNX model zoo) has no background class, so
 * that line is dropped. */
static void drop_background(hl_labels *l, int n_classes)
{
    if (!l || l->n != n_classes + 1 || !l->names[0] ||
        strcmp(l->names[0], "background") != 0)
        return;
    free(l->names[0]);
    memmove(l->names, l->names + 1, (size_t)n_classes * sizeof(char *));
    l->n = n_classes;
}

/* ImageNet names from the 1001-line file (line 0 "background"): 1001
 * classes take it as is, 1000 classes drop the background line. */
static int labels_imagenet(const char *path, int n_classes, hl_labels **found)
{
    *found = NULL;
    if (!path || (n_classes != 1000 && n_classes != 1001))
        return 1;
    hl_labels *l = NULL;
    if (!try_file(path, 1001, &l))
        return 0;
    drop_background(l, n_classes);
    if (l && l->n != n_classes) {
        hl_labels_free(l);
        l = NULL;
    }
    *found = l;
    return 1;
}

hl_status hl_labels_from_file(const char *path, int n_classes,
                              hl_labels **out, hl_error *err)
{
    *out = NULL;
    char *text = read_text(path, err);
    if (!text)
        return err && err->status != HL_OK ? err->status : HL_ERR_IO;
    int lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    size_t len = strlen(text);
    if (len && text[len - 1] != '\n')
        lines++;
    hl_labels *all = NULL;
    int ok = lines == 0 || split_lines(text, lines, &all);
    free(text);
    hl_labels *l = ok ? calloc(1, sizeof *l) : NULL;
    if (l)
        l->names = calloc((size_t)(n_classes > 0 ? n_classes : 1), sizeof(char *));
    if (!l || !l->names) {
        free(l);
        hl_labels_free(all);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
    }
    l->n = n_classes;
    drop_background(all, n_classes);
    for (int k = 0; all && k < n_classes && k < all->n; k++) {
        l->names[k] = all->names[k];
        all->names[k] = NULL;
    }
    hl_labels_free(all);
    for (int k = 0; k < n_classes; k++) {
        if (!l->names[k]) {
            char buf[32];
            snprintf(buf, sizeof buf, "class %d", k);
            l->names[k] = strdup(buf);
        }
        if (!l->names[k]) {
            hl_labels_free(l);
            return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    *out = l;
    return HL_OK;
}

static hl_labels *labels_numbered(int n_classes)
{
    hl_labels *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->names = calloc((size_t)(n_classes > 0 ? n_classes : 1), sizeof(char *));
    if (!l->names) {
        free(l);
        return NULL;
    }
    l->n = n_classes;
    for (int i = 0; i < n_classes; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "class %d", i);
        l->names[i] = strdup(buf);
        if (!l->names[i]) {
            hl_labels_free(l);
            return NULL;
        }
    }
    return l;
}

hl_labels *hl_labels_for_model_or_imagenet(const hl_model *m,
                                           const char *model_path,
                                           int n_classes,
                                           const char *imagenet_labels)
{
    hl_labels *l = NULL;
    if (n_classes < 0)
        n_classes = 0;
    if (!labels_of_model(m, model_path, n_classes, &l))
        return NULL;
    if (!l && !labels_imagenet(imagenet_labels, n_classes, &l))
        return NULL;
    return l ? l : labels_numbered(n_classes);
}

hl_labels *hl_labels_for_model(const hl_model *m, const char *model_path,
                               int n_classes)
{
    return hl_labels_for_model_or_imagenet(m, model_path, n_classes, NULL);
}
