/* pack_format.h - checking format strings, shared by mp_pack and
 * mp_unpack. */
#ifndef MPROC_PACK_FORMAT_H
#define MPROC_PACK_FORMAT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_FORMAT_UNPACK 1u   /* unpacking: no maps, '|' inside arrays */
#define MP_FORMAT_OPTIONAL 2u /* '|' may appear at this level */

/* Check the items of fmt from *pos up to `close` ('\0' at top level) and
 * count them (not counting '|'); *pos ends after `close`. MP_EFORMAT with a
 * message for anything malformed. */
int mp_format_scan(const char *fmt, size_t *pos, char close, unsigned flags, size_t depth, uint32_t *count);

/* One message from a format: a single value as itself, several as an
 * array of them (Connection.send, Queue.put). */
typedef struct mp_buf mp_buf;
int mp_pack_message(mp_buf *b, const char *fmt, va_list ap);

#endif
