/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One nfqueue: receives queued packets (with their conntrack tuple) and sends verdicts by
 * packet id, in any order. Verdicts are collected and sent in one write per receive batch. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcNfqueue PcNfqueue;

typedef struct
{
  PcAddr src, dst;
  guint16 sport, dport; /* host order; ICMP: id and type as in PcPacketInfo */
  guint8 proto;
  gboolean valid;
} PcCtTuple;

typedef struct
{
  guint32 id;
  guint32 mark;       /* packet mark (0 when the kernel sent none) */
  guint32 ct_mark;
  gint ct_info;       /* enum ip_conntrack_info, -1 when the packet has no conntrack entry */
  guint32 indev;      /* 0: none (locally generated) */
  guint32 outdev;
  guint32 uid;        /* socket uid, (guint32)-1 when unknown */
  PcCtTuple orig;     /* conntrack tuples, valid when the packet has a conntrack entry */
  PcCtTuple reply;
  const guint8 *payload;
  gsize payload_len;
} PcNfqPacket;

typedef void (*PcNfqPacketFunc) (const PcNfqPacket *packet, gpointer user_data);

PcNfqueue *pc_nfqueue_open (guint16 queue_num, gboolean fail_open, GError **error);
void pc_nfqueue_free (PcNfqueue *self);
int pc_nfqueue_get_fd (PcNfqueue *self);

/* Reads every message waiting on the socket without blocking and calls func for each packet,
 * then sends the verdicts queued meanwhile. */
gboolean pc_nfqueue_dispatch (PcNfqueue *self, PcNfqPacketFunc func, gpointer user_data,
                              GError **error);

/* Queues a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT). When ct_mark_bits is non-zero the flow's
 * conntrack mark gets those bits under PC_MARK_MASK; other mark bits are left alone. */
void pc_nfqueue_verdict (PcNfqueue *self, guint32 id, guint32 verdict, guint32 ct_mark_bits);
/* Sends queued verdicts now (for verdicts given outside of dispatch). */
gboolean pc_nfqueue_flush (PcNfqueue *self, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcNfqueue, pc_nfqueue_free)

G_END_DECLS
