/* File helpers shared by the test programs. */
#ifndef HL_TEST_FILES_H
#define HL_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file in a malloc'd buffer (size in *size), or NULL. */
__attribute__((unused))
static unsigned char *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = p && n > 0 ? (size_t)n : 0;
    return p;
}

#endif
