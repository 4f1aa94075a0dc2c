/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pc-service"

#include "pc-service-dns.h"

#include "pc-error.h"

static gboolean
check_dns (PcDnsDaemon *dns, GDBusMethodInvocation *invocation)
{
  if (dns != NULL)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                         "%s: the DNS resolver is not part of this helper",
                                         g_dbus_method_invocation_get_method_name (invocation));
  return FALSE;
}

void
pc_service_dns_status (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) status = NULL;

  if (!check_dns (dns, invocation))
    return;
  status = pc_dns_daemon_dup_status (dns);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{sv})", status));
}

static void
query_done_cb (PcDnsQueryResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (PcDnsQueryResult) r = result;
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "rcode", "s", pc_dns_rcode_to_string (r->rcode));
  g_variant_dict_insert_value (&d, "answers",
                               g_variant_new_strv ((const char *const *)r->answers, -1));
  g_variant_dict_insert (&d, "upstream", "s", r->upstream);
  g_variant_dict_insert (&d, "cached", "b", r->cached);
  g_variant_dict_insert (&d, "elapsed-us", "t", (guint64)MAX (r->elapsed_us, 0));
  g_variant_dict_insert (&d, "blocked", "b", r->blocked);
  g_variant_dict_insert (&d, "reason", "s", r->reason);
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation),
                                         g_variant_new ("(@a{sv})", g_variant_dict_end (&d)));
}

typedef struct
{
  PcDnsDaemon *dns;
  GDBusMethodInvocation *invocation;
  char *name;
  guint16 type;
} QueryCall;

static void
query_call_free (QueryCall *call)
{
  g_clear_object (&call->invocation);
  g_free (call->name);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QueryCall, query_call_free)

/* The caller's process is known: the question is asked as it would ask it. */
static void
caller_pid_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (QueryCall) call = user_data;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, NULL);
  g_autoptr (GError) error = NULL;
  guint32 pid = 0;
  PcDnsServer *server = pc_dns_daemon_get_server (call->dns);

  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  if (server == NULL)
    {
      g_dbus_method_invocation_return_error (g_steal_pointer (&call->invocation), PC_ERROR,
                                             PC_ERROR_UNAVAILABLE,
                                             "the DNS resolver is not running");
      return;
    }
  if (!pc_dns_server_query (server, call->name, call->type, (pid_t)pid, query_done_cb,
                            call->invocation, &error))
    {
      g_dbus_method_invocation_return_gerror (g_steal_pointer (&call->invocation), error);
      return;
    }
  call->invocation = NULL; /* query_done_cb has it */
}

void
pc_service_dns_query (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *name = NULL, *type = NULL;
  QueryCall *call;
  guint16 qtype = PC_DNS_TYPE_A;
  guint8 wire[PC_DNS_MAX_NAME];
  gsize wire_len;

  if (!check_dns (dns, invocation))
    return;
  g_variant_get (parameters, "(&s&s)", &name, &type);
  if (*type != '\0' && !pc_dns_type_from_string (type, &qtype))
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_INVALID_ARGS,
                                             "'%s' is not a DNS record type (A, AAAA, MX, TXT, "
                                             "... or a number)",
                                             type);
      return;
    }
  if (*name == '\0' || !pc_dns_name_to_wire (name, wire, &wire_len))
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_INVALID_ARGS,
                                             "'%s' is not a domain name", name);
      return;
    }
  if (pc_dns_daemon_get_server (dns) == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                             "the DNS resolver is not running");
      return;
    }
  call = g_new0 (QueryCall, 1);
  call->dns = dns;
  call->invocation = g_object_ref (invocation);
  call->name = g_strdup (name);
  call->type = qtype;
  g_dbus_connection_call (
      g_dbus_method_invocation_get_connection (invocation), "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, caller_pid_cb, call);
}

void
pc_service_dns_flush (PcDnsDaemon *dns, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  PcDnsServer *server;

  if (!check_dns (dns, invocation))
    return;
  server = pc_dns_daemon_get_server (dns);
  g_dbus_method_invocation_return_value (
      invocation, g_variant_new ("(u)", server != NULL ? pc_dns_server_flush_cache (server) : 0));
}

void
pc_service_dns_add_status (PcDnsDaemon *dns,
                           GVariantBuilder *status,
                           GVariantBuilder *degraded,
                           gboolean *ok)
{
  g_autofree char *summary = NULL;
  g_auto (GStrv) problems = NULL;

  if (dns == NULL)
    {
      g_variant_builder_add (status, "{sv}", "dns", g_variant_new_string ("not running"));
      return;
    }
  summary = pc_dns_daemon_dup_summary (dns);
  g_variant_builder_add (status, "{sv}", "dns", g_variant_new_string (summary));
  problems = pc_dns_daemon_dup_problems (dns);
  for (guint i = 0; problems[i] != NULL; i++)
    {
      g_variant_builder_add (degraded, "s", problems[i]);
      *ok = FALSE;
    }
}
