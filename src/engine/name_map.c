/* String -> int hash map of the loader (name_map.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name_map.h"

/* FNV-1a */
static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static size_t slot_of(const hl_name_map *map, const char *key)
{
    size_t mask = map->cap - 1;
    size_t i = name_hash(key) & mask;
    while (map->keys[i] && strcmp(map->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

int hl_name_map_get(const hl_name_map *map, const char *key)
{
    if (!map->cap || !key)
        return -1;
    size_t i = slot_of(map, key);
    return map->keys[i] ? map->values[i] : -1;
}

/* Doubles the table (kept at most half full). */
static int grow(hl_name_map *map)
{
    size_t cap = map->cap ? 2 * map->cap : 64;
    hl_name_map bigger = { calloc(cap, sizeof *bigger.keys),
                           malloc(cap * sizeof *bigger.values), cap, 0 };
    if (!bigger.keys || !bigger.values) {
        free(bigger.keys);
        free(bigger.values);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++)
        if (map->keys[i]) {
            size_t j = slot_of(&bigger, map->keys[i]);
            bigger.keys[j] = map->keys[i];
            bigger.values[j] = map->values[i];
            bigger.n++;
        }
    hl_name_map_free(map);
    *map = bigger;
    return 0;
}

int hl_name_map_set(hl_name_map *map, const char *key, int value)
{
    if (2 * (map->n + 1) > map->cap && grow(map))
        return -1;
    size_t i = slot_of(map, key);
    if (!map->keys[i]) {
        map->keys[i] = key;
        map->n++;
    }
    map->values[i] = value;
    return 0;
}

void hl_name_map_free(hl_name_map *map)
{
    free(map->keys);
    free(map->values);
    map->keys = NULL;
    map->values = NULL;
    map->cap = map->n = 0;
}
