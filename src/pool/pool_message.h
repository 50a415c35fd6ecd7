/* pool_message.h - the messages between a pool and its workers.
 *
 * A message is a MessagePack array, the header, and for some a payload
 * right after it in the same frame:
 *   [POOL_ARGS, task name]                     + the argument array  (apply)
 *   [POOL_ITEMS, task name, star, count]       + count items (map, starmap,
 *                                                imap: a chunk)
 *   [POOL_FIXED, task name, in_size, out_size] + the input elements, raw
 *                                                (map_fixed: a chunk)
 *   [POOL_EXIT]                                  the worker exits
 * A reply:
 *   [POOL_DONE, count]        + count values, or for FIXED count bytes of
 *                               output elements
 *   [POOL_FAILED, code, message]
 *   [POOL_READY]              a new worker's first message: initializer done
 *   [POOL_INIT_FAILED, code, message]
 * Each is one frame of the Connection's framing. The payload is never
 * wrapped, so neither side copies it into or out of an enclosing value. */
#ifndef MPROC_POOL_MESSAGE_H
#define MPROC_POOL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

enum { POOL_ARGS, POOL_ITEMS, POOL_FIXED, POOL_EXIT };
enum { POOL_DONE, POOL_FAILED, POOL_READY, POOL_INIT_FAILED };

/* Where each field stands in a header, and how many fields a header of
 * each kind has (the table above). */
enum { HEAD_KIND };                                     /* every header */
enum { TASK_NAME = 1, ARGS_FIELDS };                    /* every task */
enum { ITEMS_STAR = 2, ITEMS_COUNT, ITEMS_FIELDS };     /* POOL_ITEMS */
enum { FIXED_IN_SIZE = 2, FIXED_OUT_SIZE, FIXED_FIELDS }; /* POOL_FIXED */
enum { DONE_COUNT = 1, DONE_FIELDS };                   /* POOL_DONE */
enum { ERROR_CODE = 1, ERROR_MESSAGE, ERROR_FIELDS };   /* POOL_FAILED, POOL_INIT_FAILED */
enum { KIND_ONLY_FIELDS = 1 };                          /* POOL_EXIT, POOL_READY */

/* Stack room for a decoded header: the array and its few fields, with
 * room to spare, so that reading one never allocates. */
#define POOL_HEADER_NODES 16

/* The decoder's node limit is for input from strangers; a pool's messages
 * and results come from its own code, with memory as their only bound. */
#define POOL_MAX_NODES (SIZE_MAX / 64)

/* Element sizes of the fixed path. */
#define POOL_MAX_ELEM ((size_t)64 << 10)

#endif
