/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Network scope classification: every row of the table in pc-scope.c, its edges, and the
 * documentation ranges that must stay "internet". */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-scope.h"

typedef struct
{
  const char *addr;
  PcScope scope;
} ScopeCase;

static const ScopeCase scope_cases[] = {
  /* IPv4 invalid */
  { "0.0.0.0", PC_SCOPE_INVALID },
  { "0.255.255.255", PC_SCOPE_INVALID },
  { "240.0.0.1", PC_SCOPE_INVALID },
  { "255.255.255.254", PC_SCOPE_INVALID },
  /* IPv4 localhost */
  { "127.0.0.1", PC_SCOPE_LOCALHOST },
  { "127.255.255.254", PC_SCOPE_LOCALHOST },
  { "127.0.0.53", PC_SCOPE_LOCALHOST },
  /* IPv4 LAN */
  { "10.0.0.0", PC_SCOPE_LAN },
  { "10.255.255.255", PC_SCOPE_LAN },
  { "172.16.0.1", PC_SCOPE_LAN },
  { "172.31.255.255", PC_SCOPE_LAN },
  { "192.168.0.1", PC_SCOPE_LAN },
  { "192.168.255.255", PC_SCOPE_LAN },
  { "100.64.0.1", PC_SCOPE_LAN },
  { "100.127.255.255", PC_SCOPE_LAN },
  { "169.254.1.1", PC_SCOPE_LAN },
  { "192.0.0.1", PC_SCOPE_LAN },
  { "198.18.0.1", PC_SCOPE_LAN },
  { "198.19.255.255", PC_SCOPE_LAN },
  { "224.0.0.251", PC_SCOPE_LAN },
  { "239.255.255.250", PC_SCOPE_LAN },
  { "255.255.255.255", PC_SCOPE_LAN },
  /* IPv4 internet, including just outside each range */
  { "1.1.1.1", PC_SCOPE_INTERNET },
  { "8.8.8.8", PC_SCOPE_INTERNET },
  { "1.0.0.0", PC_SCOPE_INTERNET },
  { "9.255.255.255", PC_SCOPE_INTERNET },
  { "11.0.0.0", PC_SCOPE_INTERNET },
  { "126.255.255.255", PC_SCOPE_INTERNET },
  { "128.0.0.0", PC_SCOPE_INTERNET },
  { "172.15.255.255", PC_SCOPE_INTERNET },
  { "172.32.0.0", PC_SCOPE_INTERNET },
  { "192.167.255.255", PC_SCOPE_INTERNET },
  { "192.169.0.0", PC_SCOPE_INTERNET },
  { "100.63.255.255", PC_SCOPE_INTERNET },
  { "100.128.0.0", PC_SCOPE_INTERNET },
  { "169.253.255.255", PC_SCOPE_INTERNET },
  { "169.255.0.0", PC_SCOPE_INTERNET },
  { "192.0.1.1", PC_SCOPE_INTERNET },
  { "198.17.255.255", PC_SCOPE_INTERNET },
  { "198.20.0.0", PC_SCOPE_INTERNET },
  { "223.255.255.255", PC_SCOPE_INTERNET },
  /* documentation ranges stand in for public hosts in tests */
  { "192.0.2.1", PC_SCOPE_INTERNET },
  { "198.51.100.1", PC_SCOPE_INTERNET },
  { "203.0.113.1", PC_SCOPE_INTERNET },
  /* IPv6 */
  { "::", PC_SCOPE_INVALID },
  { "::1", PC_SCOPE_LOCALHOST },
  { "::2", PC_SCOPE_INVALID },
  { "::1.2.3.4", PC_SCOPE_INVALID },
  { "100::1", PC_SCOPE_INVALID },
  { "100:0:0:1::1", PC_SCOPE_INTERNET },
  { "fc00::1", PC_SCOPE_LAN },
  { "fd12:3456:789a::1", PC_SCOPE_LAN },
  { "fe80::1", PC_SCOPE_LAN },
  { "febf:ffff::1", PC_SCOPE_LAN },
  { "fec0::1", PC_SCOPE_LAN },
  { "ff02::1", PC_SCOPE_LAN },
  { "ff05::1:3", PC_SCOPE_LAN },
  { "fbff::1", PC_SCOPE_INTERNET },
  { "fe00::1", PC_SCOPE_INTERNET },
  { "2606:4700:4700::1111", PC_SCOPE_INTERNET },
  { "2001:db8::1", PC_SCOPE_INTERNET },
  { "64:ff9b::808:808", PC_SCOPE_INTERNET },
  /* IPv4-mapped IPv6 is classified as its IPv4 address */
  { "::ffff:127.0.0.1", PC_SCOPE_LOCALHOST },
  { "::ffff:127.1.2.3", PC_SCOPE_LOCALHOST },
  { "::ffff:10.1.2.3", PC_SCOPE_LAN },
  { "::ffff:192.168.1.1", PC_SCOPE_LAN },
  { "::ffff:0.0.0.0", PC_SCOPE_INVALID },
  { "::ffff:8.8.8.8", PC_SCOPE_INTERNET },
  { "::ffff:203.0.113.7", PC_SCOPE_INTERNET },
};

static void
test_scope_case (gconstpointer data)
{
  const ScopeCase *sc = data;
  PcAddr addr;

  g_assert_true (pc_addr_parse (sc->addr, &addr));
  g_assert_cmpstr (pc_scope_to_string (pc_scope_classify (&addr)), ==,
                   pc_scope_to_string (sc->scope));
}

static void
test_scope_strings (void)
{
  const PcScope all[] = { PC_SCOPE_LOCALHOST, PC_SCOPE_LAN, PC_SCOPE_INTERNET, PC_SCOPE_INVALID };
  PcScope scope;

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_assert_true (pc_scope_from_string (pc_scope_to_string (all[i]), &scope));
      g_assert_cmpint (scope, ==, all[i]);
    }
  g_assert_true (pc_scope_from_string ("LAN", &scope));
  g_assert_cmpint (scope, ==, PC_SCOPE_LAN);
  g_assert_false (pc_scope_from_string ("wan", &scope));
  g_assert_false (pc_scope_from_string ("", NULL));
  g_assert_cmpstr (pc_scope_to_string (PC_SCOPE_INTERNET), ==, "internet");
}

static void
test_scope_unknown_family (void)
{
  PcAddr addr = { 0 };

  g_assert_cmpint (pc_scope_classify (&addr), ==, PC_SCOPE_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (scope_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/scope/classify/%s", scope_cases[i].addr);
      g_test_add_data_func (path, &scope_cases[i], test_scope_case);
    }
  g_test_add_func ("/scope/strings", test_scope_strings);
  g_test_add_func ("/scope/unknown-family", test_scope_unknown_family);

  return g_test_run ();
}
