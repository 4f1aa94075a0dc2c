/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-net"

#include "pc-net.h"

#include <arpa/inet.h>
#include <string.h>

const char *
pc_addr_to_string (const PcAddr *addr, char buf[PC_ADDR_STRLEN])
{
  if (inet_ntop (addr->family == AF_INET6 ? AF_INET6 : AF_INET, addr->b, buf, PC_ADDR_STRLEN)
      == NULL)
    g_strlcpy (buf, "?", PC_ADDR_STRLEN);
  return buf;
}

gboolean
pc_addr_parse (const char *text, PcAddr *out)
{
  memset (out, 0, sizeof *out);
  if (inet_pton (AF_INET, text, out->b) == 1)
    {
      out->family = AF_INET;
      return TRUE;
    }
  if (inet_pton (AF_INET6, text, out->b) == 1)
    {
      out->family = AF_INET6;
      return TRUE;
    }
  return FALSE;
}

gboolean
pc_addr_equal (const PcAddr *a, const PcAddr *b)
{
  if (a->family != b->family)
    return FALSE;
  return memcmp (a->b, b->b, a->family == AF_INET ? 4 : 16) == 0;
}

void
pc_addr_unmap (PcAddr *addr)
{
  if (addr->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&addr->v6))
    {
      guint8 v4[4];
      memcpy (v4, addr->b + 12, 4);
      memset (addr->b, 0, sizeof addr->b);
      memcpy (addr->b, v4, 4);
      addr->family = AF_INET;
    }
}

const char *
pc_proto_to_string (guint8 proto)
{
  switch (proto)
    {
      case IPPROTO_TCP:
        return "tcp";
      case IPPROTO_UDP:
        return "udp";
      case IPPROTO_ICMP:
        return "icmp";
      case IPPROTO_ICMPV6:
        return "icmpv6";
      case IPPROTO_SCTP:
        return "sctp";
      case IPPROTO_UDPLITE:
        return "udplite";
      default:
        return "other";
    }
}

char *
pc_flow_key_to_string (const PcFlowKey *key)
{
  char l[PC_ADDR_STRLEN], r[PC_ADDR_STRLEN];
  gboolean v6 = key->family == AF_INET6;

  pc_addr_to_string (&key->laddr, l);
  pc_addr_to_string (&key->raddr, r);
  return g_strdup_printf ("%s %s%s%s:%u %s %s%s%s:%u", pc_proto_to_string (key->proto),
                          v6 ? "[" : "", l, v6 ? "]" : "", key->lport,
                          key->direction == PC_DIR_OUTBOUND ? "->" : "<-", v6 ? "[" : "", r,
                          v6 ? "]" : "", key->rport);
}

guint
pc_hash_bytes (gconstpointer p, gsize len)
{
  const guint8 *b = p;
  guint32 h = 2166136261u;

  for (gsize i = 0; i < len; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

guint
pc_flow_key_hash (gconstpointer p)
{
  /* the struct has no padding holes that matter because keys are always memset before being
   * filled */
  return pc_hash_bytes (p, sizeof (PcFlowKey));
}

gboolean
pc_flow_key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (PcFlowKey)) == 0;
}
