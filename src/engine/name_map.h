/* A string -> int hash map (open addressing, linear probing) for the
 * loader: value names to value ids, so a model of n nodes loads in O(n)
 * name lookups instead of a scan over every value per input. Keys are
 * borrowed: they must outlive the map (model arena, protobuf message). */
#ifndef HL_NAME_MAP_H
#define HL_NAME_MAP_H

#include <stddef.h>

typedef struct hl_name_map {
    const char **keys;  /* NULL: empty slot */
    int *values;
    size_t cap;         /* a power of two, or 0 */
    size_t n;
} hl_name_map;

/* The value of `key`, or -1 when absent. */
int hl_name_map_get(const hl_name_map *map, const char *key);
/* Sets (adds or replaces) key -> value; 0, or -1 when out of memory. */
int hl_name_map_set(hl_name_map *map, const char *key, int value);
void hl_name_map_free(hl_name_map *map);

#endif
