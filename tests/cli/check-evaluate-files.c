/* Independent checks of batch --evaluate and gallery --sort-by for
 * test-batch-evaluate.sh (json-glib and GMarkup, none of the CLI's code):
 *   check-evaluate-files same MANIFEST STEM METHOD EVALUATE.json
 *       the manifest line of (STEM, METHOD) has the numbers `evaluate
 *       --json` printed: infidelity, sensitivity_max, deletion.auc,
 *       insertion.auc, the last randomisation stage's Spearman and the
 *       flag, each present in one exactly when in the other, equal within
 *       1e-5 relative (evaluate prints 6 significant digits).
 *   check-evaluate-files order GALLERY.html MANIFEST METHOD KEY low|high
 *       the gallery's rows (data-stem, in document order) are the
 *       manifest's METHOD lines sorted by metrics.KEY (or "probability"),
 *       lowest or highest first, rows without the number last; and every
 *       row with the number is shaded (a style attribute).
 * Exit status 0 when the check passes, 1 with a reason on stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

/* A number member, NaN when missing or null. */
static double number(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE)
        return NAN;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_DOUBLE)
        return json_node_get_double(n);
    if (t == G_TYPE_INT64)
        return (double)json_node_get_int(n);
    if (t == G_TYPE_BOOLEAN)
        return json_node_get_boolean(n);
    return NAN;
}

static JsonObject *object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_TYPE(n) == JSON_NODE_OBJECT ? json_node_get_object(n) : NULL;
}

/* The manifest's lines as parsed objects (kept alive by the parsers). */
static GPtrArray *read_manifest(const char *path, GPtrArray *parsers)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    GPtrArray *lines = g_ptr_array_new();
    char **split = g_strsplit(text, "\n", -1);
    for (int i = 0; split[i]; i++) {
        if (!split[i][0])
            continue;
        JsonParser *p = json_parser_new();
        g_ptr_array_add(parsers, p);
        if (json_parser_load_from_data(p, split[i], -1, NULL) &&
            JSON_NODE_TYPE(json_parser_get_root(p)) == JSON_NODE_OBJECT)
            g_ptr_array_add(lines, json_node_get_object(json_parser_get_root(p)));
    }
    g_strfreev(split);
    g_free(text);
    return lines;
}

static const char *string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_TYPE(n) == JSON_NODE_VALUE &&
           json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : "";
}

static JsonObject *find_line(GPtrArray *lines, const char *stem, const char *method)
{
    for (guint i = 0; i < lines->len; i++) {
        JsonObject *o = g_ptr_array_index(lines, i);
        if (strcmp(string(o, "stem"), stem) == 0 && strcmp(string(o, "method"), method) == 0)
            return o;
    }
    return NULL;
}

static int same_number(const char *what, double manifest, double evaluate)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%.9g", manifest);
    snprintf(b, sizeof b, "%.9g", evaluate);
    if (isnan(manifest) != isnan(evaluate))
        return fail("%s: manifest %s", what, a) || fail("  evaluate %s", b, "");
    if (!isnan(manifest) &&
        fabs(manifest - evaluate) > 1e-5 * fmax(fabs(evaluate), 1e-3))
        return fail("%s differs: manifest %s", what, a) | fail("  evaluate %s", b, "");
    printf("%s: manifest %s, evaluate %s\n", what, a, b);
    return 0;
}

static int check_same(const char *manifest, const char *stem, const char *method,
                      const char *eval_path)
{
    GPtrArray *parsers = g_ptr_array_new_with_free_func(g_object_unref);
    GPtrArray *lines = read_manifest(manifest, parsers);
    JsonParser *ep = json_parser_new();
    g_ptr_array_add(parsers, ep);
    int bad = 0;
    JsonObject *line = lines ? find_line(lines, stem, method) : NULL;
    if (!line)
        bad = fail("%s: no line for %s", manifest, stem);
    else if (!json_parser_load_from_file(ep, eval_path, NULL))
        bad = fail("%s: not JSON%s", eval_path, "");
    if (!bad) {
        JsonObject *m = object(line, "metrics");
        JsonObject *e = json_node_get_object(json_parser_get_root(ep));
        if (!m)
            return fail("%s: the line of %s has no metrics", manifest, stem);
        bad |= same_number("infidelity", number(m, "infidelity"), number(e, "infidelity"));
        bad |= same_number("sensitivity_max", number(m, "sensitivity_max"),
                           number(e, "sensitivity_max"));
        bad |= same_number("deletion AUC", number(m, "deletion_auc"),
                           number(object(e, "deletion"), "auc"));
        bad |= same_number("insertion AUC", number(m, "insertion_auc"),
                           number(object(e, "insertion"), "auc"));
        JsonObject *r = object(e, "randomization");
        double rho = NAN, flag = NAN;
        if (r) {
            JsonArray *st = json_object_get_array_member(r, "stages");
            guint n = json_array_get_length(st);
            rho = number(json_array_get_object_element(st, n - 1), "spearman");
            flag = number(r, "flagged");
        }
        bad |= same_number("randomisation Spearman", number(m, "randomization_spearman"), rho);
        bad |= same_number("randomisation flag", number(m, "randomization_flagged"), flag);
    }
    g_ptr_array_free(lines, TRUE);
    g_ptr_array_free(parsers, TRUE);
    return bad;
}

typedef struct rows {
    GPtrArray *stems;       /* in document order */
    GPtrArray *shaded;      /* "1" / "0" per row */
} rows;

static void on_start(GMarkupParseContext *ctx, const char *name, const char **names,
                     const char **values, gpointer user, GError **error)
{
    (void)ctx;
    (void)error;
    rows *r = user;
    if (strcmp(name, "tr") != 0)
        return;
    const char *stem = NULL;
    int styled = 0;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], "data-stem") == 0)
            stem = values[i];
        styled |= strcmp(names[i], "style") == 0;
    }
    if (stem) {
        g_ptr_array_add(r->stems, g_strdup(stem));
        g_ptr_array_add(r->shaded, g_strdup(styled ? "1" : "0"));
    }
}

typedef struct keyed {
    const char *stem;
    double v;
    int index;
    int high;
} keyed;

static int by_value(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (isnan(p->v) != isnan(q->v))
        return isnan(p->v) - isnan(q->v);
    if (!isnan(p->v) && p->v != q->v)
        return (p->v < q->v) == !p->high ? -1 : 1;
    return p->index - q->index;
}

static int check_order(const char *html, const char *manifest, const char *method,
                       const char *key, const char *dir)
{
    char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(html, &text, &len, NULL))
        return fail("%s: cannot read%s", html, "");
    rows r = { g_ptr_array_new_with_free_func(g_free), g_ptr_array_new_with_free_func(g_free) };
    GMarkupParser parser = { on_start, NULL, NULL, NULL, NULL };
    /* the DOCTYPE line is not XML that GMarkup reads */
    char *start = strstr(text, "<html");
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &r, NULL);
    int bad = !start || !g_markup_parse_context_parse(ctx, start, -1, NULL) ||
              !g_markup_parse_context_end_parse(ctx, NULL);
    g_markup_parse_context_free(ctx);
    g_free(text);
    if (bad)
        return fail("%s: does not parse%s", html, "");
    GPtrArray *parsers = g_ptr_array_new_with_free_func(g_object_unref);
    GPtrArray *lines = read_manifest(manifest, parsers);
    keyed *k = g_new0(keyed, r.stems->len);
    for (guint i = 0; i < r.stems->len; i++) {
        JsonObject *o = find_line(lines, g_ptr_array_index(r.stems, i), method);
        k[i].stem = g_ptr_array_index(r.stems, i);
        k[i].v = !o ? NAN : strcmp(key, "probability") == 0 ? number(o, "probability")
                                                           : number(object(o, "metrics"), key);
        k[i].high = strcmp(dir, "high") == 0;
        k[i].index = (int)i;
    }
    keyed *sorted = g_memdup2(k, r.stems->len * sizeof *k);
    qsort(sorted, r.stems->len, sizeof *sorted, by_value);
    for (guint i = 0; i < r.stems->len && !bad; i++) {
        printf("row %u: %s %s %.6g\n", i, k[i].stem, key, k[i].v);
        if (sorted[i].index != (int)i)
            bad = fail("row order is not by %s: %s is out of place", key, k[i].stem);
        if (!isnan(k[i].v) && strcmp(g_ptr_array_index(r.shaded, i), "1") != 0)
            bad = fail("row %s with a %s is not shaded", k[i].stem, key);
    }
    if (r.stems->len < 2)
        bad = fail("%s: fewer than two rows%s", html, "");
    g_free(k);
    g_free(sorted);
    g_ptr_array_free(lines, TRUE);
    g_ptr_array_free(parsers, TRUE);
    g_ptr_array_free(r.stems, TRUE);
    g_ptr_array_free(r.shaded, TRUE);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "same") == 0)
        return check_same(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 7 && strcmp(argv[1], "order") == 0)
        return check_order(argv[2], argv[3], argv[4], argv[5], argv[6]);
    fprintf(stderr, "usage: check-evaluate-files same MANIFEST STEM METHOD EVAL.json | "
                    "order GALLERY.html MANIFEST METHOD KEY low|high\n");
    return 2;
}
