/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exact sock_diag lookups: flow tuple -> socket cookie, inode and uid, one netlink
 * request/response on a persistent socket (never a dump). Private to helper/attrib. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcSockDiag PcSockDiag;

typedef struct
{
  guint64 cookie;
  guint64 inode; /* 0 for sockets without an inode (TIME_WAIT, request sockets) */
  uid_t uid;
  guint8 state; /* TCP_* state of the socket (TCP_LISTEN for a listener) */
} PcSockDiagResult;

PcSockDiag *pc_sock_diag_new (GError **error);
void pc_sock_diag_free (PcSockDiag *self);

/* Cookie of the network namespace the netlink socket (and so every lookup) lives in; 0 if the
 * kernel cannot tell (before 5.14). */
guint64 pc_sock_diag_get_netns_cookie (PcSockDiag *self);

/* TCP, UDP and UDP-Lite only. Returns FALSE when no socket matches (or on error, logged). */
gboolean pc_sock_diag_lookup (PcSockDiag *self, const PcFlowKey *key, PcSockDiagResult *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcSockDiag, pc_sock_diag_free)

G_END_DECLS
