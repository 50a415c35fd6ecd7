/* handoff.c - encoding and checking the handoff map (handoff.h). */
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "process/handoff.h"
#include "base/registry_internal.h"

static int pack_key(mp_buf *b, const char *key)
{
    return mp_pack_str(b, key, strlen(key));
}

static int encode_fields(mp_buf *b, const mp_handoff *h)
{
    int rc;
    if ((rc = mp_pack_map(b, 13)) || (rc = mp_pack(b, "s i", "v", MP_HANDOFF_VERSION)) ||
        (rc = mp_pack(b, "s q", "ppid", (int64_t)h->parent_pid)) ||
        (rc = mp_pack(b, "s s", "method", mp_start_method_name(h->method))) ||
        (rc = mp_pack(b, "s s", "target", h->target)) || (rc = pack_key(b, "args")) ||
        (rc = mp_buf_append(b, h->args_packed, h->args_len)) || (rc = pack_key(b, "globals")) ||
        (rc = mp_registry_pack_globals(b)) || (rc = pack_key(b, "argv")) ||
        (rc = mp_pack_array(b, (uint32_t)h->argc)))
        return rc;
    for (int i = 0; i < h->argc; i++)
        if ((rc = mp_pack(b, "s", h->argv[i])))
            return rc;
    if ((rc = mp_pack(b, "s s", "name", h->name)) || (rc = mp_pack(b, "s s", "pname", h->parent_name)) ||
        (rc = pack_key(b, "ident")) ||
        (rc = mp_pack_array(b, (uint32_t)h->ident_len)))
        return rc;
    for (size_t i = 0; i < h->ident_len; i++)
        if ((rc = mp_pack_uint(b, h->ident[i])))
            return rc;
    if ((rc = mp_pack(b, "s ?", "daemon", h->daemon)) ||
        (rc = mp_pack(b, "s y#", "authkey", h->authkey, h->authkey_len)) ||
        (rc = mp_pack(b, "s Q", "handles", (uint64_t)h->nhandles)))
        return rc;
    return MP_OK;
}

int mp_handoff_encode(mp_buf *out, const mp_handoff *h)
{
    size_t start = out->len;
    int rc = encode_fields(out, h);
    if (rc != MP_OK)
        out->len = start;
    return rc;
}

static const mp_value *field(const mp_value *tree, const char *key, mp_type type, int *rc)
{
    const mp_value *v = mp_map_get(tree, key);
    if (*rc != MP_OK)
        return v;
    if (v == NULL)
        *rc = mp_fail(MP_EPROTO, "handoff: no \"%s\"", key);
    else if (v->type != type)
        *rc = mp_fail(MP_EPROTO, "handoff: \"%s\" has the wrong type", key);
    return v;
}

static int parse_ident(const mp_value *ident, mp_handoff *h)
{
    if (ident->as.array.len == 0 || ident->as.array.len > MP_MAX_IDENT)
        return mp_fail(MP_EPROTO, "handoff: identity of %u numbers", ident->as.array.len);
    for (uint32_t i = 0; i < ident->as.array.len; i++) {
        const mp_value *n = &ident->as.array.items[i];
        if (n->type != MP_INT || n->as.i < 0 || n->as.i > UINT32_MAX)
            return mp_fail(MP_EPROTO, "handoff: identity number %u is not a uint32", i);
        h->ident[i] = (uint32_t)n->as.i;
    }
    h->ident_len = ident->as.array.len;
    return MP_OK;
}

int mp_handoff_parse(const mp_value *tree, mp_handoff *h)
{
    memset(h, 0, sizeof *h);
    if (tree->type != MP_MAP)
        return mp_fail(MP_EPROTO, "handoff: not a map");
    int rc = MP_OK;
    const mp_value *version = field(tree, "v", MP_INT, &rc);
    if (rc == MP_OK && version->as.i != MP_HANDOFF_VERSION)
        return mp_fail(MP_EPROTO, "handoff: protocol version %lld, this program speaks %d", (long long)version->as.i,
                       MP_HANDOFF_VERSION);
    const mp_value *ppid = field(tree, "ppid", MP_INT, &rc);
    const mp_value *method = field(tree, "method", MP_STR, &rc);
    const mp_value *target = field(tree, "target", MP_STR, &rc);
    const mp_value *args = field(tree, "args", MP_ARRAY, &rc);
    const mp_value *globals = field(tree, "globals", MP_MAP, &rc);
    const mp_value *argv = field(tree, "argv", MP_ARRAY, &rc);
    const mp_value *name = field(tree, "name", MP_STR, &rc);
    const mp_value *parent_name = field(tree, "pname", MP_STR, &rc);
    const mp_value *ident = field(tree, "ident", MP_ARRAY, &rc);
    const mp_value *daemon = field(tree, "daemon", MP_BOOL, &rc);
    const mp_value *authkey = field(tree, "authkey", MP_BIN, &rc);
    const mp_value *handles = field(tree, "handles", MP_INT, &rc);
    if (rc != MP_OK)
        return rc;

    if (mp_start_method_parse(method->as.str.ptr, &h->method) != MP_OK || h->method == MP_START_DEFAULT)
        return mp_fail(MP_EPROTO, "handoff: unknown start method \"%s\"", method->as.str.ptr);
    if (authkey->as.bin.len > MP_AUTHKEY_MAX)
        return mp_fail(MP_EPROTO, "handoff: authkey of %u bytes", authkey->as.bin.len);
    if (ppid->as.i <= 0 || handles->as.i < 0)
        return mp_fail(MP_EPROTO, "handoff: bad parent pid or handle count");
    for (uint32_t i = 0; i < argv->as.array.len; i++)
        if (argv->as.array.items[i].type != MP_STR)
            return mp_fail(MP_EPROTO, "handoff: argv[%u] is not a string", i);
    if ((rc = parse_ident(ident, h)) != MP_OK)
        return rc;

    h->parent_pid = (long)ppid->as.i;
    h->target = target->as.str.ptr;
    h->args = args;
    h->globals = globals;
    h->argv_value = argv;
    h->argc = (int)argv->as.array.len;
    h->name = name->as.str.ptr;
    h->parent_name = parent_name->as.str.ptr;
    h->daemon = daemon->as.b;
    h->authkey = authkey->as.bin.ptr;
    h->authkey_len = authkey->as.bin.len;
    h->nhandles = (size_t)handles->as.i;
    return MP_OK;
}

static const char *argv_item(const void *argv_value, size_t i)
{
    return ((const mp_value *)argv_value)->as.array.items[i].as.str.ptr;
}

int mp_handoff_copy_argv(const mp_value *argv_value, int *argc, char ***argv)
{
    char **block = mp_strv_dup(argv_value->as.array.len, argv_item, argv_value);
    if (block == NULL)
        return mp_fail(MP_ENOMEM, "handoff: out of memory for argv");
    *argc = (int)argv_value->as.array.len;
    *argv = block;
    return MP_OK;
}
