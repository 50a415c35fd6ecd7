/* link.c - a process's connection to a manager server (link.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "ipc/conn_internal.h"
#include "manager/link.h"
#include "mproc/net.h"

/* The id of pings; calls count from 2. */
#define PING_ID 1

typedef struct reply {
    uint64_t id;
    void *data;
    size_t len;
    struct reply *next;
} reply;

struct mp_link {
    char *address;
    unsigned char *key;
    size_t key_len;
    double timeout;
    long refs; /* under the list lock */
    mp_link *next;

    mp_os_mutex *lock; /* all that follows */
    mp_os_cond *changed;
    long pid; /* the process conn belongs to */
    mp_conn *conn;
    uint64_t next_id;
    unsigned gen;  /* counts the connection's ends */
    unsigned users; /* calls using conn */
    bool reading;
    int dead_rc; /* why the last connection ended */
    char dead_msg[256];
    reply *replies;
};

static mp_link *links;

static void drop_replies(mp_link *l)
{
    for (reply *r = l->replies, *next; r != NULL; r = next) {
        next = r->next;
        free(r->data);
        free(r);
    }
    l->replies = NULL;
}

int mp_link_get(const char *address, const void *key, size_t key_len, double timeout, mp_link **out)
{
    mp_os_global_lock();
    for (mp_link *l = links; l != NULL; l = l->next) {
        if (strcmp(l->address, address) == 0 && l->key_len == key_len &&
            (key_len == 0 || memcmp(l->key, key, key_len) == 0)) {
            l->refs++;
            mp_os_global_unlock();
            *out = l;
            return MP_OK;
        }
    }
    mp_link *l = calloc(1, sizeof *l);
    int rc = l != NULL ? MP_OK : MP_ENOMEM;
    if (rc == MP_OK) {
        l->address = mp_strdup(address);
        l->key = malloc(key_len + 1);
        rc = l->address != NULL && l->key != NULL ? MP_OK : MP_ENOMEM;
    }
    if (rc == MP_OK && (rc = mp_os_mutex_new(&l->lock)) == MP_OK)
        rc = mp_os_cond_new(&l->changed);
    if (rc != MP_OK) {
        mp_os_global_unlock();
        if (l != NULL) {
            mp_os_mutex_free(l->lock);
            free(l->address);
            free(l->key);
            free(l);
        }
        return mp_fail(rc, "manager: cannot make a connection to %s: out of memory", address);
    }
    if (key_len > 0)
        memcpy(l->key, key, key_len);
    l->key_len = key_len;
    l->timeout = timeout;
    l->refs = 1;
    l->next_id = PING_ID;
    l->pid = mp_current_pid();
    l->next = links;
    links = l;
    mp_os_global_unlock();
    *out = l;
    return MP_OK;
}

mp_link *mp_link_ref(mp_link *l)
{
    mp_os_global_lock();
    l->refs++;
    mp_os_global_unlock();
    return l;
}

void mp_link_put(mp_link *l)
{
    if (l == NULL)
        return;
    mp_os_global_lock();
    bool last = --l->refs == 0;
    if (last) {
        mp_link **p = &links;
        while (*p != l)
            p = &(*p)->next;
        *p = l->next;
    }
    mp_os_global_unlock();
    if (!last)
        return;
    if (l->conn != NULL)
        (void)mp_conn_close(l->conn);
    drop_replies(l);
    mp_os_cond_free(l->changed);
    mp_os_mutex_free(l->lock);
    free(l->address);
    free(l->key);
    free(l);
}

const char *mp_link_address(const mp_link *l)
{
    return l->address;
}

const unsigned char *mp_link_key(const mp_link *l, size_t *len)
{
    *len = l->key_len;
    return l->key;
}

/* End the connection: every call waiting on it fails with rc and the
 * message now in mp_last_error. */
static void die(mp_link *l, int rc)
{
    l->dead_rc = rc;
    snprintf(l->dead_msg, sizeof l->dead_msg, "%s", mp_last_error());
    l->gen++;
    drop_replies(l);
    mp_os_cond_broadcast(l->changed);
}

/* A connection for this process, under the lock: after fork the parent's
 * is left to the parent (only this process's copy is closed); after an
 * end, once no call uses the old one, a fresh one. */
static int ensure(mp_link *l)
{
    long me = mp_current_pid();
    if (l->pid != me) {
        if (l->conn != NULL)
            (void)mp_conn_close(l->conn);
        l->conn = NULL;
        l->users = 0;
        l->reading = false;
        drop_replies(l);
        l->pid = me;
    }
    while (l->conn != NULL && l->dead_rc != MP_OK && l->users > 0)
        mp_os_cond_wait(l->changed, l->lock, MP_FOREVER);
    if (l->conn != NULL && l->dead_rc != MP_OK) {
        (void)mp_conn_close(l->conn);
        l->conn = NULL;
    }
    if (l->conn != NULL)
        return MP_OK;
    mp_net_options o = MP_NET_OPTIONS_INIT;
    o.authkey = l->key;
    o.authkey_len = l->key_len;
    o.timeout = l->timeout;
    int rc = mp_client(&l->conn, l->address, &o);
    if (rc != MP_OK) {
        l->conn = NULL;
        return mp_fail(rc, "manager: cannot reach the server at %s: %s", l->address, mp_last_error());
    }
    l->dead_rc = MP_OK;
    return MP_OK;
}

int mp_link_connect(mp_link *l)
{
    mp_os_mutex_lock(l->lock);
    int rc = ensure(l);
    mp_os_mutex_unlock(l->lock);
    return rc;
}

static int send_request(mp_conn *c, uint64_t id, mp_wire_op op, const mp_buf *fields)
{
    mp_buf b = MP_BUF_INIT;
    int rc = mp_wire_begin_request(&b, id, op);
    if (rc == MP_OK && fields != NULL)
        rc = mp_buf_append(&b, fields->data, fields->len);
    if (rc == MP_OK)
        rc = mp_conn_send_bytes(c, b.data, b.len);
    mp_buf_free(&b);
    return rc;
}

/* Read the next reply other than a ping's, without the lock; a silence
 * is answered with a ping, a second one ends the link. */
static int read_reply(mp_link *l, mp_conn *c, reply *r)
{
    bool pinged = false;
    for (;;) {
        int rc = mp_conn_recv_bytes_by(c, MP_WIRE_MAX_MESSAGE, l->timeout, &r->data, &r->len);
        if (rc == MP_ETIMEDOUT && !pinged && !mp_conn_closed(c)) {
            if (send_request(c, PING_ID, MP_WIRE_PING, NULL) == MP_OK) {
                pinged = true;
                continue;
            }
        }
        if (rc == MP_ETIMEDOUT)
            return mp_fail(MP_ETIMEDOUT, "manager: the server at %s did not answer within %g s", l->address,
                           l->timeout);
        if (rc != MP_OK)
            return mp_fail(MP_ECONNRESET, "manager: lost the connection to the server at %s: %s", l->address,
                           mp_last_error());
        if ((rc = mp_wire_reply_id(r->data, r->len, &r->id)) != MP_OK) {
            free(r->data);
            return rc;
        }
        if (r->id != PING_ID)
            return MP_OK;
        free(r->data);
        pinged = false;
    }
}

/* Wait for the reply to id, taking the reader role when nobody has it. */
static int await(mp_link *l, uint64_t id, unsigned gen, reply *out)
{
    for (;;) {
        for (reply **p = &l->replies; *p != NULL; p = &(*p)->next) {
            if ((*p)->id == id) {
                reply *r = *p;
                *p = r->next;
                *out = *r;
                free(r);
                return MP_OK;
            }
        }
        if (l->gen != gen)
            return mp_fail(l->dead_rc, "%s", l->dead_msg);
        if (l->reading) {
            mp_os_cond_wait(l->changed, l->lock, MP_FOREVER);
            continue;
        }
        l->reading = true;
        mp_conn *c = l->conn;
        mp_os_mutex_unlock(l->lock);
        reply got;
        int rc = read_reply(l, c, &got);
        reply *kept = rc == MP_OK && got.id != id ? malloc(sizeof *kept) : NULL;
        mp_os_mutex_lock(l->lock);
        l->reading = false;
        if (rc == MP_OK && got.id == id) {
            *out = got;
            mp_os_cond_broadcast(l->changed);
            return MP_OK;
        }
        if (rc == MP_OK && kept == NULL) {
            free(got.data);
            rc = mp_fail(MP_ENOMEM, "manager: out of memory for a reply");
        }
        if (rc != MP_OK || kept == NULL) {
            die(l, rc);
            continue;
        }
        *kept = got;
        kept->next = l->replies;
        l->replies = kept;
        mp_os_cond_broadcast(l->changed);
    }
}

int mp_link_call(mp_link *l, mp_wire_op op, const mp_buf *fields, mp_value **tree, const mp_value **value)
{
    *tree = NULL;
    mp_os_mutex_lock(l->lock);
    int rc = ensure(l);
    if (rc != MP_OK) {
        mp_os_mutex_unlock(l->lock);
        return rc;
    }
    uint64_t id = ++l->next_id;
    unsigned gen = l->gen;
    mp_conn *c = l->conn;
    l->users++;
    mp_os_mutex_unlock(l->lock);
    rc = send_request(c, id, op, fields);
    mp_os_mutex_lock(l->lock);
    reply r = {0};
    if (rc != MP_OK && l->gen == gen)
        die(l, mp_fail(MP_ECONNRESET, "manager: lost the connection to the server at %s: %s", l->address,
                       mp_last_error()));
    if (rc == MP_OK)
        rc = await(l, id, gen, &r);
    else
        rc = mp_fail(l->dead_rc, "%s", l->dead_msg);
    if (--l->users == 0)
        mp_os_cond_broadcast(l->changed);
    mp_os_mutex_unlock(l->lock);
    if (rc != MP_OK)
        return rc;
    rc = mp_decode(r.data, r.len, NULL, tree);
    free(r.data);
    mp_wire_reply parsed;
    if (rc == MP_OK)
        rc = mp_wire_parse_reply(*tree, &parsed);
    else
        rc = mp_fail(MP_EPROTO, "manager: a malformed reply: %s", mp_last_error());
    if (rc == MP_OK && parsed.code != MP_OK) {
        /* The built-in objects' messages say "manager: " already. */
        bool said = strncmp(parsed.message, "manager: ", 9) == 0;
        rc = mp_fail(parsed.code, "%s%s", said ? "" : "manager: ", parsed.message);
    }
    if (rc != MP_OK) {
        mp_value_free(*tree);
        *tree = NULL;
        return rc;
    }
    *value = parsed.value;
    return MP_OK;
}

void mp_link_post(mp_link *l, mp_wire_op op, const mp_buf *fields)
{
    mp_os_mutex_lock(l->lock);
    if (l->conn != NULL && l->pid == mp_current_pid() && l->dead_rc == MP_OK)
        (void)send_request(l->conn, 0, op, fields);
    mp_os_mutex_unlock(l->lock);
}
