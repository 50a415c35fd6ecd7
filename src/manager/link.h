/* link.h - a client process's connection to one manager server, shared by
 * every proxy and manager of the process that talks to that server with
 * that key (link.c). Calls from many threads go over it at once, each
 * tagged with an id; whichever waiting thread holds the reader role reads
 * the next reply and hands it to its caller. While waiting, a silence of
 * the link's timeout makes it ping the server; no answer to the ping
 * within the timeout again ends the link with MP_ETIMEDOUT. A link that
 * ended (or a link inherited through fork) connects anew on its next
 * call. */
#ifndef MPROC_MANAGER_LINK_H
#define MPROC_MANAGER_LINK_H

#include <stddef.h>

#include "manager/wire.h"

typedef struct mp_link mp_link;

/* The link of this process to address with key, made if there is none
 * yet (not connected until its first call); one more reference. */
int mp_link_get(const char *address, const void *key, size_t key_len, double timeout, mp_link **out);
mp_link *mp_link_ref(mp_link *l);
void mp_link_put(mp_link *l);

const char *mp_link_address(const mp_link *l);
const unsigned char *mp_link_key(const mp_link *l, size_t *len);

/* Connect now if not connected (to report a wrong address or key early). */
int mp_link_connect(mp_link *l);

/* A request of op whose fields after [id, op] are packed in fields, and
 * its reply: *tree is the decoded reply (the caller's to free), *value its
 * value. The server's error comes back as this call's (code and message). */
int mp_link_call(mp_link *l, mp_wire_op op, const mp_buf *fields, mp_value **tree, const mp_value **value);
/* A request that wants no reply (id 0), if the link is connected in this
 * process; nothing otherwise (a decref the server will do anyway when the
 * connection ends). */
void mp_link_post(mp_link *l, mp_wire_op op, const mp_buf *fields);

#endif
