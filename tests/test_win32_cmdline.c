/* test_win32_cmdline.c - Windows command lines: what mp_win_cmdline_build
 * quotes, mp_win_cmdline_parse and the C runtime of the started program
 * split back into the same argv; and the parser follows the C runtime's
 * rules on command lines written by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>

#include "win32/cmdline.h"

/* Run as the echo child: print argv as the C runtime and as mp_main saw it. */
#define ECHO_FLAG "--mpt-echo-argv"

typedef struct argvec {
    size_t n;
    const char *args[8];
} argvec;

/* Each list follows argv[0] and ECHO_FLAG on the command line. */
static const argvec cases[] = {
    {1, {""}},
    {3, {"", "", ""}},
    {4, {"a b", "c\td", " ", "\t"}},
    {4, {"\"", "\"\"", "a\"b", "\"a b\""}},
    {6, {"\\", "\\\\", "a\\", "a\\\\", "a b\\", "a b\\\\"}},
    {4, {"\\\"", "\\\\\"", "a\\\"b c", "x\\\\\\\"y"}},
    {3, {"C:\\Program Files\\x\\", "\\\\server\\share\\", "a\\\\b\\\\\\c"}},
    {5,
     {"\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87 \xe5\xad\x97", "\xf0\x9f\x98\x80", "\xc3\xbc\\\"\xc3\xa9",
      "\t\xc3\xa9\t"}},
    {5, {"--mproc-child", "-x", "a=b", "%PATH%", "^&|<>()"}},
};

/* ---- in process -------------------------------------------------------- */

static void assert_argv_equal(char **got, int got_n, const char *const *want, size_t want_n)
{
    assert_int_equal(got_n, (int)want_n);
    for (size_t i = 0; i < want_n; i++)
        assert_string_equal(got[i], want[i]);
    assert_null(got[want_n]);
}

static void round_trip(const char *const *argv, size_t n)
{
    wchar_t *line = NULL;
    MPT_OK(mp_win_cmdline_build(argv, n, &line));
    int argc = 0;
    char **back = NULL;
    MPT_OK(mp_win_cmdline_parse(line, &argc, &back));
    assert_argv_equal(back, argc, argv, n);
    free(back);
    free(line);
}

static void quoting_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[10] = {"C:\\dir with space\\\xc3\xa9\\prog.exe", ECHO_FLAG};
        memcpy(argv + 2, cases[i].args, cases[i].n * sizeof *argv);
        round_trip(argv, cases[i].n + 2);
    }
}

/* Pieces that matter to the rules, strung together at random. */
static void quoting_round_trips_random_args(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a",   " ", "\t", "\"", "\\", "\\\\", "\xc3\xa9", "\xf0\x9f\x98\x80",
                                         "\"\""};
    unsigned seed = 12345;
    char storage[6][64];
    for (int round = 0; round < 2000; round++) {
        const char *argv[7] = {"prog"};
        for (int a = 0; a < 6; a++) {
            storage[a][0] = '\0';
            seed = seed * 1103515245u + 12345u;
            int len = (int)((seed >> 16) % 7);
            for (int k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                strcat(storage[a], pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])]);
            }
            argv[a + 1] = storage[a];
        }
        round_trip(argv, 7);
    }
}

static void program_path_round_trips(void **state)
{
    (void)state;
    static const char *const paths[] = {"prog", "C:\\a b\\p.exe", "C:\\dir\\", "C:\\t\tab\\\xe4\xb8\xad.exe",
                                        ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *argv[2] = {paths[i], "x"};
        round_trip(argv, 2);
    }
}

static void build_refuses_what_cannot_round_trip(void **state)
{
    (void)state;
    wchar_t *line = NULL;
    const char *quote_in_program[1] = {"C:\\a\"b.exe"};
    MPT_CODE(mp_win_cmdline_build(quote_in_program, 1, &line), MP_EINVAL);
    const char *bad_utf8[2] = {"prog", "\xff\xfe"};
    MPT_CODE(mp_win_cmdline_build(bad_utf8, 2, &line), MP_EINVAL);
    MPT_CODE(mp_win_cmdline_build(quote_in_program, 0, &line), MP_EINVAL);
    const char *null_arg[2] = {"prog", NULL};
    MPT_CODE(mp_win_cmdline_build(null_arg, 2, &line), MP_EINVAL);
    assert_null(line);
}

typedef struct parse_case {
    const wchar_t *line;
    size_t n;
    const char *argv[5];
} parse_case;

/* The C runtime's documented examples, and argv[0]'s own rules. Real
 * MSVCRT is the reference here: Wine's msvcrt also escapes quotes in
 * argv[0], so these are not checked against the runtime. */
static const parse_case parse_cases[] = {
    {L"p \"a b c\" d e", 4, {"p", "a b c", "d", "e"}},
    {L"p \"ab\\\"c\" \"\\\\\" d", 4, {"p", "ab\"c", "\\", "d"}},
    {L"p a\\\\\\b d\"e f\"g h", 4, {"p", "a\\\\\\b", "de fg", "h"}},
    {L"p a\\\\\\\"b c d", 4, {"p", "a\\\"b", "c", "d"}},
    {L"p a\\\\\\\\\"b c\" d e", 4, {"p", "a\\\\b c", "d", "e"}},
    {L"p a\"b\"\" c d", 2, {"p", "ab\" c d"}},
    {L"p \"a\"\"b\"", 2, {"p", "a\"b"}},
    {L"p a\"\"b", 2, {"p", "ab"}},
    {L"p \"", 2, {"p", ""}},
    {L"p \\\\ \\\"", 3, {"p", "\\\\", "\""}},
    {L"p\t\tx   ", 2, {"p", "x"}},
    {L"\"C:\\a b\\p.exe\" x", 2, {"C:\\a b\\p.exe", "x"}},
    {L"\"C:\\dir\\\" x", 2, {"C:\\dir\\", "x"}},
    {L"C:\\a\\\"b c\"\\p.exe x", 2, {"C:\\a\\b c\\p.exe", "x"}},
    {L" x", 2, {"", "x"}},
    {L"", 1, {""}},
    {L"\u4e2d \U0001F600", 2, {"\xe4\xb8\xad", "\xf0\x9f\x98\x80"}},
};

static void parser_follows_the_runtime_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        int argc = 0;
        char **argv = NULL;
        MPT_OK(mp_win_cmdline_parse(parse_cases[i].line, &argc, &argv));
        assert_argv_equal(argv, argc, parse_cases[i].argv, parse_cases[i].n);
        free(argv);
    }
}

/* ---- through a real child ---------------------------------------------- */

extern int __wgetmainargs(int *argc, wchar_t ***argv, wchar_t ***env, int glob, int *startinfo);

static void put(HANDLE out, const char *s)
{
    DWORD done;
    WriteFile(out, s, (DWORD)strlen(s) + 1, &done, NULL);
}

/* Writes "<n>\0" and n args, each NUL-terminated, first as the C runtime
 * split the command line, then as mp_main did. */
static int echo_argv(void)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    int wargc = 0, mode = 0;
    wchar_t **wargv, **wenv;
    if (__wgetmainargs(&wargc, &wargv, &wenv, 0, &mode) != 0)
        return 2;
    char text[32];
    snprintf(text, sizeof text, "%d", wargc);
    put(out, text);
    for (int i = 0; i < wargc; i++) {
        char arg[1024];
        if (WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, arg, sizeof arg, NULL, NULL) == 0)
            return 3;
        put(out, arg);
    }
    int argc;
    const char *const *argv;
    if (mp_parent_argv(&argc, &argv) != MP_OK)
        return 4;
    snprintf(text, sizeof text, "%d", argc);
    put(out, text);
    for (int i = 0; i < argc; i++)
        put(out, argv[i]);
    return 0;
}

static wchar_t *own_path(void)
{
    static wchar_t path[32768];
    DWORD n = GetModuleFileNameW(NULL, path, 32768);
    assert_true(n > 0 && n < 32768);
    return path;
}

/* Run this executable with cmdline; return what it wrote (NUL-separated). */
static char *run_echo(wchar_t *cmdline, size_t *len)
{
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE read_end, write_end;
    assert_true(CreatePipe(&read_end, &write_end, &inherit, 0));
    assert_true(SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0));
    STARTUPINFOW si = {.cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES};
    si.hStdOutput = write_end;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    BOOL started =
        CreateProcessW(own_path(), cmdline, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi);
    CloseHandle(write_end);
    if (!started) {
        CloseHandle(read_end);
        fail_msg("CreateProcessW failed: %lu", GetLastError());
    }
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    DWORD got;
    while (used < cap && ReadFile(read_end, buf + used, (DWORD)(cap - used), &got, NULL) && got > 0)
        used += got;
    CloseHandle(read_end);
    DWORD code = 1;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    assert_int_equal(code, 0);
    *len = used;
    return buf;
}

/* Check one section of the echo, "<n>\0" and n args, against want; return
 * the position after it. */
static size_t check_section(const char *buf, size_t len, size_t at, const char *const *want, size_t n,
                            const char *who)
{
    assert_true(at < len);
    assert_int_equal(strtol(buf + at, NULL, 10), (long)n);
    for (size_t i = 0; i < n; i++) {
        at += strlen(buf + at) + 1;
        assert_true(at < len);
        if (strcmp(buf + at, want[i]) != 0)
            fail_msg("%s: argv[%lu] is \"%s\", expected \"%s\"", who, (unsigned long)i, buf + at, want[i]);
    }
    return at + strlen(buf + at) + 1;
}

static void echo_round_trip(const char *const *args, size_t nargs)
{
    char self[32768 * 3];
    assert_true(WideCharToMultiByte(CP_UTF8, 0, own_path(), -1, self, sizeof self, NULL, NULL) > 0);
    const char *argv[16] = {self, ECHO_FLAG};
    assert_true(nargs + 2 <= 16);
    memcpy(argv + 2, args, nargs * sizeof *argv);
    wchar_t *line = NULL;
    MPT_OK(mp_win_cmdline_build(argv, nargs + 2, &line));
    size_t len;
    char *out = run_echo(line, &len);
    size_t at = check_section(out, len, 0, argv, nargs + 2, "C runtime");
    at = check_section(out, len, at, argv, nargs + 2, "mp_main");
    assert_int_equal(at, len);
    free(out);
    free(line);
}

static void runtime_splits_quoted_args_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        echo_round_trip(cases[i].args, cases[i].n);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], ECHO_FLAG) == 0)
        return echo_argv();
    const struct CMUnitTest tests[] = {
        MPT_TEST(quoting_round_trips),
        MPT_TEST(quoting_round_trips_random_args),
        MPT_TEST(program_path_round_trips),
        MPT_TEST(build_refuses_what_cannot_round_trip),
        MPT_TEST(parser_follows_the_runtime_rules),
        MPT_TEST(runtime_splits_quoted_args_back),
    };
    return MPT_RUN(tests);
}

#else

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("Windows only: POSIX passes argv to exec as it is, with no quoting");
}

#endif
