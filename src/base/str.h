/* str.h - copies of strings that the core keeps (C11 has no strdup). */
#ifndef MPROC_STR_H
#define MPROC_STR_H

#include <stddef.h>

/* A malloc'd copy of s, or NULL when out of memory. */
char *mp_strdup(const char *s);

/* Copies of n strings, nth(src, i) for each i, with a NULL after them: an
 * argv in one malloc'd block, so one free() releases it. NULL when out of
 * memory. */
char **mp_strv_dup(size_t n, const char *(*nth)(const void *src, size_t i), const void *src);

#endif
