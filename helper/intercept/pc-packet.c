/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-packet.h"

#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <string.h>

static guint16
read_be16 (const guint8 *p)
{
  return (guint16)((p[0] << 8) | p[1]);
}

static void
parse_l4 (const guint8 *l4, gsize len, gboolean first_fragment, PcPacketInfo *out)
{
  if (!first_fragment)
    return;
  switch (out->proto)
    {
      case IPPROTO_TCP:
      case IPPROTO_UDP:
      case IPPROTO_UDPLITE:
      case IPPROTO_SCTP:
      case IPPROTO_DCCP:
        if (len >= 4)
          {
            out->sport = read_be16 (l4);
            out->dport = read_be16 (l4 + 2);
            out->has_ports = TRUE;
          }
        if (out->proto == IPPROTO_TCP && len >= 14)
          {
            out->tcp_seq = (guint32)read_be16 (l4 + 4) << 16 | read_be16 (l4 + 6);
            out->tcp_flags = l4[13];
          }
        break;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        if (len >= 8)
          {
            out->dport = l4[0];
            out->sport = read_be16 (l4 + 4);
            out->has_ports = TRUE;
          }
        break;
      default:
        break;
    }
}

static gboolean
parse_ipv4 (const guint8 *data, gsize len, PcPacketInfo *out)
{
  gsize ihl;
  guint16 total, frag;

  if (len < 20)
    return FALSE;
  ihl = (gsize)(data[0] & 0x0f) * 4;
  total = read_be16 (data + 2);
  if (ihl < 20 || ihl > len)
    return FALSE;
  /* The queue may copy less than the whole packet; trust the shorter of the two lengths. */
  if (total >= ihl && total < len)
    len = total;
  frag = read_be16 (data + 6);
  out->proto = data[9];
  out->src.family = out->dst.family = AF_INET;
  memcpy (out->src.b, data + 12, 4);
  memcpy (out->dst.b, data + 16, 4);
  parse_l4 (data + ihl, len - ihl, (frag & 0x1fff) == 0, out);
  return TRUE;
}

static gboolean
parse_ipv6 (const guint8 *data, gsize len, PcPacketInfo *out)
{
  gsize off = 40;
  guint8 next;
  gboolean first_fragment = TRUE;

  if (len < 40)
    return FALSE;
  out->src.family = out->dst.family = AF_INET6;
  memcpy (out->src.b, data + 8, 16);
  memcpy (out->dst.b, data + 24, 16);
  next = data[6];

  /* Walk extension headers; a bounded count keeps hostile chains from looping long. */
  for (int hops = 0; hops < 16; hops++)
    {
      switch (next)
        {
          case IPPROTO_HOPOPTS:
          case IPPROTO_ROUTING:
          case IPPROTO_DSTOPTS:
            if (off + 2 > len)
              return FALSE;
            next = data[off];
            off += ((gsize)data[off + 1] + 1) * 8;
            continue;
          case IPPROTO_FRAGMENT:
            if (off + 8 > len)
              return FALSE;
            first_fragment = (read_be16 (data + off + 2) & 0xfff8) == 0;
            next = data[off];
            off += 8;
            continue;
          case IPPROTO_AH:
            if (off + 2 > len)
              return FALSE;
            next = data[off];
            off += ((gsize)data[off + 1] + 2) * 4;
            continue;
          default:
            break;
        }
      break;
    }
  if (off > len)
    return FALSE;
  out->proto = next;
  parse_l4 (data + off, len - off, first_fragment, out);
  return TRUE;
}

gboolean
pc_packet_parse (const guint8 *data, gsize len, PcPacketInfo *out)
{
  memset (out, 0, sizeof *out);
  if (data == NULL || len < 1)
    return FALSE;
  switch (data[0] >> 4)
    {
      case 4:
        return parse_ipv4 (data, len, out);
      case 6:
        return parse_ipv6 (data, len, out);
      default:
        return FALSE;
    }
}
