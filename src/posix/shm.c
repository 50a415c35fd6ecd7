/* shm.c - shared memory: anonymous objects are memfds (nothing to leak:
 * they go with their last descriptor and mapping); named ones are
 * shm_open objects, registered with the resource tracker (tracker.c) so
 * that a crash does not leave them behind in /dev/shm. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "posix.h"

/* "/" and the name: shm_open's limit on Linux is NAME_MAX (255) bytes. */
#define SHM_PATH_SIZE 256

static int check_name(const char *name, char *path, size_t size)
{
    if (name[0] == '\0' || strpbrk(name, "/\\") != NULL || strlen(name) + 2 > size)
        return mp_fail(MP_EINVAL, "shared memory: bad name \"%s\" (no '/' or '\\', at most %zu bytes)", name, size - 2);
    snprintf(path, size, "/%s", name);
    return MP_OK;
}

static int map(int fd, size_t size, mp_os_shm *out)
{
    void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        int err = errno;
        close(fd);
        return mp_fail_os(err == ENOMEM ? MP_ENOMEM : MP_EOS, err, "shared memory: mmap of %zu bytes", size);
    }
    *out = (mp_os_shm){.addr = addr, .size = size, .handle = fd};
    return MP_OK;
}

int mp_os_shm_create(const char *name, size_t size, mp_os_shm *out)
{
    if (size == 0)
        return mp_fail(MP_EINVAL, "shared memory: size 0");
    char path[SHM_PATH_SIZE];
    int fd;
    if (name == NULL) {
        fd = memfd_create("mproc", MFD_CLOEXEC);
        if (fd < 0)
            return mp_fail_os(MP_EOS, errno, "memfd_create");
    } else {
        int rc = check_name(name, path, sizeof path);
        if (rc != MP_OK)
            return rc;
        fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            return mp_fail(MP_EEXIST, "shared memory \"%s\" already exists", name);
        if (fd < 0)
            return mp_fail_os(MP_EOS, errno, "shm_open(\"%s\")", path);
        rc = mp_posix_tracker_register(name);
        if (rc != MP_OK) {
            close(fd);
            shm_unlink(path);
            return rc;
        }
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        int err = errno;
        close(fd);
        if (name != NULL)
            mp_os_shm_unlink(name);
        return mp_fail_os(MP_ENOMEM, err, "shared memory: ftruncate to %zu bytes", size);
    }
    int rc = map(fd, size, out);
    if (rc != MP_OK && name != NULL)
        mp_os_shm_unlink(name);
    return rc;
}

int mp_os_shm_open(const char *name, mp_os_shm *out)
{
    char path[SHM_PATH_SIZE];
    int rc = check_name(name, path, sizeof path);
    if (rc != MP_OK)
        return rc;
    int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "shared memory \"%s\"", name);
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        int err = errno;
        close(fd);
        return mp_fail_os(MP_EOS, err, "shared memory \"%s\": no size", name);
    }
    return map(fd, (size_t)st.st_size, out);
}

int mp_os_shm_adopt(mp_os_handle h, size_t size, mp_os_shm *out)
{
    return map((int)h, size, out);
}

void mp_os_shm_close(mp_os_shm *s)
{
    if (s->addr != NULL)
        munmap(s->addr, s->size);
    mp_os_handle_close(s->handle);
    *s = (mp_os_shm){.addr = NULL, .size = 0, .handle = MP_OS_NO_HANDLE};
}

int mp_os_shm_unlink(const char *name)
{
    char path[SHM_PATH_SIZE];
    int rc = check_name(name, path, sizeof path);
    if (rc != MP_OK)
        return rc;
    if (shm_unlink(path) != 0)
        return mp_fail_os(errno == ENOENT ? MP_ENOTREG : MP_EOS, errno, "shm_unlink(\"%s\")", path);
    mp_posix_tracker_unregister(name);
    return MP_OK;
}

void mp_os_shm_discard(mp_os_shm *s, size_t off, size_t len)
{
    fallocate((int)s->handle, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}
