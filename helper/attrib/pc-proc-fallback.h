/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Socket inode -> pid through /proc/PID/fd, with a cache and a bounded rescan rate; and ping
 * socket lookup through /proc/net/icmp{,6}. Private to helper/attrib. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcProcFallback PcProcFallback;

PcProcFallback *pc_proc_fallback_new (void);
void pc_proc_fallback_free (PcProcFallback *self);

/* The pid holding a socket with this inode, or 0. A cached answer is checked against
 * /proc/PID/fd/N; a miss rescans /proc, at most at a bounded rate. */
pid_t pc_proc_fallback_find_pid (PcProcFallback *self, guint64 inode);

/* Ping socket (SOCK_DGRAM, IPPROTO_ICMP{,V6}) sending echo requests with the key's echo id
 * (local port). Raw sockets carry no id, so they are never matched. */
gboolean
pc_proc_fallback_find_ping (PcProcFallback *self, const PcFlowKey *key, guint64 *inode, uid_t *uid);

/* Number of full /proc scans so far (for tests and statistics). */
guint pc_proc_fallback_get_scans (PcProcFallback *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcProcFallback, pc_proc_fallback_free)

G_END_DECLS
