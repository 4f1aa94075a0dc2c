/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pc-service"

#include "config.h"

#include "pc-service.h"

#include "pc-connection-variant.h"
#include "pc-dbus-generated.h"
#include "pc-error.h"
#include "pc-polkit-authority.h"
#include "pc-service-dns.h"
#include "pc-service-history.h"
#include "pc-service-prompts.h"

#define ACTION_MONITOR "org.portcullis.Portcullis1.monitor"
#define ACTION_ANSWER_PROMPT "org.portcullis.Portcullis1.answer-prompt"
#define ACTION_CONFIGURE "org.portcullis.Portcullis1.configure"
#define ACTION_MANAGE "org.portcullis.Portcullis1.manage"

/* A peer on the bus we keep state for: its subscriptions and calls in flight. Forgotten when
 * both are zero or when its name leaves the bus. */
typedef struct
{
  char *sender;
  guint64 serial; /* tells a peer from a later record of the same (vanished) name */
  guint watch_id;
  guint subscriptions;
  guint pending;
  gboolean prompt_agent; /* shows prompts: RegisterPromptAgent */
} PcPeer;

struct _PcService
{
  GObject parent_instance;

  PcEngine *engine;      /* not owned: outlives the service */
  guint registration_id; /* the object on the bus; 0 while not exported */
  PcPolkitAuthority *authority;
  GCancellable *cancellable;
  GDBusConnection *connection;
  guint owner_id;
  gboolean name_owned;
  gint64 started;

  PcServiceInterception interception;
  char *ipv6_error;

  GHashTable *clients; /* sender -> PcPeer */
  guint n_subscribers; /* clients with subscriptions > 0 */
  guint n_pending;
  guint64 next_peer_serial;
  PcPolicyManager *policy; /* may be NULL */
  PcHistory *history;      /* may be NULL */
  PcIntel *intel;          /* may be NULL */
  PcIntelUpdater *updater; /* may be NULL */
  PcGeo *geo;              /* may be NULL */
  PcDnsDaemon *dns;        /* may be NULL; not owned */
  guint n_prompt_agents;
  gulong policy_changed_id;
};

G_DEFINE_TYPE (PcService, pc_service, G_TYPE_OBJECT)

enum
{
  SIGNAL_STOP,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

typedef void (*PcMethodFunc) (PcService *self,
                              GDBusMethodInvocation *invocation,
                              GVariant *parameters);

typedef struct
{
  const char *name;
  const char *action;
  PcMethodFunc func;
} PcMethod;

/* ---- clients ------------------------------------------------------------------------------- */

static void
pc_peer_free (PcPeer *client)
{
  if (client->watch_id != 0)
    g_bus_unwatch_name (client->watch_id);
  g_free (client->sender);
  g_free (client);
}

static void
peer_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);
  PcPeer *client = g_hash_table_lookup (self->clients, name);

  if (client == NULL)
    return;
  if (client->subscriptions > 0)
    {
      g_debug ("%s left the bus: dropping its %u subscriptions", name, client->subscriptions);
      self->n_subscribers--;
    }
  self->n_pending -= client->pending;
  if (client->prompt_agent)
    {
      /* With the last agent gone, nobody would answer: prompt-default applies again. */
      self->n_prompt_agents--;
      pc_engine_set_prompt_agents (self->engine, self->n_prompt_agents);
    }
  g_hash_table_remove (self->clients, name);
}

static PcPeer *
pc_service_ensure_peer (PcService *self, const char *sender)
{
  PcPeer *client = g_hash_table_lookup (self->clients, sender);

  if (client != NULL)
    return client;
  client = g_new0 (PcPeer, 1);
  client->sender = g_strdup (sender);
  client->serial = ++self->next_peer_serial;
  g_hash_table_insert (self->clients, client->sender, client);
  /* A unique name never comes back: once it vanishes, the client is gone for good. If it is
   * gone already, vanished runs from the main loop right away. */
  client->watch_id = g_bus_watch_name_on_connection (
      self->connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, peer_vanished_cb, self, NULL);
  return client;
}

static void
pc_service_forget_idle_peer (PcService *self, PcPeer *client)
{
  if (client->subscriptions == 0 && client->pending == 0 && !client->prompt_agent)
    g_hash_table_remove (self->clients, client->sender);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void
return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  /* Codes of our domain map to org.portcullis.Portcullis1.Error.*; anything else is Failed. */
  if (copy->domain != PC_ERROR)
    {
      g_clear_error (&copy);
      copy = g_error_new_literal (PC_ERROR, PC_ERROR_FAILED, error->message);
    }
  g_dbus_method_invocation_return_gerror (invocation, copy);
}

/* ---- methods: status and connections --------------------------------------------------------- */

static void
method_status (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  GVariantBuilder builder;
  GVariantBuilder degraded;
  PcEngineStats stats = { 0 };
  PcAttrib *attrib = pc_engine_get_attrib (self->engine);
  const char *attrib_reason = pc_attrib_get_degraded_reason (attrib);
  gboolean ok = TRUE;

  pc_engine_get_stats (self->engine, &stats);

  g_variant_builder_init (&degraded, G_VARIANT_TYPE_STRING_ARRAY);
  if (attrib_reason != NULL)
    {
      g_variant_builder_add (&degraded, "s", attrib_reason);
      ok = FALSE;
    }
  if (!self->interception.ipv6)
    {
      g_variant_builder_add (&degraded, "s",
                             self->ipv6_error != NULL ? self->ipv6_error
                                                      : "IPv6 traffic is not intercepted");
      ok = FALSE;
    }
  if (self->policy != NULL)
    {
      const char *const *problems = pc_policy_manager_get_problems (self->policy);
      for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
        {
          g_variant_builder_add (&degraded, "s", problems[i]);
          ok = FALSE;
        }
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "started", g_variant_new_int64 (self->started));
  g_variant_builder_add (&builder, "{sv}", "ipv4", g_variant_new_boolean (self->interception.ipv4));
  g_variant_builder_add (&builder, "{sv}", "ipv6", g_variant_new_boolean (self->interception.ipv6));
  g_variant_builder_add (&builder, "{sv}", "queue",
                         g_variant_new_uint32 (self->interception.queue_num));
  g_variant_builder_add (
      &builder, "{sv}", "attribution",
      g_variant_new_string (pc_attrib_get_mode (attrib) == PC_ATTRIB_MODE_BPF ? "bpf" : "proc"));
  pc_service_dns_add_status (self->dns, &builder, &degraded, &ok);
  g_variant_builder_add (&builder, "{sv}", "flows", g_variant_new_uint64 (stats.flows));
  g_variant_builder_add (&builder, "{sv}", "allowed", g_variant_new_uint64 (stats.allowed));
  g_variant_builder_add (&builder, "{sv}", "blocked", g_variant_new_uint64 (stats.blocked));
  g_variant_builder_add (&builder, "{sv}", "cut", g_variant_new_uint64 (stats.cut));
  g_variant_builder_add (&builder, "{sv}", "packets", g_variant_new_uint64 (stats.packets));
  g_variant_builder_add (&builder, "{sv}", "live-connections",
                         g_variant_new_uint32 (stats.live_flows));
  g_variant_builder_add (&builder, "{sv}", "subscribers",
                         g_variant_new_uint32 (self->n_subscribers));
  /* this call itself is still counted as in flight */
  g_variant_builder_add (&builder, "{sv}", "pending-calls",
                         g_variant_new_uint32 (self->n_pending > 0 ? self->n_pending - 1 : 0));
  {
    g_autoptr (GPtrArray) prompts = pc_engine_list_prompts (self->engine);
    g_variant_builder_add (&builder, "{sv}", "prompts", g_variant_new_uint32 (prompts->len));
  }
  g_variant_builder_add (&builder, "{sv}", "prompt-agents",
                         g_variant_new_uint32 (self->n_prompt_agents));
  if (self->history != NULL)
    {
      PcHistoryStatus hs;
      pc_history_get_status (self->history, &hs);
      g_variant_builder_add (&builder, "{sv}", "history", g_variant_new_string ("recording"));
      g_variant_builder_add (&builder, "{sv}", "history-written",
                             g_variant_new_uint64 (hs.written));
      g_variant_builder_add (&builder, "{sv}", "history-backlog",
                             g_variant_new_uint32 (hs.backlog));
      g_variant_builder_add (&builder, "{sv}", "history-dropped",
                             g_variant_new_uint64 (hs.dropped));
    }
  else
    g_variant_builder_add (&builder, "{sv}", "history", g_variant_new_string ("not available"));
  g_variant_builder_add (
      &builder, "{sv}", "geo",
      g_variant_new_string (self->geo != NULL ? pc_geo_get_status (self->geo) : "not loaded"));
  if (self->intel != NULL)
    g_variant_builder_add (&builder, "{sv}", "filter-lists", pc_intel_dup_status (self->intel));
  g_variant_builder_add (&builder, "{sv}", "degraded", g_variant_builder_end (&degraded));
  g_variant_builder_add (&builder, "{sv}", "ok", g_variant_new_boolean (ok));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a{sv})", &builder));
}

static void
method_list_connections (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GPtrArray) connections = pc_engine_list_connections (self->engine);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < connections->len; i++)
    g_variant_builder_add_value (&builder, pc_connection_variant_new (connections->pdata[i], NULL));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(aa{sv})", &builder));
}

static void
method_subscribe (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  PcPeer *client = pc_service_ensure_peer (self, sender);

  if (client->subscriptions >= PC_SERVICE_MAX_SUBSCRIPTIONS_PER_CLIENT)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_LIMIT,
                                             "%s has %u subscriptions already (the limit)", sender,
                                             client->subscriptions);
      return;
    }
  if (client->subscriptions == 0 && self->n_subscribers >= PC_SERVICE_MAX_SUBSCRIBERS)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_LIMIT,
                                             "%u clients are subscribed already (the limit)",
                                             self->n_subscribers);
      return;
    }
  if (client->subscriptions++ == 0)
    self->n_subscribers++;
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_unsubscribe (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  PcPeer *client = pc_service_ensure_peer (self, sender);

  if (client->subscriptions == 0)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_NOT_FOUND,
                                             "%s has no subscription", sender);
      return;
    }
  if (--client->subscriptions == 0)
    self->n_subscribers--;
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* ---- methods: prompts (held flows arrive with the prompt issue) ------------------------------ */

static void
method_list_prompts (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GPtrArray) prompts = pc_engine_list_prompts (self->engine);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < prompts->len; i++)
    g_variant_builder_add_value (&builder, pc_service_prompt_variant (prompts->pdata[i]));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(aa{sv})", &builder));
}

static void
method_answer_prompt (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GVariant) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *rule = NULL;

  if (self->policy == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                             "the policy store is not running");
      return;
    }
  g_variant_get (parameters, "(&s@a{sv})", &id, &answer);
  rule = pc_service_prompt_answer (self->engine, self->policy, id, answer, &error);
  if (rule == NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_register_prompt_agent (PcService *self,
                              GDBusMethodInvocation *invocation,
                              GVariant *parameters)
{
  PcPeer *client = pc_service_ensure_peer (self, g_dbus_method_invocation_get_sender (invocation));

  if (!client->prompt_agent)
    {
      client->prompt_agent = TRUE;
      self->n_prompt_agents++;
      pc_engine_set_prompt_agents (self->engine, self->n_prompt_agents);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_unregister_prompt_agent (PcService *self,
                                GDBusMethodInvocation *invocation,
                                GVariant *parameters)
{
  PcPeer *client = pc_service_ensure_peer (self, g_dbus_method_invocation_get_sender (invocation));

  if (client->prompt_agent)
    {
      client->prompt_agent = FALSE;
      self->n_prompt_agents--;
      pc_engine_set_prompt_agents (self->engine, self->n_prompt_agents);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* ---- methods: filter lists ------------------------------------------------------------------ */

static void
method_list_filter_lists (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  GVariantDict d;

  if (self->intel == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                             "filter lists are not loaded");
      return;
    }
  g_variant_dict_init (&d, pc_intel_dup_status (self->intel));
  if (self->updater != NULL)
    g_variant_dict_insert_value (&d, "update", pc_intel_updater_dup_status (self->updater));
  g_variant_dict_insert (&d, "geo", "s",
                         self->geo != NULL ? pc_geo_get_status (self->geo) : "not loaded");
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(@a{sv})", g_variant_dict_end (&d)));
}

static void
update_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  gboolean updated = FALSE;

  if (!pc_intel_updater_update_finish (PC_INTEL_UPDATER (source), result, &updated, &error))
    {
      g_autoptr (GError) mapped = g_error_new (PC_ERROR, PC_ERROR_FAILED,
                                               "filter list update failed, the last good "
                                               "lists stay: %s",
                                               error->message);
      g_dbus_method_invocation_return_gerror (g_steal_pointer (&invocation), mapped);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation),
                                         g_variant_new ("(b)", updated));
}

static void
method_update_filter_lists (PcService *self,
                            GDBusMethodInvocation *invocation,
                            GVariant *parameters)
{
  if (self->updater == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                             "filter list updates are not available");
      return;
    }
  pc_intel_updater_update_async (self->updater, self->cancellable, update_done_cb,
                                 g_object_ref (invocation));
}

/* ---- methods: history ----------------------------------------------------------------------- */

static void
method_search_history (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_history_search (self->history, invocation, parameters);
}

static void
method_count_history (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_history_count (self->history, invocation, parameters);
}

static void
method_get_bandwidth (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_history_bandwidth (self->history, invocation, parameters);
}

static void
method_delete_history (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_history_delete (self->history, invocation, parameters);
}

static void
method_export_history (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_history_export (self->history, invocation, parameters);
}

/* ---- methods: DNS (pc-service-dns.c) --------------------------------------------------------- */

static void
method_get_dns_status (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_dns_status (self->dns, invocation, parameters);
}

static void
method_query_dns (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_dns_query (self->dns, invocation, parameters);
}

static void
method_flush_dns_cache (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  pc_service_dns_flush (self->dns, invocation, parameters);
}

/* ---- methods: manage ------------------------------------------------------------------------ */

static gboolean
emit_stop_cb (gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);

  g_signal_emit (self, signals[SIGNAL_STOP], 0);
  return G_SOURCE_REMOVE;
}

static void
method_stop (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_message ("stop requested over D-Bus by %s", g_dbus_method_invocation_get_sender (invocation));
  g_dbus_method_invocation_return_value (invocation, NULL);
  /* after the reply is on its way */
  g_idle_add_full (G_PRIORITY_LOW, emit_stop_cb, g_object_ref (self), g_object_unref);
}

/* ---- methods: settings, profiles, rules, backup ---------------------------------------------- */

/* Every method here runs after polkit authorized the caller; the manager validates, and on
 * error nothing changes. */

static gboolean
pc_service_check_policy (PcService *self, GDBusMethodInvocation *invocation)
{
  if (self->policy != NULL)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                         "%s: settings and profiles are not available: the "
                                         "policy store is not open",
                                         g_dbus_method_invocation_get_method_name (invocation));
  return FALSE;
}

static void
return_result (GDBusMethodInvocation *invocation, GVariant *value, const GError *error)
{
  if (error != NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, value);
}

static void
return_ok (GDBusMethodInvocation *invocation, gboolean ok, const GError *error)
{
  if (!ok)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_get_settings (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) settings = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  settings = g_variant_ref_sink (pc_policy_manager_list_global (self->policy));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{s(vs)})", settings));
}

static void
method_get_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &key);
  value = pc_policy_manager_get_global (self->policy, key, &error);
  if (value != NULL)
    g_variant_ref_sink (value);
  return_result (invocation, value != NULL ? g_variant_new ("(v)", value) : NULL, error);
}

static void
method_set_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&sv)", &key, &value);
  ok = pc_policy_manager_set_global (self->policy, key, value, &error);
  return_ok (invocation, ok, error);
}

static void
method_reset_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &key);
  ok = pc_policy_manager_reset_global (self->policy, key, &error);
  return_ok (invocation, ok, error);
}

static void
method_list_profiles (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) profiles = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  profiles = g_variant_ref_sink (pc_policy_manager_list_profiles (self->policy));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@aa{sv})", profiles));
}

static void
method_get_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) profile = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  profile = pc_policy_manager_get_profile (self->policy, id, &error);
  if (profile != NULL)
    g_variant_ref_sink (profile);
  return_result (invocation, profile != NULL ? g_variant_new ("(@a{sv})", profile) : NULL, error);
}

static void
method_create_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(@a{sv})", &props);
  id = pc_policy_manager_create_profile (self->policy, props, &error);
  return_result (invocation, id != NULL ? g_variant_new ("(s)", id) : NULL, error);
}

static void
method_update_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s@a{sv})", &id, &props);
  ok = pc_policy_manager_update_profile (self->policy, id, props, &error);
  return_ok (invocation, ok, error);
}

static void
method_delete_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  ok = pc_policy_manager_delete_profile (self->policy, id, &error);
  return_ok (invocation, ok, error);
}

static void
method_set_profile_setting (PcService *self,
                            GDBusMethodInvocation *invocation,
                            GVariant *parameters)
{
  const char *id = NULL;
  const char *key = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s&sv)", &id, &key, &value);
  ok = pc_policy_manager_set_profile_setting (self->policy, id, key, value, &error);
  return_ok (invocation, ok, error);
}

static void
method_unset_profile_setting (PcService *self,
                              GDBusMethodInvocation *invocation,
                              GVariant *parameters)
{
  const char *id = NULL;
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s&s)", &id, &key);
  ok = pc_policy_manager_set_profile_setting (self->policy, id, key, NULL, &error);
  return_ok (invocation, ok, error);
}

static void
method_get_effective_settings (PcService *self,
                               GDBusMethodInvocation *invocation,
                               GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) settings = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  settings = pc_policy_manager_get_effective (self->policy, id, &error);
  if (settings != NULL)
    g_variant_ref_sink (settings);
  return_result (invocation, settings != NULL ? g_variant_new ("(@a{s(vs)})", settings) : NULL,
                 error);
}

static void
method_add_or_remove_rule (PcService *self,
                           GDBusMethodInvocation *invocation,
                           GVariant *parameters,
                           gboolean add)
{
  const char *id = NULL;
  const char *rule = NULL;
  gboolean inbound = FALSE;
  const char *list_key;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&sb&s)", &id, &inbound, &rule);
  list_key = inbound ? "inbound-endpoints" : "endpoints";
  if (add)
    ok = pc_policy_manager_add_rule (self->policy, id[0] != '\0' ? id : NULL, list_key, rule,
                                     &error);
  else
    ok = pc_policy_manager_remove_rule (self->policy, id[0] != '\0' ? id : NULL, list_key, rule,
                                        &error);
  return_ok (invocation, ok, error);
}

static void
method_add_rule (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  method_add_or_remove_rule (self, invocation, parameters, TRUE);
}

static void
method_remove_rule (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  method_add_or_remove_rule (self, invocation, parameters, FALSE);
}

static void
method_export (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  json = pc_policy_manager_export_json (self->policy, &error);
  return_result (invocation, json != NULL ? g_variant_new ("(s)", json) : NULL, error);
}

static void
method_import (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *json = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &json);
  ok = pc_policy_manager_import_json (self->policy, json, &error);
  return_ok (invocation, ok, error);
}

static const PcMethod pc_methods[] = {
  { "Status", ACTION_MONITOR, method_status },
  { "ListConnections", ACTION_MONITOR, method_list_connections },
  { "Subscribe", ACTION_MONITOR, method_subscribe },
  { "Unsubscribe", ACTION_MONITOR, method_unsubscribe },
  { "GetSettings", ACTION_MONITOR, method_get_settings },
  { "GetSetting", ACTION_MONITOR, method_get_setting },
  { "SetSetting", ACTION_CONFIGURE, method_set_setting },
  { "ResetSetting", ACTION_CONFIGURE, method_reset_setting },
  { "ListProfiles", ACTION_MONITOR, method_list_profiles },
  { "GetProfile", ACTION_MONITOR, method_get_profile },
  { "CreateProfile", ACTION_CONFIGURE, method_create_profile },
  { "UpdateProfile", ACTION_CONFIGURE, method_update_profile },
  { "DeleteProfile", ACTION_CONFIGURE, method_delete_profile },
  { "SetProfileSetting", ACTION_CONFIGURE, method_set_profile_setting },
  { "UnsetProfileSetting", ACTION_CONFIGURE, method_unset_profile_setting },
  { "GetEffectiveSettings", ACTION_MONITOR, method_get_effective_settings },
  { "AddRule", ACTION_CONFIGURE, method_add_rule },
  { "RemoveRule", ACTION_CONFIGURE, method_remove_rule },
  { "ListPrompts", ACTION_MONITOR, method_list_prompts },
  { "AnswerPrompt", ACTION_ANSWER_PROMPT, method_answer_prompt },
  { "RegisterPromptAgent", ACTION_ANSWER_PROMPT, method_register_prompt_agent },
  { "UnregisterPromptAgent", ACTION_ANSWER_PROMPT, method_unregister_prompt_agent },
  { "ListFilterLists", ACTION_MONITOR, method_list_filter_lists },
  { "UpdateFilterLists", ACTION_MANAGE, method_update_filter_lists },
  { "SearchHistory", ACTION_MONITOR, method_search_history },
  { "CountHistory", ACTION_MONITOR, method_count_history },
  { "GetBandwidth", ACTION_MONITOR, method_get_bandwidth },
  { "DeleteHistory", ACTION_MANAGE, method_delete_history },
  { "ExportHistory", ACTION_MONITOR, method_export_history },
  { "Export", ACTION_MONITOR, method_export },
  { "Import", ACTION_CONFIGURE, method_import },
  { "Stop", ACTION_MANAGE, method_stop },
  { "GetDnsStatus", ACTION_MONITOR, method_get_dns_status },
  { "QueryDns", ACTION_MONITOR, method_query_dns },
  { "FlushDnsCache", ACTION_MANAGE, method_flush_dns_cache },
};

/* ---- authorization -------------------------------------------------------------------------- */

typedef struct
{
  PcService *self;
  GDBusMethodInvocation *invocation;
  const PcMethod *method;
  guint64 peer_serial; /* the peer whose count of calls in flight includes this one */
} PcCall;

static void
pc_call_free (PcCall *call)
{
  g_object_unref (call->self);
  g_clear_object (&call->invocation);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcCall, pc_call_free)

static void
authorize_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PcCall) call = user_data;
  PcService *self = call->self;
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);
  g_autofree char *sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  g_autoptr (GError) error = NULL;
  PcPeer *client;

  /* The invocation's reference goes with the reply. */
  if (!pc_polkit_authority_check_finish (PC_POLKIT_AUTHORITY (source), res, &error))
    {
      g_debug ("%s from %s: %s", call->method->name, sender, error->message);
      return_error (invocation, error);
    }
  else
    {
      call->method->func (self, invocation, g_dbus_method_invocation_get_parameters (invocation));
    }

  /* A client that left the bus meanwhile was forgotten with its count of calls in flight
   * (a method may have made a new record for the name since: that one does not count it). */
  client = g_hash_table_lookup (self->clients, sender);
  if (client != NULL && client->serial == call->peer_serial)
    {
      client->pending--;
      self->n_pending--;
      pc_service_forget_idle_peer (self, client);
    }
}

/* Every call arrives here, in the main thread, and is answered after polkit. We register the
 * object ourselves rather than through the generated skeleton: its g-authorize-method hook runs
 * in a worker thread and never releases a call it was told not to run. */
static void
method_call_cb (GDBusConnection *connection,
                const char *sender_name,
                const char *object_path,
                const char *interface_name,
                const char *method_name,
                GVariant *parameters,
                GDBusMethodInvocation *invocation,
                gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);
  const char *name = g_dbus_method_invocation_get_method_name (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const PcMethod *method = NULL;
  PcPeer *client;
  PcCall *call;

  /* invocation: our reference goes with the reply */
  for (gsize i = 0; i < G_N_ELEMENTS (pc_methods); i++)
    if (g_strcmp0 (pc_methods[i].name, name) == 0)
      method = &pc_methods[i];
  if (method == NULL || sender == NULL || g_strcmp0 (interface_name, PC_SERVICE_INTERFACE) != 0)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "unknown method %s", name);
      return;
    }
  client = pc_service_ensure_peer (self, sender);
  if (client->pending >= PC_SERVICE_MAX_PENDING_PER_CLIENT)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_LIMIT,
                                             "%s has %u calls in flight already (the limit)",
                                             sender, client->pending);
      return;
    }
  if (self->n_pending >= PC_SERVICE_MAX_PENDING)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_LIMIT,
                                             "%u calls are in flight already (the limit)",
                                             self->n_pending);
      pc_service_forget_idle_peer (self, client);
      return;
    }
  client->pending++;
  self->n_pending++;

  call = g_new0 (PcCall, 1);
  call->self = g_object_ref (self);
  call->invocation = invocation;
  call->method = method;
  call->peer_serial = client->serial;
  pc_polkit_authority_check_async (
      self->authority, sender, method->action,
      (g_dbus_message_get_flags (g_dbus_method_invocation_get_message (invocation))
       & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
          != 0,
      self->cancellable, authorize_cb, call);
  return;
}

/* ---- connection signals ----------------------------------------------------------------------- */

typedef struct
{
  PcConnection *connection; /* borrowed from the batch */
  PcConnectionEvent event;
} PcPendingEntry;

static void
pc_service_send_changes (PcService *self, GVariant *changes)
{
  GHashTableIter iter;
  PcPeer *client;
  g_autoptr (GVariant) parameters = g_variant_ref_sink (g_variant_new_tuple (&changes, 1));

  /* Unicast to each subscriber: nobody else pays for the signal, and nobody is sent it when
   * nobody listens. */
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&client))
    {
      g_autoptr (GError) error = NULL;

      if (client->subscriptions == 0)
        continue;
      if (!g_dbus_connection_emit_signal (self->connection, client->sender, PC_SERVICE_OBJECT_PATH,
                                          PC_SERVICE_INTERFACE, "ConnectionsChanged", parameters,
                                          &error))
        g_debug ("cannot send ConnectionsChanged to %s: %s", client->sender, error->message);
    }
}

/* Prompts name a program and where it connects: they go to subscribers and prompt agents only. */
static void
engine_prompt_cb (PcPrompt *prompt, const char *ended_how, gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);
  g_autoptr (GVariant) parameters = NULL;
  GHashTableIter iter;
  PcPeer *client;

  if (self->connection == NULL || self->clients == NULL)
    return;
  if (ended_how == NULL)
    parameters
        = g_variant_ref_sink (g_variant_new ("(@a{sv})", pc_service_prompt_variant (prompt)));
  else
    {
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, prompt->id);
      parameters = g_variant_ref_sink (g_variant_new ("(ss)", id, ended_how));
    }
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&client))
    {
      g_autoptr (GError) error = NULL;

      if (client->subscriptions == 0 && !client->prompt_agent)
        continue;
      if (!g_dbus_connection_emit_signal (
              self->connection, client->sender, PC_SERVICE_OBJECT_PATH, PC_SERVICE_INTERFACE,
              ended_how == NULL ? "PromptAdded" : "PromptEnded", parameters, &error))
        g_debug ("cannot send a prompt signal to %s: %s", client->sender, error->message);
    }
}

/* One engine batch (at most every 100 ms: about 10 signals a second). Several events of one
 * connection in the batch become one entry with its latest record. */
static void
engine_changes_cb (GArray *changes, gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);
  g_autoptr (GArray) entries = NULL;
  g_autoptr (GHashTable) index = NULL;
  GVariantBuilder builder;
  guint n = 0;

  if (self->n_subscribers == 0 || self->connection == NULL)
    return;

  entries = g_array_sized_new (FALSE, FALSE, sizeof (PcPendingEntry), changes->len);
  index = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < changes->len; i++)
    {
      const PcConnectionChange *change = &g_array_index (changes, PcConnectionChange, i);
      gpointer at = NULL;

      if (g_hash_table_lookup_extended (index, &change->connection->id, NULL, &at))
        {
          PcPendingEntry *entry = &g_array_index (entries, PcPendingEntry, GPOINTER_TO_UINT (at));

          entry->connection = change->connection;
          /* added + changed is still news of a new connection; ended is final */
          if (!(entry->event == PC_CONNECTION_ADDED && change->event == PC_CONNECTION_CHANGED))
            entry->event = change->event;
        }
      else
        {
          PcPendingEntry entry = { change->connection, change->event };

          g_hash_table_insert (index, &change->connection->id, GUINT_TO_POINTER (entries->len));
          g_array_append_val (entries, entry);
        }
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < entries->len; i++)
    {
      const PcPendingEntry *entry = &g_array_index (entries, PcPendingEntry, i);

      g_variant_builder_add_value (
          &builder, pc_connection_variant_new (entry->connection,
                                               pc_connection_event_to_string (entry->event)));
      if (++n == PC_SERVICE_MAX_ENTRIES_PER_SIGNAL)
        {
          pc_service_send_changes (self, g_variant_builder_end (&builder));
          g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
          n = 0;
        }
    }
  if (n > 0)
    pc_service_send_changes (self, g_variant_builder_end (&builder));
  else
    g_variant_builder_clear (&builder);
}

/* ---- bus ------------------------------------------------------------------------------------ */

static void
bus_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  static const GDBusInterfaceVTable vtable = { method_call_cb, NULL, NULL, { 0 } };
  PcService *self = PC_SERVICE (user_data);
  g_autoptr (GError) error = NULL;

  g_set_object (&self->connection, connection);
  self->registration_id = g_dbus_connection_register_object (
      connection, PC_SERVICE_OBJECT_PATH,
      (GDBusInterfaceInfo *)pc_dbus_portcullis1_interface_info (), &vtable, self, NULL, &error);
  if (self->registration_id == 0)
    {
      g_warning ("cannot export %s on the system bus: %s", PC_SERVICE_OBJECT_PATH, error->message);
      return;
    }
}

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);

  self->name_owned = TRUE;
  g_message ("D-Bus service %s ready on the system bus", name);
}

static void
name_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PcService *self = PC_SERVICE (user_data);

  if (connection == NULL)
    g_warning ("no system bus: the D-Bus service %s is not available; firewalling goes on", name);
  else if (self->name_owned)
    g_warning ("lost the bus name %s; firewalling goes on without the D-Bus service", name);
  else
    g_warning ("cannot own the bus name %s (another portcullisd, or the bus policy forbids it); "
               "firewalling goes on without the D-Bus service",
               name);
  self->name_owned = FALSE;
}

void
pc_service_start (PcService *self)
{
  g_return_if_fail (PC_IS_SERVICE (self));
  g_return_if_fail (self->owner_id == 0);

  self->owner_id
      = g_bus_own_name (G_BUS_TYPE_SYSTEM, PC_SERVICE_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                        bus_acquired_cb, name_acquired_cb, name_lost_cb, self, NULL);
}

gboolean
pc_service_is_running (PcService *self)
{
  g_return_val_if_fail (PC_IS_SERVICE (self), FALSE);
  return self->registration_id != 0 && self->name_owned;
}

void
pc_service_set_interception (PcService *self, const PcServiceInterception *interception)
{
  g_return_if_fail (PC_IS_SERVICE (self));

  g_free (self->ipv6_error);
  self->ipv6_error = g_strdup (interception->ipv6_error);
  self->interception = *interception;
  self->interception.ipv6_error = self->ipv6_error;
}

static void
policy_changed_cb (PcService *self)
{
  if (self->registration_id != 0)
    g_dbus_connection_emit_signal (self->connection, NULL, PC_SERVICE_OBJECT_PATH,
                                   PC_SERVICE_INTERFACE, "SettingsChanged", NULL, NULL);
}

void
pc_service_set_policy_manager (PcService *self, PcPolicyManager *manager)
{
  g_return_if_fail (PC_IS_SERVICE (self));

  if (self->policy != NULL)
    g_clear_signal_handler (&self->policy_changed_id, self->policy);
  g_clear_object (&self->policy);
  if (manager == NULL)
    return;
  self->policy = g_object_ref (manager);
  self->policy_changed_id
      = g_signal_connect_swapped (manager, "changed", G_CALLBACK (policy_changed_cb), self);
}

/* ---- object --------------------------------------------------------------------------------- */

static void
pc_service_dispose (GObject *object)
{
  PcService *self = PC_SERVICE (object);

  g_cancellable_cancel (self->cancellable);
  if (self->engine != NULL)
    {
      pc_engine_remove_changes_func (self->engine, engine_changes_cb, self);
      pc_engine_set_prompt_func (self->engine, NULL, NULL);
      pc_engine_set_prompt_agents (self->engine, 0);
    }
  self->engine = NULL;
  if (self->registration_id != 0)
    g_dbus_connection_unregister_object (self->connection, self->registration_id);
  self->registration_id = 0;
  if (self->owner_id != 0)
    g_bus_unown_name (self->owner_id);
  self->owner_id = 0;
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_object (&self->authority);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);
  pc_service_set_policy_manager (self, NULL);
  pc_service_set_intel (self, NULL, NULL, NULL);
  G_OBJECT_CLASS (pc_service_parent_class)->dispose (object);
}

static void
pc_service_finalize (GObject *object)
{
  PcService *self = PC_SERVICE (object);

  g_free (self->ipv6_error);
  G_OBJECT_CLASS (pc_service_parent_class)->finalize (object);
}

static void
pc_service_class_init (PcServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pc_service_dispose;
  object_class->finalize = pc_service_finalize;

  signals[SIGNAL_STOP] = g_signal_new ("stop", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pc_service_init (PcService *self)
{
  self->cancellable = g_cancellable_new ();
  self->authority = pc_polkit_authority_new ();
  self->clients
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)pc_peer_free);
  self->started = g_get_real_time ();
  self->interception.ipv4 = TRUE;
}

PcService *
pc_service_new (PcEngine *engine)
{
  PcService *self = g_object_new (PC_TYPE_SERVICE, NULL);

  self->engine = engine;
  pc_engine_add_changes_func (engine, engine_changes_cb, self);
  pc_engine_set_prompt_func (engine, engine_prompt_cb, self);
  return self;
}

void
pc_service_set_intel (PcService *self, PcIntel *intel, PcIntelUpdater *updater, PcGeo *geo)
{
  if (intel != NULL)
    g_object_ref (intel);
  if (updater != NULL)
    g_object_ref (updater);
  if (geo != NULL)
    pc_geo_ref (geo);
  g_clear_object (&self->intel);
  g_clear_object (&self->updater);
  g_clear_pointer (&self->geo, pc_geo_unref);
  self->intel = intel;
  self->updater = updater;
  self->geo = geo;
}

void
pc_service_set_dns (PcService *self, PcDnsDaemon *dns)
{
  self->dns = dns;
}

void
pc_service_set_history (PcService *self, PcHistory *history)
{
  self->history = history;
}
