/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pc-client"

#include "pc-client.h"

#include <errno.h>
#include <stdlib.h>

struct _PcClient
{
  GObject parent_instance;
  PcDBusPortcullis1 *proxy;
};

G_DEFINE_TYPE (PcClient, pc_client, G_TYPE_OBJECT)

static void
pc_client_dispose (GObject *object)
{
  PcClient *self = PC_CLIENT (object);

  g_clear_object (&self->proxy);
  G_OBJECT_CLASS (pc_client_parent_class)->dispose (object);
}

static void
pc_client_class_init (PcClientClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_client_dispose;
  /* the helper's error names map back to PC_ERROR codes */
  (void)PC_ERROR;
}

static void
pc_client_init (PcClient *self)
{
}

static void
proxy_new_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  g_autoptr (GError) error = NULL;
  PcDBusPortcullis1 *proxy = pc_dbus_portcullis1_proxy_new_for_bus_finish (res, &error);
  PcClient *self;

  if (proxy == NULL)
    {
      g_prefix_error (&error, "cannot connect to the system bus: ");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self = g_object_new (PC_TYPE_CLIENT, NULL);
  self->proxy = proxy;
  g_task_return_pointer (task, self, g_object_unref);
}

void
pc_client_new_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, pc_client_new_async);
  (void)PC_ERROR;
  /* No auto-start: the helper is a system service started by the system. */
  pc_dbus_portcullis1_proxy_new_for_bus (
      G_BUS_TYPE_SYSTEM,
      G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
      PC_CLIENT_BUS_NAME, PC_CLIENT_OBJECT_PATH, cancellable, proxy_new_cb, task);
}

PcClient *
pc_client_new_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

PcClient *
pc_client_new_sync (GCancellable *cancellable, GError **error)
{
  PcDBusPortcullis1 *proxy;
  PcClient *self;

  (void)PC_ERROR;
  proxy = pc_dbus_portcullis1_proxy_new_for_bus_sync (
      G_BUS_TYPE_SYSTEM,
      G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
      PC_CLIENT_BUS_NAME, PC_CLIENT_OBJECT_PATH, cancellable, error);
  if (proxy == NULL)
    {
      g_prefix_error (error, "cannot connect to the system bus: ");
      return NULL;
    }
  self = g_object_new (PC_TYPE_CLIENT, NULL);
  self->proxy = proxy;
  return self;
}

PcDBusPortcullis1 *
pc_client_get_proxy (PcClient *self)
{
  g_return_val_if_fail (PC_IS_CLIENT (self), NULL);
  return self->proxy;
}

GVariant *
pc_client_call_interactive_sync (PcClient *self,
                                 const char *method,
                                 GVariant *parameters,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_return_val_if_fail (PC_IS_CLIENT (self), NULL);

  /* polkit may wait for a person to type a password: no D-Bus timeout */
  return g_dbus_proxy_call_sync (G_DBUS_PROXY (self->proxy), method, parameters,
                                 G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
                                 cancellable, error);
}

gboolean
pc_client_is_running (PcClient *self)
{
  g_autofree char *owner = NULL;

  g_return_val_if_fail (PC_IS_CLIENT (self), FALSE);
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->proxy));
  return owner != NULL;
}

void
pc_client_fix_error (GError *error)
{
  if (error == NULL)
    return;
  if (error->domain == G_DBUS_ERROR
      && (error->code == G_DBUS_ERROR_SERVICE_UNKNOWN
          || error->code == G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_free (error->message);
      error->message = g_strdup ("portcullisd is not running (no owner of "
                                 "org.portcullis.Portcullis1 on the system bus)");
      error->domain = PC_ERROR;
      error->code = PC_ERROR_UNAVAILABLE;
      return;
    }
  g_dbus_error_strip_remote_error (error);
}

gboolean
pc_client_error_is_denied (const GError *error)
{
  return g_error_matches (error, PC_ERROR, PC_ERROR_ACCESS_DENIED)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
}

static gboolean
parse_boolean (const char *text, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "on", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "0", NULL };

  for (guint i = 0; yes[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      return *out = TRUE, TRUE;
  for (guint i = 0; no[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      return *out = FALSE, TRUE;
  return FALSE;
}

GVariant *
pc_client_parse_value (const char *text, const GVariantType *type, GError **error)
{
  if (g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN))
    {
      gboolean b;
      if (!parse_boolean (text, &b))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "'%s' is not a boolean (true or false)", text);
          return NULL;
        }
      return g_variant_new_boolean (b);
    }
  if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32)
      || g_variant_type_equal (type, G_VARIANT_TYPE_INT32)
      || g_variant_type_equal (type, G_VARIANT_TYPE_INT64))
    {
      gint64 n;
      g_autoptr (GError) local = NULL;
      gboolean is_signed = !g_variant_type_equal (type, G_VARIANT_TYPE_UINT32);
      gint64 min = g_variant_type_equal (type, G_VARIANT_TYPE_INT32) ? G_MININT32 : 0;
      gint64 max = g_variant_type_equal (type, G_VARIANT_TYPE_UINT32)  ? G_MAXUINT32
                   : g_variant_type_equal (type, G_VARIANT_TYPE_INT32) ? G_MAXINT32
                                                                       : G_MAXINT64;
      if (g_variant_type_equal (type, G_VARIANT_TYPE_INT64))
        min = G_MININT64;
      if (!g_ascii_string_to_signed (text, 10, is_signed ? min : 0, max, &n, &local))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "'%s' is not a number in %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, text, min,
                       max);
          return NULL;
        }
      if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32))
        return g_variant_new_uint32 ((guint32)n);
      if (g_variant_type_equal (type, G_VARIANT_TYPE_INT32))
        return g_variant_new_int32 ((gint32)n);
      return g_variant_new_int64 (n);
    }
  if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_auto (GStrv) parts = g_regex_split_simple ("[;,\n]", text, 0, 0);
      g_autoptr (GPtrArray) items = g_ptr_array_new ();

      for (guint i = 0; parts[i] != NULL; i++)
        {
          g_strstrip (parts[i]);
          if (parts[i][0] != '\0')
            g_ptr_array_add (items, parts[i]);
        }
      return g_variant_new_strv ((const char *const *)items->pdata, items->len);
    }
  return g_variant_new_string (text);
}

char *
pc_client_format_value (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return pc_client_format_value (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **strv = g_variant_get_strv (value, NULL);
      return g_strjoinv ("; ", (char **)strv);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "true" : "false");
  return g_variant_print (value, FALSE);
}
