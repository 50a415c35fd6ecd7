/* errors.c - the OS error code and its text, in UTF-8.
 *
 * mp_fail_os calls mp_os_error_text while it builds the thread's message,
 * so nothing here may record an error of its own. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

int mp_os_last_error(void)
{
    return (int)GetLastError();
}

/* Convert text to UTF-8 into buf, cut at a character boundary if it does not
 * fit. False if it cannot be converted. */
static bool narrow_into(const wchar_t *text, char *buf, size_t size)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL);
    char *utf8 = n > 0 ? malloc((size_t)n) : NULL;
    if (utf8 == NULL)
        return false;
    WideCharToMultiByte(CP_UTF8, 0, text, -1, utf8, n, NULL, NULL);
    size_t len = (size_t)n - 1;
    if (len >= size) {
        len = size - 1;
        while (len > 0 && ((unsigned char)utf8[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(buf, utf8, len);
    buf[len] = '\0';
    free(utf8);
    return true;
}

void mp_os_error_text(int oserr, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return;
    wchar_t *text = NULL;
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, (DWORD)oserr, 0, (LPWSTR)&text, 0, NULL);
    while (n > 0 && (text[n - 1] == L'\r' || text[n - 1] == L'\n' || text[n - 1] == L' '))
        text[--n] = L'\0';
    if (n == 0 || !narrow_into(text, buf, size))
        snprintf(buf, size, "Windows error 0x%08lx", (unsigned long)(DWORD)oserr);
    LocalFree(text);
}
