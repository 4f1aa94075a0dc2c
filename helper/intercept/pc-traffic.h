/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Per-flow traffic counters kept in the kernel by cgroup_skb BPF programs (bpf/pc-traffic.bpf.c)
 * and read by the packet thread once a second. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcTraffic PcTraffic;

typedef struct
{
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 packets_in;
  guint64 packets_out;
} PcTrafficCounters;

/* Loads and attaches the counters to the cgroup v2 directory; fails without BPF. */
PcTraffic *pc_traffic_new (const char *cgroup_path, GError **error);
void pc_traffic_free (PcTraffic *self);

/* Reads every counter in a few batched system calls; afterwards pc_traffic_get answers from
 * that sample. Returns the number of entries read. */
guint pc_traffic_sample (PcTraffic *self);
/* The counters of the flow of socket cookie with the key's remote end, from the last sample. */
gboolean
pc_traffic_get (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out);
/* Reads one flow's counters now and removes them from the kernel map (the flow ended). */
gboolean
pc_traffic_take (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcTraffic, pc_traffic_free)

G_END_DECLS
