/* manifest.jsonl and batch.json: writing, reading, keys. */
#include "cli-manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli-options.h"

static int member_number(JsonObject *o, const char *name, double *out);

/* ------------------------------------------------------------ writing */

static void put_string(GString *s, const char *v)
{
    if (!v) {
        g_string_append(s, "null");
        return;
    }
    g_string_append_c(s, '"');
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        switch (*c) {
        case '"': g_string_append(s, "\\\""); break;
        case '\\': g_string_append(s, "\\\\"); break;
        case '\n': g_string_append(s, "\\n"); break;
        case '\r': g_string_append(s, "\\r"); break;
        case '\t': g_string_append(s, "\\t"); break;
        default:
            if (*c < 0x20)
                g_string_append_printf(s, "\\u%04x", *c);
            else
                g_string_append_c(s, (char)*c);
        }
    }
    g_string_append_c(s, '"');
}

static void put_key(GString *s, const char *key)
{
    if (s->len > 1)
        g_string_append(s, ", ");
    put_string(s, key);
    g_string_append(s, ": ");
}

static void put_number(GString *s, const char *key, int known, double v,
                       const char *fmt)
{
    put_key(s, key);
    if (known && isfinite(v))
        g_string_append_printf(s, fmt, v);
    else
        g_string_append(s, "null");
}

char *cli_manifest_format(const cli_manifest_line *l)
{
    GString *s = g_string_new("{");
    put_key(s, "image"); put_string(s, l->image);
    put_key(s, "stem"); put_string(s, l->stem);
    put_key(s, "image_sha256"); put_string(s, l->image_sha256);
    put_key(s, "model"); put_string(s, l->model);
    put_key(s, "model_sha256"); put_string(s, l->model_sha256);
    put_key(s, "method"); put_string(s, l->method);
    put_key(s, "params");
    g_string_append_c(s, '{');
    for (int i = 0; l->params && l->params[i]; i++) {
        const char *eq = strchr(l->params[i], '=');
        char *name = g_strndup(l->params[i], eq ? (gsize)(eq - l->params[i])
                                                : strlen(l->params[i]));
        g_string_append(s, i ? ", " : "");
        put_string(s, name);
        g_string_append(s, ": ");
        put_string(s, eq ? eq + 1 : "");
        g_free(name);
    }
    g_string_append_c(s, '}');
    put_key(s, "targets"); put_string(s, l->targets);
    put_key(s, "target_request"); put_string(s, l->target_request);
    put_key(s, "target");
    if (l->has_target)
        g_string_append_printf(s, "%d", l->target);
    else
        g_string_append(s, "null");
    put_key(s, "label"); put_string(s, l->has_target ? l->label : NULL);
    put_number(s, "probability", l->has_target && l->probability >= 0,
               l->probability, "%.9g");
    put_number(s, "delta", l->has_delta, l->delta, "%.9g");
    put_number(s, "seconds", 1, l->seconds, "%.6f");
    put_key(s, "formats"); put_string(s, l->formats);
    put_key(s, "viz"); put_string(s, l->viz ? l->viz : "");
    put_key(s, "outputs");
    g_string_append_c(s, '[');
    for (int i = 0; l->outputs && l->outputs[i]; i++) {
        g_string_append(s, i ? ", " : "");
        put_string(s, l->outputs[i]);
    }
    g_string_append_c(s, ']');
    put_key(s, "error"); put_string(s, l->error);
    if (l->evaluate) {
        put_key(s, "evaluate"); put_string(s, l->evaluate);
        put_key(s, "metrics");
        GString *m = g_string_new("{");
        put_number(m, "infidelity", 1, l->infidelity, "%.9g");
        put_number(m, "sensitivity_max", 1, l->sensitivity, "%.9g");
        put_number(m, "deletion_auc", 1, l->deletion_auc, "%.9g");
        put_number(m, "insertion_auc", 1, l->insertion_auc, "%.9g");
        put_number(m, "randomization_spearman", 1, l->randomization_spearman, "%.9g");
        put_key(m, "randomization_flagged");
        g_string_append(m, l->randomization_flagged < 0 ? "null"
                           : l->randomization_flagged ? "true" : "false");
        g_string_append_c(m, '}');
        g_string_append(s, m->str);
        g_string_free(m, TRUE);
    }
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

void cli_manifest_line_no_metrics(cli_manifest_line *l)
{
    l->infidelity = l->sensitivity = l->deletion_auc = l->insertion_auc = NAN;
    l->randomization_spearman = NAN;
    l->randomization_flagged = -1;
}

/* The "metrics" object of a line, if any. */
static void read_metrics(JsonObject *o, cli_manifest_line *out)
{
    JsonNode *n = json_object_get_member(o, "metrics");
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_OBJECT)
        return;
    JsonObject *m = json_node_get_object(n);
    member_number(m, "infidelity", &out->infidelity);
    member_number(m, "sensitivity_max", &out->sensitivity);
    member_number(m, "deletion_auc", &out->deletion_auc);
    member_number(m, "insertion_auc", &out->insertion_auc);
    member_number(m, "randomization_spearman", &out->randomization_spearman);
    JsonNode *f = json_object_get_member(m, "randomization_flagged");
    if (f && JSON_NODE_TYPE(f) == JSON_NODE_VALUE &&
        json_node_get_value_type(f) == G_TYPE_BOOLEAN)
        out->randomization_flagged = json_node_get_boolean(f);
}

/* ------------------------------------------------------------ reading */

static char *member_string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE ||
        json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

static int member_number(JsonObject *o, const char *name, double *out)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE)
        return 0;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64)
        *out = (double)json_node_get_int(n);
    else if (t == G_TYPE_DOUBLE)
        *out = json_node_get_double(n);
    else
        return 0;
    return 1;
}

static char **member_strings(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_ARRAY)
        return NULL;
    JsonArray *a = json_node_get_array(n);
    guint len = json_array_get_length(a);
    char **v = g_new0(char *, len + 1);
    for (guint i = 0; i < len; i++) {
        JsonNode *e = json_array_get_element(a, i);
        v[i] = g_strdup(JSON_NODE_TYPE(e) == JSON_NODE_VALUE &&
                        json_node_get_value_type(e) == G_TYPE_STRING
                            ? json_node_get_string(e) : "");
    }
    return v;
}

static JsonObject *parse_object(const char *text, JsonParser **parser,
                                char **why)
{
    GError *gerr = NULL;
    *parser = json_parser_new();
    if (!json_parser_load_from_data(*parser, text, -1, &gerr)) {
        *why = g_strdup(gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(*parser);
    if (!root || JSON_NODE_TYPE(root) != JSON_NODE_OBJECT) {
        *why = g_strdup("not a JSON object");
        return NULL;
    }
    return json_node_get_object(root);
}

int cli_manifest_parse(const char *text, cli_manifest_line *out, char **why)
{
    memset(out, 0, sizeof *out);
    JsonParser *parser = NULL;
    JsonObject *o = parse_object(text, &parser, why);
    if (!o) {
        g_object_unref(parser);
        return -1;
    }
    out->text = g_strdup(text);
    out->image = member_string(o, "image");
    out->stem = member_string(o, "stem");
    out->image_sha256 = member_string(o, "image_sha256");
    out->model = member_string(o, "model");
    out->model_sha256 = member_string(o, "model_sha256");
    out->method = member_string(o, "method");
    out->targets = member_string(o, "targets");
    out->target_request = member_string(o, "target_request");
    out->formats = member_string(o, "formats");
    out->viz = member_string(o, "viz");
    out->label = member_string(o, "label");
    out->error = member_string(o, "error");
    out->outputs = member_strings(o, "outputs");
    out->evaluate = member_string(o, "evaluate");
    cli_manifest_line_no_metrics(out);
    read_metrics(o, out);
    double v;
    if (member_number(o, "target", &v)) {
        out->has_target = 1;
        out->target = (int)v;
    }
    out->probability = member_number(o, "probability", &v) ? v : -1;
    out->has_delta = member_number(o, "delta", &out->delta);
    member_number(o, "seconds", &out->seconds);
    JsonNode *pn = json_object_get_member(o, "params");
    if (pn && JSON_NODE_TYPE(pn) == JSON_NODE_OBJECT) {
        JsonObject *po = json_node_get_object(pn);
        GList *names = json_object_get_members(po);
        out->params = g_new0(char *, g_list_length(names) + 1);
        int i = 0;
        for (GList *l = names; l; l = l->next) {
            JsonNode *e = json_object_get_member(po, l->data);
            const char *value = JSON_NODE_TYPE(e) == JSON_NODE_VALUE &&
                                json_node_get_value_type(e) == G_TYPE_STRING
                                    ? json_node_get_string(e) : "";
            out->params[i++] = g_strdup_printf("%s=%s", (char *)l->data, value);
        }
        g_list_free(names);
    }
    g_object_unref(parser);
    if (!out->stem || !out->method || !out->target_request || !out->outputs) {
        *why = g_strdup("a manifest line needs stem, method, target_request "
                        "and outputs");
        cli_manifest_line_clear(out);
        return -1;
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *cli_manifest_identity(const cli_manifest_line *l)
{
    return g_strjoin("\x1f", l->stem, l->method, l->target_request, NULL);
}

char *cli_manifest_key(const cli_manifest_line *l)
{
    guint n = l->params ? g_strv_length(l->params) : 0;
    char **sorted = g_new0(char *, n + 1);
    memcpy(sorted, l->params, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    char *params = g_strjoinv("\x1e", sorted);
    g_free(sorted);
    char *key = g_strjoin("\x1f", l->stem, l->image_sha256 ? l->image_sha256 : "",
                          l->model_sha256 ? l->model_sha256 : "", l->method,
                          params, l->target_request,
                          l->formats ? l->formats : "", l->viz ? l->viz : "",
                          l->evaluate ? l->evaluate : "", NULL);
    g_free(params);
    return key;
}

void cli_manifest_line_clear(cli_manifest_line *l)
{
    g_free(l->text);
    g_free(l->image);
    g_free(l->stem);
    g_free(l->image_sha256);
    g_free(l->model);
    g_free(l->model_sha256);
    g_free(l->method);
    g_strfreev(l->params);
    g_free(l->targets);
    g_free(l->target_request);
    g_free(l->formats);
    g_free(l->viz);
    g_free(l->label);
    g_strfreev(l->outputs);
    g_free(l->error);
    g_free(l->evaluate);
    memset(l, 0, sizeof *l);
}

int cli_manifest_read(const char *path, cli_manifest *m)
{
    memset(m, 0, sizeof *m);
    char *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        int missing = g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        if (!missing)
            cli_fail("%s", gerr->message);
        g_error_free(gerr);
        return missing ? 0 : 1;
    }
    char **lines = g_strsplit(text, "\n", -1);
    int n_lines = (int)g_strv_length(lines);
    /* Lines end with '\n': the text after the last one (the last piece of
     * the split) was never completed. */
    int complete = n_lines - 1;
    if (n_lines > 0 && lines[n_lines - 1][0])
        m->torn = 1;
    m->lines = g_new0(cli_manifest_line, complete > 0 ? complete : 1);
    int status = 0;
    for (int i = 0; i < complete; i++) {
        if (lines[i][0] == '\0')
            continue;
        char *why = NULL;
        if (cli_manifest_parse(lines[i], &m->lines[m->n], &why) == 0) {
            m->n++;
        } else if (i == complete - 1 && !m->torn) {
            m->torn = 1;   /* a last line cut short by a crash */
            g_free(why);
        } else {
            cli_fail("%s:%d: not a manifest line (%s)", path, i + 1, why);
            g_free(why);
            status = 1;
            break;
        }
    }
    g_strfreev(lines);
    g_free(text);
    if (status)
        cli_manifest_clear(m);
    return status;
}

void cli_manifest_clear(cli_manifest *m)
{
    for (int i = 0; i < m->n; i++)
        cli_manifest_line_clear(&m->lines[i]);
    g_free(m->lines);
    memset(m, 0, sizeof *m);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int cli_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    /* Some file systems cannot sync a folder; the data is safe anyway. */
    return r == 0 || errno == EINVAL || errno == EBADF ? 0 : -1;
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
    char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_fail("%s: cannot write: %s", path, strerror(errno));
        g_free(tmp);
        return 1;
    }
    int bad = write_all(fd, data, len) != 0 || fsync(fd) != 0;
    int saved = errno;
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        cli_fail("%s: cannot write: %s", path, strerror(bad ? saved : errno));
        unlink(tmp);
        g_free(tmp);
        return 1;
    }
    g_free(tmp);
    char *dir = g_path_get_dirname(path);
    cli_fsync_path(dir);
    g_free(dir);
    return 0;
}

int cli_manifest_rewrite(const char *path, char *const *texts, int n)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        g_string_append(s, texts[i]);
        g_string_append_c(s, '\n');
    }
    int status = write_file_atomic(path, s->str, s->len);
    g_string_free(s, TRUE);
    return status;
}

struct cli_manifest_writer {
    int fd;
    char *path;
    GMutex lock;
};

cli_manifest_writer *cli_manifest_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    cli_manifest_writer *w = g_new0(cli_manifest_writer, 1);
    w->fd = fd;
    w->path = g_strdup(path);
    g_mutex_init(&w->lock);
    char *dir = g_path_get_dirname(path);
    cli_fsync_path(dir);
    g_free(dir);
    return w;
}

int cli_manifest_append(cli_manifest_writer *w, const char *text)
{
    char *line = g_strconcat(text, "\n", NULL);
    g_mutex_lock(&w->lock);
    int bad = write_all(w->fd, line, strlen(line)) != 0 || fsync(w->fd) != 0;
    int saved = errno;
    g_mutex_unlock(&w->lock);
    g_free(line);
    if (bad)
        return cli_fail("%s: cannot append: %s", w->path, strerror(saved));
    return 0;
}

void cli_manifest_close(cli_manifest_writer *w)
{
    if (!w)
        return;
    close(w->fd);
    g_mutex_clear(&w->lock);
    g_free(w->path);
    g_free(w);
}

/* ------------------------------------------------------------ batch.json */

static void add_strings(JsonBuilder *b, const char *name, char *const *v)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; v && v[i]; i++)
        json_builder_add_string_value(b, v[i]);
    json_builder_end_array(b);
}

static void add_string(JsonBuilder *b, const char *name, const char *v)
{
    json_builder_set_member_name(b, name);
    if (v)
        json_builder_add_string_value(b, v);
    else
        json_builder_add_null_value(b);
}

int cli_batch_plan_write(const char *path, const cli_batch_plan *p)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "heatlens", HL_VERSION);
    add_string(b, "model", p->model);
    add_string(b, "model_sha256", p->model_sha256);
    add_strings(b, "methods", p->methods);
    add_string(b, "targets", p->targets);
    add_string(b, "formats", p->formats);
    add_string(b, "viz", p->viz);
    add_strings(b, "preprocess", p->preprocess);
    add_string(b, "labels", p->labels);
    json_builder_set_member_name(b, "shard");
    json_builder_add_int_value(b, p->shard);
    json_builder_set_member_name(b, "shards");
    json_builder_add_int_value(b, p->n_shards);
    json_builder_set_member_name(b, "images_total");
    json_builder_add_int_value(b, p->total);
    json_builder_set_member_name(b, "images");
    json_builder_begin_array(b);
    for (int i = 0; i < p->n_images; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "index");
        json_builder_add_int_value(b, p->images[i].index);
        add_string(b, "image", p->images[i].image);
        add_string(b, "stem", p->images[i].stem);
        add_strings(b, "targets", p->images[i].targets);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, TRUE);
    gsize len = 0;
    char *text = json_generator_to_data(g, &len);
    char *with_newline = g_strconcat(text, "\n", NULL);
    int status = write_file_atomic(path, with_newline, len + 1);
    g_free(with_newline);
    g_free(text);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
    return status;
}

int cli_batch_plan_read(const char *path, cli_batch_plan *p)
{
    memset(p, 0, sizeof *p);
    char *text = NULL, *why = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        cli_fail("%s (is it a folder written by '%s batch'?)", gerr->message,
                 CLI_PROG);
        g_error_free(gerr);
        return 1;
    }
    JsonParser *parser = NULL;
    JsonObject *o = parse_object(text, &parser, &why);
    g_free(text);
    double v;
    JsonNode *images = o ? json_object_get_member(o, "images") : NULL;
    if (!o || !images || JSON_NODE_TYPE(images) != JSON_NODE_ARRAY ||
        !member_number(o, "shards", &v)) {
        cli_fail("%s: not a batch description (%s)", path,
                 why ? why : "no images or shards");
        g_free(why);
        g_object_unref(parser);
        return 1;
    }
    p->n_shards = (int)v;
    p->shard = member_number(o, "shard", &v) ? (int)v : 0;
    p->total = member_number(o, "images_total", &v) ? (int)v : 0;
    p->model = member_string(o, "model");
    p->model_sha256 = member_string(o, "model_sha256");
    p->methods = member_strings(o, "methods");
    p->targets = member_string(o, "targets");
    p->formats = member_string(o, "formats");
    p->viz = member_string(o, "viz");
    p->preprocess = member_strings(o, "preprocess");
    p->labels = member_string(o, "labels");
    JsonArray *a = json_node_get_array(images);
    p->n_images = (int)json_array_get_length(a);
    p->images = g_new0(cli_plan_image, p->n_images > 0 ? p->n_images : 1);
    for (int i = 0; i < p->n_images; i++) {
        JsonNode *e = json_array_get_element(a, (guint)i);
        if (JSON_NODE_TYPE(e) != JSON_NODE_OBJECT)
            continue;
        JsonObject *io = json_node_get_object(e);
        p->images[i].index = member_number(io, "index", &v) ? (int)v : -1;
        p->images[i].image = member_string(io, "image");
        p->images[i].stem = member_string(io, "stem");
        p->images[i].targets = member_strings(io, "targets");
    }
    g_object_unref(parser);
    if (!p->methods || p->n_shards < 1) {
        cli_batch_plan_clear(p);
        return cli_fail("%s: not a batch description (no methods)", path);
    }
    return 0;
}

void cli_batch_plan_clear(cli_batch_plan *p)
{
    for (int i = 0; i < p->n_images; i++) {
        g_free(p->images[i].image);
        g_free(p->images[i].stem);
        g_strfreev(p->images[i].targets);
    }
    g_free(p->images);
    g_free(p->model);
    g_free(p->model_sha256);
    g_strfreev(p->methods);
    g_free(p->targets);
    g_free(p->formats);
    g_free(p->viz);
    g_strfreev(p->preprocess);
    g_free(p->labels);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ SHA-256 */

int cli_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    unsigned char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        g_checksum_update(sum, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        g_checksum_free(sum);
        errno = EIO;
        return -1;
    }
    snprintf(hex, 65, "%s", g_checksum_get_string(sum));
    g_checksum_free(sum);
    return 0;
}
