/* utf8.h - strict UTF-8 validation: shortest forms only, no surrogates,
 * nothing above U+10FFFF. Embedded NULs are valid UTF-8. */
#ifndef MPROC_UTF8_H
#define MPROC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool mp_utf8_valid(const void *data, size_t len);

#endif
