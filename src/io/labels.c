/* Class labels of a model: metadata, a labels file next to the model, or
 * class numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "preprocess.h"

/* Labels files are small; refuse anything absurd. */
#define LABELS_MAX_BYTES (16 << 20)

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
        l->names[i] = malloc(keep + 1);
        if (!l->names[i]) {
            hl_labels_free(l);
            return 0;
        }
        memcpy(l->names[i], s, keep);
        l->names[i][keep] = '\0';
        s += k + (e ? 1 : 0);
    }
    *out = l;
    return 1;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= LABELS_MAX_BYTES) {
                free(buf);
                fclose(f);
                return NULL;
            }
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (strlen(buf) != len) {   /* embedded NUL: not a text file */
        free(buf);
        return NULL;
    }
    return buf;
}

static int try_file(const char *path, int n, hl_labels **out)
{
    char *text = read_text(path);
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

/* ImageNet names from the 1001-line file (line 0 "background", as the
 * TF-slim models count): 1001 classes take it as is, 1000 classes
 * (torchvision, timm, ONNX model zoo) lines 1..1000. */
static int labels_imagenet(const char *path, int n_classes, hl_labels **found)
{
    *found = NULL;
    if (!path || (n_classes != 1000 && n_classes != 1001))
        return 1;
    hl_labels *l = NULL;
    if (!try_file(path, 1001, &l))
        return 0;
    if (!l || n_classes == 1001) {
        *found = l;
        return 1;
    }
    free(l->names[0]);
    memmove(l->names, l->names + 1, 1000 * sizeof(char *));
    l->n = 1000;
    *found = l;
    return 1;
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
