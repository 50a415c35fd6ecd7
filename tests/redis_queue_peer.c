/* redis_queue_peer.c - mproc's side of redis_queue_interop.py: a program
 * that opens a Queue on Redis by address and either puts items for a
 * Python peer or gets the items a Python peer put.
 *
 *   redis_queue_peer put ADDRESS N   put [i, "item i"] for i < N
 *   redis_queue_peer get ADDRESS N   get N items, print "i text" for each
 *   redis_queue_peer work ADDRESS N  a joinable queue: get N items and
 *                                    mark each done */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc != 4)
        return 2;
    const char *mode = argv[1];
    int n = atoi(argv[3]);
    mp_queue_open_options o = {.joinable = strcmp(mode, "work") == 0};
    mp_queue *q;
    if (mp_queue_open(&q, argv[2], &o) != MP_OK) {
        fprintf(stderr, "open: %s\n", mp_last_error());
        return 1;
    }
    int rc = MP_OK;
    char text[32];
    for (int i = 0; rc == MP_OK && i < n; i++) {
        if (strcmp(mode, "put") == 0) {
            snprintf(text, sizeof text, "item %d", i);
            rc = mp_queue_put(q, MP_FOREVER, "(is)", i, text);
            continue;
        }
        mp_value *v = NULL;
        int k;
        const char *s;
        rc = mp_queue_get(q, 30, &v);
        if (rc == MP_OK)
            rc = mp_args(v, "is", &k, &s);
        if (rc == MP_OK)
            printf("%d %s\n", k, s);
        mp_value_free(v);
        if (rc == MP_OK && o.joinable)
            rc = mp_queue_task_done(q);
    }
    if (rc != MP_OK)
        fprintf(stderr, "%s: %s\n", mode, mp_last_error());
    mp_queue_free(q);
    return rc == MP_OK ? 0 : 1;
}
