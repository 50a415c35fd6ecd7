/* pack_format.h - checking format strings, shared by mp_pack and
 * mp_unpack. */
#ifndef MPROC_PACK_FORMAT_H
#define MPROC_PACK_FORMAT_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/error.h"

#define MP_FORMAT_UNPACK 1u   /* unpacking: no maps, '|' inside arrays */
#define MP_FORMAT_OPTIONAL 2u /* '|' may appear at this level */

/* Check the items of fmt from *pos up to `close` ('\0' at top level) and
 * count them (not counting '|'); *pos ends after `close`. MP_EFORMAT with a
 * message for anything malformed. */
int mp_format_scan(const char *fmt, size_t *pos, char close, unsigned flags, size_t depth, uint32_t *count);

/* What each character is in a format: MP_LETTER_NONE for anything outside
 * the language. Closing brackets are NONE too: the scanners match them
 * before they look a character up. */
enum mp_letter {
    MP_LETTER_NONE,
    MP_LETTER_IGNORED,  /* space, tab, comma, colon */
    MP_LETTER_PLAIN,    /* a value of its own: n ? i I q Q d f z e V O */
    MP_LETTER_STR,      /* s, which '#' may follow */
    MP_LETTER_BIN,      /* y, which '#' must follow */
    MP_LETTER_OPEN,     /* ( [ { */
    MP_LETTER_OPTIONAL, /* | */
};
extern const unsigned char mp_letters[UCHAR_MAX + 1];

static inline enum mp_letter mp_letter_of(char c)
{
    return (enum mp_letter)mp_letters[(unsigned char)c];
}

/* True for a format of letters alone (no brackets, no '|'), each with the
 * '#' it needs. Such a format is well-formed under any flags, so one quick
 * pass replaces the scan; this is the short format of the hot calls. */
static inline bool mp_format_flat(const char *fmt)
{
    for (size_t i = 0; fmt[i] != '\0'; i++) {
        switch (mp_letter_of(fmt[i])) {
        case MP_LETTER_IGNORED:
        case MP_LETTER_PLAIN:
            break;
        case MP_LETTER_STR:
            if (fmt[i + 1] == '#')
                i++;
            break;
        case MP_LETTER_BIN:
            if (fmt[i + 1] != '#')
                return false;
            i++;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Check a whole format as mp_format_scan does from its top level. MP_OK or
 * MP_EFORMAT. */
static inline int mp_format_check(const char *fmt, unsigned flags)
{
    if (mp_format_flat(fmt))
        return MP_OK;
    size_t pos = 0;
    uint32_t n;
    return mp_format_scan(fmt, &pos, '\0', flags, 0, &n);
}

typedef struct mp_buf mp_buf;

/* The items of fmt as one array, as "(fmt)" would pack them, without a
 * format made for it; fmt NULL is no items. Each 'O' hands objects to the
 * object hook (object_hook.h). */
int mp_vpack_array(mp_buf *b, const char *fmt, va_list ap, void *objects);

/* One message from a format: a single value as itself, several as an
 * array of them (Connection.send, Queue.put). */
int mp_pack_message(mp_buf *b, const char *fmt, va_list ap);

#endif
