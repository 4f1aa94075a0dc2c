/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Conntrack and socket operations on decided flows: change the verdict of a live flow
 * (masked connmark), cut it (delete its conntrack entry and destroy the local socket), and
 * learn when flows end (conntrack DESTROY events). */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcConntrack PcConntrack;

/* Called for every conntrack entry that ends while it carried one of our marks. orig_key is
 * the flow as seen in the original direction: local = source for outbound flows. The byte
 * counts (payload estimates) are 0 unless conntrack accounting is on. */
typedef void (*PcConntrackEndFunc) (const PcFlowKey *orig_key,
                                    guint32 mark,
                                    guint64 orig_bytes,
                                    guint64 reply_bytes,
                                    gpointer user_data);

PcConntrack *pc_conntrack_new (GError **error);
void pc_conntrack_free (PcConntrack *self);

/* The DESTROY event socket; call pc_conntrack_dispatch_events when it is readable. */
int pc_conntrack_get_event_fd (PcConntrack *self);
void pc_conntrack_dispatch_events (PcConntrack *self, PcConntrackEndFunc func, gpointer user_data);

/* key->direction says which side opened the flow. */
gboolean
pc_conntrack_set_mark (PcConntrack *self, const PcFlowKey *key, guint32 bits, GError **error);
gboolean pc_conntrack_delete (PcConntrack *self, const PcFlowKey *key, GError **error);
/* Traffic accounting without BPF: turns on nf_conntrack_acct in this network namespace and
 * reads every entry's counters. Bytes are estimated as payload (IP and TCP/UDP headers taken
 * off per packet) to match what the BPF counters report. orig_key as for PcConntrackEndFunc. */
typedef void (*PcConntrackCountersFunc) (const PcFlowKey *orig_key,
                                         guint64 orig_bytes,
                                         guint64 reply_bytes,
                                         gpointer user_data);
gboolean pc_conntrack_enable_accounting (GError **error);
gboolean pc_conntrack_dump_counters (PcConntrack *self,
                                     PcConntrackCountersFunc func,
                                     gpointer user_data,
                                     GError **error);

/* Destroys the local TCP/UDP socket of the flow (SOCK_DESTROY): the program sees ECONNABORTED. */
gboolean pc_socket_destroy (const PcFlowKey *key, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcConntrack, pc_conntrack_free)

G_END_DECLS
