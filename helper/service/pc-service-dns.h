/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The resolver's methods of the D-Bus service: GetDnsStatus, QueryDns, FlushDnsCache (see
 * data/org.portcullis.Portcullis1.xml). Without a resolver daemon they fail with Unavailable. */
#pragma once

#include <gio/gio.h>

#include "pc-dns-daemon.h"

G_BEGIN_DECLS

void
pc_service_dns_status (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters);
void
pc_service_dns_query (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters);
void
pc_service_dns_flush (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters);
/* Status: the "dns" summary and the reasons DNS protection is incomplete (added to degraded). */
void pc_service_dns_add_status (PcDnsDaemon *dns,
                                GVariantBuilder *status,
                                GVariantBuilder *degraded,
                                gboolean *ok);

G_END_DECLS
