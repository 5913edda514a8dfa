/* Independent checks of batch's files for test-batch.sh:
 *   check-batch-files html FILE.html STEM...
 *       FILE parses as XML with GMarkup (strict: every tag closed, entities
 *       escaped); every <img> is an inline base64 PNG (decoded, signature
 *       checked); every STEM is the data-stem of a table row with at least
 *       one picture. Prints the number of pictures.
 *   check-batch-files jsonl FILE
 *       every line is a JSON object (json-glib); prints the line count.
 * Exit status 0 when the file passes, 1 with a reason on stderr. */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct html_state {
    int images, bad_images, depth_row;
    char *row_stem;
    GHashTable *stems_with_images;
} html_state;

static const char png_signature[8] = {(char)0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static void on_start(GMarkupParseContext *ctx, const char *name,
                     const char **attr_names, const char **attr_values,
                     gpointer user, GError **error)
{
    (void)ctx;
    (void)error;
    html_state *s = user;
    if (strcmp(name, "tr") == 0) {
        g_free(s->row_stem);
        s->row_stem = NULL;
        for (int i = 0; attr_names[i]; i++)
            if (strcmp(attr_names[i], "data-stem") == 0)
                s->row_stem = g_strdup(attr_values[i]);
    }
    if (strcmp(name, "img") != 0)
        return;
    const char *src = NULL;
    for (int i = 0; attr_names[i]; i++)
        if (strcmp(attr_names[i], "src") == 0)
            src = attr_values[i];
    static const char prefix[] = "data:image/png;base64,";
    gsize len = 0;
    guchar *data = NULL;
    if (src && strncmp(src, prefix, sizeof prefix - 1) == 0)
        data = g_base64_decode(src + sizeof prefix - 1, &len);
    if (!data || len < 8 || memcmp(data, png_signature, 8) != 0) {
        s->bad_images++;
    } else {
        s->images++;
        if (s->row_stem)
            g_hash_table_add(s->stems_with_images, g_strdup(s->row_stem));
    }
    g_free(data);
}

static int check_html(const char *path, int n_stems, char **stems)
{
    char *text = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    /* GMarkup wants one root element: skip the <!DOCTYPE> line. */
    char *root = strstr(text, "<html");
    html_state s = {0};
    s.stems_with_images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GMarkupParser parser = {.start_element = on_start};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
    int status = 0;
    if (!root || !g_markup_parse_context_parse(ctx, root, -1, &err) ||
        !g_markup_parse_context_end_parse(ctx, &err)) {
        fprintf(stderr, "%s: not well-formed: %s\n", path,
                err ? err->message : "no <html> element");
        status = 1;
    } else if (s.bad_images) {
        fprintf(stderr, "%s: %d <img> are not inline base64 PNG\n", path, s.bad_images);
        status = 1;
    }
    for (int i = 0; status == 0 && i < n_stems; i++)
        if (!g_hash_table_contains(s.stems_with_images, stems[i])) {
            fprintf(stderr, "%s: no row with pictures for '%s'\n", path, stems[i]);
            status = 1;
        }
    if (status == 0)
        printf("%d\n", s.images);
    g_markup_parse_context_free(ctx);
    g_hash_table_destroy(s.stems_with_images);
    g_free(s.row_stem);
    g_clear_error(&err);
    g_free(text);
    return status;
}

static int check_jsonl(const char *path)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    char **lines = g_strsplit(text, "\n", -1);
    int n = 0, status = 0;
    JsonParser *p = json_parser_new();
    for (int i = 0; lines[i] && status == 0; i++) {
        if (!lines[i][0] && !lines[i + 1])
            break;
        if (!json_parser_load_from_data(p, lines[i], -1, &err) ||
            JSON_NODE_TYPE(json_parser_get_root(p)) != JSON_NODE_OBJECT) {
            fprintf(stderr, "%s:%d: not a JSON object\n", path, i + 1);
            status = 1;
        }
        n++;
    }
    if (status == 0)
        printf("%d\n", n);
    g_object_unref(p);
    g_strfreev(lines);
    g_free(text);
    g_clear_error(&err);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "html") == 0)
        return check_html(argv[2], argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "jsonl") == 0)
        return check_jsonl(argv[2]);
    fprintf(stderr, "usage: %s html FILE STEM... | jsonl FILE\n", argv[0]);
    return 2;
}
