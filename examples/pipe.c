/* Seed 002, "Pipe": the child sends a list over one end of a duplex pipe;
 * the parent receives it from the other end.
 *
 *   def func(conn):
 *       print('send a list object ot other side...')
 *       conn.send(['33', 44, None])
 *       conn.close()
 *   parent_conn, child_conn = Pipe()
 *   p = Process(target=func, args=(child_conn,)); p.start()
 *   print(parent_conn.recv())
 *   p.join()
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mproc.h>

static int func(const mp_value *args)
{
    mp_conn *conn;
    int rc = mp_args(args, "O", &conn);
    if (rc < 0)
        return rc;
    printf("send a list object ot other side...\n");
    fflush(stdout);
    /* Several values in one send travel as one array: ['33', 44, None]. */
    rc = mp_conn_send(conn, "sin", "33", 44);
    mp_conn_close(conn);
    return rc < 0 ? rc : 0;
}
MP_TARGET(func)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    mp_conn *parent_conn, *child_conn;
    mp_process *p;
    int rc = mp_pipe(true, &parent_conn, &child_conn);
    if (rc == MP_OK)
        rc = mp_process_new(&p, func, NULL, "O", child_conn);
    if (rc != MP_OK) {
        fprintf(stderr, "pipe: %s\n", mp_last_error());
        return 1;
    }
    rc = mp_process_start(p);
    /* The child has its own copy now; without ours, a child that died
     * before sending would give end of file instead of a hang. */
    mp_conn_close(child_conn);

    mp_value *v = NULL;
    const char *s = NULL;
    int n = 0;
    if (rc == MP_OK)
        rc = mp_conn_recv(parent_conn, &v);
    if (rc == MP_OK)
        rc = mp_unpack(v, "(sin)", &s, &n);
    if (rc == MP_OK)
        printf("['%s', %d, None]\n", s, n);
    else
        fprintf(stderr, "pipe: %s\n", mp_last_error());
    bool ok = rc == MP_OK && strcmp(s, "33") == 0 && n == 44;
    mp_value_free(v);

    int code = 1;
    if (mp_process_join(p, MP_FOREVER) == MP_OK)
        mp_process_exitcode(p, &code);
    mp_process_close(p);
    mp_conn_close(parent_conn);
    return ok && code == 0 ? 0 : 1;
}
