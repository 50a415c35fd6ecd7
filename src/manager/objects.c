/* objects.c - the server's table of objects (objects.h). A process has at
 * most one; it is small (a client's live objects), so it is an array
 * searched by oid. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "manager/objects.h"

/* Who holds references to one entry, and how many each. lent: references
 * the connection got with a value taken out for it (mp_objects_lend),
 * which its next increfs take over. */
typedef struct holder {
    uint64_t conn;
    long count, lent;
} holder;

typedef struct entry {
    uint64_t oid;
    mp_served *object; /* the table's own reference */
    holder *holders;
    size_t nholders, cap;
} entry;

static mp_os_mutex *lock;
static entry *entries;
static size_t nentries, cap;
static uint64_t next_oid;

int mp_objects_open(void)
{
    if (lock != NULL)
        return mp_fail(MP_ESTATE, "manager: this process already runs a server");
    uint32_t run;
    int rc = mp_os_random(&run, sizeof run);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&lock);
    if (rc != MP_OK)
        return mp_fail(rc, "manager: cannot start the object table: %s", mp_last_error());
    next_oid = (uint64_t)(run | 1u) << 32;
    return MP_OK;
}

static entry *find(uint64_t oid)
{
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].oid == oid)
            return &entries[i];
    return NULL;
}

/* Take the entry at e out of the table; returns its object's reference
 * for the caller to drop outside the lock (freeing may call back here). */
static mp_served *remove_entry(entry *e)
{
    mp_served *o = e->object;
    free(e->holders);
    *e = entries[--nentries];
    return o;
}

static int add_ref(entry *e, uint64_t conn, bool lend)
{
    for (size_t i = 0; i < e->nholders; i++) {
        holder *h = &e->holders[i];
        if (h->conn != conn)
            continue;
        if (lend)
            h->lent++;
        else if (h->lent > 0)
            h->lent--, h->count++;
        else
            h->count++;
        return MP_OK;
    }
    if (e->nholders == e->cap) {
        size_t more = e->cap ? 2 * e->cap : 2;
        holder *h = realloc(e->holders, more * sizeof *h);
        if (h == NULL)
            return mp_fail(MP_ENOMEM, "manager: out of memory");
        e->holders = h;
        e->cap = more;
    }
    e->holders[e->nholders++] = lend ? (holder){conn, 0, 1} : (holder){conn, 1, 0};
    return MP_OK;
}

void mp_objects_close(void)
{
    if (lock == NULL)
        return;
    for (;;) {
        mp_os_mutex_lock(lock);
        mp_served *o = nentries > 0 ? remove_entry(&entries[nentries - 1]) : NULL;
        mp_os_mutex_unlock(lock);
        if (o == NULL)
            break;
        mp_served_unref(o);
    }
    free(entries);
    entries = NULL;
    nentries = cap = 0;
    mp_os_mutex_free(lock);
    lock = NULL;
}

int mp_objects_add(mp_served *o, uint64_t conn, uint64_t *oid)
{
    mp_os_mutex_lock(lock);
    entry *e = o->oid != 0 ? find(o->oid) : NULL;
    int rc = MP_OK;
    if (e == NULL && nentries == cap) {
        size_t more = cap ? 2 * cap : 16;
        entry *grown = realloc(entries, more * sizeof *grown);
        if (grown == NULL)
            rc = mp_fail(MP_ENOMEM, "manager: out of memory");
        else {
            entries = grown;
            cap = more;
        }
    }
    bool fresh = rc == MP_OK && e == NULL;
    if (fresh) {
        e = &entries[nentries++];
        *e = (entry){.oid = ++next_oid, .object = o};
        o->oid = e->oid;
    }
    if (rc == MP_OK)
        rc = add_ref(e, conn, false);
    mp_served *drop = NULL;
    if (rc == MP_OK)
        *oid = e->oid;
    else if (fresh)
        drop = remove_entry(e);
    if (!fresh)
        drop = o; /* the table holds the object already: this reference is spare */
    mp_os_mutex_unlock(lock);
    if (drop != NULL)
        mp_served_unref(drop);
    return rc;
}

static int incref(uint64_t oid, uint64_t conn, bool lend)
{
    mp_os_mutex_lock(lock);
    entry *e = find(oid);
    int rc = e != NULL ? add_ref(e, conn, lend)
                       : mp_fail(MP_ESTATE, "manager: the server has no object %llu (freed, or another run's)",
                                 (unsigned long long)oid);
    mp_os_mutex_unlock(lock);
    return rc;
}

int mp_objects_incref(uint64_t oid, uint64_t conn)
{
    return incref(oid, conn, false);
}

int mp_objects_lend(uint64_t oid, uint64_t conn)
{
    return incref(oid, conn, true);
}

void mp_objects_decref(uint64_t oid, uint64_t conn)
{
    mp_os_mutex_lock(lock);
    entry *e = find(oid);
    mp_served *drop = NULL;
    for (size_t i = 0; e != NULL && i < e->nholders; i++) {
        holder *h = &e->holders[i];
        if (h->conn != conn || h->count == 0)
            continue;
        if (--h->count == 0 && h->lent == 0)
            *h = e->holders[--e->nholders];
        if (e->nholders == 0)
            drop = remove_entry(e);
        break;
    }
    mp_os_mutex_unlock(lock);
    if (drop != NULL)
        mp_served_unref(drop);
}

void mp_objects_drop_conn(uint64_t conn)
{
    for (;;) {
        mp_served *drop = NULL;
        mp_os_mutex_lock(lock);
        for (size_t i = 0; i < nentries && drop == NULL; i++) {
            entry *e = &entries[i];
            for (size_t j = 0; j < e->nholders; j++) {
                if (e->holders[j].conn == conn) {
                    e->holders[j] = e->holders[--e->nholders];
                    break;
                }
            }
            if (e->nholders == 0)
                drop = remove_entry(e);
        }
        mp_os_mutex_unlock(lock);
        if (drop == NULL)
            return;
        mp_served_unref(drop);
    }
}

mp_served *mp_objects_get(uint64_t oid)
{
    mp_os_mutex_lock(lock);
    entry *e = find(oid);
    mp_served *o = e != NULL ? mp_served_ref(e->object) : NULL;
    mp_os_mutex_unlock(lock);
    if (o == NULL)
        mp_fail(MP_ESTATE, "manager: the server has no object %llu (freed, or another run's)",
                (unsigned long long)oid);
    return o;
}

bool mp_objects_has(uint64_t oid)
{
    if (lock == NULL)
        return false;
    mp_os_mutex_lock(lock);
    bool has = find(oid) != NULL;
    mp_os_mutex_unlock(lock);
    return has;
}

size_t mp_objects_count(void)
{
    if (lock == NULL)
        return 0;
    mp_os_mutex_lock(lock);
    size_t n = nentries;
    mp_os_mutex_unlock(lock);
    return n;
}
