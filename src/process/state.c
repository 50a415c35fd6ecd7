/* state.c - this process's identity (state.h) and the current-process
 * queries of process.h. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "base/str.h"
#include "platform.h"
#include "process/state.h"

mp_state mp_self;

int mp_state_ensure_authkey(void)
{
    if (mp_self.authkey_ready)
        return MP_OK;
    int rc = mp_os_random(mp_self.authkey, MP_AUTHKEY_SIZE);
    if (rc == MP_OK) {
        mp_self.authkey_len = MP_AUTHKEY_SIZE;
        mp_self.authkey_ready = true;
    }
    return rc;
}

/* text in buf if it fits, else a malloc'd copy; NULL if out of memory.
 * By hand, not strlen and memcpy: in a fork child they would be its first
 * touch of those pages of the C library, a page fault each. */
static MP_FORK_PATH char *keep_name(char *buf, const char *text)
{
    size_t len = 0;
    while (len < MP_NAME_INLINE && text[len] != '\0')
        len++;
    if (len == MP_NAME_INLINE)
        return mp_strdup(text);
    for (size_t i = 0; (buf[i] = text[i]) != '\0'; i++)
        ;
    return buf;
}

/* Not even free(NULL): in a fork child that would fault in the
 * allocator's code. */
static MP_FORK_PATH void release_name(char *name, const char *buf)
{
    if (name != NULL && name != buf)
        free(name);
}

MP_FORK_PATH int mp_state_become_child(const char *name, const char *parent_name,
                                       const uint32_t ident[MP_MAX_IDENT], size_t ident_len, long parent_pid,
                                       bool daemon)
{
    /* The parent's name first: it may be this process's own name so far. */
    char *parent_copy = NULL;
    if (parent_name != NULL && (parent_copy = keep_name(mp_self.parent_inline, parent_name)) == NULL)
        return mp_fail(MP_ENOMEM, "out of memory for the parent's name");
    if (mp_self.parent_name != parent_copy)
        release_name(mp_self.parent_name, mp_self.parent_inline);
    mp_self.parent_name = parent_copy;
    char *own = keep_name(mp_self.name_inline, name);
    if (own == NULL)
        return mp_fail(MP_ENOMEM, "out of memory for the process name");
    if (mp_self.name != own)
        release_name(mp_self.name, mp_self.name_inline);
    mp_self.name = own;
    /* Whole: a copy of fixed size is inlined, not a call into the C
     * library's memcpy, whose page a fork child would fault in. */
    memcpy(mp_self.ident, ident, sizeof mp_self.ident);
    mp_self.ident_len = ident_len;
    mp_self.children_made = 0;
    mp_self.parent_pid = parent_pid;
    mp_self.daemon = daemon;
    return MP_OK;
}

/* n in decimal at out, no terminator; returns its length. By hand, not
 * snprintf, whose frame reaches down to a stack page of its own: one more
 * page to copy after each fork. */
static size_t put_number(char *out, uint32_t n)
{
    char reversed[10];
    size_t len = 0;
    do
        reversed[len++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    for (size_t i = 0; i < len; i++)
        out[i] = reversed[len - 1 - i];
    return len;
}

int mp_state_next_child(uint32_t *ident, size_t *ident_len, char **name)
{
    if (mp_self.ident_len + 1 > MP_MAX_IDENT)
        return mp_fail(MP_ESTATE, "processes nest at most %d deep", MP_MAX_IDENT);

    mp_os_global_lock();
    uint32_t n = ++mp_self.children_made;
    mp_os_global_unlock();

    memcpy(ident, mp_self.ident, mp_self.ident_len * sizeof *ident);
    ident[mp_self.ident_len] = n;
    *ident_len = mp_self.ident_len + 1;

    /* "Process-" and up to MP_MAX_IDENT numbers of 10 digits with colons. */
    char text[sizeof "Process-" + MP_MAX_IDENT * (sizeof ":4294967295" - 1)] = "Process-";
    size_t used = sizeof "Process-" - 1;
    for (size_t i = 0; i < *ident_len; i++) {
        if (i > 0)
            text[used++] = ':';
        used += put_number(text + used, ident[i]);
    }
    text[used] = '\0';
    *name = mp_strdup(text);
    if (*name == NULL)
        return mp_fail(MP_ENOMEM, "out of memory for a process name");
    return MP_OK;
}

void mp_state_set_argv(int argc, char **argv)
{
    free(mp_self.argv);
    mp_self.argc = argc;
    mp_self.argv = argv;
}

const char *mp_current_process_name(void)
{
    return mp_self.name ? mp_self.name : "MainProcess";
}

long mp_current_pid(void)
{
    return mp_os_getpid();
}

bool mp_current_process_daemon(void)
{
    return mp_self.daemon;
}

long mp_parent_pid(void)
{
    return mp_self.parent_pid;
}

const char *mp_parent_process_name(void)
{
    if (mp_self.parent_pid == 0)
        return NULL;
    return mp_self.parent_name ? mp_self.parent_name : "MainProcess";
}

int mp_parent_is_alive(void)
{
    if (mp_self.parent_pid == 0)
        return mp_fail(MP_ESTATE, "mp_parent_is_alive: this is the main process; it has no parent");
    return mp_os_parent_alive();
}

const unsigned char *mp_authkey(size_t *len)
{
    /* Without a working random source the key stays zero; mp_main reports
     * that failure, this getter cannot. */
    mp_state_ensure_authkey();
    if (len)
        *len = mp_self.authkey_len;
    return mp_self.authkey;
}

int mp_set_authkey(const void *key, size_t len)
{
    if (key == NULL && len > 0)
        return mp_fail(MP_EINVAL, "mp_set_authkey: NULL key");
    if (len > MP_AUTHKEY_MAX)
        return mp_fail(MP_ERANGE, "mp_set_authkey: a %zu-byte key is over the %d allowed", len, MP_AUTHKEY_MAX);
    if (len > 0)
        memmove(mp_self.authkey, key, len);
    mp_self.authkey_len = len;
    mp_self.authkey_ready = true;
    return MP_OK;
}

int mp_parent_argv(int *argc, const char *const **argv)
{
    if (argc == NULL || argv == NULL)
        return mp_fail(MP_EINVAL, "mp_parent_argv: NULL argument");
    if (mp_self.argv == NULL)
        return mp_fail(MP_ESTATE, "mp_parent_argv: mp_main has not run; call mp_main(argc, argv) first in main()");
    *argc = mp_self.argc;
    *argv = (const char *const *)mp_self.argv;
    return MP_OK;
}

int mp_cpu_count(void)
{
    return mp_os_cpu_count();
}
