/* test_handle_pass.c - send_handle and recv_handle (conn.h): a pipe end
 * passed within one process, a file passed to a child under every start
 * method, ordinary messages around handle messages, the connections that
 * can and cannot carry one, messages that are not handle messages, the
 * bytes on the wire (protocol.md §8), and bad input. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* fileno */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

/* The only per-system code: a stdio file's own handle, and writing through
 * a received one. */
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>

static intptr_t file_handle(FILE *f)
{
    return (intptr_t)_get_osfhandle(_fileno(f));
}

/* Write s through h and close it (the CRT descriptor takes h over). */
static int write_and_close(intptr_t h, const char *s)
{
    int fd = _open_osfhandle(h, _O_BINARY);
    if (fd < 0)
        return -1;
    int ok = _write(fd, s, (unsigned)strlen(s)) == (int)strlen(s);
    return _close(fd) == 0 && ok ? 0 : -1;
}
#else
#include <unistd.h>

static intptr_t file_handle(FILE *f)
{
    return fileno(f);
}

static int write_and_close(intptr_t h, const char *s)
{
    int ok = write((int)h, s, strlen(s)) == (ssize_t)strlen(s);
    return close((int)h) == 0 && ok ? 0 : -1;
}
#endif

static void expect_bytes(mp_conn *c, const char *want)
{
    void *d;
    size_t len;
    MPT_OK(mp_conn_recv_bytes(c, 0, &d, &len));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(d, want, len);
    free(d);
}

/* A pipe end goes over a duplex Pipe in this process, between ordinary
 * messages; the received end is a handle of its own: writing through it
 * reaches the reader, and the reader sees the end of file only once both
 * are closed. */
static void in_process(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    mp_os_handle r, w;
    MPT_OK(mp_os_pipe(false, &r, &w));

    MPT_OK(mp_conn_send_bytes(a, "before", 6));
    MPT_OK(mp_conn_send_handle(a, w, mp_current_pid()));
    MPT_OK(mp_conn_send(a, "is", 7, "after"));
    expect_bytes(b, "before");
    intptr_t got = -1;
    MPT_OK(mp_conn_recv_handle(b, &got));
    assert_true(got != w && got != MP_OS_NO_HANDLE);
    mp_value *v;
    MPT_OK(mp_conn_recv(b, &v));
    int i;
    const char *s;
    MPT_OK(mp_unpack(v, "(is)", &i, &s));
    assert_int_equal(i, 7);
    assert_string_equal(s, "after");
    mp_value_free(v);

    MPT_OK(mp_os_pipe_write(got, "xyz", 3));
    char buf[3];
    MPT_OK(mp_os_pipe_read(r, buf, 3));
    assert_memory_equal(buf, "xyz", 3);
    mp_os_handle_close(w);
    MPT_OK(mp_os_pipe_write(got, "!", 1));
    MPT_OK(mp_os_pipe_read(r, buf, 1));
    mp_os_handle_close(got);
    MPT_CODE(mp_os_pipe_read(r, buf, 1), MP_EEOF);
    mp_os_handle_close(r);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
}

/* The child takes "before", the handle, "after", in that order, writes
 * through the handle and closes it. Exit codes say which step failed. */
static int write_to_received(const mp_value *args)
{
    mp_conn *c;
    if (mp_args(args, "O", &c) != MP_OK)
        return 10;
    void *d;
    size_t len;
    if (mp_conn_recv_bytes(c, 0, &d, &len) != MP_OK || len != 6 || memcmp(d, "before", 6) != 0)
        return 11;
    free(d);
    intptr_t h;
    if (mp_conn_recv_handle(c, &h) != MP_OK)
        return 12;
    if (mp_conn_recv_bytes(c, 0, &d, &len) != MP_OK || len != 5 || memcmp(d, "after", 5) != 0)
        return 13;
    free(d);
    if (write_and_close(h, "written by the child") != 0)
        return 14;
    return mp_conn_send_bytes(c, "done", 4) == MP_OK ? 0 : 15;
}
MP_TARGET(write_to_received)

static void to_a_child(void **state)
{
    (void)state;
    char dir[256], path[320];
    mpt_temp_dir(dir, sizeof dir);
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        snprintf(path, sizeof path, "%s-handle-%zu.txt", dir, k);
        FILE *f = fopen(path, "w+b");
        assert_non_null(f);
        mp_conn *a, *b;
        mp_process *p;
        MPT_OK(mp_pipe(true, &a, &b));
        MPT_OK(mp_process_new(&p, write_to_received, mpt_opts(methods[k]), "O", b));
        MPT_OK(mp_process_start(p));
        MPT_OK(mp_conn_close(b));

        MPT_OK(mp_conn_send_bytes(a, "before", 6));
        MPT_OK(mp_conn_send_handle(a, file_handle(f), mp_process_pid(p)));
        MPT_OK(mp_conn_send_bytes(a, "after", 5));
        expect_bytes(a, "done");
        assert_int_equal(mpt_join_child(p), 0);

        /* The parent's own handle is still open, and the file has the
         * child's bytes. */
        char buf[64] = {0};
        assert_int_equal(fseek(f, 0, SEEK_SET), 0);
        assert_int_equal(fread(buf, 1, sizeof buf - 1, f), strlen("written by the child"));
        assert_string_equal(buf, "written by the child");
        assert_int_equal(fclose(f), 0);
        assert_int_equal(remove(path), 0);
        MPT_OK(mp_conn_close(a));
    }
}

/* Which connections carry a handle: on POSIX a one-way Pipe and a TCP
 * connection cannot (both ends say so), a unix: one can; on Windows all. */
static void pass_and_take(mp_conn *tx, mp_conn *rx)
{
    mp_os_handle r, w;
    MPT_OK(mp_os_pipe(false, &r, &w));
    MPT_OK(mp_conn_send_handle(tx, w, mp_current_pid()));
    intptr_t got;
    MPT_OK(mp_conn_recv_handle(rx, &got));
    MPT_OK(mp_os_pipe_write(got, "k", 1));
    char c;
    MPT_OK(mp_os_pipe_read(r, &c, 1));
    assert_int_equal(c, 'k');
    mp_os_handle_close(got);
    mp_os_handle_close(w);
    mp_os_handle_close(r);
}

static void over_a_socket(const char *address, bool can)
{
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, address, NULL));
    mp_conn *client, *server;
    MPT_OK(mp_client(&client, mp_listener_address(l), NULL));
    MPT_OK(mp_listener_accept(l, 30, &server));
    if (can) {
        pass_and_take(client, server);
        pass_and_take(server, client);
    } else {
        MPT_CODE(mp_conn_send_handle(client, 0, mp_current_pid()), MP_EUNSUPPORTED);
        intptr_t got;
        MPT_CODE(mp_conn_recv_handle(server, &got), MP_EUNSUPPORTED);
    }
    /* the connection is as good as before */
    MPT_OK(mp_conn_send_bytes(client, "still", 5));
    expect_bytes(server, "still");
    MPT_OK(mp_conn_close(client));
    MPT_OK(mp_conn_close(server));
    mp_listener_close(l);
}

static void carriers(void **state)
{
    (void)state;
    mp_conn *r, *w;
    MPT_OK(mp_pipe(false, &r, &w));
#ifdef _WIN32
    pass_and_take(w, r);
    over_a_socket("tcp://127.0.0.1:0", true);
#else
    MPT_CODE(mp_conn_send_handle(w, 0, mp_current_pid()), MP_EUNSUPPORTED);
    intptr_t got;
    MPT_CODE(mp_conn_recv_handle(r, &got), MP_EUNSUPPORTED);
    over_a_socket("tcp://127.0.0.1:0", false);
    char address[64];
    snprintf(address, sizeof address, "unix:@mproc-test-handle-%ld", mp_current_pid());
    over_a_socket(address, true);
#endif
    MPT_OK(mp_conn_close(r));
    MPT_OK(mp_conn_close(w));
}

/* The 21 bytes of protocol.md §8 with the given pid and value. */
static void handle_body(unsigned char out[21], long pid, uint64_t value)
{
    memcpy(out, "\xc1mpH\x01", 5);
    for (int i = 0; i < 8; i++) {
        out[5 + i] = (unsigned char)((uint64_t)(int64_t)pid >> (56 - 8 * i));
        out[13 + i] = (unsigned char)(value >> (56 - 8 * i));
    }
}

/* What is not a handle message is MP_EPROTO, is consumed, and leaves the
 * connection usable: ordinary bytes, a large message, one that looks like a
 * handle message but has no handle with it, and a message recv_bytes_into
 * held back. */
static void not_a_handle_message(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    intptr_t got;
    MPT_OK(mp_conn_send_bytes(a, "plain", 5));
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);
    MPT_OK(mp_conn_send_bytes(a, "", 0));
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);

    size_t big = 16u << 10; /* more than scraps, less than the pipe holds */
    char *data = calloc(1, big);
    assert_non_null(data);
    memcpy(data, "\xc1mpH\x01", 5);
    MPT_OK(mp_conn_send_bytes(a, data, big));
    free(data);
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);

    /* the right bytes sent as plain bytes: no descriptor beside them
     * (POSIX), value 0, no handle of this process (Windows) */
    unsigned char forged[21];
    handle_body(forged, mp_current_pid(), 0);
    MPT_OK(mp_conn_send_bytes(a, forged, sizeof forged));
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);
    /* Windows: a duplicate made for another process is not this one's */
    handle_body(forged, mp_current_pid() + 4, 0x40);
    MPT_OK(mp_conn_send_bytes(a, forged, sizeof forged));
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);

    MPT_OK(mp_conn_send_bytes(a, "held back", 9));
    char small[2];
    size_t len;
    MPT_CODE(mp_conn_recv_bytes_into(b, small, sizeof small, &len), MP_ETOOBIG);
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);

    MPT_OK(mp_conn_send_bytes(a, "ok", 2));
    expect_bytes(b, "ok");
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
}

/* A handle message read as bytes has the bytes of protocol.md §8. On POSIX
 * the descriptor beside it is closed by the kernel as the bytes are read
 * (the leak check would see it otherwise), so recv of one is MP_EPROTO and
 * leaks nothing; on Windows the duplicate is in this process, named by the
 * message, and closed here. */
static void wire_format(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    mp_os_handle r, w;
    MPT_OK(mp_os_pipe(false, &r, &w));
    MPT_OK(mp_conn_send_handle(a, w, mp_current_pid()));
    unsigned char *d;
    size_t len;
    MPT_OK(mp_conn_recv_bytes(b, 0, (void **)&d, &len));
    assert_int_equal(len, 21);
    unsigned char want[21];
    uint64_t value = 0;
    for (int i = 13; i < 21; i++)
        value = value << 8 | d[i];
    handle_body(want, mp_current_pid(), value);
    assert_memory_equal(d, want, 21);
    free(d);
#ifdef _WIN32
    assert_true(value != 0 && value != (uint64_t)w);
    mp_os_handle_close((mp_os_handle)value);
#else
    assert_true(value == 0);
    MPT_OK(mp_conn_send_handle(a, w, mp_current_pid()));
    mp_value *v;
    MPT_CODE(mp_conn_recv(b, &v), MP_EPROTO);
#endif
    /* A handle message recv_bytes_into held back: on Windows still a handle
     * message; on POSIX its descriptor went when its bytes were read. */
    MPT_OK(mp_conn_send_handle(a, w, mp_current_pid()));
    char small[2];
    MPT_CODE(mp_conn_recv_bytes_into(b, small, sizeof small, &len), MP_ETOOBIG);
    intptr_t got;
#ifdef _WIN32
    MPT_OK(mp_conn_recv_handle(b, &got));
    mp_os_handle_close(got);
#else
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_EPROTO);
#endif
    mp_os_handle_close(w);
    mp_os_handle_close(r);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
}

static void bad_input(void **state)
{
    (void)state;
    mp_conn *a, *b;
    intptr_t got;
    MPT_CODE(mp_conn_send_handle(NULL, 0, mp_current_pid()), MP_EINVAL);
    MPT_CODE(mp_conn_recv_handle(NULL, &got), MP_EINVAL);
    MPT_OK(mp_pipe(true, &a, &b));
    MPT_CODE(mp_conn_recv_handle(b, NULL), MP_EINVAL);
    MPT_CODE(mp_conn_send_handle(a, -1, mp_current_pid()), MP_EINVAL);
    MPT_CODE(mp_conn_send_handle(a, 0x3ffffff0, mp_current_pid()), MP_EINVAL);
    MPT_CODE(mp_conn_send_handle((mp_conn *)(void *)&state, 0, mp_current_pid()), MP_ETYPE);

    mp_os_handle r, w;
    MPT_OK(mp_os_pipe(false, &r, &w));
#ifdef _WIN32
    /* no such process */
    MPT_CODE(mp_conn_send_handle(a, w, 0x7ffffff0), MP_EOS);
    MPT_CODE(mp_conn_send_handle(a, w, -5), MP_EOS);
#else
    /* the destination is not used on POSIX: the descriptor arrives */
    MPT_OK(mp_conn_send_handle(a, w, 0x7ffffff0));
    MPT_OK(mp_conn_recv_handle(b, &got));
    mp_os_handle_close(got);
#endif
    /* nothing was sent by the refused calls */
    MPT_CODE(mp_conn_poll(b, 0), MP_ETIMEDOUT);
    mp_os_handle_close(w);
    mp_os_handle_close(r);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));

    /* the wrong direction of a one-way Pipe */
    MPT_OK(mp_pipe(false, &a, &b));
    MPT_CODE(mp_conn_send_handle(a, 0, mp_current_pid()), MP_ESTATE);
    MPT_CODE(mp_conn_recv_handle(b, &got), MP_ESTATE);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    const struct CMUnitTest tests[] = {
        MPT_TEST(in_process),   MPT_TEST(to_a_child),  MPT_TEST(carriers),
        MPT_TEST(not_a_handle_message), MPT_TEST(wire_format), MPT_TEST(bad_input),
    };
    return MPT_RUN(tests);
}
