/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for helper/policy/pc-settings.c and the minimal decision in pc-policy.c. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "pc-error.h"
#include "pc-policy.h"
#include "pc-settings.h"

static char *
write_tmp (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("pc-settings-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  return path;
}

static void
test_missing_file_gives_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcSettings) s = pc_settings_load ("/nonexistent/portcullis/settings.conf", &error);

  g_assert_no_error (error);
  g_assert_cmpint (s->default_action, ==, PC_DEFAULT_ALLOW);
  g_assert_cmpint (s->block_reaction, ==, PC_REACTION_REJECT);
  g_assert_cmpint (s->fail_mode, ==, PC_FAIL_OPEN);
  g_assert_cmpuint (pc_rule_list_get_n_rules (s->endpoints), ==, 0);
}

static void
test_good_file (void)
{
  g_autofree char *path = write_tmp ("[global]\ndefault-action=block\nblock-reaction=drop\n"
                                     "fail-mode=closed\nendpoints=+ 10.0.0.0/8;- *;\n"
                                     "inbound-endpoints=+ * tcp/local:22;\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (PcSettings) s = pc_settings_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (s->default_action, ==, PC_DEFAULT_BLOCK);
  g_assert_cmpint (s->block_reaction, ==, PC_REACTION_DROP);
  g_assert_cmpint (s->fail_mode, ==, PC_FAIL_CLOSED);
  g_assert_cmpuint (pc_rule_list_get_n_rules (s->endpoints), ==, 2);
  g_assert_cmpuint (pc_rule_list_get_n_rules (s->inbound_endpoints), ==, 1);
  g_unlink (path);
}

static void
test_bad_values_are_reported (void)
{
  struct
  {
    const char *text;
    const char *expect;
  } cases[] = {
    { "[global]\ndefault-action=maybe\n",
      "default-action: 'maybe' is not one of allow|block|prompt" },
    { "[global]\nblock-reaction=explode\n", "block-reaction: 'explode' is not one of drop|reject" },
    { "[global]\nfail-mode=sideways\n", "fail-mode: 'sideways' is not one of open|closed" },
    { "[global]\nendpoints=+ 10.0.0.1;- 10.0.0.0/33;\n", "endpoints: line 2: '10.0.0.0/33'" },
    { "not a key file\n", "settings.conf" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_tmp (cases[i].text);
      g_autoptr (GError) error = NULL;
      g_autoptr (PcSettings) s = pc_settings_load (path, &error);

      g_assert_null (s);
      g_assert_error (error, PC_ERROR, error->code);
      g_assert_nonnull (strstr (error->message, path));
      if (!g_str_equal (cases[i].expect, "settings.conf"))
        g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_unlink (path);
    }
}

static PcFlowKey
flow (const char *remote, guint16 port, PcDirection dir)
{
  PcFlowKey key = { 0 };

  g_assert_true (pc_addr_parse (remote, &key.raddr));
  pc_addr_parse (key.raddr.family == AF_INET ? "10.77.0.2" : "fd77::2", &key.laddr);
  key.family = key.raddr.family;
  key.proto = 6;
  key.rport = port;
  key.lport = 40000;
  key.direction = dir;
  return key;
}

static void
test_decision_order_and_reasons (void)
{
  g_autofree char *path = write_tmp ("[global]\ndefault-action=block\n"
                                     "endpoints=+ 10.77.0.1 tcp/80;- 10.77.0.0/16;\n"
                                     "inbound-endpoints=+ * tcp/local:40000;\n");
  g_autoptr (PcSettings) s = pc_settings_load (path, NULL);
  PcFlowKey k1 = flow ("10.77.0.1", 80, PC_DIR_OUTBOUND);
  PcFlowKey k2 = flow ("10.77.0.1", 81, PC_DIR_OUTBOUND);
  PcFlowKey k3 = flow ("192.0.2.1", 443, PC_DIR_OUTBOUND);
  PcFlowKey k4 = flow ("10.77.0.1", 5555, PC_DIR_INBOUND);
  PcDecisionInput in = { 0 };
  PcDecision d;

  in.key = &k1;
  pc_policy_decide (s, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpstr (d.reason, ==, "global endpoints rule 1 '+ 10.77.0.1 tcp/80'");
  in.key = &k2;
  pc_policy_decide (s, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpstr (d.reason, ==, "global endpoints rule 2 '- 10.77.0.0/16'");
  in.key = &k3;
  pc_policy_decide (s, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpstr (d.reason, ==, "default action: block");
  /* inbound flows are judged by inbound-endpoints only */
  in.key = &k4;
  pc_policy_decide (s, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpint (d.kind, ==, PC_REASON_RULE);
  /* Portcullis' own traffic is always allowed */
  in.key = &k3;
  in.own = TRUE;
  pc_policy_decide (s, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpint (d.kind, ==, PC_REASON_OWN);
  g_unlink (path);
}

/* a DNS-BYPASS list naming dns.google and 8.8.8.8 */
static gboolean
bypass_list (const char *list_id, const PcMatchInput *match, gpointer user_data)
{
  PcAddr google;

  pc_addr_parse ("8.8.8.8", &google);
  return g_str_equal (list_id, "DNS-BYPASS")
         && (g_strcmp0 (match->domain, "dns.google") == 0
             || pc_addr_equal (&match->key->raddr, &google));
}

static void
test_dns_bypass_prevention (void)
{
  g_autofree char *on_path = write_tmp ("[global]\ndefault-action=allow\n");
  g_autofree char *rule_path
      = write_tmp ("[global]\ndefault-action=allow\nendpoints=+ 192.0.2.1 tcp/853;\n");
  g_autofree char *off_path = write_tmp ("[global]\ndefault-action=allow\n"
                                         "dns-bypass-prevention=false\n");
  g_autoptr (PcSettings) on = pc_settings_load (on_path, NULL);
  g_autoptr (PcSettings) rule = pc_settings_load (rule_path, NULL);
  g_autoptr (PcSettings) off = pc_settings_load (off_path, NULL);
  PcFlowKey dot = flow ("192.0.2.1", 853, PC_DIR_OUTBOUND);
  PcFlowKey doq = flow ("192.0.2.1", 853, PC_DIR_OUTBOUND);
  PcFlowKey web = flow ("192.0.2.9", 443, PC_DIR_OUTBOUND);
  PcFlowKey g443 = flow ("8.8.8.8", 443, PC_DIR_OUTBOUND);
  PcFlowKey g53 = flow ("8.8.8.8", 53, PC_DIR_OUTBOUND);
  PcDecisionInput in = { .in_list = bypass_list };
  PcDecision d;

  g_assert_true (on->dns_bypass_prevention);
  doq.proto = 17;
  in.key = &dot;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpstr (d.reason, ==, "dns-bypass-prevention: DNS over TLS/QUIC (port 853)");
  in.key = &doq;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  /* by name on any address; a list verdict, so the resolver refuses the name too */
  in.key = &web;
  in.domain = "dns.google";
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpint (d.kind, ==, PC_REASON_LIST);
  g_assert_nonnull (strstr (d.reason, "a public DNS-over-HTTPS server (list DNS-BYPASS)"));
  /* by address only on the DoH/DoT ports */
  in.domain = NULL;
  in.key = &g443;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_nonnull (strstr (d.reason, "the address of a public DNS-over-HTTPS server"));
  in.key = &g53;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  in.key = &web;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  /* portcullisd itself, an explicit rule, or the setting off: allowed */
  in.key = &dot;
  in.own = TRUE;
  pc_policy_decide (on, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  in.own = FALSE;
  pc_policy_decide (rule, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpint (d.kind, ==, PC_REASON_RULE);
  pc_policy_decide (off, &in, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpint (d.kind, ==, PC_REASON_DEFAULT);
  g_unlink (on_path);
  g_unlink (rule_path);
  g_unlink (off_path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settings/missing-file", test_missing_file_gives_defaults);
  g_test_add_func ("/settings/good-file", test_good_file);
  g_test_add_func ("/settings/bad-values", test_bad_values_are_reported);
  g_test_add_func ("/policy/decision", test_decision_order_and_reasons);
  g_test_add_func ("/policy/dns-bypass-prevention", test_dns_bypass_prevention);
  return g_test_run ();
}
