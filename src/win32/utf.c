/* utf.c - UTF-8 <-> UTF-16 at the OS boundary (utf.h). A helper of every
 * section that hands strings to Windows. */
#include <windows.h>

#include <stdlib.h>

#include "base/error_internal.h"
#include "utf.h"

int mp_win_widen(const char *s, wchar_t **out)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return mp_fail_os(MP_EINVAL, (int)GetLastError(), "string is not valid UTF-8");
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    *out = w;
    return MP_OK;
}

int mp_win_narrow(const wchar_t *s, char **out)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return mp_fail_os(MP_EINVAL, (int)GetLastError(), "UTF-16 string too long to convert");
    char *u = malloc((size_t)n);
    if (u == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    WideCharToMultiByte(CP_UTF8, 0, s, -1, u, n, NULL, NULL);
    *out = u;
    return MP_OK;
}
