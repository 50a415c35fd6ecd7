/* mproc/registry.h - what a child needs by name: targets, globals and
 * child-init hooks.
 *
 * A function pointer means nothing in a freshly started executable, so a
 * child finds its target by name. Every start method requires registration,
 * so that what works under fork also works under spawn; starting an
 * unregistered target is refused with MP_ENOTREG.
 *
 * Register at file scope with the macros (they run before main), or by
 * calling the functions before mp_main(). Registration after mp_main works in
 * the parent, but a spawned child only knows what was registered by the time
 * its own mp_main runs.
 *
 * Targets in a static library: the linker only takes an object file from a
 * .a when something refers to a symbol in it, and MP_TARGET alone refers to
 * nothing. Either the object file is pulled in anyway (the program calls
 * another function defined in it), or the library marks it with
 * MP_TARGET_LIBRARY(lib) and the program says MP_USE_TARGETS(lib) once, or
 * the program links the library with --whole-archive, or it calls
 * mp_register itself. See docs/static-libraries.md.
 *
 * Thread safety: registration functions are safe from any thread, but a
 * child only sees what was registered before its start.
 */
#ifndef MPROC_REGISTRY_H
#define MPROC_REGISTRY_H

#include <stddef.h>

#include "pack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A process target. args is the array of arguments the parent packed
 * (read it with mp_args). The tree is freed after the target returns.
 *
 * Return value: 0..255 is the child's exit code (portable range; Windows
 * keeps 32 bits). A negative MP_E* code means an error was raised: the child
 * prints it with mp_last_error() to stderr and exits with code 1, as Python
 * does for an uncaught exception. mp_raise sets the message and returns the
 * code, so a target can say: return mp_raise(MP_EINVAL, "n is %d", n); */
typedef int (*mp_target_fn)(const mp_value *args);

/* Register fn under name. Names are 1..255 bytes of UTF-8.
 * MP_EEXIST: the name is taken by another function (the same pair twice is
 * fine). MP_EINVAL: NULL or bad name. */
int mp_register(const char *name, mp_target_fn fn);

/* The name fn was registered under, or NULL. The registry keeps its copy
 * for the life of the program. */
const char *mp_target_name(mp_target_fn fn);

/* Set this thread's error message (printf format) and return code. */
int mp_raise(int code, const char *fmt, ...)
#if defined(__MINGW32__)
    __attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Plain data shipped to children by value: at start, the parent's current
 * bytes of every registered global are copied into the child's copy, under
 * every start method. Register the same name, address and size in parent and
 * child (the macro does). MP_EEXIST for a name taken with another address or
 * size; MP_EINVAL for NULL, bad name, or size 0 or above 64 MiB. */
int mp_global(const char *name, void *addr, size_t size);

/* Child-init hooks run in every child, under every start method, in
 * registration order, after the globals are restored and before the target.
 * They rebuild state the way the parent built it, typically from the
 * parent's argv (mp_parent_argv). A hook returning a negative MP_E* code
 * stops the child: it prints the error and exits with 1. arg is passed as
 * given; under spawn it must point to something that exists in a fresh run
 * of the program (static data), or be NULL. */
typedef int (*mp_child_init_fn)(void *arg);
int mp_on_child_init(mp_child_init_fn fn, void *arg);

/* The main process's argv, UTF-8, argv[argc] == NULL. In the main process it
 * is its own argv as given to mp_main (on Windows, read from the real UTF-16
 * command line); in a child, its parent's. MP_ESTATE before mp_main ran. */
int mp_parent_argv(int *argc, const char *const **argv);

/* ---- macros: registration at load time --------------------------------- */

/* Registration that fails at load time (a duplicate name) cannot return an
 * error; it is reported by mp_main, which returns the code. */
void mp_register_at_load(const char *name, mp_target_fn fn);
void mp_global_at_load(const char *name, void *addr, size_t size);

#if defined(__GNUC__) || defined(__clang__)
#define MP_AT_LOAD_(id) \
    static void id(void) __attribute__((constructor)); \
    static void id(void)
#else
#error "mproc's registration macros need a GCC-compatible compiler (gcc, clang, MinGW-w64)"
#endif

#define MP_CAT2_(a, b) a##b
#define MP_CAT_(a, b) MP_CAT2_(a, b)

/* MP_TARGET(fn): register fn under its own name. Use at file scope, after
 * fn's declaration. MP_TARGET_NAMED gives another name, e.g. when two files
 * both have a static function called "worker". */
#define MP_TARGET(fn) MP_TARGET_NAMED(fn, #fn)
#define MP_TARGET_NAMED(fn, name) \
    MP_AT_LOAD_(MP_CAT_(mp_reg_target_, MP_CAT_(fn, __LINE__))) { mp_register_at_load((name), (fn)); }

/* MP_GLOBAL(var): register a file-scope variable under its own name. */
#define MP_GLOBAL(var) \
    MP_AT_LOAD_(MP_CAT_(mp_reg_global_, MP_CAT_(var, __LINE__))) { mp_global_at_load(#var, &(var), sizeof(var)); }

/* Static libraries: MP_TARGET_LIBRARY(lib) in each object file of the library
 * that holds targets (lib is an identifier; use a different suffix per file,
 * e.g. MP_TARGET_LIBRARY(mylib_io)), and MP_USE_TARGETS(mylib_io) once in the
 * program, at file scope, to make the linker take that file. */
#define MP_TARGET_LIBRARY(lib) const char MP_CAT_(mp_targets_anchor_, lib) = 0;
#define MP_USE_TARGETS(lib) \
    extern const char MP_CAT_(mp_targets_anchor_, lib); \
    const char *const MP_CAT_(mp_targets_use_, lib) = &MP_CAT_(mp_targets_anchor_, lib);

#ifdef __cplusplus
}
#endif

#endif
