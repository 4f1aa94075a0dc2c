/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-redirect.h"

#include <gio/gio.h>
#include <string.h>

#include "pc-error.h"
#include "pc-marks.h"
#include "pc-tool.h"

#define CHAIN "PORTCULLIS-DNS"

char *
pc_dns_redirect_build (const PcAddr *to, guint16 port, const char *current_save)
{
  GString *s = g_string_new ("*nat\n");
  g_auto (GStrv) lines = g_strsplit (current_save != NULL ? current_save : "", "\n", -1);
  gboolean have_chain = FALSE;

  /* the jumps and the chain a previous (maybe crashed) run left, in the same transaction */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], ":" CHAIN " "))
        have_chain = TRUE;
      else if (g_str_has_prefix (lines[i], "-A ") && strstr (lines[i], " -j " CHAIN) != NULL
               && !g_str_has_prefix (lines[i], "-A " CHAIN " "))
        g_string_append_printf (s, "-D %s\n", lines[i] + 3);
    }
  if (have_chain)
    g_string_append (s, "-F " CHAIN "\n-X " CHAIN "\n");

  if (to != NULL)
    {
      char addr[PC_ADDR_STRLEN];
      g_autofree char *dest = NULL;

      pc_addr_to_string (to, addr);
      dest = to->family == AF_INET6 ? g_strdup_printf ("[%s]:%u", addr, port)
                                    : g_strdup_printf ("%s:%u", addr, port);
      g_string_append (s, ":" CHAIN " - [0:0]\n");
      g_string_append_printf (s, "-A " CHAIN " -m mark --mark 0x%x/0x%x -j RETURN\n", PC_MARK_OWN,
                              PC_MARK_MASK);
      for (guint p = 0; p < 2; p++)
        {
          const char *proto = p == 0 ? "udp" : "tcp";

          g_string_append_printf (s, "-A " CHAIN " -d %s -p %s --dport %u -j RETURN\n", addr, proto,
                                  port);
          g_string_append_printf (s, "-A " CHAIN " -p %s --dport 53 -j DNAT --to-destination %s\n",
                                  proto, dest);
        }
      g_string_append (s, "-I OUTPUT 1 -j " CHAIN "\n");
    }
  g_string_append (s, "COMMIT\n");
  return g_string_free (s, FALSE);
}

static gboolean
apply_family (gboolean ipv6, const PcAddr *to, guint16 port, GError **error)
{
  const char *save_argv[] = { ipv6 ? "ip6tables-save" : "iptables-save", "-t", "nat", NULL };
  const char *restore_argv[]
      = { ipv6 ? "ip6tables-restore" : "iptables-restore", "-w", "5", "--noflush", NULL };
  g_autofree char *save = NULL;
  g_autofree char *script = NULL;

  if (!pc_tool_run (save_argv, NULL, &save, error))
    return FALSE;
  if (to == NULL && strstr (save, CHAIN) == NULL)
    return TRUE;
  script = pc_dns_redirect_build (to, port, save);
  g_debug ("%s DNS redirect:\n%s", ipv6 ? "IPv6" : "IPv4", script);
  return pc_tool_run (restore_argv, script, NULL, error);
}

gboolean
pc_dns_redirect_install (const PcAddr *v4,
                         guint16 port4,
                         const PcAddr *v6,
                         guint16 port6,
                         char **ipv6_error,
                         GError **error)
{
  g_autoptr (GError) v6_error = NULL;

  if (!apply_family (FALSE, v4, port4, error))
    {
      g_prefix_error (error, "cannot redirect dns queries to the resolver: ");
      return FALSE;
    }
  if (!apply_family (TRUE, v6, port6, &v6_error) && ipv6_error != NULL)
    *ipv6_error = g_strdup_printf ("IPv6 dns queries are not redirected: %s", v6_error->message);
  return TRUE;
}

gboolean
pc_dns_redirect_remove (GError **error)
{
  g_autoptr (GError) v6_error = NULL;

  if (!apply_family (FALSE, NULL, 0, error))
    {
      g_prefix_error (error, "cannot remove the dns redirect: ");
      return FALSE;
    }
  if (!apply_family (TRUE, NULL, 0, &v6_error)
      && !g_error_matches (v6_error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&v6_error),
                                  "cannot remove the IPv6 dns redirect: ");
      return FALSE;
    }
  return TRUE;
}
