/* echo_lines.c - the external program of the program-pool benchmark: each
 * line of stdin back on stdout, flushed, until end of file or "quit". A
 * plain program, as a user's would be, the same for every side. */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin) != NULL && strcmp(line, "quit\n") != 0) {
        fputs(line, stdout);
        fflush(stdout);
    }
    return 0;
}
