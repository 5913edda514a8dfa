/* The images of a batch: a folder's photos or a list file's lines, sorted,
 * each with an output folder name (its stem) that no other image of the
 * whole list shares, then cut to one shard. Stems are given over the whole
 * sorted list, before sharding, so every shard names an image's folder as
 * the unsharded run does. */
#ifndef HL_CLI_IMAGE_LIST_H
#define HL_CLI_IMAGE_LIST_H

typedef struct cli_image_item {
    char *path;   /* as found: DIR/name, or the list file's line */
    char *stem;   /* output folder name, unique in the whole list */
    int index;    /* position in the sorted whole list */
} cli_image_item;

typedef struct cli_image_list {
    cli_image_item *items;
    int n;
    int total;    /* images in the whole list (before cli_image_list_shard) */
} cli_image_list;

/* The PNG, JPEG and BMP files of dir (by extension, case-insensitive; not
 * recursive; hidden files skipped). Returns 0, or 1 (printed). */
int cli_image_list_from_dir(const char *dir, cli_image_list *out);

/* One path per line of file (blank lines and lines starting with '#'
 * skipped; a path may repeat). Returns 0, or 1 (printed). */
int cli_image_list_from_file(const char *file, cli_image_list *out);

/* Keep the items whose index is shard modulo n_shards. */
void cli_image_list_shard(cli_image_list *l, int shard, int n_shards);

void cli_image_list_clear(cli_image_list *l);

/* "cat.jpg" -> "cat" (the name without folders and last extension). */
char *cli_path_stem(const char *path);

#endif
