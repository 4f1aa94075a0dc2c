/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-ruleset.h"

#include <gio/gio.h>
#include <string.h>

#include "pc-error.h"
#include "pc-marks.h"
#include "pc-tool.h"

/* Our chains: PORTCULLIS-OUT (from OUTPUT), PORTCULLIS-IN (from INPUT), PORTCULLIS-SAVE and
 * PORTCULLIS-REJECT. */
static const char *const our_jumps[][2] = {
  { "OUTPUT", "PORTCULLIS-OUT" },
  { "INPUT", "PORTCULLIS-IN" },
};

/* Appends to script the commands that delete our jumps and chains as they exist in save (the
 * output of iptables-save -t filter), so stale rules of a crashed run go away in the same
 * transaction that installs new ones. */
static void
append_removal (GString *script, const char *save)
{
  g_auto (GStrv) lines = g_strsplit (save != NULL ? save : "", "\n", -1);
  g_autoptr (GPtrArray) chains = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      if (g_str_has_prefix (line, ":PORTCULLIS-"))
        {
          const char *end = strchr (line, ' ');
          g_ptr_array_add (chains,
                           g_strndup (line + 1, end ? (gsize)(end - line - 1) : strlen (line + 1)));
        }
      else if (g_str_has_prefix (line, "-A ") && strstr (line, " -j PORTCULLIS-") != NULL
               && !g_str_has_prefix (line, "-A PORTCULLIS-"))
        {
          /* "-A OUTPUT -j PORTCULLIS-OUT" -> "-D OUTPUT -j PORTCULLIS-OUT" */
          g_string_append_printf (script, "-D %s\n", line + 3);
        }
    }
  for (guint i = 0; i < chains->len; i++)
    g_string_append_printf (script, "-F %s\n", (char *)chains->pdata[i]);
  for (guint i = 0; i < chains->len; i++)
    g_string_append_printf (script, "-X %s\n", (char *)chains->pdata[i]);
}

char *
pc_ruleset_build_removal (const char *current_save)
{
  GString *script = g_string_new ("*filter\n");

  append_removal (script, current_save);
  g_string_append (script, "COMMIT\n");
  return g_string_free (script, FALSE);
}

char *
pc_ruleset_build (const PcRulesetConfig *config, gboolean ipv6, const char *current_save)
{
  GString *s = g_string_new ("*filter\n");
  g_autofree char *queue = g_strdup_printf ("-j NFQUEUE --queue-num %u%s", config->queue_num,
                                            config->fail_open ? " --queue-bypass" : "");

  append_removal (s, current_save);
  g_string_append (s, ":PORTCULLIS-OUT - [0:0]\n:PORTCULLIS-IN - [0:0]\n"
                      ":PORTCULLIS-SAVE - [0:0]\n:PORTCULLIS-REJECT - [0:0]\n");

  /* A verdict comes back from the queue (NF_REPEAT) with our bits in the packet mark;
   * PORTCULLIS-SAVE moves them to the conntrack mark and clears them from the packet, so
   * routing by fwmark (VPNs) never sees them. Decided flows then never leave the kernel, and
   * an allowed flow RETURNs so the rest of the host's firewall still applies to it. Only the
   * original direction is queued: a reply without our mark belongs to a flow that existed
   * before we started and is judged by its next packet in the original direction. */
  for (guint i = 0; i < G_N_ELEMENTS (our_jumps); i++)
    {
      const char *chain = our_jumps[i][1];
      const guint32 verdicts[] = { PC_MARK_ALLOW, PC_MARK_DROP, PC_MARK_REJECT };

      g_string_append_printf (s, "-A %s -m mark --mark 0x%x/0x%x -j RETURN\n", chain, PC_MARK_OWN,
                              PC_MARK_MASK);
      for (guint v = 0; v < G_N_ELEMENTS (verdicts); v++)
        g_string_append_printf (s, "-A %s -m mark --mark 0x%x/0x%x -j PORTCULLIS-SAVE\n", chain,
                                verdicts[v], PC_MARK_MASK);
      g_string_append_printf (s, "-A %s -m connmark --mark 0x%x/0x%x -j RETURN\n", chain,
                              PC_MARK_ALLOW, PC_MARK_MASK);
      g_string_append_printf (s, "-A %s -m connmark --mark 0x%x/0x%x -j DROP\n", chain,
                              PC_MARK_DROP, PC_MARK_MASK);
      g_string_append_printf (s, "-A %s -m connmark --mark 0x%x/0x%x -j PORTCULLIS-REJECT\n", chain,
                              PC_MARK_REJECT, PC_MARK_MASK);
      /* No conntrack entry (neighbour discovery, invalid packets): nothing to attribute. */
      g_string_append_printf (s, "-A %s -m conntrack --ctstate INVALID,UNTRACKED -j RETURN\n",
                              chain);
      g_string_append_printf (s, "-A %s -m conntrack --ctdir REPLY -j RETURN\n", chain);
      g_string_append_printf (s, "-A %s %s\n", chain, queue);
    }
  g_string_append_printf (
      s, "-A PORTCULLIS-SAVE -j CONNMARK --save-mark --nfmask 0x%x --ctmask 0x%x\n", PC_MARK_MASK,
      PC_MARK_MASK);
  g_string_append_printf (s, "-A PORTCULLIS-SAVE -j MARK --set-xmark 0x0/0x%x\n", PC_MARK_MASK);
  /* The RST or ICMP error we send back to a local program belongs to the rejected flow
   * (reply direction) and must not be rejected in turn. */
  g_string_append (s, "-A PORTCULLIS-REJECT -m conntrack --ctdir REPLY -j RETURN\n");
  g_string_append (s, "-A PORTCULLIS-REJECT -p tcp -j REJECT --reject-with tcp-reset\n");
  g_string_append_printf (s, "-A PORTCULLIS-REJECT -j REJECT --reject-with %s\n",
                          ipv6 ? "icmp6-port-unreachable" : "icmp-port-unreachable");
  for (guint i = 0; i < G_N_ELEMENTS (our_jumps); i++)
    g_string_append_printf (s, "-I %s 1 -j %s\n", our_jumps[i][0], our_jumps[i][1]);
  g_string_append (s, "COMMIT\n");
  return g_string_free (s, FALSE);
}

/* Reads the family's filter table and replaces our part of it in one iptables-restore
 * transaction: with config, fresh rules (stale ones of a crashed run go in the same step);
 * without, only the removal. */
static gboolean
apply_family (const PcRulesetConfig *config, gboolean ipv6, GError **error)
{
  const char *save_argv[] = { ipv6 ? "ip6tables-save" : "iptables-save", "-t", "filter", NULL };
  const char *restore_argv[]
      = { ipv6 ? "ip6tables-restore" : "iptables-restore", "-w", "5", "--noflush", NULL };
  g_autofree char *save = NULL;
  g_autofree char *script = NULL;

  if (!pc_tool_run (save_argv, NULL, &save, error))
    return FALSE;
  if (config == NULL && strstr (save, "PORTCULLIS-") == NULL)
    return TRUE;
  script = config != NULL ? pc_ruleset_build (config, ipv6, save) : pc_ruleset_build_removal (save);
  g_debug ("%s %s rules:\n%s", config != NULL ? "installing" : "removing", ipv6 ? "IPv6" : "IPv4",
           script);
  return pc_tool_run (restore_argv, script, NULL, error);
}

gboolean
pc_ruleset_install (const PcRulesetConfig *config, PcRulesetState *state, GError **error)
{
  g_autoptr (GError) v6_error = NULL;

  memset (state, 0, sizeof *state);
  if (!apply_family (config, FALSE, error))
    {
      g_prefix_error (error, "cannot install IPv4 rules: ");
      return FALSE;
    }
  state->ipv4 = TRUE;
  if (apply_family (config, TRUE, &v6_error))
    state->ipv6 = TRUE;
  else
    state->ipv6_error = g_strdup_printf ("IPv6 interception is off: %s", v6_error->message);
  return TRUE;
}

gboolean
pc_ruleset_remove (GError **error)
{
  g_autoptr (GError) v4_error = NULL;
  g_autoptr (GError) v6_error = NULL;
  gboolean ok4 = apply_family (NULL, FALSE, &v4_error);
  gboolean ok6 = apply_family (NULL, TRUE, &v6_error);

  if (!ok4)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&v4_error), "cannot remove IPv4 rules: ");
      return FALSE;
    }
  if (!ok6 && !g_error_matches (v6_error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&v6_error), "cannot remove IPv6 rules: ");
      return FALSE;
    }
  return TRUE;
}

void
pc_ruleset_state_clear (PcRulesetState *state)
{
  g_clear_pointer (&state->ipv6_error, g_free);
}
