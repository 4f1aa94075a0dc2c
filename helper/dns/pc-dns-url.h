/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The resolver's addresses as the settings write them: upstream URLs (dns-servers, see
 * pc-dns-upstream.h for their form) and listen addresses (dns-listen). Plain GLib, so the
 * settings can check values with the same parser the resolver uses. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef enum
{
  PC_DNS_UPSTREAM_PLAIN,
  PC_DNS_UPSTREAM_DOT,
  PC_DNS_UPSTREAM_DOH,
  PC_DNS_UPSTREAM_SYSTEM,
} PcDnsUpstreamKind;

typedef struct
{
  PcDnsUpstreamKind kind;
  char *url;  /* as written */
  char *host; /* as written (no brackets); NULL for system */
  guint16 port;
  char *path;  /* DoH only, starts with '/' */
  PcAddr addr; /* where to connect */
  char *verify;
  char *label; /* name= or, without it, the URL */
  char *ca_file;
} PcDnsUpstreamSpec;

PcDnsUpstreamSpec *pc_dns_upstream_spec_parse (const char *url, GError **error);
void pc_dns_upstream_spec_free (PcDnsUpstreamSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsUpstreamSpec, pc_dns_upstream_spec_free)

/* "127.0.0.17:53", "[::1]:5353", "::1" (port 53) -> address and port */
gboolean pc_dns_parse_listen (const char *text, PcAddr *addr, guint16 *port, GError **error);

G_END_DECLS
