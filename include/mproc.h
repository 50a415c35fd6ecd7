/* mproc.h - Python's multiprocessing for C. The only header a user needs.
 * See README.md and docs/python-mapping.md. */
#ifndef MPROC_H
#define MPROC_H

#include "mproc/error.h"
#include "mproc/pack.h"
#include "mproc/process.h"
#include "mproc/registry.h"
#include "mproc/conn.h"
#include "mproc/net.h"
#include "mproc/queue.h"
#include "mproc/sync.h"
#include "mproc/shm.h"
#include "mproc/thread.h"
#include "mproc/pool.h"
#include "mproc/manager.h"
#include "mproc/subprocess.h"
#include "mproc/program_pool.h"

#endif
