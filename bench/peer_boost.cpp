// peer_boost.cpp - the C++ peer of the IPC benchmarks: Boost.Interprocess,
// what a C or C++ programmer would otherwise glue together by hand. One
// JSON line per variant, as bench_ipc_raw and bench_ipc print them:
//   boost message_queue small     16-byte items, a forked producer to the
//                                 parent (items/s)
//   boost message_queue 1MiB      1 MiB items, the same way (MB/s); the
//                                 receiver gets each into new memory, as
//                                 a queue that hands out owned items does
//   boost interprocess_mutex 1proc / 2proc
//                                 lock + unlock in shared memory, alone
//                                 and by two forked processes (ops/s)
// A message_queue has a fixed item size and no owner-death safety; the
// counts and sizes are the raw and mproc sides'.
//
// Usage: peer_boost [quick] [--cpu N]
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "bench_common.h"
}

namespace bip = boost::interprocess;

namespace
{

const std::size_t MIB = std::size_t(1) << 20;
bool quick;
int reps = 11;

[[noreturn]] void die(const char *what)
{
    std::fprintf(stderr, "peer_boost: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

pid_t fork_or_die()
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

void reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "peer_boost: a child failed\n");
        std::exit(1);
    }
}

// A queue name of this run's own, removed before and after.
std::string queue_name(const char *what)
{
    return "mproc-bench-" + std::string(what) + "-" + std::to_string(getpid());
}

// Each round the forked producer sends count items of size bytes (the
// first 4 bytes the sequence number); the parent times their receipt.
void message_queue_bench(const char *name, const char *unit, std::size_t size, std::size_t capacity,
                         int count)
{
    std::string qname = queue_name(size > 64 ? "big" : "small");
    bip::message_queue::remove(qname.c_str());
    bip::message_queue to_parent(bip::create_only, qname.c_str(), capacity, size);
    std::string gname = qname + "-go";
    bip::message_queue::remove(gname.c_str());
    bip::message_queue go(bip::create_only, gname.c_str(), 1, 1);
    pid_t pid = fork_or_die();
    if (pid == 0) {
        std::vector<unsigned char> item(size, 0xab);
        for (int r = -1; r < reps; r++) {
            char g;
            std::size_t got;
            unsigned prio;
            go.receive(&g, 1, got, prio);
            for (int i = 0; i < count; i++) {
                std::memcpy(item.data(), &i, sizeof i);
                to_parent.send(item.data(), size, 0);
            }
        }
        _exit(0);
    }
    std::vector<double> samples;
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        char g = 'g';
        go.send(&g, 1, 0);
        for (int i = 0; i < count; i++) {
            unsigned char *item = static_cast<unsigned char *>(std::malloc(size));
            if (item == nullptr)
                die("malloc");
            std::size_t got;
            unsigned prio;
            to_parent.receive(item, size, got, prio);
            int seq;
            std::memcpy(&seq, item, sizeof seq);
            std::free(item);
            if (got != size || seq != i) {
                errno = EPROTO;
                die("item out of sequence");
            }
        }
        double dt = bench_now() - t0;
        if (r >= 0)
            samples.push_back(size > 64 ? double(size) * count / dt / 1e6 : count / dt);
    }
    reap(pid);
    bip::message_queue::remove(qname.c_str());
    bip::message_queue::remove(gname.c_str());
    bench_report(name, unit, samples.data(), int(samples.size()));
}

struct shared {
    bip::interprocess_mutex mutex;
    long value;
};

void lock_loop(shared *s, long n)
{
    for (long i = 0; i < n; i++) {
        s->mutex.lock();
        s->mutex.unlock();
    }
}

// nproc == 1: the loop runs here; otherwise nproc forked children, waiting
// on a pipe before the clock starts, run it at once.
void mutex_bench(const char *name, int nproc, long n)
{
    void *mem = mmap(nullptr, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap");
    shared *s = new (mem) shared();
    std::vector<double> samples;
    for (int r = -1; r < reps; r++) {
        double dt;
        if (nproc == 1) {
            double t0 = bench_now();
            lock_loop(s, n);
            dt = bench_now() - t0;
        } else {
            int ready[2], go[2];
            if (pipe(ready) != 0 || pipe(go) != 0)
                die("pipe");
            std::vector<pid_t> pids;
            for (int c = 0; c < nproc; c++) {
                pid_t pid = fork_or_die();
                if (pid == 0) {
                    char b = 'r';
                    if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
                        _exit(1);
                    lock_loop(s, n);
                    _exit(write(ready[1], &b, 1) == 1 ? 0 : 1);
                }
                pids.push_back(pid);
            }
            char b;
            for (int c = 0; c < nproc; c++)
                if (read(ready[0], &b, 1) != 1)
                    die("read");
            double t0 = bench_now();
            for (int c = 0; c < nproc; c++)
                if (write(go[1], "g", 1) != 1)
                    die("write");
            for (int c = 0; c < nproc; c++)
                if (read(ready[0], &b, 1) != 1)
                    die("read");
            dt = bench_now() - t0;
            for (int fd : {ready[0], ready[1], go[0], go[1]})
                close(fd);
            for (pid_t pid : pids)
                reap(pid);
        }
        if (r >= 0)
            samples.push_back(double(n) * nproc / dt);
    }
    s->~shared();
    munmap(mem, sizeof(shared));
    bench_report(name, "ops/s", samples.data(), int(samples.size()));
}

} // namespace

int main(int argc, char **argv)
{
    quick = bench_options(argc, argv, "peer_boost");
    if (quick)
        reps = 7;
    try {
        message_queue_bench("boost message_queue small", "items/s", 16, 1024, quick ? 10000 : 100000);
        message_queue_bench("boost message_queue 1MiB", "MB/s", MIB, 8, quick ? 32 : 256);
        long lock_n = quick ? 2000000 : 20000000;
        mutex_bench("boost interprocess_mutex 1proc", 1, lock_n);
        mutex_bench("boost interprocess_mutex 2proc", 2, lock_n / 2);
    } catch (const bip::interprocess_exception &e) {
        std::fprintf(stderr, "peer_boost: %s\n", e.what());
        return 1;
    }
    return 0;
}
