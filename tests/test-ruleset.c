/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for the iptables-restore scripts of helper/intercept/pc-ruleset.c. The rules
 * themselves are exercised for real by tests/integration/test_packet_path.py. */
#include <glib.h>
#include <string.h>

#include "pc-ruleset.h"

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_install_script (void)
{
  PcRulesetConfig config = { .queue_num = 7, .fail_open = TRUE };
  g_autofree char *v4 = pc_ruleset_build (&config, FALSE, "");
  g_autofree char *v6 = NULL;

  g_assert_true (g_str_has_prefix (v4, "*filter\n"));
  g_assert_true (g_str_has_suffix (v4, "COMMIT\n"));
  g_assert_cmpuint (count (v4, "-I OUTPUT 1 -j PORTCULLIS-OUT\n"), ==, 1);
  g_assert_cmpuint (count (v4, "-I INPUT 1 -j PORTCULLIS-IN\n"), ==, 1);
  g_assert_cmpuint (count (v4, "-j NFQUEUE --queue-num 7 --queue-bypass"), ==, 2);
  g_assert_nonnull (strstr (v4, "icmp-port-unreachable"));
  /* only our chains are ever named */
  g_assert_null (strstr (v4, "-F OUTPUT"));
  g_assert_null (strstr (v4, "-F INPUT"));

  config.fail_open = FALSE;
  v6 = pc_ruleset_build (&config, TRUE, "");
  g_assert_null (strstr (v6, "--queue-bypass"));
  g_assert_nonnull (strstr (v6, "icmp6-port-unreachable"));
}

static void
test_stale_rules_are_replaced (void)
{
  const char *save = "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:PORTCULLIS-OUT - [0:0]\n"
                     ":PORTCULLIS-IN - [0:0]\n:OTHER - [0:0]\n"
                     "-A INPUT -j PORTCULLIS-IN\n-A OUTPUT -j PORTCULLIS-OUT\n"
                     "-A OUTPUT -j PORTCULLIS-OUT\n-A OUTPUT -j OTHER\n"
                     "-A PORTCULLIS-OUT -j RETURN\nCOMMIT\n";
  PcRulesetConfig config = { .queue_num = 0, .fail_open = TRUE };
  g_autofree char *install = pc_ruleset_build (&config, FALSE, save);
  g_autofree char *removal = pc_ruleset_build_removal (save);

  /* both stale jumps go, then exactly one new one per chain */
  g_assert_cmpuint (count (install, "-D OUTPUT -j PORTCULLIS-OUT\n"), ==, 2);
  g_assert_cmpuint (count (install, "-D INPUT -j PORTCULLIS-IN\n"), ==, 1);
  g_assert_cmpuint (count (install, "-I OUTPUT 1 -j PORTCULLIS-OUT\n"), ==, 1);
  /* someone else's chain and jump are left alone */
  g_assert_null (strstr (install, "OTHER"));
  g_assert_null (strstr (removal, "OTHER"));
  g_assert_cmpuint (count (removal, "-X PORTCULLIS-OUT\n"), ==, 1);
  g_assert_cmpuint (count (removal, "-X PORTCULLIS-IN\n"), ==, 1);
  g_assert_cmpuint (count (removal, "-D OUTPUT -j PORTCULLIS-OUT\n"), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ruleset/install", test_install_script);
  g_test_add_func ("/ruleset/stale", test_stale_rules_are_replaced);
  return g_test_run ();
}
