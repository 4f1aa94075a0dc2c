/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Plain network value types shared by every part of the helper (hot path: no GObject). */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* An IPv4 or IPv6 address. IPv4 is stored in the first 4 bytes of b (network order). */
typedef struct
{
  guint8 family; /* AF_INET or AF_INET6 */
  union
  {
    struct in_addr v4;
    struct in6_addr v6;
    guint8 b[16];
  };
} PcAddr;

typedef enum
{
  PC_DIR_OUTBOUND = 0,
  PC_DIR_INBOUND = 1,
} PcDirection;

/* A flow seen from this host: local and remote endpoint. Ports in host byte order; for ICMP
 * the remote port holds the type and the local port the echo id. */
typedef struct
{
  guint8 family;    /* AF_INET or AF_INET6 */
  guint8 proto;     /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, ... */
  guint8 direction; /* PcDirection: who opened the flow */
  guint8 pad_;
  guint16 lport;
  guint16 rport;
  PcAddr laddr;
  PcAddr raddr;
} PcFlowKey;

/* Longest text pc_addr_to_string() writes, with the terminating NUL. */
#define PC_ADDR_STRLEN 46

const char *pc_addr_to_string (const PcAddr *addr, char buf[PC_ADDR_STRLEN]);
gboolean pc_addr_parse (const char *text, PcAddr *out);
gboolean pc_addr_equal (const PcAddr *a, const PcAddr *b);
/* If addr is an IPv4-mapped IPv6 address (::ffff:a.b.c.d), rewrite it as IPv4. */
void pc_addr_unmap (PcAddr *addr);

const char *pc_proto_to_string (guint8 proto);
/* "tcp 10.0.0.1:4242 -> 93.184.216.34:443 (out)" */
char *pc_flow_key_to_string (const PcFlowKey *key);

/* FNV-1a over len bytes: for small fixed-size keys that are fully initialised (padding too). */
guint pc_hash_bytes (gconstpointer p, gsize len);
guint pc_flow_key_hash (gconstpointer key);
gboolean pc_flow_key_equal (gconstpointer a, gconstpointer b);

G_END_DECLS
