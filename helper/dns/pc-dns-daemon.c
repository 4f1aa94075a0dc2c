/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-daemon.h"

#include <string.h>

#include "pc-dns-redirect.h"

static char **
split_list (const char *text)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (text == NULL)
    return NULL;
  parts = g_strsplit_set (text, ",;", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        g_strv_builder_add (b, parts[i]);
    }
  return g_strv_builder_end (b);
}

PcDnsServer *
pc_dns_daemon_start (const char *servers, const char *listen, GError **error)
{
  PcDnsServerConfig config;
  g_auto (GStrv) upstreams = split_list (servers);
  g_auto (GStrv) listeners = split_list (listen);
  g_autoptr (PcDnsServer) server = NULL;
  g_autoptr (GArray) bound = NULL;
  g_autofree char *status = NULL;
  g_autofree char *v6_error = NULL;
  const PcFlowKey *v4 = NULL, *v6 = NULL;

  pc_dns_server_config_init (&config);
  config.upstreams = (const char *const *)upstreams;
  config.listen = (const char *const *)listeners;
  server = pc_dns_server_new (&config, error);
  if (server == NULL || !pc_dns_server_start (server, error))
    return NULL;

  bound = pc_dns_server_get_bound (server);
  for (guint i = 0; i < bound->len; i++)
    {
      const PcFlowKey *k = &g_array_index (bound, PcFlowKey, i);
      if (k->family == AF_INET && v4 == NULL)
        v4 = k;
      else if (k->family == AF_INET6 && v6 == NULL)
        v6 = k;
    }
  if (!pc_dns_redirect_install (v4 != NULL ? &v4->laddr : NULL, v4 != NULL ? v4->lport : 0,
                                v6 != NULL ? &v6->laddr : NULL, v6 != NULL ? v6->lport : 0,
                                &v6_error, error))
    return NULL;
  if (v6_error != NULL)
    g_warning ("%s", v6_error);
  status = pc_dns_server_get_status (server);
  g_message ("dns resolver started:\n%s", status);
  return g_steal_pointer (&server);
}

void
pc_dns_daemon_stop (PcDnsServer *server)
{
  g_autoptr (GError) error = NULL;

  if (!pc_dns_redirect_remove (&error))
    g_warning ("%s", error->message);
  pc_dns_server_free (server);
}
