/* fork_path.h - MP_FORK_PATH marks the functions a fork child runs on its
 * way from fork() to its target and on to _exit.
 *
 * A fork child starts with none of the program's code pages in its page
 * tables (Linux copies those only for memory that can hold private
 * copies): each 64 KiB of code it touches costs a page fault (the kernel
 * maps the cached pages around the one faulted), several microseconds in
 * a VM. Functions marked
 * hot are placed together by GCC and clang (.text.hot), so the child's
 * path through mproc faults in one or two places, not one per file. */
#ifndef MPROC_FORK_PATH_H
#define MPROC_FORK_PATH_H

#if defined(__GNUC__) || defined(__clang__)
#define MP_FORK_PATH __attribute__((hot))
#else
#define MP_FORK_PATH
#endif

#endif
