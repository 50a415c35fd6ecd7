/* wire.h - the messages between a manager's clients and its server
 * (docs/protocol.md §9). Each is one MessagePack array in one Connection
 * frame:
 *   request  [id, "create", typeid, args]
 *            [id, "call", oid, method, args, thread]
 *            [id, "incref", oid]   [id, "decref", oid]
 *            [id, "ping"]          [id, "shutdown"]
 *   reply    [id, 0, value]        [id, 1, code, message]
 * id is the client's; 0 asks for no reply (a decref). A create's value is
 * [oid, typeid]. thread is the calling thread's id in the client, which
 * owns an RLock it acquires. */
#ifndef MPROC_MANAGER_WIRE_H
#define MPROC_MANAGER_WIRE_H

#include <stdint.h>

#include "mproc/pack.h"

/* Requests and replies over this size are refused (MP_ETOOBIG). */
#define MP_WIRE_MAX_MESSAGE ((size_t)1 << 30)

typedef enum mp_wire_op {
    MP_WIRE_CREATE,
    MP_WIRE_CALL,
    MP_WIRE_INCREF,
    MP_WIRE_DECREF,
    MP_WIRE_PING,
    MP_WIRE_SHUTDOWN
} mp_wire_op;

/* A request taken apart; the pointers borrow from the decoded tree. */
typedef struct mp_wire_request {
    uint64_t id;
    mp_wire_op op;
    const char *name;     /* create: the typeid; call: the method */
    uint64_t oid;         /* call, incref, decref */
    const mp_value *args; /* create, call: an array */
    uint64_t thread;      /* call */
} mp_wire_request;

/* MP_EPROTO with a message for anything that is not a request above. */
int mp_wire_parse_request(const mp_value *v, mp_wire_request *out);

/* Start a request: the array header, id and op; the op's fields follow. */
int mp_wire_begin_request(mp_buf *b, uint64_t id, mp_wire_op op);

/* A reply taken apart. */
typedef struct mp_wire_reply {
    uint64_t id;
    int code;              /* MP_OK, or the server's error */
    const mp_value *value; /* MP_OK: the value */
    const char *message;   /* an error's */
} mp_wire_reply;

/* MP_EPROTO for anything that is not a reply. */
int mp_wire_parse_reply(const mp_value *v, mp_wire_reply *out);
/* Only the id of a reply in its bytes (MP_EPROTO if none), so that a
 * reader can hand a reply to its caller before decoding it. */
int mp_wire_reply_id(const void *data, size_t len, uint64_t *id);

/* [id, 0, then the caller appends the value. */
int mp_wire_begin_ok(mp_buf *b, uint64_t id);
/* [id, 1, code, message]. */
int mp_wire_error(mp_buf *b, uint64_t id, int code, const char *message);

#endif
