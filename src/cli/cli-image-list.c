/* Listing, sorting, naming and sharding the images of a batch. */
#include "cli-image-list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli-options.h"

static const char *const image_extensions[] = {".png", ".jpg", ".jpeg", ".bmp",
                                               NULL};

static int has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && image_extensions[i]; i++)
        if (g_ascii_strcasecmp(dot, image_extensions[i]) == 0)
            return 1;
    return 0;
}

char *cli_path_stem(const char *path)
{
    char *base = g_path_get_basename(path);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    return base;
}

static int compare_paths(const void *a, const void *b)
{
    const char *const *pa = a, *const *pb = b;
    return strcmp(*pa, *pb);
}

/* Stems over the sorted list: the plain stem when no other image has it;
 * otherwise stem-EXT ("cat-png", "cat-jpg"); a name already taken (a path
 * listed twice, a folder "cat-png" of its own) gets -2, -3, ... in list
 * order. Names the batch writes itself are never used. */
static int assign_stems(cli_image_list *l)
{
    GHashTable *count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *used = g_hash_table_new(g_str_hash, g_str_equal);
    static const char *const reserved[] = {"manifest.jsonl", "batch.json", ".",
                                           "..", NULL};
    for (int i = 0; reserved[i]; i++)
        g_hash_table_add(used, (gpointer)reserved[i]);
    for (int i = 0; i < l->n; i++) {
        char *stem = cli_path_stem(l->items[i].path);
        gpointer old = g_hash_table_lookup(count, stem);
        g_hash_table_replace(count, stem, GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
    }
    for (int i = 0; i < l->n; i++) {
        char *stem = cli_path_stem(l->items[i].path);
        if (stem[0] == '\0' || stem[0] == '.') {
            char *named = g_strconcat("_", stem, NULL);
            g_free(stem);
            stem = named;
        }
        char *want;
        const char *dot = strrchr(l->items[i].path, '.');
        const char *slash = strrchr(l->items[i].path, '/');
        char *plain = cli_path_stem(l->items[i].path);
        int shared = GPOINTER_TO_INT(g_hash_table_lookup(count, plain)) > 1;
        g_free(plain);
        if (shared && dot && (!slash || dot > slash) && dot[1])
            want = g_strdup_printf("%s-%s", stem, dot + 1);
        else
            want = g_strdup(stem);
        g_free(stem);
        char *name = g_strdup(want);
        for (int k = 2; g_hash_table_contains(used, name); k++) {
            g_free(name);
            name = g_strdup_printf("%s-%d", want, k);
        }
        g_free(want);
        l->items[i].stem = name;
        g_hash_table_add(used, name);
    }
    g_hash_table_destroy(used);
    g_hash_table_destroy(count);
    return 0;
}

/* Sort the collected paths and build the items. Takes the array. */
static int finish(char **paths, int n, cli_image_list *out)
{
    qsort(paths, (size_t)n, sizeof *paths, compare_paths);
    out->items = g_new0(cli_image_item, n > 0 ? n : 1);
    out->n = out->total = n;
    for (int i = 0; i < n; i++) {
        out->items[i].path = paths[i];
        out->items[i].index = i;
    }
    g_free(paths);
    return assign_stems(out);
}

int cli_image_list_from_dir(const char *dir, cli_image_list *out)
{
    memset(out, 0, sizeof *out);
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        cli_fail("--images: %s", gerr->message);
        g_error_free(gerr);
        return 1;
    }
    GPtrArray *paths = g_ptr_array_new();
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.' || !has_image_extension(name))
            continue;
        char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(paths, path);
        else
            g_free(path);
    }
    g_dir_close(d);
    int n = (int)paths->len;
    char **items = (char **)g_ptr_array_free(paths, FALSE);
    if (n == 0) {
        g_free(items);
        return cli_fail("--images: %s has no .png, .jpg, .jpeg or .bmp file", dir);
    }
    return finish(items, n, out);
}

int cli_image_list_from_file(const char *file, cli_image_list *out)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(file, &text, NULL, &gerr)) {
        cli_fail("--list: %s", gerr->message);
        g_error_free(gerr);
        return 1;
    }
    GPtrArray *paths = g_ptr_array_new();
    char **lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        g_ptr_array_add(paths, g_strdup(line));
    }
    g_strfreev(lines);
    g_free(text);
    int n = (int)paths->len;
    char **items = (char **)g_ptr_array_free(paths, FALSE);
    if (n == 0) {
        g_free(items);
        return cli_fail("--list: %s names no image (one path per line)", file);
    }
    return finish(items, n, out);
}

void cli_image_list_shard(cli_image_list *l, int shard, int n_shards)
{
    int kept = 0;
    for (int i = 0; i < l->n; i++) {
        if (l->items[i].index % n_shards == shard) {
            l->items[kept++] = l->items[i];
        } else {
            g_free(l->items[i].path);
            g_free(l->items[i].stem);
        }
    }
    l->n = kept;
}

void cli_image_list_clear(cli_image_list *l)
{
    for (int i = 0; i < l->n; i++) {
        g_free(l->items[i].path);
        g_free(l->items[i].stem);
    }
    g_free(l->items);
    memset(l, 0, sizeof *l);
}
