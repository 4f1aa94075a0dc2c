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
 * the flow as seen in the original direction: local = source for outbound flows. */
typedef void (*PcConntrackEndFunc) (const PcFlowKey *orig_key, guint32 mark, gpointer user_data);

PcConntrack *pc_conntrack_new (GError **error);
void pc_conntrack_free (PcConntrack *self);

/* The DESTROY event socket; call pc_conntrack_dispatch_events when it is readable. */
int pc_conntrack_get_event_fd (PcConntrack *self);
void pc_conntrack_dispatch_events (PcConntrack *self, PcConntrackEndFunc func, gpointer user_data);

/* key->direction says which side opened the flow. */
gboolean
pc_conntrack_set_mark (PcConntrack *self, const PcFlowKey *key, guint32 bits, GError **error);
gboolean pc_conntrack_delete (PcConntrack *self, const PcFlowKey *key, GError **error);
/* Destroys the local TCP/UDP socket of the flow (SOCK_DESTROY): the program sees ECONNABORTED. */
gboolean pc_socket_destroy (const PcFlowKey *key, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcConntrack, pc_conntrack_free)

G_END_DECLS
