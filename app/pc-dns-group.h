/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_DNS_GROUP (pc_dns_group_get_type ())
G_DECLARE_FINAL_TYPE (PcDnsGroup, pc_dns_group, PC, DNS_GROUP, AdwPreferencesGroup)

/* The Settings page's DNS servers with their live status (GetDnsStatus, read every two seconds
 * while the group is shown): a row per upstream (reachable, latency, queries, failures, the
 * last error) with a remove button, an entry to add one (the helper's validation error shown
 * under it), the resolver's state and its cache with "Flush". */
GtkWidget *pc_dns_group_new (void);
/* The dns-servers setting as the helper has it, and where it comes from ("admin", ...). */
void pc_dns_group_set_setting (PcDnsGroup *self, GVariant *value, const char *source);
/* For the test hook, through the widgets: "add" TEXT, "remove" ENTRY (of dns-servers),
 * "flush". */
gboolean pc_dns_group_test_do (PcDnsGroup *self, const char *what, const char *text);
/* What the group shows: upstreams (url, title, subtitle, reachable, removable), resolver,
 * error, add-error, cache, last-flush. */
GVariant *pc_dns_group_dump (PcDnsGroup *self);

G_END_DECLS
