/* cmdline.c - parsing and quoting command lines by the C runtime's rules
 * (cmdline.h). A helper of this program (program.c) and of starting children
 * (child_start.c). */
#include <windows.h>

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "base/error_internal.h"
#include "utf.h"

static bool is_blank(wchar_t c)
{
    return c == L' ' || c == L'\t';
}

/* Write the arguments of p into out, each NUL-terminated; return how many.
 * Every character written consumes one of p, and every NUL after the first
 * follows a consumed blank, so out needs wcslen(p) + 1 characters. */
static int split(const wchar_t *p, wchar_t *out)
{
    bool quoted = false;
    for (; *p != L'\0' && (quoted || !is_blank(*p)); p++) {
        if (*p == L'"')
            quoted = !quoted;
        else
            *out++ = *p;
    }
    *out++ = L'\0';

    int argc = 1;
    quoted = false;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == L'\0')
            return argc;
        argc++;
        for (;;) {
            size_t slashes = 0;
            while (*p == L'\\') {
                slashes++;
                p++;
            }
            bool literal = true;
            if (*p == L'"') {
                if (slashes % 2 == 0) {
                    if (quoted && p[1] == L'"')
                        p++;
                    else {
                        literal = false;
                        quoted = !quoted;
                    }
                }
                slashes /= 2;
            }
            for (; slashes > 0; slashes--)
                *out++ = L'\\';
            if (*p == L'\0' || (!quoted && is_blank(*p)))
                break;
            if (literal)
                *out++ = *p;
            p++;
        }
        *out++ = L'\0';
    }
}

int mp_win_cmdline_parse(const wchar_t *cmdline, int *argc, char ***argv)
{
    if (cmdline == NULL || argc == NULL || argv == NULL)
        return mp_fail(MP_EINVAL, "mp_win_cmdline_parse: NULL argument");
    size_t len = wcslen(cmdline);
    if (len >= INT_MAX / 4)
        return mp_fail(MP_ETOOBIG, "command line of %lu characters is too long", (unsigned long)len);
    wchar_t *wide = malloc((len + 1) * sizeof *wide);
    if (wide == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int n = split(cmdline, wide);

    size_t bytes = (size_t)(n + 1) * sizeof(char *);
    const wchar_t *w = wide;
    for (int i = 0; i < n; i++, w += wcslen(w) + 1)
        bytes += (size_t)WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char **block = malloc(bytes);
    if (block == NULL) {
        free(wide);
        return mp_fail(MP_ENOMEM, "out of memory");
    }
    char *text = (char *)(block + n + 1);
    w = wide;
    for (int i = 0; i < n; i++, w += wcslen(w) + 1) {
        block[i] = text;
        text += WideCharToMultiByte(CP_UTF8, 0, w, -1, text, (int)((char *)block + bytes - text), NULL, NULL);
    }
    block[n] = NULL;
    free(wide);
    *argc = n;
    *argv = block;
    return MP_OK;
}

static bool needs_quotes(const wchar_t *arg)
{
    return *arg == L'\0' || wcspbrk(arg, L" \t\"") != NULL;
}

/* Write arg quoted; return the end. Backslashes double only where a quote
 * follows them: an escaped quote, or the closing one. */
static wchar_t *put_quoted(wchar_t *o, const wchar_t *arg)
{
    *o++ = L'"';
    for (;;) {
        size_t slashes = 0;
        while (*arg == L'\\') {
            slashes++;
            arg++;
        }
        if (*arg == L'\0' || *arg == L'"')
            slashes *= 2;
        for (; slashes > 0; slashes--)
            *o++ = L'\\';
        if (*arg == L'\0')
            break;
        if (*arg == L'"')
            *o++ = L'\\';
        *o++ = *arg++;
    }
    *o++ = L'"';
    return o;
}

/* Widen every argument into wide; *cap is the worst case of the line: every
 * character a quote or a backslash, each doubled, plus two quotes and a
 * separator per argument, and the final NUL. */
static int widen_all(const char *const *argv, size_t argc, wchar_t **wide, size_t *cap)
{
    *cap = 1;
    for (size_t i = 0; i < argc; i++) {
        if (argv[i] == NULL)
            return mp_fail(MP_EINVAL, "command line argument %lu is NULL", (unsigned long)i);
        int rc = mp_win_widen(argv[i], &wide[i]);
        if (rc != MP_OK)
            return rc;
        *cap += 2 * wcslen(wide[i]) + 3;
    }
    if (wcschr(wide[0], L'"') != NULL)
        return mp_fail(MP_EINVAL, "a program path cannot hold a double quote: %s", argv[0]);
    return MP_OK;
}

static void write_line(wchar_t *o, wchar_t *const *wide, size_t argc)
{
    /* argv[0] knows no escapes: quotes around it cover any blank. */
    *o++ = L'"';
    wcscpy(o, wide[0]);
    o += wcslen(wide[0]);
    *o++ = L'"';
    for (size_t i = 1; i < argc; i++) {
        *o++ = L' ';
        if (needs_quotes(wide[i]))
            o = put_quoted(o, wide[i]);
        else {
            wcscpy(o, wide[i]);
            o += wcslen(wide[i]);
        }
    }
    *o = L'\0';
}

int mp_win_cmdline_build(const char *const *argv, size_t argc, wchar_t **out)
{
    if (argv == NULL || argc == 0 || out == NULL)
        return mp_fail(MP_EINVAL, "mp_win_cmdline_build: no arguments");
    wchar_t **wide = calloc(argc, sizeof *wide);
    if (wide == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    size_t cap;
    int rc = widen_all(argv, argc, wide, &cap);
    if (rc == MP_OK) {
        wchar_t *line = malloc(cap * sizeof *line);
        if (line == NULL)
            rc = mp_fail(MP_ENOMEM, "out of memory");
        else {
            write_line(line, wide, argc);
            *out = line;
        }
    }
    for (size_t i = 0; i < argc; i++)
        free(wide[i]);
    free(wide);
    return rc;
}
