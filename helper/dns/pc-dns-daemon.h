/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The resolver as portcullisd runs it: started from its flags (until the policy engine carries
 * the dns settings), with the PORTCULLIS-DNS redirect installed only once a listener is up, so
 * a resolver that cannot listen never leaves the machine without DNS. */
#pragma once

#include "pc-dns-server.h"

G_BEGIN_DECLS

/* servers: comma-separated upstream URLs (NULL: system); listen: comma-separated ADDR[:PORT]
 * (NULL: 127.0.0.17:53 and [::1]:53). Logs its status. */
PcDnsServer *pc_dns_daemon_start (const char *servers, const char *listen, GError **error);
/* Removes the redirect, then stops the resolver. */
void pc_dns_daemon_stop (PcDnsServer *server);

G_END_DECLS
