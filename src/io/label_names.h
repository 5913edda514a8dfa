/* Class labels as people read them. ImageNet labels are lists of synonyms
 * ("dragonfly, darning needle, devil's darning needle, sewing needle, snake
 * feeder, snake doctor, mosquito hawk, skeeter hawk"): the window, the
 * exports and the reports show the first one (the full label goes in a
 * tooltip or the metadata), and a class may be named by any one of them.
 */
#ifndef HL_LABEL_NAMES_H
#define HL_LABEL_NAMES_H

#include <stddef.h>

/* The first synonym of label (up to the first comma, trimmed) into out;
 * the label itself when it has no comma. Returns out. */
char *hl_label_short(const char *label, char *out, size_t size);

/* The class named by query: the whole label or any one of its synonyms,
 * ignoring case and surrounding spaces. Returns the class index, or -1
 * when no label matches or when several do (then `message` says which
 * ones); on no match, `message` lists up to five close labels (containing
 * the query, or within two edits of a synonym). message may be NULL. */
int hl_label_find(const char *const *labels, int n, const char *query,
                  char *message, size_t size);

#endif
