/* harness.h - what every test executable shares.
 *
 * Every test executable calls mp_main first, so that it can be its own child
 * under spawn and forkserver, then runs its cmocka group through MPT_RUN.
 * MPT_TEST(f) wraps a test with the leak check: no fd/handle, no child
 * process (live or zombie) and, on Linux, no /dev/shm entry named "psm_..."
 * or "mproc..." may be left behind by the test.
 */
#ifndef MPROC_TESTS_HARNESS_H
#define MPROC_TESTS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mproc.h"

/* Run a group of tests. Before the first test it warms the library up (one
 * trivial child per start method) so that lazily made objects, such as the
 * forkserver, are not counted as leaks. Returns the number of failures. */
int mpt_run(const char *group, const struct CMUnitTest *tests, size_t n);
#define MPT_RUN(tests) mpt_run(__FILE__, (tests), sizeof(tests) / sizeof((tests)[0]))

int mpt_setup(void **state);
int mpt_teardown(void **state);
#define MPT_TEST(f) cmocka_unit_test_setup_teardown(f, mpt_setup, mpt_teardown)

/* MPT_SKIP_CODE, set by tests/CMakeLists.txt (which gives it to ctest as
 * every test's SKIP_RETURN_CODE), is the exit code of a test program that
 * does not apply to this system: a Windows-only program on Linux, a
 * POSIX-only one on Windows. ctest then reports it skipped, not passed. */
/* Say on stdout why this program does not apply here; returns MPT_SKIP_CODE,
 * for main to return after mp_main. */
int mpt_skip_program(const char *why);

/* assert_int_equal with the thread's mproc error message on failure. */
#define MPT_OK(expr) mpt_check_code((expr), MP_OK, #expr, __FILE__, __LINE__)
#define MPT_CODE(expr, want) mpt_check_code((expr), (want), #expr, __FILE__, __LINE__)
void mpt_check_code(int got, int want, const char *expr, const char *file, int line);

/* Make a first socket: on Windows it starts Winsock, which keeps handles
 * of its own until exit. Tests that use sockets call it after mp_main, so
 * that the leak checks do not count those handles. */
void mpt_start_sockets(void);

/* The start methods this system supports; returns how many. */
size_t mpt_methods(mp_start_method out[3]);
/* Options for a process under a given method (static storage per method). */
const mp_process_options *mpt_opts(mp_start_method method);

/* Start p, join it (forever) and return its exit code; fails the test on any
 * error. Closes p. */
int mpt_run_child(mp_process *p);
/* The same for a child already started. */
int mpt_join_child(mp_process *p);

/* Wait up to timeout seconds for the process with this pid to end (a zombie
 * has ended); true once it has. For a process this one did not start, such
 * as a child's child, that nothing else can join. */
bool mpt_wait_pid_gone(long pid, double timeout);

/* ---- implemented per system in support_posix.c / support_win32.c ------- */

/* Open file descriptors (POSIX) or handles (Windows) of this process. */
long mpt_count_handles(void);
/* Child processes of this process, live or zombie, not counting mproc's
 * forkserver. */
long mpt_count_children(void);
/* Zombie children of this process (always 0 on Windows). */
long mpt_count_zombies(void);
/* Kill a process by pid the hard way: SIGKILL, or TerminateProcess with
 * exit code 1 on Windows. 0 or -1. */
int mpt_kill_pid(long pid);
/* Stop a process (SIGSTOP; every thread suspended on Windows) or let it go
 * on (SIGCONT; resumed). 0 or -1. */
int mpt_stop_pid(long pid, bool stop);
/* Call each(name, ctx) for every named shared-memory object mproc's names
 * can make: SharedMemory's random "psm_..." names and the "mproc..." names
 * tests choose, from /dev/shm on Linux. None on Windows: a named section dies
 * with its last handle, which the handle count already covers. */
void mpt_each_shm_name(void (*each)(const char *name, void *ctx), void *ctx);
/* True when running under Wine (ntdll exports wine_get_version), for the
 * few checks of Windows behaviour that Wine does not have; false on POSIX. */
bool mpt_under_wine(void);

/* ---- implemented per system in selfexec_posix.c / selfexec_win32.c ----- */

/* Run this test executable again as a plain program (not through mproc),
 * with args after argv[0] (UTF-8), wait for it and return its exit code, or
 * -1000 if it could not run. exe is the program to run, NULL for this one.
 * A program still running after timeout seconds is killed, a line on stderr
 * says so, and the result is MPT_EXEC_TIMEDOUT: a test fails there instead
 * of hanging until ctest's timeout. */
#define MPT_EXEC_TIMEDOUT (-1001)
int mpt_exec_self(const char *exe, const char *const *args, size_t nargs, double timeout);

/* Copy this executable to dir/name (UTF-8, dir made if missing); write the
 * new path to out. Returns 0 or -1. */
int mpt_copy_self(const char *dir, const char *name, char *out, size_t size);

/* Remove what mpt_copy_self made: the file, then the directory. */
void mpt_remove_copy(const char *dir, const char *path);

/* A temporary directory path for this process, UTF-8, no trailing slash. */
void mpt_temp_dir(char *out, size_t size);

/* The path of the file called name in this executable's directory (the
 * helper programs built next to the tests). */
void mpt_sibling_path(const char *name, char *out, size_t size);

#endif
