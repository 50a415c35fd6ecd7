/* utf.h - UTF-8 (the API's strings) to UTF-16 (Windows') and back. */
#ifndef MPROC_WIN32_UTF_H
#define MPROC_WIN32_UTF_H

#include <wchar.h>

/* A malloc'd UTF-16 copy of s. MP_EINVAL if s is not valid UTF-8. */
int mp_win_widen(const char *s, wchar_t **out);

/* A malloc'd UTF-8 copy of s. Unpaired surrogates, which Windows allows in
 * its strings, become U+FFFD. */
int mp_win_narrow(const wchar_t *s, char **out);

#endif
