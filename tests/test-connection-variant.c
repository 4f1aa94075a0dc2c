/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Connection records as the a{sv} dictionaries of ListConnections and ConnectionsChanged. */
#include <arpa/inet.h>
#include <gio/gio.h>

#include "pc-connection-variant.h"

static PcConnection *
make_connection (int family)
{
  PcConnection *c = g_new0 (PcConnection, 1);

  c->ref_count = 1;
  c->id = 42;
  c->key.family = family;
  c->key.proto = IPPROTO_TCP;
  c->key.direction = PC_DIR_OUTBOUND;
  c->key.lport = 40000;
  c->key.rport = 443;
  c->key.laddr.family = c->key.raddr.family = family;
  if (family == AF_INET)
    {
      inet_pton (AF_INET, "10.77.0.2", &c->key.laddr.v4);
      inet_pton (AF_INET, "203.0.113.10", &c->key.raddr.v4);
    }
  else
    {
      inet_pton (AF_INET6, "fd77::2", &c->key.laddr.v6);
      inet_pton (AF_INET6, "2001:db8::10", &c->key.raddr.v6);
    }
  c->pid = 1234;
  c->uid = (uid_t)-1;
  c->comm = g_strdup ("curl");
  c->exe = g_strdup ("/usr/bin/curl");
  c->cmdline = NULL; /* unknown: an empty string on the bus */
  c->app_kind = g_strdup ("native");
  c->app_id = g_strdup ("/usr/bin/curl");
  c->profile_id = g_strdup ("curl");
  c->domain = g_strdup ("example.com");
  c->allowed = FALSE;
  c->reason = g_strdup ("rule '- example.com' (global endpoints, line 1)");
  c->started = 1700000000000000;
  c->bytes_in = 1;
  c->bytes_out = G_MAXUINT64;
  return c;
}

static void
test_ipv4 (void)
{
  g_autoptr (PcConnection) c = make_connection (AF_INET);
  g_autoptr (GVariant) v = g_variant_ref_sink (pc_connection_variant_new (c, "added"));
  const char *s = NULL;
  guint64 t = 0;
  guint32 u = 0;
  guint16 q = 0;
  gint64 x = -1;

  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT));
  g_assert_cmpuint (g_variant_n_children (v), ==, 27);
  g_assert_true (g_variant_lookup (v, "event", "&s", &s));
  g_assert_cmpstr (s, ==, "added");
  g_assert_true (g_variant_lookup (v, "id", "t", &t));
  g_assert_cmpuint (t, ==, 42);
  g_assert_true (g_variant_lookup (v, "pid", "u", &u));
  g_assert_cmpuint (u, ==, 1234);
  g_assert_true (g_variant_lookup (v, "uid", "u", &u));
  g_assert_cmpuint (u, ==, G_MAXUINT32);
  g_assert_true (g_variant_lookup (v, "local-address", "&s", &s));
  g_assert_cmpstr (s, ==, "10.77.0.2");
  g_assert_true (g_variant_lookup (v, "remote-address", "&s", &s));
  g_assert_cmpstr (s, ==, "203.0.113.10");
  g_assert_true (g_variant_lookup (v, "remote-port", "q", &q));
  g_assert_cmpuint (q, ==, 443);
  g_assert_true (g_variant_lookup (v, "local-port", "q", &q));
  g_assert_cmpuint (q, ==, 40000);
  g_assert_true (g_variant_lookup (v, "protocol", "&s", &s));
  g_assert_cmpstr (s, ==, "tcp");
  g_assert_true (g_variant_lookup (v, "family", "&s", &s));
  g_assert_cmpstr (s, ==, "ipv4");
  g_assert_true (g_variant_lookup (v, "direction", "&s", &s));
  g_assert_cmpstr (s, ==, "outbound");
  g_assert_true (g_variant_lookup (v, "verdict", "&s", &s));
  g_assert_cmpstr (s, ==, "block");
  g_assert_true (g_variant_lookup (v, "cmdline", "&s", &s));
  g_assert_cmpstr (s, ==, "");
  g_assert_true (g_variant_lookup (v, "country", "&s", &s));
  g_assert_cmpstr (s, ==, "");
  g_assert_true (g_variant_lookup (v, "profile", "&s", &s));
  g_assert_cmpstr (s, ==, "curl");
  g_assert_true (g_variant_lookup (v, "bytes-out", "t", &t));
  g_assert_cmpuint (t, ==, G_MAXUINT64);
  g_assert_true (g_variant_lookup (v, "started", "x", &x));
  g_assert_cmpint (x, ==, 1700000000000000);
  g_assert_true (g_variant_lookup (v, "ended", "x", &x));
  g_assert_cmpint (x, ==, 0);
}

static void
test_ipv6_inbound_without_event (void)
{
  g_autoptr (PcConnection) c = make_connection (AF_INET6);
  g_autoptr (GVariant) v = NULL;
  const char *s = NULL;

  c->key.direction = PC_DIR_INBOUND;
  c->allowed = TRUE;
  v = g_variant_ref_sink (pc_connection_variant_new (c, NULL));
  g_assert_cmpuint (g_variant_n_children (v), ==, 26);
  g_assert_false (g_variant_lookup (v, "event", "&s", &s));
  g_assert_true (g_variant_lookup (v, "remote-address", "&s", &s));
  g_assert_cmpstr (s, ==, "2001:db8::10");
  g_assert_true (g_variant_lookup (v, "family", "&s", &s));
  g_assert_cmpstr (s, ==, "ipv6");
  g_assert_true (g_variant_lookup (v, "direction", "&s", &s));
  g_assert_cmpstr (s, ==, "inbound");
  g_assert_true (g_variant_lookup (v, "verdict", "&s", &s));
  g_assert_cmpstr (s, ==, "allow");
}

static void
test_event_names (void)
{
  g_assert_cmpstr (pc_connection_event_to_string (PC_CONNECTION_ADDED), ==, "added");
  g_assert_cmpstr (pc_connection_event_to_string (PC_CONNECTION_CHANGED), ==, "changed");
  g_assert_cmpstr (pc_connection_event_to_string (PC_CONNECTION_ENDED), ==, "ended");
}

/* A packed record (the packet path's) holds copies of the template's strings in its own
 * allocation, keeps NULL as NULL, and its copies have strings of their own that can be
 * replaced; each is freed on its own (ASan in CI tells a wrong free). */
static void
test_packed_record (void)
{
  g_autoptr (PcConnection) template = make_connection (AF_INET);
  g_autoptr (PcConnection) packed = pc_connection_new_packed (template);
  g_autoptr (PcConnection) copy = NULL;
  g_autoptr (GVariant) a = NULL;
  g_autoptr (GVariant) b = NULL;

  g_assert_cmpint (packed->ref_count, ==, 1);
  g_assert_cmpuint (packed->id, ==, 42);
  g_assert_cmpuint (packed->bytes_out, ==, G_MAXUINT64);
  g_assert_true (packed->comm != template->comm);
  g_assert_cmpstr (packed->comm, ==, "curl");
  g_assert_cmpstr (packed->reason, ==, template->reason);
  g_assert_null (packed->cmdline);
  g_assert_null (packed->country);
  /* the strings live inside the record's allocation */
  g_assert_true (packed->exe > (char *)packed
                 && packed->exe < (char *)packed + packed->packed_size);
  template->comm[0] = 'X'; /* a copy, not the template's string */
  g_assert_cmpstr (packed->comm, ==, "curl");
  template->comm[0] = 'c';

  /* the same record on the bus */
  a = g_variant_ref_sink (pc_connection_variant_new (template, "added"));
  b = g_variant_ref_sink (pc_connection_variant_new (packed, "added"));
  g_assert_true (g_variant_equal (a, b));

  copy = pc_connection_copy (packed);
  g_assert_cmpuint (copy->packed_size, ==, 0);
  g_free (copy->reason);
  copy->reason = g_strdup ("answer: allow");
  g_assert_cmpstr (packed->reason, ==, "rule '- example.com' (global endpoints, line 1)");
  g_assert_cmpstr (copy->domain, ==, "example.com");
  pc_connection_ref (packed);
  pc_connection_unref (packed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/connection-variant/ipv4", test_ipv4);
  g_test_add_func ("/connection-variant/ipv6-inbound", test_ipv6_inbound_without_event);
  g_test_add_func ("/connection-variant/events", test_event_names);
  g_test_add_func ("/connection-variant/packed-record", test_packed_record);
  return g_test_run ();
}
