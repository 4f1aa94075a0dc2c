/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The policy manager and the decision: layered settings (default < admin < user < profile),
 * sources, validation, decision order and reasons, scopes, temporary rules, persistence across
 * a restart of the manager, JSON export/import. Real sqlite in a temporary state dir. */
#define G_LOG_DOMAIN "portcullis-test"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc-error.h"
#include "pc-policy-manager.h"

typedef struct
{
  char *dir;
  char *state;
  char *config;
  PcPolicyManager *pm;
} Fixture;

static void
write_admin (Fixture *f, const char *text)
{
  g_autofree char *path = g_build_filename (f->config, "settings.conf", NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static PcPolicyManager *
open_manager (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  PcPolicyManager *pm = pc_policy_manager_new (f->state, f->config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pm);
  return pm;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("pc-policy-XXXXXX", NULL);
  f->state = g_build_filename (f->dir, "state", NULL);
  f->config = g_build_filename (f->dir, "config", NULL);
  g_mkdir_with_parents (f->config, 0755);
  f->pm = open_manager (f);
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->pm);
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->state);
  g_free (f->config);
}

static void
reopen (Fixture *f)
{
  g_clear_object (&f->pm);
  f->pm = open_manager (f);
}

/* The (value, source) of key in an a{s(vs)}. */
static void
lookup_sourced (GVariant *list, const char *key, GVariant **value, const char **source)
{
  g_autoptr (GVariant) entry = g_variant_lookup_value (list, key, G_VARIANT_TYPE ("(vs)"));

  g_assert_nonnull (entry);
  g_variant_get (entry, "(v&s)", value, source);
  /* source points into entry; keep it alive with the list. */
  *source = g_intern_string (*source);
}

static PcFlowKey
flow (const char *remote, guint8 proto, guint16 port, PcDirection dir)
{
  PcFlowKey key = { 0 };

  g_assert_true (pc_addr_parse (remote, &key.raddr));
  g_assert_true (pc_addr_parse (key.raddr.family == AF_INET ? "10.77.0.2" : "fd77::2", &key.laddr));
  key.family = key.raddr.family;
  key.proto = proto;
  key.rport = port;
  key.lport = 40000;
  key.direction = dir;
  return key;
}

/* Decides a flow for profile id (NULL: none) with the manager's current snapshot. */
static void
decide (PcPolicyManager *pm,
        const char *id,
        const char *remote,
        guint8 proto,
        guint16 port,
        PcDirection dir,
        PcDecision *out)
{
  g_autoptr (PcPolicySnapshot) snap = pc_policy_manager_get_snapshot (pm);
  PcFlowKey key = flow (remote, proto, port, dir);
  PcDecisionInput in = { .key = &key };

  if (id != NULL)
    {
      in.profile = pc_policy_snapshot_get_profile (snap, id);
      g_assert_nonnull (in.profile);
    }
  pc_policy_snapshot_decide (snap, &in, out);
}

static char *
create (PcPolicyManager *pm, const char *name, const char *fingerprint)
{
  g_autoptr (GError) error = NULL;
  GVariantBuilder b;
  const char *fps[] = { fingerprint, NULL };
  char *id;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (name));
  g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
  id = pc_policy_manager_create_profile (pm, g_variant_builder_end (&b), &error);
  g_assert_no_error (error);
  return id;
}

static void
test_defaults_and_sources (Fixture *f, gconstpointer data)
{
  g_autoptr (GVariant) list = pc_policy_manager_list_global (f->pm);
  struct
  {
    const char *key;
    const char *value;
  } defaults[] = {
    { "default-action", "'allow'" },
    { "block-localhost", "false" },
    { "block-lan", "false" },
    { "block-internet", "false" },
    { "block-p2p", "false" },
    { "block-inbound", "false" },
    { "endpoints", "@as []" },
    { "inbound-endpoints", "@as []" },
    { "filter-lists", "['ADS', 'TRAC', 'MAL', 'PHISH', 'CRYPTOMINING', 'CUSTOM']" },
    { "block-reaction", "'reject'" },
    { "prompt-timeout", "uint32 60" },
    { "prompt-default", "'block'" },
    { "prompt-inbound", "false" },
    { "dns-resolver", "true" },
    { "dns-servers", "['system']" },
    { "dns-listen", "['127.0.0.17:53', '[::1]:53']" },
    { "dns-block-rebinding", "true" },
    { "dns-block-reply", "'nxdomain'" },
    { "dns-bypass-prevention", "true" },
    { "history", "true" },
    { "history-keep-days", "uint32 30" },
    { "bandwidth", "true" },
    { "fail-mode", "'open'" },
    { "custom-list", "''" },
    { "geo-database", "''" },
    { "lists-url", "''" },
    { "lists-keys", "''" },
    { "lists-update-interval", "uint32 86400" },
  };

  g_assert_cmpuint (g_variant_n_children (list), ==, G_N_ELEMENTS (defaults));
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    {
      g_autoptr (GVariant) v = NULL;
      g_autofree char *text = NULL;
      const char *source;
      lookup_sourced (list, defaults[i].key, &v, &source);
      text = g_variant_print (v, TRUE);
      g_assert_cmpstr (text, ==, defaults[i].value);
      g_assert_cmpstr (source, ==, "default");
    }
  g_assert_null (pc_policy_manager_get_problems (f->pm)[0]);
}

static void
test_layers (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = create (f->pm, "Curl", "path:/usr/bin/curl");
  g_autoptr (GVariant) eff = NULL;
  g_autoptr (GVariant) v = NULL;
  const char *source;

  /* admin over default */
  write_admin (f, "[global]\ndefault-action=block\nblock-lan=true\n");
  g_assert_true (pc_policy_manager_reload_admin (f->pm, &error));
  g_assert_no_error (error);
  v = pc_policy_manager_get_global (f->pm, "default-action", &error);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "block");
  g_clear_pointer (&v, g_variant_unref);

  /* user over admin */
  g_assert_true (pc_policy_manager_set_global (f->pm, "default-action",
                                               g_variant_new_string ("prompt"), &error));
  g_assert_no_error (error);
  eff = pc_policy_manager_get_effective (f->pm, id, &error);
  g_assert_no_error (error);
  lookup_sourced (eff, "default-action", &v, &source);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "prompt");
  g_assert_cmpstr (source, ==, "user");
  g_clear_pointer (&v, g_variant_unref);
  lookup_sourced (eff, "block-lan", &v, &source);
  g_assert_true (g_variant_get_boolean (v));
  g_assert_cmpstr (source, ==, "admin");
  g_clear_pointer (&v, g_variant_unref);
  g_clear_pointer (&eff, g_variant_unref);

  /* profile over user; removing the override inherits again */
  g_assert_true (pc_policy_manager_set_profile_setting (f->pm, id, "default-action",
                                                        g_variant_new_string ("allow"), &error));
  g_assert_no_error (error);
  eff = pc_policy_manager_get_effective (f->pm, id, &error);
  lookup_sourced (eff, "default-action", &v, &source);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "allow");
  g_assert_cmpstr (source, ==, "profile");
  g_clear_pointer (&v, g_variant_unref);
  g_clear_pointer (&eff, g_variant_unref);
  {
    PcDecision d;
    decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
    g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
    g_assert_cmpstr (d.reason, ==, "default action: allow (profile 'Curl')");
    decide (f->pm, NULL, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
    g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
    g_assert_cmpstr (d.reason, ==, "default action: prompt (no prompt agent, blocked)");
  }
  g_assert_true (pc_policy_manager_set_profile_setting (f->pm, id, "default-action", NULL, &error));
  eff = pc_policy_manager_get_effective (f->pm, id, &error);
  lookup_sourced (eff, "default-action", &v, &source);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "prompt");
  g_assert_cmpstr (source, ==, "user");
  g_clear_pointer (&v, g_variant_unref);

  /* reset: the admin value applies again */
  g_assert_true (pc_policy_manager_reset_global (f->pm, "default-action", &error));
  v = pc_policy_manager_get_global (f->pm, "default-action", &error);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "block");
}

static void
test_bad_values (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *key;
    const char *value; /* GVariant text */
    int code;
    const char *message;
  } cases[] = {
    { "default-action", "'maybe'", PC_ERROR_INVALID_SETTING,
      "default-action: 'maybe' is not one of allow|block|prompt" },
    { "default-action", "true", PC_ERROR_INVALID_SETTING,
      "default-action: value of type 'b', expected 's'" },
    { "no-such-key", "true", PC_ERROR_INVALID_SETTING, "'no-such-key': no such setting" },
    { "prompt-timeout", "uint32 0", PC_ERROR_INVALID_SETTING,
      "prompt-timeout: 0 is not in 1-3600" },
    { "endpoints", "['+ 10.0.0.1', '- 10.0.0.0/33']", PC_ERROR_INVALID_RULE,
      "endpoints: line 2: '10.0.0.0/33'" },
    { "filter-lists", "['MAL', 'bad id']", PC_ERROR_INVALID_SETTING,
      "filter-lists: item 2 'bad id'" },
    { "dns-servers", "['ftp://x']", PC_ERROR_INVALID_SETTING,
      "dns-servers: item 1 'ftp://x': dns server ftp://x: unknown scheme ftp" },
    { "dns-servers", "['system', 'dot://192.0.2.1?bogus=1']", PC_ERROR_INVALID_SETTING,
      "dns-servers: item 2 'dot://192.0.2.1?bogus=1': dns server dot://192.0.2.1?bogus=1: unknown "
      "parameter bogus" },
    { "dns-listen", "['127.0.0.17:99999']", PC_ERROR_INVALID_SETTING,
      "dns-listen: item 1 '127.0.0.17:99999': listen address 127.0.0.17:99999: port 99999 is not "
      "0-65535" },
    { "dns-block-reply", "'refused'", PC_ERROR_INVALID_SETTING,
      "dns-block-reply: 'refused' is not one of nxdomain|zero" },
    { "fail-mode", "'sideways'", PC_ERROR_INVALID_SETTING, "'sideways' is not one of open|closed" },
  };
  g_autoptr (PcPolicySnapshot) before = pc_policy_manager_get_snapshot (f->pm);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      GVariant *v = g_variant_parse (NULL, cases[i].value, NULL, NULL, NULL);
      g_assert_false (pc_policy_manager_set_global (f->pm, cases[i].key, v, &error));
      g_assert_error (error, PC_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
  {
    /* Nothing changed: same snapshot, nothing stored. */
    g_autoptr (PcPolicySnapshot) after = pc_policy_manager_get_snapshot (f->pm);
    g_assert_true (before == after);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (pc_policy_manager_add_rule (f->pm, NULL, "endpoints", "+ 300.1.1.1", &error));
    g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
    g_clear_error (&error);
    g_assert_false (pc_policy_manager_add_rule (f->pm, "nope", "endpoints", "+ *", &error));
    g_assert_error (error, PC_ERROR, PC_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_false (pc_policy_manager_delete_profile (f->pm, "kernel", &error));
    g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
  }
  /* A bad admin file is refused whole; the last good admin values stay. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) v = NULL;
    write_admin (f, "[global]\nblock-lan=true\n");
    g_assert_true (pc_policy_manager_reload_admin (f->pm, &error));
    write_admin (f, "[global]\nblock-lan=false\nendpoints=+ 10.0.0.0/33\n");
    g_assert_false (pc_policy_manager_reload_admin (f->pm, &error));
    /* the file's line, then the rule's line in the list */
    g_assert_nonnull (strstr (error->message, "settings.conf:3: [global] endpoints: line 1"));
    v = pc_policy_manager_get_global (f->pm, "block-lan", NULL);
    g_assert_true (g_variant_get_boolean (v));
  }
}

static void
test_decision_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = create (f->pm, "Curl", "path:/usr/bin/curl");
  PcDecision d;

  g_assert_true (pc_policy_manager_add_rule (f->pm, NULL, "endpoints", "- 203.0.113.0/24", &error));
  g_assert_true (pc_policy_manager_add_rule (f->pm, NULL, "endpoints", "+ 10.0.0.0/8", &error));
  g_assert_true (
      pc_policy_manager_add_rule (f->pm, id, "endpoints", "+ 203.0.113.10 tcp/80", &error));
  g_assert_true (pc_policy_manager_add_rule (f->pm, id, "endpoints", "- AT", &error));
  g_assert_no_error (error);

  /* profile rule before global rule */
  decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpint (d.kind, ==, PC_REASON_RULE);
  g_assert_cmpstr (d.reason, ==, "profile 'Curl' endpoints rule 1 '+ 203.0.113.10 tcp/80'");
  /* the country rule cannot be judged: the global rule decides, and the reason says why */
  decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 443, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpstr (d.reason, ==,
                   "global endpoints rule 1 '- 203.0.113.0/24'; country/ASN rules skipped: no "
                   "geo database");
  /* without a profile only global rules apply */
  decide (f->pm, NULL, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  /* rules before scopes: block-lan does not override an allow rule */
  g_assert_true (
      pc_policy_manager_set_global (f->pm, "block-lan", g_variant_new_boolean (TRUE), &error));
  decide (f->pm, NULL, "10.1.2.3", IPPROTO_TCP, 22, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  decide (f->pm, NULL, "192.168.1.1", IPPROTO_TCP, 22, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpint (d.kind, ==, PC_REASON_SCOPE);
  g_assert_cmpstr (d.reason, ==, "scope lan: block-lan (global)");
  /* Portcullis itself: always allowed, even with everything blocked */
  g_assert_true (pc_policy_manager_set_global (f->pm, "default-action",
                                               g_variant_new_string ("block"), &error));
  {
    g_autoptr (PcPolicySnapshot) snap = pc_policy_manager_get_snapshot (f->pm);
    PcFlowKey key = flow ("192.168.1.1", IPPROTO_TCP, 22, PC_DIR_OUTBOUND);
    PcDecisionInput in = { .key = &key };
    in.profile = pc_policy_snapshot_match (snap, NULL, FALSE);
    g_assert_cmpstr (pc_profile_get_id (in.profile), ==, "unidentified");
    in.profile = pc_policy_snapshot_match (snap, NULL, TRUE);
    g_assert_cmpstr (pc_profile_get_id (in.profile), ==, "kernel");
    in.profile = pc_policy_snapshot_get_profile (snap, "portcullis");
    pc_policy_snapshot_decide (snap, &in, &d);
    g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
    g_assert_cmpint (d.kind, ==, PC_REASON_OWN);
  }
  /* inbound rules are a separate list */
  decide (f->pm, NULL, "10.1.2.3", IPPROTO_TCP, 22, PC_DIR_INBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_true (pc_policy_manager_add_rule (f->pm, NULL, "inbound-endpoints",
                                             "+ lan tcp/local:40000", &error));
  decide (f->pm, NULL, "10.1.2.3", IPPROTO_TCP, 22, PC_DIR_INBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  g_assert_cmpstr (d.reason, ==, "global inbound-endpoints rule 1 '+ lan tcp/local:40000'");
  /* removing a rule */
  g_assert_true (
      pc_policy_manager_remove_rule (f->pm, id, "endpoints", "+ 203.0.113.10 tcp/80", &error));
  g_assert_no_error (error);
  decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
}

static void
test_scopes (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *key;
    const char *remote;
    guint8 proto;
    guint16 port;
    PcDirection dir;
    PcVerdict verdict;
    const char *reason;
  } cases[] = {
    { NULL, "127.0.0.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW,
      "default action: allow" },
    { "block-localhost", "127.0.0.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope localhost: block-localhost (global)" },
    { "block-localhost", "::1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope localhost: block-localhost (global)" },
    { "block-localhost", "10.0.0.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
    { "block-lan", "192.168.0.10", IPPROTO_UDP, 53, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope lan: block-lan (global)" },
    { "block-lan", "fe80::1", IPPROTO_UDP, 53, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK, NULL },
    { "block-lan", "fd00::1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK, NULL },
    { "block-lan", "100.64.0.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK, NULL },
    { "block-lan", "8.8.8.8", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
    { "block-internet", "8.8.8.8", IPPROTO_TCP, 443, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope internet: block-internet (global)" },
    { "block-internet", "2001:4860::8888", IPPROTO_TCP, 443, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      NULL },
    { "block-internet", "172.16.0.1", IPPROTO_TCP, 443, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
    { "block-inbound", "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_INBOUND, PC_VERDICT_BLOCK,
      "scope lan: block-inbound (global)" },
    { "block-inbound", "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
    /* no DNS memory yet: every internet address counts as reached without DNS */
    { "block-p2p", "8.8.8.8", IPPROTO_UDP, 40000, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope internet: block-p2p (internet address without DNS answer) (global)" },
    { "block-p2p", "192.168.1.5", IPPROTO_UDP, 3478, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK,
      "scope lan: block-p2p (STUN port) (global)" },
    { "block-p2p", "192.168.1.5", IPPROTO_UDP, 19302, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK, NULL },
    { "block-p2p", "192.168.1.5", IPPROTO_TCP, 5349, PC_DIR_OUTBOUND, PC_VERDICT_BLOCK, NULL },
    { "block-p2p", "192.168.1.5", IPPROTO_UDP, 40000, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
    { "block-p2p", "127.0.0.1", IPPROTO_UDP, 3478, PC_DIR_OUTBOUND, PC_VERDICT_ALLOW, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PcDecision d;
      const char *keys[]
          = { "block-localhost", "block-lan", "block-internet", "block-inbound", "block-p2p" };
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        g_assert_true (pc_policy_manager_set_global (
            f->pm, keys[k], g_variant_new_boolean (g_strcmp0 (keys[k], cases[i].key) == 0),
            &error));
      decide (f->pm, NULL, cases[i].remote, cases[i].proto, cases[i].port, cases[i].dir, &d);
      if (d.verdict != cases[i].verdict)
        g_error ("case %u (%s %s): %s", i, cases[i].key, cases[i].remote, d.reason);
      if (cases[i].reason != NULL)
        g_assert_cmpstr (d.reason, ==, cases[i].reason);
    }
  {
    /* A profile may switch a scope off for itself, and the reason names the profile. */
    g_autoptr (GError) error = NULL;
    g_autofree char *id = create (f->pm, "Game", "path:/usr/games/game");
    PcDecision d;
    g_assert_true (pc_policy_manager_set_profile_setting (f->pm, id, "block-p2p",
                                                          g_variant_new_boolean (FALSE), &error));
    decide (f->pm, id, "192.168.1.5", IPPROTO_UDP, 3478, PC_DIR_OUTBOUND, &d);
    g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
    g_assert_true (pc_policy_manager_set_profile_setting (f->pm, id, "block-lan",
                                                          g_variant_new_boolean (TRUE), &error));
    decide (f->pm, id, "192.168.1.5", IPPROTO_UDP, 3478, PC_DIR_OUTBOUND, &d);
    g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
    g_assert_cmpstr (d.reason, ==, "scope lan: block-lan (profile 'Game')");
  }
}

static void
test_persistence (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = create (f->pm, "Curl", "path:/usr/bin/curl");
  g_autoptr (GVariant) v = NULL;
  g_autoptr (GVariant) profile = NULL;
  const char *name;
  PcDecision d;

  g_assert_true (
      pc_policy_manager_set_global (f->pm, "block-internet", g_variant_new_boolean (TRUE), &error));
  g_assert_true (pc_policy_manager_add_rule (f->pm, id, "endpoints", "+ 203.0.113.10", &error));
  g_assert_true (pc_policy_manager_add_temporary_rule (f->pm, id, "endpoints", "- 198.51.100.1",
                                                       3600, 0, &error));
  /* until restart: not kept */
  g_assert_true (pc_policy_manager_add_temporary_rule (f->pm, id, "endpoints", "- 198.51.100.2", 0,
                                                       0, &error));
  g_assert_no_error (error);

  reopen (f);
  v = pc_policy_manager_get_global (f->pm, "block-internet", &error);
  g_assert_true (g_variant_get_boolean (v));
  profile = pc_policy_manager_get_profile (f->pm, id, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (profile, "name", "&s", &name));
  g_assert_cmpstr (name, ==, "Curl");
  decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  decide (f->pm, id, "198.51.100.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpstr (d.reason, ==, "profile 'Curl' temporary endpoints rule '- 198.51.100.1'");
  /* the until-restart rule is gone: block-internet decides */
  decide (f->pm, id, "198.51.100.2", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpint (d.kind, ==, PC_REASON_SCOPE);
  {
    g_autoptr (GVariant) temps = g_variant_lookup_value (profile, "temporary-rules", NULL);
    g_assert_cmpuint (g_variant_n_children (temps), ==, 1);
  }
  /* the special profiles exist once, and are marked */
  {
    g_autoptr (GVariant) all = pc_policy_manager_list_profiles (f->pm);
    guint specials = 0;
    for (gsize i = 0; i < g_variant_n_children (all); i++)
      {
        g_autoptr (GVariant) p = g_variant_get_child_value (all, i);
        gboolean special = FALSE;
        g_variant_lookup (p, "special", "b", &special);
        specials += special;
      }
    g_assert_cmpuint (specials, ==, 4);
    g_assert_cmpuint (g_variant_n_children (all), ==, 5);
  }
}

static void
test_temporary_rules (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = create (f->pm, "Tool", "path:/usr/bin/tool");
  PcDecision d;
  GPid child;
  const char *argv[] = { "/bin/sleep", "30", NULL };

  /* one second */
  g_assert_true (
      pc_policy_manager_add_temporary_rule (f->pm, id, "endpoints", "- 192.0.2.1", 1, 0, &error));
  decide (f->pm, id, "192.0.2.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_usleep (1100 * 1000);
  /* expired in the decision itself, even before the manager sweeps it */
  decide (f->pm, id, "192.0.2.1", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  pc_policy_manager_expire_temporary_rules (f->pm);
  {
    g_autoptr (GVariant) p = pc_policy_manager_get_profile (f->pm, id, NULL);
    g_autoptr (GVariant) temps = g_variant_lookup_value (p, "temporary-rules", NULL);
    g_assert_cmpuint (g_variant_n_children (temps), ==, 0);
  }

  /* until the process exits */
  g_assert_true (g_spawn_async (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &child, &error));
  g_assert_true (pc_policy_manager_add_temporary_rule (f->pm, id, "endpoints", "- 192.0.2.2", 0,
                                                       child, &error));
  pc_policy_manager_expire_temporary_rules (f->pm);
  decide (f->pm, id, "192.0.2.2", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  g_spawn_close_pid (child);
  pc_policy_manager_expire_temporary_rules (f->pm);
  decide (f->pm, id, "192.0.2.2", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);
  /* a process that does not exist */
  g_assert_false (pc_policy_manager_add_temporary_rule (f->pm, id, "endpoints", "- 192.0.2.3", 0,
                                                        child, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_NOT_FOUND);
}

static void
test_json_roundtrip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = create (f->pm, "Curl", "path:/usr/bin/curl");
  g_autofree char *json = NULL;
  g_autofree char *json2 = NULL;
  g_autofree char *bad = NULL;
  PcDecision d;

  g_assert_true (
      pc_policy_manager_set_global (f->pm, "prompt-timeout", g_variant_new_uint32 (42), &error));
  g_assert_true (pc_policy_manager_add_rule (f->pm, id, "endpoints", "- 203.0.113.10", &error));
  json = pc_policy_manager_export_json (f->pm, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (json, "\"portcullis-policy\""));

  /* onto a fresh machine */
  g_clear_object (&f->pm);
  rm_rf (f->state);
  f->pm = open_manager (f);
  g_assert_true (pc_policy_manager_import_json (f->pm, json, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) v = pc_policy_manager_get_global (f->pm, "prompt-timeout", &error);
    g_assert_cmpuint (g_variant_get_uint32 (v), ==, 42);
  }
  decide (f->pm, id, "203.0.113.10", IPPROTO_TCP, 80, PC_DIR_OUTBOUND, &d);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  reopen (f);
  json2 = pc_policy_manager_export_json (f->pm, &error);
  g_assert_cmpstr (json, ==, json2);

  /* all or nothing: one bad rule in the document changes nothing */
  {
    g_autoptr (GString) s = g_string_new (json);
    g_string_replace (s, "- 203.0.113.10", "- 203.0.113.10/33", 1);
    g_string_replace (s, "\"prompt-timeout\" : 42", "\"prompt-timeout\" : 7", 1);
    bad = g_string_free (g_steal_pointer (&s), FALSE);
  }
  g_assert_false (pc_policy_manager_import_json (f->pm, bad, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_nonnull (strstr (error->message, "203.0.113.10/33"));
  g_clear_error (&error);
  {
    g_autoptr (GVariant) v = pc_policy_manager_get_global (f->pm, "prompt-timeout", &error);
    g_assert_cmpuint (g_variant_get_uint32 (v), ==, 42);
  }
  g_assert_false (pc_policy_manager_import_json (f->pm, "{\"x\": 1}", &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (pc_policy_manager_import_json (f->pm, "{not json", &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
  /* wrong member types are errors, not crashes */
  {
    const char *shapes[] = {
      "[]",
      "{\"format\": 1}",
      "{\"format\": \"portcullis-policy\", \"version\": \"1\"}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"global\": [1]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": {}}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": [1]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": [{\"id\": 5}]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": [{\"id\": \"a\", "
      "\"created\": \"x\"}]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": [{\"id\": \"a\", "
      "\"overrides\": []}]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"profiles\": [{\"id\": \"a\", "
      "\"fingerprints\": \"path:/x\"}]}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"global\": {\"block-lan\": "
      "\"yes\"}}",
      "{\"format\": \"portcullis-policy\", \"version\": 1, \"global\": {\"prompt-timeout\": "
      "-5}}",
    };
    for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
      {
        g_clear_error (&error);
        if (pc_policy_manager_import_json (f->pm, shapes[i], &error))
          g_error ("import of %s succeeded", shapes[i]);
        g_assert_nonnull (error);
      }
    g_clear_error (&error);
    g_autoptr (GVariant) v = pc_policy_manager_get_global (f->pm, "prompt-timeout", &error);
    g_assert_cmpuint (g_variant_get_uint32 (v), ==, 42);
  }
}

static void
test_corrupt_database (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = g_build_filename (f->state, "policy.db", NULL);
  g_autofree char *wal = g_build_filename (f->state, "policy.db-wal", NULL);
  const char *const *problems;
  g_autoptr (GDir) dir = NULL;
  const char *name;
  gboolean found_aside = FALSE;

  g_assert_true (
      pc_policy_manager_set_global (f->pm, "block-lan", g_variant_new_boolean (TRUE), &error));
  g_clear_object (&f->pm);
  g_unlink (wal);
  /* Overwrite the header and the first pages with garbage. */
  {
    g_autofree char *garbage = g_malloc (8192);
    memset (garbage, 0x5a, 8192);
    g_file_set_contents (db, garbage, 8192, &error);
    g_assert_no_error (error);
  }
  g_test_expect_message ("portcullis-store", G_LOG_LEVEL_WARNING, "*is corrupt*moved aside to*");
  f->pm = open_manager (f);
  g_test_assert_expected_messages ();
  problems = pc_policy_manager_get_problems (f->pm);
  g_assert_nonnull (problems[0]);
  g_assert_nonnull (strstr (problems[0], "is corrupt"));
  g_assert_nonnull (strstr (problems[0], "moved aside to"));
  /* defaults, and the old file kept */
  {
    g_autoptr (GVariant) v = pc_policy_manager_get_global (f->pm, "block-lan", &error);
    g_assert_false (g_variant_get_boolean (v));
  }
  dir = g_dir_open (f->state, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "policy.db.corrupt-"))
      {
        g_autofree char *path = g_build_filename (f->state, name, NULL);
        g_autofree char *content = NULL;
        gsize len;
        if (g_str_has_suffix (name, "-wal") || g_str_has_suffix (name, "-shm"))
          continue;
        g_assert_true (g_file_get_contents (path, &content, &len, NULL));
        g_assert_cmpuint (len, ==, 8192);
        found_aside = TRUE;
      }
  g_assert_true (found_aside);
  /* and the new database works */
  g_assert_true (
      pc_policy_manager_set_global (f->pm, "block-lan", g_variant_new_boolean (TRUE), &error));
  reopen (f);
  g_assert_null (pc_policy_manager_get_problems (f->pm)[0]);
}

static void
test_bad_admin_file_at_start (Fixture *f, gconstpointer data)
{
  g_autoptr (GVariant) v = NULL;

  write_admin (f, "[global]\ndefault-action=sometimes\n");
  g_test_expect_message ("portcullis-policy", G_LOG_LEVEL_WARNING, "admin settings ignored*");
  reopen (f);
  g_test_assert_expected_messages ();
  g_assert_nonnull (pc_policy_manager_get_problems (f->pm)[0]);
  g_assert_nonnull (strstr (pc_policy_manager_get_problems (f->pm)[0],
                            "default-action: 'sometimes' is not one of allow|block|prompt"));
  v = pc_policy_manager_get_global (f->pm, "default-action", NULL);
  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, "allow");
}

/* With default-action=prompt, incoming connections prompt only when prompt-inbound is on;
 * else prompt-default decides them at once. Outgoing ones prompt either way. */
static void
test_inbound_prompts (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PcDecision d;

  g_assert_true (pc_policy_manager_set_global (f->pm, "default-action",
                                               g_variant_new_string ("prompt"), &error));
  g_assert_no_error (error);
  decide (f->pm, NULL, "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_INBOUND, &d);
  g_assert_false (d.prompt);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_BLOCK);
  g_assert_cmpstr (d.reason, ==,
                   "default action: prompt (inbound prompts off, prompt-default block)");
  decide (f->pm, NULL, "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_OUTBOUND, &d);
  g_assert_true (d.prompt);

  g_assert_true (pc_policy_manager_set_global (f->pm, "prompt-default",
                                               g_variant_new_string ("allow"), &error));
  decide (f->pm, NULL, "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_INBOUND, &d);
  g_assert_false (d.prompt);
  g_assert_cmpint (d.verdict, ==, PC_VERDICT_ALLOW);

  g_assert_true (
      pc_policy_manager_set_global (f->pm, "prompt-inbound", g_variant_new_boolean (TRUE), &error));
  g_assert_no_error (error);
  decide (f->pm, NULL, "10.0.0.5", IPPROTO_TCP, 22, PC_DIR_INBOUND, &d);
  g_assert_true (d.prompt);
  g_assert_cmpuint (d.prompt_timeout, ==, 60);
  g_assert_cmpstr (d.reason, ==, "default action: prompt (no prompt agent, allowed)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/policy/defaults-and-sources", test_defaults_and_sources);
  ADD ("/policy/layers", test_layers);
  ADD ("/policy/bad-values", test_bad_values);
  ADD ("/policy/decision-order", test_decision_order);
  ADD ("/policy/scopes", test_scopes);
  ADD ("/policy/persistence", test_persistence);
  ADD ("/policy/temporary-rules", test_temporary_rules);
  ADD ("/policy/inbound-prompts", test_inbound_prompts);
  ADD ("/policy/json-roundtrip", test_json_roundtrip);
  ADD ("/policy/corrupt-database", test_corrupt_database);
  ADD ("/policy/bad-admin-file-at-start", test_bad_admin_file_at_start);
#undef ADD
  return g_test_run ();
}
