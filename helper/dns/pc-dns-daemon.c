/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-daemon.h"

#include <string.h>

#include "pc-dns-redirect.h"

struct _PcDnsDaemon
{
  PcDnsMemory *memory;
  PcDnsServer *server; /* NULL: not running */
  /* what was last applied */
  gboolean enabled;
  char **listen;  /* NULL: the defaults */
  char **servers; /* the upstreams in use, NULL: system */
  gboolean block_rebinding;
  PcDnsBlockReply block_reply;
  gboolean bypass;
  gboolean intercepting;
  char *redirect_error; /* why queries are not (or for IPv6 not) redirected, or NULL */
  char *error;          /* why the resolver is not running or not as configured, or NULL */
  char *listen_error;   /* no listener could bind (the resolver is not running), or NULL */
  PcDnsPolicyFunc policy;
  gpointer policy_data;
  PcDnsDaemonChangedFunc changed;
  gpointer changed_data;
};

static const char *const block_reply_names[] = { "nxdomain", "zero" };

const char *
pc_dns_block_reply_to_string (PcDnsBlockReply reply)
{
  return block_reply_names[reply];
}

PcDnsDaemon *
pc_dns_daemon_new (void)
{
  PcDnsDaemon *self = g_new0 (PcDnsDaemon, 1);

  self->memory = pc_dns_memory_new (65536, NULL, NULL);
  self->block_rebinding = TRUE;
  return self;
}

void
pc_dns_daemon_set_policy_func (PcDnsDaemon *self, PcDnsPolicyFunc func, gpointer user_data)
{
  self->policy = func;
  self->policy_data = user_data;
}

void
pc_dns_daemon_set_changed_func (PcDnsDaemon *self, PcDnsDaemonChangedFunc func, gpointer user_data)
{
  self->changed = func;
  self->changed_data = user_data;
}

PcDnsServer *
pc_dns_daemon_get_server (PcDnsDaemon *self)
{
  return self->server;
}

PcDnsMemory *
pc_dns_daemon_get_memory (PcDnsDaemon *self)
{
  return self->memory;
}

static void
set_error (char **slot, const char *message)
{
  g_free (*slot);
  *slot = g_strdup (message);
}

/* Removes the redirect, then stops the resolver: queries never go to a closed port. */
static void
stop_server (PcDnsDaemon *self)
{
  g_autoptr (GError) error = NULL;

  if (self->server == NULL)
    return;
  if (!pc_dns_redirect_remove (&error))
    g_warning ("%s", error->message);
  self->intercepting = FALSE;
  g_clear_pointer (&self->redirect_error, g_free);
  g_clear_pointer (&self->server, pc_dns_server_free);
  g_message ("dns resolver stopped");
}

static gboolean
start_server (PcDnsDaemon *self, const char *const *servers, GError **error)
{
  PcDnsServerConfig config;
  g_autoptr (PcDnsServer) server = NULL;
  g_autoptr (GArray) bound = NULL;
  g_autofree char *status = NULL;
  g_autofree char *v6_error = NULL;
  g_autoptr (GError) redirect_error = NULL;
  const PcFlowKey *v4 = NULL, *v6 = NULL;

  pc_dns_server_config_init (&config);
  config.upstreams = servers;
  config.listen = (const char *const *)self->listen;
  config.block_rebinding = self->block_rebinding;
  config.block_reply = self->block_reply;
  config.bypass_prevention = self->bypass;
  config.memory = self->memory;
  server = pc_dns_server_new (&config, error);
  if (server == NULL)
    return FALSE;
  pc_dns_server_set_policy_func (server, self->policy, self->policy_data);
  if (!pc_dns_server_start (server, error))
    {
      g_free (self->listen_error);
      self->listen_error = g_strdup ((*error)->message);
      return FALSE;
    }
  g_clear_pointer (&self->listen_error, g_free);

  bound = pc_dns_server_get_bound (server);
  for (guint i = 0; i < bound->len; i++)
    {
      const PcFlowKey *k = &g_array_index (bound, PcFlowKey, i);
      if (k->family == AF_INET && v4 == NULL)
        v4 = k;
      else if (k->family == AF_INET6 && v6 == NULL)
        v6 = k;
    }
  /* without the redirect the resolver still answers whoever asks it (resolv.conf) */
  if (!pc_dns_redirect_install (v4 != NULL ? &v4->laddr : NULL, v4 != NULL ? v4->lport : 0,
                                v6 != NULL ? &v6->laddr : NULL, v6 != NULL ? v6->lport : 0,
                                &v6_error, &redirect_error))
    {
      g_warning ("dns queries to other servers are not redirected: %s", redirect_error->message);
      self->redirect_error = g_strdup_printf ("DNS queries to other servers are not redirected: %s",
                                              redirect_error->message);
    }
  else
    {
      self->intercepting = TRUE;
      if (v6_error != NULL)
        {
          g_warning ("%s", v6_error);
          self->redirect_error = g_strdup_printf ("IPv6 DNS queries to other servers are not "
                                                  "redirected: %s",
                                                  v6_error);
        }
      else if (v6 == NULL || v4 == NULL)
        self->redirect_error = g_strdup_printf (
            "%s DNS queries to other servers are not redirected: the resolver has no %s listener",
            v4 == NULL ? "IPv4" : "IPv6", v4 == NULL ? "IPv4" : "IPv6");
    }
  status = pc_dns_server_get_status (server);
  g_message ("dns resolver started:\n%s", status);
  self->server = g_steal_pointer (&server);
  return TRUE;
}

static gboolean
strv_equal0 (char **a, char **b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal ((const char *const *)a, (const char *const *)b);
}

static char **
strv_or_null (const char *const *v)
{
  return v != NULL && v[0] != NULL ? g_strdupv ((char **)v) : NULL;
}

void
pc_dns_daemon_apply (PcDnsDaemon *self, const PcDnsSettings *settings)
{
  g_auto (GStrv) listen = strv_or_null (settings->listen);
  g_auto (GStrv) servers = strv_or_null (settings->servers);
  gboolean restart = self->server == NULL || !strv_equal0 (listen, self->listen);
  gboolean was_running = self->server != NULL;
  g_autoptr (GError) error = NULL;

  self->block_rebinding = settings->block_rebinding;
  self->block_reply = settings->block_reply;
  self->bypass = settings->bypass_prevention;
  self->enabled = settings->enabled;
  if (!settings->enabled)
    {
      g_clear_pointer (&self->error, g_free);
      g_clear_pointer (&self->listen_error, g_free);
      if (self->server != NULL)
        {
          stop_server (self);
          if (self->changed != NULL)
            self->changed (self, NULL, self->changed_data);
        }
      return;
    }

  if (!restart)
    {
      pc_dns_server_set_block_rebinding (self->server, self->block_rebinding);
      pc_dns_server_set_block_reply (self->server, self->block_reply);
      pc_dns_server_set_bypass_prevention (self->server, self->bypass);
      if (strv_equal0 (servers, self->servers))
        return;
      if (!pc_dns_server_set_upstreams (self->server, (const char *const *)servers, &error))
        {
          g_warning ("dns: keeping the upstreams in use: %s", error->message);
          set_error (&self->error, error->message);
          return;
        }
      g_strfreev (self->servers);
      self->servers = g_steal_pointer (&servers);
      g_clear_pointer (&self->error, g_free);
      g_message ("dns: new upstreams in use");
      return;
    }

  stop_server (self);
  g_strfreev (self->listen);
  self->listen = g_steal_pointer (&listen);
  if (start_server (self, (const char *const *)servers, &error))
    {
      g_strfreev (self->servers);
      self->servers = g_steal_pointer (&servers);
      g_clear_pointer (&self->error, g_free);
    }
  else
    {
      g_autoptr (GError) again = NULL;

      g_warning ("dns resolver: %s", error->message);
      set_error (&self->error, error->message);
      /* a bad upstream list does not take DNS down: the last good one serves meanwhile */
      if (!strv_equal0 (servers, self->servers)
          && start_server (self, (const char *const *)self->servers, &again))
        g_message ("dns resolver: using the upstreams it had before");
    }
  if (self->changed != NULL && (was_running || self->server != NULL))
    self->changed (self, self->server, self->changed_data);
}

GVariant *
pc_dns_daemon_dup_status (PcDnsDaemon *self)
{
  GVariantDict d;
  GVariantBuilder listen;
  GVariantDict cache;
  PcDnsServerStats stats = { 0 };
  g_autofree char *listen_error = NULL;

  g_variant_builder_init (&listen, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_dict_init (&cache, NULL);
  if (self->server != NULL)
    {
      g_autoptr (GArray) bound = pc_dns_server_get_bound (self->server);

      for (guint i = 0; i < bound->len; i++)
        {
          const PcFlowKey *k = &g_array_index (bound, PcFlowKey, i);
          char addr[PC_ADDR_STRLEN];
          g_autofree char *text = g_strdup_printf (k->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
                                                   pc_addr_to_string (&k->laddr, addr), k->lport);
          g_variant_builder_add (&listen, "s", text);
        }
      listen_error = pc_dns_server_dup_listen_error (self->server);
      pc_dns_server_get_stats (self->server, &stats);
    }
  g_variant_dict_insert (&cache, "entries", "u", stats.cache.entries);
  g_variant_dict_insert (&cache, "memory", "t", (guint64)stats.cache.bytes);
  g_variant_dict_insert (&cache, "hits", "t", stats.cache.hits);
  g_variant_dict_insert (&cache, "misses", "t", stats.cache.misses);

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "enabled", "b", self->enabled);
  g_variant_dict_insert (&d, "running", "b", self->server != NULL);
  g_variant_dict_insert_value (&d, "listen", g_variant_builder_end (&listen));
  g_variant_dict_insert (&d, "listen-error", "s",
                         listen_error != NULL         ? listen_error
                         : self->listen_error != NULL ? self->listen_error
                                                      : "");
  g_variant_dict_insert (&d, "intercepting", "b", self->intercepting);
  g_variant_dict_insert (&d, "block-rebinding", "b", self->block_rebinding);
  g_variant_dict_insert (&d, "block-reply", "s", pc_dns_block_reply_to_string (self->block_reply));
  g_variant_dict_insert (&d, "bypass-prevention", "b", self->bypass);
  {
    g_autoptr (GVariant) upstreams = self->server != NULL
                                         ? pc_dns_server_dup_upstreams (self->server)
                                         : g_variant_ref_sink (g_variant_new ("aa{sv}", NULL));
    g_variant_dict_insert_value (&d, "upstreams", upstreams);
  }
  g_variant_dict_insert_value (&d, "cache", g_variant_dict_end (&cache));
  g_variant_dict_insert (&d, "queries", "t", stats.queries);
  g_variant_dict_insert (&d, "blocked", "t", stats.blocked);
  g_variant_dict_insert (&d, "error", "s", self->error != NULL ? self->error : "");
  return g_variant_ref_sink (g_variant_dict_end (&d));
}

char **
pc_dns_daemon_dup_problems (PcDnsDaemon *self)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  /* turned off on purpose is not a problem (the summary says "off") */
  if (!self->enabled)
    return g_strv_builder_end (b);
  if (self->error != NULL)
    {
      g_autofree char *text = g_strdup_printf ("DNS resolver: %s", self->error);
      g_strv_builder_add (b, text);
    }
  if (self->server != NULL)
    {
      g_autofree char *listen_error = pc_dns_server_dup_listen_error (self->server);
      if (*listen_error != '\0')
        {
          g_autofree char *text
              = g_strdup_printf ("DNS resolver cannot listen on %s", listen_error);
          g_strv_builder_add (b, text);
        }
      if (!self->intercepting && self->redirect_error == NULL)
        g_strv_builder_add (b, "DNS queries to other servers are not redirected");
      if (self->redirect_error != NULL)
        g_strv_builder_add (b, self->redirect_error);
    }
  return g_strv_builder_end (b);
}

char *
pc_dns_daemon_dup_summary (PcDnsDaemon *self)
{
  if (!self->enabled)
    return g_strdup ("off");
  if (self->server == NULL)
    return g_strdup ("not running");
  return g_strdup (self->intercepting ? "running, intercepting" : "running, not intercepting");
}

void
pc_dns_daemon_free (PcDnsDaemon *self)
{
  if (self == NULL)
    return;
  stop_server (self);
  pc_dns_memory_free (self->memory);
  g_strfreev (self->listen);
  g_strfreev (self->servers);
  g_free (self->redirect_error);
  g_free (self->error);
  g_free (self->listen_error);
  g_free (self);
}
