/* pool_worker.c - a Pool's worker process: run the initializer, say ready,
 * then answer task messages on its private pipe until told to exit, until
 * the pool's end closes, or until maxtasksperchild tasks are done. */
#include <stdint.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "ipc/conn_reader.h"
#include "mproc/conn.h"
#include "pool/pool_exec.h"
#include "pool/pool_message.h"

/* Run the initializer and send POOL_READY or POOL_INIT_FAILED. Returns the
 * initializer's failure, or the send's. */
static int initialize(mp_conn *conn, const char *init_name, const void *initargs, size_t initargs_len)
{
    int rc = MP_OK;
    mp_target_fn init = NULL;
    if (init_name != NULL && (init = mp_registry_find(init_name)) == NULL)
        rc = mp_fail(MP_ENOTREG, "initializer '%s' is not registered in the worker", init_name);
    if (rc == MP_OK)
        rc = mp_pool_run_initializer(init, initargs, initargs_len);
    mp_buf reply = MP_BUF_INIT;
    int sent = rc == MP_OK ? mp_pack(&reply, "(i)", POOL_READY)
                           : mp_pool_reply_error(&reply, POOL_INIT_FAILED, rc, mp_last_error());
    if (sent == MP_OK)
        sent = mp_conn_send_bytes(conn, reply.data, reply.len);
    mp_buf_free(&reply);
    return rc != MP_OK ? rc : sent;
}

int mp_pool_worker_main(const mp_value *args)
{
    mp_conn *conn;
    const char *init_name;
    const void *initargs;
    size_t initargs_len;
    int maxtasks;
    int rc = mp_args(args, "O z y# i", &conn, &init_name, &initargs, &initargs_len, &maxtasks);
    if (rc != MP_OK)
        return rc;
    rc = initialize(conn, init_name, initargs, initargs_len);
    /* Tasks are read in bulk; each reply goes out before the next task
     * starts, so that if a task kills the worker, every earlier one has
     * been answered and the pool blames the right one. */
    mp_conn_reader reader;
    mp_conn_reader_init(&reader, mp_conn_handle(conn));
    mp_buf reply = MP_BUF_INIT;
    pool_scratch scratch = {MP_BUF_INIT, MP_BUF_INIT, MP_BUF_INIT};
    for (int done = 0; rc == MP_OK && (maxtasks <= 0 || done < maxtasks); done++) {
        mp_message msg;
        rc = mp_conn_reader_next(&reader, false, &msg);
        if (rc != MP_OK)
            break;
        bool exit = false;
        size_t mark;
        mp_buf_clear(&reply);
        rc = mp_conn_frame_begin(&reply, &mark);
        if (rc == MP_OK)
            rc = mp_pool_execute(msg.data, msg.len, NULL, &scratch, &reply, &exit);
        if (rc != MP_OK || exit)
            break;
        rc = mp_conn_frame_end(&reply, mark);
        if (rc == MP_OK)
            rc = mp_conn_write(conn, reply.data, reply.len);
    }
    mp_buf_free(&reply);
    mp_pool_scratch_free(&scratch);
    mp_conn_reader_free(&reader);
    mp_conn_close(conn);
    return rc == MP_EEOF ? 0 : rc < 0 ? rc : 0;
}
MP_TARGET_NAMED(mp_pool_worker_main, "mproc.pool.worker")
