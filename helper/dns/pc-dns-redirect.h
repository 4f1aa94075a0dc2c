/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The nat-table chain PORTCULLIS-DNS: every DNS query a program sends to port 53 anywhere
 * (UDP and TCP) is redirected (DNAT) to the local resolver, except the helper's own (packet mark
 * PC_MARK_OWN: the `system` upstreams) and queries already addressed to the resolver. Installed
 * and removed like the filter rules (pc-ruleset.c): one iptables-restore --noflush transaction
 * per family that also deletes the chain of a crashed run. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

/* The iptables-restore script for one family (to: the resolver's address of that family),
 * given the current `iptables-save -t nat`; to NULL: only the removal. */
char *pc_dns_redirect_build (const PcAddr *to, guint16 port, const char *current_save);

/* v4/v6 NULL: that family is not redirected (its stale rules still go). IPv6 failures are not
 * fatal: *ipv6_error says why (free it). */
gboolean pc_dns_redirect_install (const PcAddr *v4,
                                  guint16 port4,
                                  const PcAddr *v6,
                                  guint16 port6,
                                  char **ipv6_error,
                                  GError **error);
gboolean pc_dns_redirect_remove (GError **error);

G_END_DECLS
