/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PORTCULLIS-DNS nat script: own traffic exempt, UDP and TCP to port 53 redirected, stale
 * rules of a crashed run removed in the same transaction, and nobody else's rules touched. */
#define G_LOG_DOMAIN "portcullis-dns"

#include <string.h>

#include "pc-dns-redirect.h"
#include "pc-marks.h"

static const char *stale_save = "*nat\n"
                                ":PREROUTING ACCEPT [0:0]\n"
                                ":OUTPUT ACCEPT [0:0]\n"
                                ":DOCKER - [0:0]\n"
                                ":PORTCULLIS-DNS - [0:0]\n"
                                "-A OUTPUT -j PORTCULLIS-DNS\n"
                                "-A OUTPUT -d 10.0.0.0/8 -j DOCKER\n"
                                "-A PORTCULLIS-DNS -p udp --dport 53 -j DNAT --to 127.0.0.17:53\n"
                                "COMMIT\n";

static void
test_install (void)
{
  PcAddr to;
  g_autofree char *script = NULL;
  g_autofree char *mark
      = g_strdup_printf ("-m mark --mark 0x%x/0x%x -j RETURN", PC_MARK_OWN, PC_MARK_MASK);

  pc_addr_parse ("127.0.0.17", &to);
  script = pc_dns_redirect_build (&to, 53, stale_save);
  g_test_message ("%s", script);
  g_assert_true (g_str_has_prefix (script, "*nat\n"));
  g_assert_true (g_str_has_suffix (script, "COMMIT\n"));
  /* stale jump and chain go first */
  g_assert_nonnull (strstr (script, "-D OUTPUT -j PORTCULLIS-DNS\n-F PORTCULLIS-DNS\n"
                                    "-X PORTCULLIS-DNS\n:PORTCULLIS-DNS - [0:0]\n"));
  g_assert_null (strstr (script, "DOCKER"));
  g_assert_nonnull (strstr (script, mark));
  g_assert_nonnull (strstr (
      script, "-A PORTCULLIS-DNS -p udp --dport 53 -j DNAT --to-destination 127.0.0.17:53\n"));
  g_assert_nonnull (strstr (
      script, "-A PORTCULLIS-DNS -p tcp --dport 53 -j DNAT --to-destination 127.0.0.17:53\n"));
  g_assert_nonnull (strstr (script, "-A PORTCULLIS-DNS -d 127.0.0.17 -p udp --dport 53 -j RETURN"));
  /* the exemption comes before the redirect */
  g_assert_true (strstr (script, mark) < strstr (script, "DNAT"));
  g_assert_nonnull (strstr (script, "-I OUTPUT 1 -j PORTCULLIS-DNS\n"));
}

static void
test_ipv6_and_removal (void)
{
  PcAddr to;
  g_autofree char *v6 = NULL;
  g_autofree char *removal = NULL;
  g_autofree char *nothing
      = pc_dns_redirect_build (NULL, 0, "*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");

  pc_addr_parse ("::1", &to);
  v6 = pc_dns_redirect_build (&to, 5353, NULL);
  g_assert_nonnull (strstr (v6, "--to-destination [::1]:5353\n"));
  g_assert_nonnull (strstr (v6, "-A PORTCULLIS-DNS -d ::1 -p tcp --dport 5353 -j RETURN"));
  removal = pc_dns_redirect_build (NULL, 0, stale_save);
  g_assert_cmpstr (removal, ==,
                   "*nat\n-D OUTPUT -j PORTCULLIS-DNS\n-F PORTCULLIS-DNS\n-X PORTCULLIS-DNS\n"
                   "COMMIT\n");
  g_assert_cmpstr (nothing, ==, "*nat\nCOMMIT\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/redirect/install", test_install);
  g_test_add_func ("/dns/redirect/ipv6-and-removal", test_ipv6_and_removal);
  return g_test_run ();
}
