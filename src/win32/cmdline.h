/* cmdline.h - Windows command lines, by the rules of the Microsoft C runtime
 * (the rules since 2008, which MinGW's runtime and the UCRT follow):
 *
 *   argv[0], the program, ends at the first space or tab outside double
 *   quotes; quotes group and are dropped; backslashes are literal.
 *
 *   Other arguments are separated by spaces and tabs outside quotes. A
 *   quote toggles quoting and is dropped. Backslashes are literal unless
 *   they precede a quote: 2n of them then give n backslashes and the quote
 *   toggles; 2n+1 give n backslashes and a literal quote. Inside quotes, ""
 *   gives one literal quote and quoting goes on.
 *
 * CommandLineToArgvW treats argv[0] and "" differently, so it is not used.
 */
#ifndef MPROC_WIN32_CMDLINE_H
#define MPROC_WIN32_CMDLINE_H

#include <stddef.h>
#include <wchar.h>

/* Split cmdline into a NULL-terminated UTF-8 argv (*argc >= 1) held in one
 * malloc'd block: free(*argv) frees it all. */
int mp_win_cmdline_parse(const wchar_t *cmdline, int *argc, char ***argv);

/* The malloc'd UTF-16 command line that mp_win_cmdline_parse, and the C
 * runtime of the program started with it, split back into argv[0..argc).
 * Arguments are quoted only when they need it. MP_EINVAL for argc == 0,
 * invalid UTF-8, or a double quote in argv[0] (a program path cannot hold
 * one). */
int mp_win_cmdline_build(const char *const *argv, size_t argc, wchar_t **out);

#endif
