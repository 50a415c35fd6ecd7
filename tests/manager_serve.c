/* manager_serve.c - the C side of tests/python_manager.py: an mproc manager
 * that a Python program uses through python/mproc_manager.py.
 *
 *   manager_serve start ADDR KEY   start the server (a child process, as
 *                                  mp_manager_start makes it), print
 *                                  "address <its address>", then obey
 *                                  commands on stdin as a C client
 *   manager_serve serve ADDR KEY   serve in this process
 *                                  (mp_manager_serve_forever); print
 *                                  "address <address>", then "served
 *                                  <code name>" once a client shut it down
 *
 * Both register seed 003's get_task_queue and get_result_queue (the same
 * two queues for everyone) and get_counter (a type of this program's own,
 * with methods add(n), value() and fail(code)).
 *
 * Commands, one a line, each answered with one line, "ok HEX" (the packed
 * result, c0 for nil) or "error MP_E... message". HEX is MessagePack in
 * hex; NAME is a proxy of this client, "task" and "result" from the start:
 *   call NAME METHOD HEXARGS    mp_proxy_call, HEXARGS an array (<= 4 items)
 *   create NAME TYPEID HEXARGS  mp_manager_create; answers "ok <typeid>"
 *   take NAME QUEUE             get an item from QUEUE (timeout 30 s), which
 *                               must be a proxy: it becomes NAME
 *                               (mp_proxy_from_value); answers "ok <typeid>"
 *   putproxy QUEUE NAME         put the proxy NAME into QUEUE (format 'O')
 *   free NAME                   mp_proxy_free
 *   shutdown                    mp_manager_shutdown, then exit (so does EOF)
 * The exit code is 0 when the server ran and shut down without error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

/* ---- the typeids ---------------------------------------------------------- */

static mp_served *task_queue, *result_queue;

static int shared_queue(mp_served **q, mp_served **out)
{
    int rc = *q == NULL ? mp_served_builtin(q, "Queue", NULL) : MP_OK;
    if (rc == MP_OK)
        *out = mp_served_ref(*q);
    return rc;
}

static int get_task_queue(const mp_value *args, mp_served **out)
{
    (void)args;
    return shared_queue(&task_queue, out);
}
MP_MANAGED("get_task_queue", get_task_queue)

static int get_result_queue(const mp_value *args, mp_served **out)
{
    (void)args;
    return shared_queue(&result_queue, out);
}
MP_MANAGED("get_result_queue", get_result_queue)

/* A counter: add(n) -> the new total, value() -> the total, fail(code)
 * raises code. Calls come one at a time (not concurrent). */
typedef struct counter {
    int64_t total;
} counter;

static int counter_add(void *self, const mp_value *args, mp_served_call *call)
{
    counter *c = self;
    int64_t n;
    if (mp_args(args, "q", &n) != MP_OK)
        return mp_raise(MP_ETYPE, "Counter.add takes one integer");
    c->total += n;
    return mp_pack(mp_served_result(call), "q", c->total);
}

static int counter_value(void *self, const mp_value *args, mp_served_call *call)
{
    counter *c = self;
    if (mp_args(args, "") != MP_OK)
        return mp_raise(MP_EINVAL, "Counter.value takes no arguments");
    return mp_pack(mp_served_result(call), "q", c->total);
}

static int counter_fail(void *self, const mp_value *args, mp_served_call *call)
{
    (void)self;
    (void)call;
    int code;
    if (mp_args(args, "i", &code) != MP_OK || code >= 0)
        return mp_raise(MP_EINVAL, "Counter.fail takes a negative code");
    return mp_raise(code, "Counter.fail: failing with %s as asked", mp_errname(code));
}

static const mp_served_method counter_methods[] = {
    {"add", counter_add, false},
    {"value", counter_value, false},
    {"fail", counter_fail, false},
    {NULL, NULL, false},
};

static const mp_served_type counter_type = {"Counter", counter_methods, free, false};

static int get_counter(const mp_value *args, mp_served **out)
{
    int64_t start = 0;
    if (mp_args(args, "|q", &start) != MP_OK)
        return mp_raise(MP_ETYPE, "get_counter takes an optional integer");
    counter *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_raise(MP_ENOMEM, "get_counter: out of memory");
    c->total = start;
    int rc = mp_served_new(out, &counter_type, c);
    if (rc != MP_OK)
        free(c);
    return rc;
}
MP_MANAGED("get_counter", get_counter)

/* ---- hex ------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the hex of one MessagePack value; NULL if malformed. */
static mp_value *from_hex(const char *hex)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0)
        return NULL;
    unsigned char *bytes = malloc(n / 2);
    if (bytes == NULL)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            return NULL;
        }
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    mp_value *v = NULL;
    if (mp_decode(bytes, n / 2, NULL, &v) != MP_OK)
        v = NULL;
    free(bytes);
    return v;
}

static void print_hex(const mp_value *v)
{
    mp_buf b = MP_BUF_INIT;
    if (v == NULL || mp_pack_value(&b, v) != MP_OK) {
        mp_buf_free(&b);
        printf("c0");
        return;
    }
    for (size_t i = 0; i < b.len; i++)
        printf("%02x", b.data[i]);
    mp_buf_free(&b);
}

/* ---- the C client ----------------------------------------------------------- */

#define MAX_PROXIES 16

static struct named {
    char name[32];
    mp_proxy *p;
} proxies[MAX_PROXIES];

static struct named *find(const char *name)
{
    for (int i = 0; i < MAX_PROXIES; i++)
        if (proxies[i].p != NULL && strcmp(proxies[i].name, name) == 0)
            return &proxies[i];
    return NULL;
}

/* Keep p as name (replacing an older one of that name). */
static int keep(const char *name, mp_proxy *p)
{
    struct named *n = find(name);
    if (n != NULL) {
        mp_proxy_free(n->p);
        n->p = NULL;
    }
    for (int i = 0; i < MAX_PROXIES; i++) {
        if (proxies[i].p == NULL && strlen(name) < sizeof proxies[i].name) {
            snprintf(proxies[i].name, sizeof proxies[i].name, "%s", name);
            proxies[i].p = p;
            return MP_OK;
        }
    }
    mp_proxy_free(p);
    return mp_raise(MP_ERANGE, "manager_serve: no room for proxy %s", name);
}

static void answer_error(int rc)
{
    printf("error %s %s\n", mp_errname(rc), mp_last_error());
}

/* The arguments of a call (an array of at most 4) as a format of V's. */
static int spread(const mp_value *args, const char **fmt, const mp_value *a[4])
{
    static const char *const fmts[] = {"", "V", "V V", "V V V", "V V V V"};
    if (args == NULL || args->type != MP_ARRAY || args->as.array.len > 4)
        return mp_raise(MP_EINVAL, "manager_serve: the arguments must be an array of at most 4 values");
    for (uint32_t i = 0; i < 4; i++)
        a[i] = i < args->as.array.len ? &args->as.array.items[i] : NULL;
    *fmt = fmts[args->as.array.len];
    return MP_OK;
}

static int cmd_call(const char *name, const char *method, const char *hex)
{
    struct named *n = find(name);
    mp_value *args = from_hex(hex);
    const char *fmt = "";
    const mp_value *a[4];
    int rc = n != NULL ? MP_OK : mp_raise(MP_EINVAL, "manager_serve: no proxy %s", name);
    if (rc == MP_OK && args == NULL)
        rc = mp_raise(MP_EINVAL, "manager_serve: malformed hex");
    if (rc == MP_OK)
        rc = spread(args, &fmt, a);
    mp_value *r = NULL;
    if (rc == MP_OK)
        rc = mp_proxy_call(n->p, method, &r, fmt, a[0], a[1], a[2], a[3]);
    if (rc == MP_OK) {
        printf("ok ");
        print_hex(r);
        printf("\n");
    } else {
        answer_error(rc);
    }
    mp_value_free(r);
    mp_value_free(args);
    return rc;
}

static int cmd_create(mp_manager *m, const char *name, const char *typeid, const char *hex)
{
    mp_value *args = from_hex(hex);
    const char *fmt = "";
    const mp_value *a[4];
    int rc = args != NULL ? spread(args, &fmt, a) : mp_raise(MP_EINVAL, "manager_serve: malformed hex");
    mp_proxy *p = NULL;
    if (rc == MP_OK)
        rc = mp_manager_create(m, typeid, &p, fmt, a[0], a[1], a[2], a[3]);
    if (rc == MP_OK)
        rc = keep(name, p);
    if (rc == MP_OK)
        printf("ok %s\n", typeid);
    else
        answer_error(rc);
    mp_value_free(args);
    return rc;
}

static int cmd_take(const char *name, const char *queue)
{
    struct named *q = find(queue);
    int rc = q != NULL ? MP_OK : mp_raise(MP_EINVAL, "manager_serve: no proxy %s", queue);
    mp_value *item = NULL;
    mp_proxy *p = NULL;
    if (rc == MP_OK)
        rc = mp_proxy_call(q->p, "get", &item, "? d", true, 30.0);
    if (rc == MP_OK)
        rc = mp_proxy_from_value(item, &p);
    if (rc == MP_OK) {
        const char *typeid = mp_proxy_typeid(p);
        char shown[64];
        snprintf(shown, sizeof shown, "%s", typeid);
        rc = keep(name, p);
        if (rc == MP_OK)
            printf("ok %s\n", shown);
    }
    if (rc != MP_OK)
        answer_error(rc);
    mp_value_free(item);
    return rc;
}

static int cmd_putproxy(const char *queue, const char *name)
{
    struct named *q = find(queue), *n = find(name);
    int rc = q != NULL && n != NULL ? MP_OK : mp_raise(MP_EINVAL, "manager_serve: no proxy %s or %s", queue, name);
    if (rc == MP_OK)
        rc = mp_proxy_call(q->p, "put", NULL, "O", n->p);
    if (rc == MP_OK)
        printf("ok c0\n");
    else
        answer_error(rc);
    return rc;
}

static int cmd_free(const char *name)
{
    struct named *n = find(name);
    if (n == NULL) {
        int rc = mp_raise(MP_EINVAL, "manager_serve: no proxy %s", name);
        answer_error(rc);
        return rc;
    }
    mp_proxy_free(n->p);
    n->p = NULL;
    printf("ok c0\n");
    return MP_OK;
}

static void free_all(void)
{
    for (int i = 0; i < MAX_PROXIES; i++) {
        mp_proxy_free(proxies[i].p);
        proxies[i].p = NULL;
    }
}

/* Obey commands until shutdown or EOF; the result of the shutdown. */
static int obey(mp_manager *m)
{
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *words[4] = {NULL, NULL, NULL, NULL};
        int n = 0;
        for (char *w = strtok(line, " "); w != NULL && n < 4; w = strtok(NULL, " "))
            words[n++] = w;
        if (n == 0)
            continue;
        const char *c = words[0];
        if (strcmp(c, "shutdown") == 0)
            break;
        if (strcmp(c, "call") == 0 && n == 4)
            (void)cmd_call(words[1], words[2], words[3]);
        else if (strcmp(c, "create") == 0 && n == 4)
            (void)cmd_create(m, words[1], words[2], words[3]);
        else if (strcmp(c, "take") == 0 && n == 3)
            (void)cmd_take(words[1], words[2]);
        else if (strcmp(c, "putproxy") == 0 && n == 3)
            (void)cmd_putproxy(words[1], words[2]);
        else if (strcmp(c, "free") == 0 && n == 2)
            (void)cmd_free(words[1]);
        else
            printf("error MP_EINVAL manager_serve: unknown command %s\n", c);
        fflush(stdout);
    }
    free_all();
    int rc = mp_manager_shutdown(m);
    if (rc == MP_OK)
        printf("ok c0\n");
    else
        answer_error(rc);
    fflush(stdout);
    return rc;
}

static int start(mp_manager *m)
{
    int rc = mp_manager_start(m);
    if (rc != MP_OK) {
        fprintf(stderr, "manager_serve: start: %s\n", mp_last_error());
        return rc;
    }
    printf("address %s\n", mp_manager_address(m));
    fflush(stdout);
    mp_proxy *task = NULL, *result = NULL;
    rc = mp_manager_create(m, "get_task_queue", &task, NULL);
    if (rc == MP_OK && (rc = keep("task", task)) == MP_OK)
        rc = mp_manager_create(m, "get_result_queue", &result, NULL);
    if (rc == MP_OK)
        rc = keep("result", result);
    if (rc != MP_OK) {
        fprintf(stderr, "manager_serve: the queues: %s\n", mp_last_error());
        free_all();
        (void)mp_manager_shutdown(m);
        return rc;
    }
    return obey(m);
}

int main(int argc, char **argv)
{
    if (mp_main(argc, argv) != MP_OK) {
        fprintf(stderr, "manager_serve: mp_main: %s\n", mp_last_error());
        return 1;
    }
    bool serving = argc == 4 && strcmp(argv[1], "serve") == 0;
    if (!serving && !(argc == 4 && strcmp(argv[1], "start") == 0)) {
        fprintf(stderr, "usage: manager_serve start|serve ADDR KEY\n");
        return 2;
    }
    char chosen[256];
    mp_manager_options o = MP_MANAGER_OPTIONS_INIT;
    o.address = argv[2];
    o.authkey = argv[3];
    o.authkey_len = strlen(argv[3]);
    if (serving) {
        /* serve_forever tells its address only once it returns: replace
         * port 0 by one that is free now */
        mp_listener *l;
        if (mp_listener_new(&l, argv[2], NULL) != MP_OK) {
            fprintf(stderr, "manager_serve: finding a port: %s\n", mp_last_error());
            return 1;
        }
        snprintf(chosen, sizeof chosen, "%s", mp_listener_address(l));
        mp_listener_close(l);
        o.address = chosen;
    }
    mp_manager *m;
    if (mp_manager_new(&m, &o) != MP_OK) {
        fprintf(stderr, "manager_serve: %s\n", mp_last_error());
        return 1;
    }
    int rc;
    if (serving) {
        printf("address %s\n", chosen);
        fflush(stdout);
        rc = mp_manager_serve_forever(m);
        printf("served %s\n", mp_errname(rc));
        fflush(stdout);
    } else {
        rc = start(m);
    }
    mp_manager_free(m);
    return rc == MP_OK ? 0 : 1;
}
