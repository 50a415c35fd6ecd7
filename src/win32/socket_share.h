/* socket_share.h - sockets travelling to a child (child_start.c,
 * child_side.c; made in socket.c). Winsock in a child does not take an
 * inherited SOCKET handle for a socket (sends fail with WSAENOTSOCK), so
 * the parent shares each one with WSADuplicateSocketW for the child's pid,
 * and the child makes its own socket from that record (protocol.md §2). */
#ifndef MPROC_WIN32_SOCKET_SHARE_H
#define MPROC_WIN32_SOCKET_SHARE_H

#include <windows.h>

#include <stdbool.h>
#include <stddef.h>

/* The size of one record (a WSAPROTOCOL_INFOW). */
size_t mp_win_socket_share_size(void);
/* The record for process pid to make its own copy of socket s from. */
int mp_win_socket_share(HANDLE s, DWORD pid, unsigned char *record);
/* In the child: the socket a record describes, not inheritable. MP_EPROTO
 * for a record that describes none. */
int mp_win_socket_from_share(const unsigned char *record, HANDLE *out);

#endif
