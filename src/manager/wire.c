/* wire.c - a manager's request and reply messages (wire.h). */
#include <string.h>

#include "base/error_internal.h"
#include "manager/wire.h"

static const struct {
    const char *name;
    uint32_t fields; /* the array's length */
} ops[] = {
    [MP_WIRE_CREATE] = {"create", 4}, [MP_WIRE_CALL] = {"call", 6},     [MP_WIRE_INCREF] = {"incref", 3},
    [MP_WIRE_DECREF] = {"decref", 3}, [MP_WIRE_PING] = {"ping", 2}, [MP_WIRE_SHUTDOWN] = {"shutdown", 2},
};
#define NOPS (sizeof ops / sizeof ops[0])

static int bad(const char *why)
{
    return mp_fail(MP_EPROTO, "manager: malformed request: %s", why);
}

int mp_wire_parse_request(const mp_value *v, mp_wire_request *out)
{
    *out = (mp_wire_request){0};
    if (v->type != MP_ARRAY || v->as.array.len < 2)
        return bad("not an array of at least [id, op]");
    const mp_value *f = v->as.array.items;
    const char *op;
    if (mp_unpack(&f[0], "Q", &out->id) != MP_OK || mp_unpack(&f[1], "s", &op) != MP_OK)
        return bad("the id must be an unsigned integer and the op a string");
    size_t i = 0;
    while (i < NOPS && strcmp(ops[i].name, op) != 0)
        i++;
    if (i == NOPS)
        return mp_fail(MP_EPROTO, "manager: malformed request: unknown op \"%.40s\"", op);
    if (v->as.array.len != ops[i].fields)
        return mp_fail(MP_EPROTO, "manager: malformed request: \"%s\" takes %u fields, not %u", op,
                       ops[i].fields, v->as.array.len);
    out->op = (mp_wire_op)i;
    int rc = MP_OK;
    switch (out->op) {
    case MP_WIRE_CREATE:
        rc = mp_unpack(&f[2], "s", &out->name);
        out->args = &f[3];
        break;
    case MP_WIRE_CALL:
        rc = mp_unpack(&f[2], "Q", &out->oid);
        if (rc == MP_OK)
            rc = mp_unpack(&f[3], "s", &out->name);
        if (rc == MP_OK)
            rc = mp_unpack(&f[5], "Q", &out->thread);
        out->args = &f[4];
        break;
    case MP_WIRE_INCREF:
    case MP_WIRE_DECREF:
        rc = mp_unpack(&f[2], "Q", &out->oid);
        break;
    default:
        break;
    }
    if (rc != MP_OK || (out->args != NULL && out->args->type != MP_ARRAY))
        return mp_fail(MP_EPROTO, "manager: malformed request: the fields of \"%s\" have the wrong types", op);
    return MP_OK;
}

int mp_wire_begin_request(mp_buf *b, uint64_t id, mp_wire_op op)
{
    int rc = mp_pack_array(b, ops[op].fields);
    if (rc == MP_OK)
        rc = mp_pack_uint(b, id);
    if (rc == MP_OK)
        rc = mp_pack_str(b, ops[op].name, strlen(ops[op].name));
    return rc;
}

int mp_wire_parse_reply(const mp_value *v, mp_wire_reply *out)
{
    *out = (mp_wire_reply){0};
    int64_t status, code;
    if (v->type == MP_ARRAY && v->as.array.len == 3 &&
        mp_unpack(v, "(Q q V)", &out->id, &status, &out->value) == MP_OK && status == 0)
        return MP_OK;
    if (v->type == MP_ARRAY && v->as.array.len == 4 &&
        mp_unpack(v, "(Q q q s)", &out->id, &status, &code, &out->message) == MP_OK && status == 1 && code < 0 &&
        code >= INT32_MIN) {
        out->code = (int)code;
        return MP_OK;
    }
    return mp_fail(MP_EPROTO, "manager: malformed reply (want [id, 0, value] or [id, 1, code, message])");
}

int mp_wire_reply_id(const void *data, size_t len, uint64_t *id)
{
    /* An array header (fixarray 3 or 4), then the id as a positive fixint
     * or uint 8/16/32/64, as any MessagePack packer writes them. */
    const unsigned char *p = data;
    if (len < 2 || (p[0] != 0x93 && p[0] != 0x94))
        return mp_fail(MP_EPROTO, "manager: malformed reply (not a 3- or 4-item array)");
    unsigned char t = p[1];
    size_t n = t <= 0x7f ? 0 : t == 0xcc ? 1 : t == 0xcd ? 2 : t == 0xce ? 4 : t == 0xcf ? 8 : 9;
    if (n == 9 || len < 2 + n)
        return mp_fail(MP_EPROTO, "manager: malformed reply (the id is not an unsigned integer)");
    uint64_t v = n == 0 ? t : 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[2 + i];
    *id = v;
    return MP_OK;
}

int mp_wire_begin_ok(mp_buf *b, uint64_t id)
{
    int rc = mp_pack_array(b, 3);
    if (rc == MP_OK)
        rc = mp_pack(b, "Q i", id, 0);
    return rc;
}

int mp_wire_error(mp_buf *b, uint64_t id, int code, const char *message)
{
    return mp_pack(b, "[Q i i s]", id, 1, code, message != NULL ? message : "");
}
