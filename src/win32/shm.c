/* shm.c - shared memory as pagefile-backed sections: anonymous, or named
 * "Local\<name>". A section lives while any process has a handle or view,
 * so nothing outlives its users and no tracker is needed. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "platform.h"
#include "utf.h"

/* shm.h's limit: far below a section name's MAX_PATH. */
#define MAX_NAME_BYTES 200

static int section_name(const char *name, wchar_t **out)
{
    if (name[0] == '\0' || strpbrk(name, "/\\") != NULL || strlen(name) > MAX_NAME_BYTES)
        return mp_fail(MP_EINVAL, "shared memory: bad name \"%s\" (no '/' or '\\', at most %d bytes)", name,
                       MAX_NAME_BYTES);
    char full[sizeof "Local\\" + MAX_NAME_BYTES];
    snprintf(full, sizeof full, "Local\\%s", name);
    return mp_win_widen(full, out);
}

static int map(HANDLE h, size_t size, mp_os_shm *out)
{
    void *addr = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (addr == NULL) {
        DWORD err = GetLastError();
        CloseHandle(h);
        return mp_fail_os(MP_EOS, (int)err, "MapViewOfFile of %zu bytes", size);
    }
    *out = (mp_os_shm){.addr = addr, .size = size, .handle = (mp_os_handle)h};
    return MP_OK;
}

/* A name held by another kind of object (an event, a mutex) is taken just
 * the same, and a section larger than the commit limit is out of memory. */
static int create_failed(const char *name, size_t size, DWORD err)
{
    int code = MP_EOS;
    if (err == ERROR_INVALID_HANDLE && name != NULL)
        code = MP_EEXIST;
    else if (err == ERROR_COMMITMENT_LIMIT || err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY ||
             err == ERROR_DISK_FULL)
        code = MP_ENOMEM;
    return mp_fail_os(code, (int)err, "CreateFileMapping of %zu bytes", size);
}

int mp_os_shm_create(const char *name, size_t size, mp_os_shm *out)
{
    if (size == 0)
        return mp_fail(MP_EINVAL, "shared memory: size 0");
    wchar_t *wname = NULL;
    if (name != NULL) {
        int rc = section_name(name, &wname);
        if (rc != MP_OK)
            return rc;
    }
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)((uint64_t)size >> 32),
                                  (DWORD)size, wname);
    DWORD err = GetLastError();
    free(wname);
    if (h == NULL)
        return create_failed(name, size, err);
    if (name != NULL && err == ERROR_ALREADY_EXISTS) {
        CloseHandle(h);
        return mp_fail(MP_EEXIST, "shared memory \"%s\" already exists", name);
    }
    return map(h, size, out);
}

int mp_os_shm_open(const char *name, mp_os_shm *out)
{
    wchar_t *wname;
    int rc = section_name(name, &wname);
    if (rc != MP_OK)
        return rc;
    HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
    DWORD err = GetLastError();
    free(wname);
    if (h == NULL)
        return mp_fail_os(MP_EOS, (int)err, "shared memory \"%s\"", name);
    void *addr = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    MEMORY_BASIC_INFORMATION info;
    if (addr == NULL || VirtualQuery(addr, &info, sizeof info) == 0) {
        err = GetLastError();
        if (addr != NULL)
            UnmapViewOfFile(addr);
        CloseHandle(h);
        return mp_fail_os(MP_EOS, (int)err, "shared memory \"%s\": cannot map", name);
    }
    *out = (mp_os_shm){.addr = addr, .size = info.RegionSize, .handle = (mp_os_handle)h};
    return MP_OK;
}

int mp_os_shm_adopt(mp_os_handle h, size_t size, mp_os_shm *out)
{
    return map((HANDLE)h, size, out);
}

void mp_os_shm_close(mp_os_shm *s)
{
    if (s->addr != NULL)
        UnmapViewOfFile(s->addr);
    mp_os_handle_close(s->handle);
    *s = (mp_os_shm){.addr = NULL, .size = 0, .handle = MP_OS_NO_HANDLE};
}

int mp_os_shm_unlink(const char *name)
{
    (void)name;
    return MP_OK;
}

void mp_os_shm_discard(mp_os_shm *s, size_t off, size_t len)
{
    (void)s;
    (void)off;
    (void)len;
}
