/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-scope.h"

#include <string.h>

/* Scope table. The first matching row wins; anything not listed is PC_SCOPE_INTERNET.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
 *
 *   IPv4
 *   0.0.0.0/8           invalid    "this network": never a valid destination (RFC 1122)
 *   127.0.0.0/8         localhost  loopback
 *   10.0.0.0/8          lan        RFC 1918
 *   172.16.0.0/12       lan        RFC 1918
 *   192.168.0.0/16      lan        RFC 1918
 *   100.64.0.0/10       lan        shared address space / CGNAT (RFC 6598)
 *   169.254.0.0/16      lan        link-local (RFC 3927)
 *   192.0.0.0/24        lan        IETF protocol assignments (DS-Lite B4/AFTR, NAT64 discovery):
 *                                  only ever used on the local link or inside the access network
 *   198.18.0.0/15       lan        benchmarking (RFC 2544); also used by fake-IP DNS proxies on
 *                                  the local host or network, never routed on the internet
 *   224.0.0.0/4         lan        multicast
 *   255.255.255.255/32  lan        limited broadcast
 *   240.0.0.0/4         invalid    reserved "class E", never routed
 *
 *   IPv6
 *   ::/128              invalid    unspecified
 *   ::1/128             localhost  loopback
 *   ::ffff:0:0/96       (IPv4)     IPv4-mapped: classified as the embedded IPv4 address
 *   ::/96               invalid    deprecated IPv4-compatible addresses (RFC 4291), never routed
 *   100::/64            invalid    discard-only prefix (RFC 6666)
 *   fc00::/7            lan        unique local addresses
 *   fe80::/10           lan        link-local
 *   fec0::/10           lan        deprecated site-local; where still used it is site-internal
 *   ff00::/8            lan        multicast
 *
 * Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
 * deliberately INTERNET: tests and examples use them to stand in for public hosts, and nothing
 * is gained by treating them specially on a real network where they never appear. */

typedef struct
{
  guint32 net; /* host byte order */
  guint8 prefix;
  PcScope scope;
} PcScopeV4Row;

static const PcScopeV4Row scope_v4_table[] = {
  { 0x00000000u, 8, PC_SCOPE_INVALID },   /* 0.0.0.0/8 */
  { 0x7f000000u, 8, PC_SCOPE_LOCALHOST }, /* 127.0.0.0/8 */
  { 0x0a000000u, 8, PC_SCOPE_LAN },       /* 10.0.0.0/8 */
  { 0xac100000u, 12, PC_SCOPE_LAN },      /* 172.16.0.0/12 */
  { 0xc0a80000u, 16, PC_SCOPE_LAN },      /* 192.168.0.0/16 */
  { 0x64400000u, 10, PC_SCOPE_LAN },      /* 100.64.0.0/10 */
  { 0xa9fe0000u, 16, PC_SCOPE_LAN },      /* 169.254.0.0/16 */
  { 0xc0000000u, 24, PC_SCOPE_LAN },      /* 192.0.0.0/24 */
  { 0xc6120000u, 15, PC_SCOPE_LAN },      /* 198.18.0.0/15 */
  { 0xe0000000u, 4, PC_SCOPE_LAN },       /* 224.0.0.0/4 */
  { 0xffffffffu, 32, PC_SCOPE_LAN },      /* 255.255.255.255 */
  { 0xf0000000u, 4, PC_SCOPE_INVALID },   /* 240.0.0.0/4 */
};

static PcScope
classify_v4 (const guint8 b[4])
{
  guint32 a = ((guint32)b[0] << 24) | ((guint32)b[1] << 16) | ((guint32)b[2] << 8) | b[3];

  for (gsize i = 0; i < G_N_ELEMENTS (scope_v4_table); i++)
    {
      const PcScopeV4Row *row = &scope_v4_table[i];
      guint32 mask = row->prefix == 0 ? 0 : 0xffffffffu << (32 - row->prefix);

      if ((a & mask) == row->net)
        return row->scope;
    }
  return PC_SCOPE_INTERNET;
}

static PcScope
classify_v6 (const guint8 b[16])
{
  static const guint8 zero[16] = { 0 };

  /* ::/96 holds ::, ::1 and the deprecated IPv4-compatible range */
  if (memcmp (b, zero, 12) == 0)
    {
      if (memcmp (b + 12, zero, 3) == 0 && b[15] == 1)
        return PC_SCOPE_LOCALHOST;
      return PC_SCOPE_INVALID;
    }
  /* ::ffff:0:0/96, IPv4-mapped */
  if (memcmp (b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
    return classify_v4 (b + 12);
  /* 100::/64, discard-only */
  if (b[0] == 0x01 && memcmp (b + 1, zero, 7) == 0)
    return PC_SCOPE_INVALID;
  /* fc00::/7 */
  if ((b[0] & 0xfe) == 0xfc)
    return PC_SCOPE_LAN;
  /* fe80::/10 and fec0::/10 */
  if (b[0] == 0xfe && ((b[1] & 0xc0) == 0x80 || (b[1] & 0xc0) == 0xc0))
    return PC_SCOPE_LAN;
  /* ff00::/8 */
  if (b[0] == 0xff)
    return PC_SCOPE_LAN;
  return PC_SCOPE_INTERNET;
}

PcScope
pc_scope_classify (const PcAddr *addr)
{
  g_return_val_if_fail (addr != NULL, PC_SCOPE_INVALID);

  if (addr->family == AF_INET)
    return classify_v4 (addr->b);
  if (addr->family == AF_INET6)
    return classify_v6 (addr->b);
  return PC_SCOPE_INVALID;
}

const char *
pc_scope_to_string (PcScope scope)
{
  switch (scope)
    {
      case PC_SCOPE_LOCALHOST:
        return "localhost";
      case PC_SCOPE_LAN:
        return "lan";
      case PC_SCOPE_INTERNET:
        return "internet";
      case PC_SCOPE_INVALID:
        return "invalid";
      default:
        return "unknown";
    }
}

gboolean
pc_scope_from_string (const char *text, PcScope *out)
{
  static const PcScope scopes[] = {
    PC_SCOPE_LOCALHOST,
    PC_SCOPE_LAN,
    PC_SCOPE_INTERNET,
    PC_SCOPE_INVALID,
  };

  g_return_val_if_fail (text != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (scopes); i++)
    {
      if (g_ascii_strcasecmp (text, pc_scope_to_string (scopes[i])) == 0)
        {
          if (out != NULL)
            *out = scopes[i];
          return TRUE;
        }
    }
  return FALSE;
}
