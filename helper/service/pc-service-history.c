/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-service"

#include "pc-service-history.h"

#include <netinet/in.h>

#include "pc-error.h"

gboolean
pc_service_history_parse_query (GVariant *dict, PcHistoryQuery *query, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  *query = (PcHistoryQuery)PC_HISTORY_QUERY_INIT;
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) v = value;
      const char *s
          = g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ? g_variant_get_string (v, NULL) : NULL;
      gboolean ok = TRUE;

      if (g_str_equal (key, "text") && s != NULL)
        query->text = s;
      else if (g_str_equal (key, "app") && s != NULL)
        query->app = s;
      else if (g_str_equal (key, "country") && s != NULL)
        query->country = s;
      else if (g_str_equal (key, "verdict") && s != NULL)
        {
          query->verdict = g_str_equal (s, "allowed") ? 1 : g_str_equal (s, "blocked") ? 0 : -2;
          ok = query->verdict != -2;
        }
      else if (g_str_equal (key, "direction") && s != NULL)
        {
          query->direction = g_str_equal (s, "out") ? 0 : g_str_equal (s, "in") ? 1 : -2;
          ok = query->direction != -2;
        }
      else if (g_str_equal (key, "protocol") && s != NULL)
        {
          guint64 n;
          if (g_str_equal (s, "tcp"))
            query->proto = IPPROTO_TCP;
          else if (g_str_equal (s, "udp"))
            query->proto = IPPROTO_UDP;
          else if (g_str_equal (s, "icmp"))
            query->proto = IPPROTO_ICMP;
          else if (g_ascii_string_to_unsigned (s, 10, 0, 255, &n, NULL))
            query->proto = (gint)n;
          else
            ok = FALSE;
        }
      else if (g_str_equal (key, "since") && g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
        query->since = g_variant_get_int64 (v);
      else if (g_str_equal (key, "until") && g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
        query->until = g_variant_get_int64 (v);
      else if (g_str_equal (key, "offset") && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
        query->offset = g_variant_get_uint32 (v);
      else if (g_str_equal (key, "limit") && g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
        query->limit = MIN (g_variant_get_uint32 (v), 10000);
      else
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "history query: unknown key '%s' or wrong type '%s'", key,
                       g_variant_get_type_string (v));
          return FALSE;
        }
      if (!ok)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "history query: bad %s '%s'", key,
                       s);
          return FALSE;
        }
    }
  return TRUE;
}

typedef enum
{
  OP_SEARCH,
  OP_COUNT,
  OP_BANDWIDTH,
  OP_DELETE,
  OP_EXPORT,
} Op;

typedef struct
{
  Op op;
  PcHistory *history;
  GDBusMethodInvocation *invocation;
  GVariant *parameters;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->invocation);
  g_clear_pointer (&job->parameters, g_variant_unref);
  g_free (job);
}

static GVariant *
run (Job *job, GError **error)
{
  PcHistoryQuery q;
  GVariant *dict = NULL;
  const char *app = NULL, *group = NULL, *format = NULL;
  gint64 since = 0, until = 0;
  guint32 step = 0;
  g_autoptr (GVariant) result = NULL;

  switch (job->op)
    {
      case OP_SEARCH:
        g_variant_get (job->parameters, "(@a{sv})", &dict);
        break;
      case OP_COUNT:
        g_variant_get (job->parameters, "(@a{sv}&s)", &dict, &group);
        break;
      case OP_EXPORT:
        g_variant_get (job->parameters, "(@a{sv}&s)", &dict, &format);
        break;
      case OP_BANDWIDTH:
        g_variant_get (job->parameters, "(&sxxu)", &app, &since, &until, &step);
        break;
      case OP_DELETE:
      default:
        g_variant_get (job->parameters, "(&sxx)", &app, &since, &until);
        break;
    }
  g_autoptr (GVariant) owned_dict = dict;
  if (dict != NULL && !pc_service_history_parse_query (dict, &q, error))
    return NULL;
  if (app != NULL && *app == '\0')
    app = NULL; /* "": every app */

  switch (job->op)
    {
      case OP_SEARCH:
        result = pc_history_search (job->history, &q, error);
        return result != NULL ? g_variant_new ("(@aa{sv})", result) : NULL;
      case OP_COUNT:
        result = pc_history_count (job->history, &q, group, error);
        return result != NULL ? g_variant_new ("(@a(st))", result) : NULL;
      case OP_BANDWIDTH:
        if (step == 0)
          step = 1;
        result = pc_history_bandwidth (job->history, app, since, until, step, error);
        return result != NULL ? g_variant_new ("(@a(xtt))", result) : NULL;
      case OP_EXPORT:
        {
          gsize length = 0;
          char *data = pc_history_export_data (job->history, &q, format, &length, error);
          if (data == NULL)
            return NULL;
          return g_variant_new ("(@ay)", g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data,
                                                                  length, TRUE, g_free, data));
        }
      case OP_DELETE:
      default:
        {
          gint64 n = pc_history_delete (job->history, app, since, until, error);
          return n >= 0 ? g_variant_new ("(x)", n) : NULL;
        }
    }
}

static void
thread_func (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr (GError) error = NULL;
  GVariant *reply = run (job, &error);

  /* GDBusMethodInvocation replies are safe from any thread. */
  if (reply != NULL)
    g_dbus_method_invocation_return_value (g_steal_pointer (&job->invocation), reply);
  else
    g_dbus_method_invocation_return_gerror (g_steal_pointer (&job->invocation), error);
}

static void
dispatch (Op op, PcHistory *history, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GTask) task = NULL;
  Job *job;

  if (history == NULL)
    {
      g_dbus_method_invocation_return_error (
          invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
          "the connection history is not available (see Status)");
      return;
    }
  job = g_new0 (Job, 1);
  job->op = op;
  job->history = history;
  job->invocation = g_object_ref (invocation);
  job->parameters = g_variant_ref (parameters);
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify)job_free);
  g_task_run_in_thread (task, thread_func);
}

void
pc_service_history_search (PcHistory *history,
                           GDBusMethodInvocation *invocation,
                           GVariant *parameters)
{
  dispatch (OP_SEARCH, history, invocation, parameters);
}

void
pc_service_history_count (PcHistory *history,
                          GDBusMethodInvocation *invocation,
                          GVariant *parameters)
{
  dispatch (OP_COUNT, history, invocation, parameters);
}

void
pc_service_history_bandwidth (PcHistory *history,
                              GDBusMethodInvocation *invocation,
                              GVariant *parameters)
{
  dispatch (OP_BANDWIDTH, history, invocation, parameters);
}

void
pc_service_history_delete (PcHistory *history,
                           GDBusMethodInvocation *invocation,
                           GVariant *parameters)
{
  dispatch (OP_DELETE, history, invocation, parameters);
}

void
pc_service_history_export (PcHistory *history,
                           GDBusMethodInvocation *invocation,
                           GVariant *parameters)
{
  dispatch (OP_EXPORT, history, invocation, parameters);
}
