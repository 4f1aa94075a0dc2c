/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Real DNS servers for the dns tests: unbound on 127.0.0.1 serving the zone "test." over plain
 * DNS, DNS over TLS and DNS over HTTPS, with a CA and server certificate made by certtool. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *dir;
  char *ca_file; /* the test CA; the server certificate names dns.test and 127.0.0.1 */
  guint16 plain_port, tls_port, https_port;
  GPid pid;
} DnsTestServers;

/* extra: more unbound server: lines ("local-data: \"x.test. 60 IN A 192.0.2.1\""), may be NULL */
DnsTestServers *dns_test_servers_start (const char *const *extra);
void dns_test_servers_stop (DnsTestServers *s);
/* how many queries for name (e.g. "www.test.") and type ("A") unbound has logged */
guint dns_test_servers_count (DnsTestServers *s, const char *name, const char *type);
/* GSpawnChildSetupFunc: the child gets SIGKILL when the test dies, so a failed assertion
 * never leaves a server behind */
void dns_test_die_with_parent (gpointer user_data);
/* a free port on 127.0.0.1 (TCP and UDP both free at the time of asking) */
guint16 dns_test_free_port (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DnsTestServers, dns_test_servers_stop)

G_END_DECLS
