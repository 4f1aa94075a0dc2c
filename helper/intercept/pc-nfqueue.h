/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One nfqueue: receives queued packets and sends verdicts by packet id, in any order. Verdicts are collected and sent in one write per receive batch. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcNfqueue PcNfqueue;

typedef struct
{
  guint32 id;
  guint32 mark;  /* packet mark (0 when the kernel sent none) */
  guint32 indev; /* 0: none (locally generated) */
  guint32 outdev;
  guint32 uid; /* socket uid, (guint32)-1 when unknown */
  const guint8 *payload;
  gsize payload_len;
} PcNfqPacket;

typedef void (*PcNfqPacketFunc) (const PcNfqPacket *packet, gpointer user_data);
typedef void (*PcNfqBatchFunc) (gpointer user_data);

PcNfqueue *pc_nfqueue_open (guint16 queue_num, gboolean fail_open, GError **error);
void pc_nfqueue_free (PcNfqueue *self);
int pc_nfqueue_get_fd (PcNfqueue *self);

/* Only packets in the original direction of their conntrack entry are queued (see
 * pc-ruleset.c), so a packet without input device opens an outbound flow and one with an input
 * device an inbound flow. */

/* Reads every message waiting on the socket without blocking and calls func for each packet.
 * The verdicts func queued are sent after each datagram read (one datagram holds one or more
 * packets), then batch_done, if not NULL, is called: work that no verdict waits for belongs
 * there, after the packets are on their way. */
gboolean pc_nfqueue_dispatch (PcNfqueue *self,
                              PcNfqPacketFunc func,
                              PcNfqBatchFunc batch_done,
                              gpointer user_data,
                              GError **error);

/* Queues a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT), optionally replacing the packet mark. */
void
pc_nfqueue_verdict (PcNfqueue *self, guint32 id, guint32 verdict, gboolean set_mark, guint32 mark);
/* Sends queued verdicts now (for verdicts given outside of dispatch). */
gboolean pc_nfqueue_flush (PcNfqueue *self, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcNfqueue, pc_nfqueue_free)

G_END_DECLS
