/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The hot-path sets: domain suffix matching with category masks, case and trailing dots,
 * growth from a small size hint, agreement with a plain GHashTable reference over random
 * names, and IPv4/IPv6 CIDR matching. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <string.h>

#include "pc-domain-set.h"
#include "pc-net-set.h"

enum
{
  ADS = 1 << 0,
  TRAC = 1 << 1,
  MAL = 1 << 2,
  UNBREAK = 1 << 3,
};

static void
test_suffixes (void)
{
  g_autoptr (PcDomainSetBuilder) b = pc_domain_set_builder_new (0);
  g_autoptr (PcDomainSet) set = NULL;

  pc_domain_set_builder_add (b, "example.com", -1, ADS);
  pc_domain_set_builder_add (b, "Tracker.Example.COM.", -1, TRAC);
  pc_domain_set_builder_add (b, "tracker.example.com", -1, MAL);
  pc_domain_set_builder_add (b, "good.example.com", -1, UNBREAK);
  pc_domain_set_builder_add (b, "zip", -1, MAL);
  pc_domain_set_builder_add (b, "", -1, MAL);             /* ignored */
  pc_domain_set_builder_add (b, "nomask.example", -1, 0); /* ignored */
  set = pc_domain_set_builder_finish (g_steal_pointer (&b));

  g_assert_cmpuint (pc_domain_set_get_size (set), ==, 4);
  g_assert_cmpuint (pc_domain_set_lookup (set, "example.com", -1), ==, ADS);
  g_assert_cmpuint (pc_domain_set_lookup (set, "www.example.com", -1), ==, ADS);
  g_assert_cmpuint (pc_domain_set_lookup (set, "a.b.c.www.example.com", -1), ==, ADS);
  g_assert_cmpuint (pc_domain_set_lookup (set, "tracker.example.com", -1), ==, ADS | TRAC | MAL);
  g_assert_cmpuint (pc_domain_set_lookup (set, "x.TRACKER.example.com.", -1), ==, ADS | TRAC | MAL);
  g_assert_cmpuint (pc_domain_set_lookup (set, "good.example.com", -1), ==, ADS | UNBREAK);
  g_assert_cmpuint (pc_domain_set_lookup (set, "notgood.example.com", -1), ==, ADS);
  /* a name that merely ends with a listed one is not a subdomain */
  g_assert_cmpuint (pc_domain_set_lookup (set, "myexample.com", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, "example.com.evil", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, "com", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, "file.zip", -1), ==, MAL);
  g_assert_cmpuint (pc_domain_set_lookup (set, "", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, ".", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, ".example.com", -1), ==, ADS);
  /* length-limited lookups do not read past len */
  g_assert_cmpuint (pc_domain_set_lookup (set, "example.comXYZ", 11), ==, ADS);
  g_assert_cmpuint (pc_domain_set_lookup_exact (set, "www.example.com", -1), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup_exact (set, "EXAMPLE.com.", -1), ==, ADS);
  g_assert_cmpuint (pc_domain_set_get_memory_size (set), >, 0);
}

static void
test_empty (void)
{
  g_autoptr (PcDomainSet) set = pc_domain_set_new_empty ();
  g_autoptr (PcNetSet) nets = pc_net_set_new_empty ();
  PcAddr a;

  g_assert_cmpuint (pc_domain_set_get_size (set), ==, 0);
  g_assert_cmpuint (pc_domain_set_lookup (set, "example.com", -1), ==, 0);
  g_assert_true (pc_addr_parse ("192.0.2.1", &a));
  g_assert_cmpuint (pc_net_set_lookup (nets, &a), ==, 0);
  pc_domain_set_unref (pc_domain_set_ref (set));
}

/* 50,000 random names (growing from a hint of 1), checked against a GHashTable walk. */
static void
test_random_vs_reference (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (PcDomainSetBuilder) b = pc_domain_set_builder_new (1);
  g_autoptr (PcDomainSet) set = NULL;
  g_autoptr (GHashTable) ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const char *const tlds[] = { "com", "net", "org", "de" };

  for (guint i = 0; i < 50000; i++)
    {
      char *name
          = g_strdup_printf ("n%u.d%u.%s", g_rand_int_range (rand, 0, 20000),
                             g_rand_int_range (rand, 0, 500), tlds[g_rand_int_range (rand, 0, 4)]);
      guint32 mask = 1u << g_rand_int_range (rand, 0, 32);
      guint32 old = GPOINTER_TO_UINT (g_hash_table_lookup (ref, name));

      pc_domain_set_builder_add (b, name, -1, mask);
      g_hash_table_insert (ref, name, GUINT_TO_POINTER (old | mask));
    }
  set = pc_domain_set_builder_finish (g_steal_pointer (&b));
  g_assert_cmpuint (pc_domain_set_get_size (set), ==, g_hash_table_size (ref));

  for (guint i = 0; i < 100000; i++)
    {
      g_autofree char *q = g_strdup_printf (
          "%sn%u.d%u.%s", g_rand_boolean (rand) ? "sub." : "", g_rand_int_range (rand, 0, 20000),
          g_rand_int_range (rand, 0, 500), tlds[g_rand_int_range (rand, 0, 4)]);
      guint32 expected = 0;

      for (const char *s = q; s != NULL; s = strchr (s, '.') ? strchr (s, '.') + 1 : NULL)
        expected |= GPOINTER_TO_UINT (g_hash_table_lookup (ref, s));
      g_assert_cmpuint (pc_domain_set_lookup (set, q, -1), ==, expected);
    }
}

static void
add_net (PcNetSetBuilder *b, const char *addr, guint len, guint32 mask)
{
  PcAddr a;

  g_assert_true (pc_addr_parse (addr, &a));
  g_assert_true (pc_net_set_builder_add (b, &a, len, mask));
}

static guint32
lookup_net (PcNetSet *set, const char *addr)
{
  PcAddr a;

  g_assert_true (pc_addr_parse (addr, &a));
  return pc_net_set_lookup (set, &a);
}

static void
test_nets (void)
{
  g_autoptr (PcNetSetBuilder) b = pc_net_set_builder_new ();
  g_autoptr (PcNetSet) set = NULL;
  PcAddr a;

  add_net (b, "192.0.2.1", 32, MAL);
  add_net (b, "198.51.100.99", 24, TRAC); /* host bits are cleared */
  add_net (b, "10.0.0.0", 8, ADS);
  add_net (b, "10.1.0.0", 16, TRAC);
  add_net (b, "2001:db8::", 32, MAL);
  add_net (b, "2001:db8:1::1", 128, ADS);
  add_net (b, "::ffff:203.0.113.0", 120, TRAC); /* as 203.0.113.0/24 */
  add_net (b, "fd00::", 7, ADS);
  g_assert_true (pc_addr_parse ("10.0.0.0", &a));
  g_assert_false (pc_net_set_builder_add (b, &a, 33, ADS));
  g_assert_true (pc_addr_parse ("::", &a));
  g_assert_false (pc_net_set_builder_add (b, &a, 129, ADS));
  set = pc_net_set_builder_finish (g_steal_pointer (&b));

  g_assert_cmpuint (pc_net_set_get_size (set), ==, 8);
  g_assert_cmpuint (lookup_net (set, "192.0.2.1"), ==, MAL);
  g_assert_cmpuint (lookup_net (set, "192.0.2.2"), ==, 0);
  g_assert_cmpuint (lookup_net (set, "198.51.100.1"), ==, TRAC);
  g_assert_cmpuint (lookup_net (set, "198.51.101.1"), ==, 0);
  g_assert_cmpuint (lookup_net (set, "10.200.0.1"), ==, ADS);
  g_assert_cmpuint (lookup_net (set, "10.1.2.3"), ==, ADS | TRAC);
  g_assert_cmpuint (lookup_net (set, "::ffff:10.1.2.3"), ==, ADS | TRAC);
  g_assert_cmpuint (lookup_net (set, "203.0.113.200"), ==, TRAC);
  g_assert_cmpuint (lookup_net (set, "2001:db8:ffff::1"), ==, MAL);
  g_assert_cmpuint (lookup_net (set, "2001:db8:1::1"), ==, MAL | ADS);
  g_assert_cmpuint (lookup_net (set, "2001:db8:1::2"), ==, MAL);
  g_assert_cmpuint (lookup_net (set, "2001:db9::1"), ==, 0);
  g_assert_cmpuint (lookup_net (set, "fd12:3456::1"), ==, ADS);
  g_assert_cmpuint (lookup_net (set, "fc00::1"), ==, ADS);
  g_assert_cmpuint (lookup_net (set, "fe00::1"), ==, 0);
  /* IPv4 and IPv6 with the same bytes never meet */
  g_assert_cmpuint (lookup_net (set, "c000:201::"), ==, 0);
}

static void
test_nets_default_route (void)
{
  g_autoptr (PcNetSetBuilder) b = pc_net_set_builder_new ();
  g_autoptr (PcNetSet) set = NULL;

  add_net (b, "0.0.0.0", 0, ADS);
  add_net (b, "::", 0, TRAC);
  set = pc_net_set_builder_finish (g_steal_pointer (&b));
  g_assert_cmpuint (lookup_net (set, "1.2.3.4"), ==, ADS);
  g_assert_cmpuint (lookup_net (set, "2001:db8::1"), ==, TRAC);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/domain-set/suffixes", test_suffixes);
  g_test_add_func ("/domain-set/empty", test_empty);
  g_test_add_func ("/domain-set/random-vs-reference", test_random_vs_reference);
  g_test_add_func ("/net-set/cidr", test_nets);
  g_test_add_func ("/net-set/default-route", test_nets_default_route);
  return g_test_run ();
}
