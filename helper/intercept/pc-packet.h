/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Parsing of queued packets (untrusted bytes: bounds-checked, fuzzed). */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct
{
  PcAddr src;
  PcAddr dst;
  guint8 proto;
  guint16 sport; /* for ICMP echo: the identifier */
  guint16 dport; /* for ICMP: the type */
  gboolean has_ports;
  guint8 tcp_flags; /* TCP only (0 otherwise or when truncated) */
  guint32 tcp_seq;  /* TCP only */
} PcPacketInfo;

/* Parses the IPv4/IPv6 header and, where present, the L4 ports of a packet. Returns FALSE for
 * anything that is not a well-formed IP packet. */
gboolean pc_packet_parse (const guint8 *data, gsize len, PcPacketInfo *out);

G_END_DECLS
