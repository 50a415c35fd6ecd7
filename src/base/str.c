/* str.c - copies of strings (str.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

char *mp_strdup(const char *s)
{
    size_t size = strlen(s) + 1;
    char *copy = malloc(size);
    if (copy)
        memcpy(copy, s, size);
    return copy;
}

char **mp_strv_dup(size_t n, const char *(*nth)(const void *src, size_t i), const void *src)
{
    if (n >= SIZE_MAX / sizeof(char *))
        return NULL;
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        size_t size = strlen(nth(src, i)) + 1;
        if (size > SIZE_MAX - bytes)
            return NULL;
        bytes += size;
    }
    char **block = malloc(bytes);
    if (block == NULL)
        return NULL;
    char *text = (char *)(block + n + 1);
    for (size_t i = 0; i < n; i++) {
        const char *s = nth(src, i);
        size_t size = strlen(s) + 1;
        memcpy(text, s, size);
        block[i] = text;
        text += size;
    }
    block[n] = NULL;
    return block;
}
