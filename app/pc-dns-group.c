/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-dns-group.h"

#include "pc-application.h"
#include "pc-window.h"

#include <glib/gi18n.h>

#define POLL_SECONDS 2

struct _PcDnsGroup
{
  AdwPreferencesGroup parent_instance;

  GCancellable *cancellable;
  GVariant *status; /* GetDnsStatus' a{sv} */
  GStrv servers;    /* the dns-servers setting */
  char *source;
  char *signature; /* the upstream urls the rows were made for */
  GPtrArray *upstream_rows;
  GtkWidget *resolver_row;
  GtkWidget *cache_row;
  GtkWidget *flush_button;
  GtkWidget *add_row;
  GtkWidget *add_error;
  char *error_text; /* GetDnsStatus failed: why */
  char *last_flush;
  guint poll_id;
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (PcDnsGroup, pc_dns_group, ADW_TYPE_PREFERENCES_GROUP)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static void
toast (PcDnsGroup *self, const char *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (PC_IS_WINDOW (root))
    pc_window_toast (PC_WINDOW (root), text);
}

static const char *
transport_text (const char *transport)
{
  if (g_strcmp0 (transport, "dot") == 0)
    return _ ("DNS over TLS");
  if (g_strcmp0 (transport, "doh") == 0)
    return _ ("DNS over HTTPS");
  if (g_strcmp0 (transport, "dns") == 0)
    return _ ("Plain DNS");
  if (g_strcmp0 (transport, "system") == 0)
    return _ ("The system's resolver");
  return transport;
}

static gboolean
is_configured (PcDnsGroup *self, const char *url)
{
  return self->servers != NULL && g_strv_contains ((const char *const *)self->servers, url);
}

/* ---- changing the list ------------------------------------------------------------------ */

static void reload (PcDnsGroup *self);

typedef struct
{
  PcDnsGroup *self;
  gboolean adding;
  GStrv before; /* the list before this change, restored when it fails */
  GStrv sent;
} Change;

static void
set_servers_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Change *change = user_data;
  g_autoptr (PcDnsGroup) self = change->self;
  gboolean adding = change->adding;
  g_auto (GStrv) before = change->before;
  g_auto (GStrv) sent = change->sent;
  g_autoptr (GError) error = NULL;

  g_free (change);
  if (!pc_application_call_configure_finish (app (), res, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_message ("SetSetting dns-servers: %s", error->message);
      if (self->servers != NULL && sent != NULL
          && g_strv_equal ((const char *const *)self->servers, (const char *const *)sent))
        {
          g_strfreev (self->servers);
          self->servers = g_steal_pointer (&before);
        }
      if (adding)
        {
          /* the helper says what is wrong with the address; nothing was changed */
          gtk_label_set_text (GTK_LABEL (self->add_error), error->message);
          gtk_widget_set_visible (self->add_error, TRUE);
          gtk_widget_add_css_class (self->add_row, "error");
          return;
        }
      text = g_strdup_printf (_ ("Could not change the DNS servers: %s"), error->message);
      toast (self, text);
      return;
    }
  if (adding)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->add_row), "");
      gtk_widget_set_visible (self->add_error, FALSE);
      gtk_widget_remove_css_class (self->add_row, "error");
    }
  /* the resolver follows the setting at once */
  reload (self);
}

static void
set_servers (PcDnsGroup *self, GStrv servers, gboolean adding)
{
  Change *change = g_new0 (Change, 1);

  change->self = g_object_ref (self);
  change->adding = adding;
  change->before = g_strdupv (self->servers);
  change->sent = g_strdupv (servers);
  /* a second change made before the helper answered builds on this one */
  g_strfreev (self->servers);
  self->servers = g_strdupv (servers);
  pc_application_call_configure (
      app (), "SetSetting",
      g_variant_new ("(sv)", "dns-servers", g_variant_new_strv ((const char *const *)servers, -1)),
      self->cancellable, set_servers_cb, change);
}

static void
add_apply_cb (AdwEntryRow *row, gpointer user_data)
{
  PcDnsGroup *self = user_data;
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) servers = NULL;

  if (text[0] == '\0')
    return;
  if (self->servers != NULL)
    g_strv_builder_addv (builder, (const char **)self->servers);
  g_strv_builder_add (builder, text);
  servers = g_strv_builder_end (builder);
  set_servers (self, servers, TRUE);
}

static void
remove_clicked_cb (GtkButton *button, gpointer user_data)
{
  PcDnsGroup *self = user_data;
  const char *entry = g_object_get_data (G_OBJECT (button), "pc-entry");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) servers = NULL;

  for (guint i = 0; self->servers != NULL && self->servers[i] != NULL; i++)
    if (!g_str_equal (self->servers[i], entry))
      g_strv_builder_add (builder, self->servers[i]);
  servers = g_strv_builder_end (builder);
  set_servers (self, servers, FALSE);
}

static void
flush_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PcDnsGroup) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, &error);
  g_autofree char *text = NULL;
  guint32 flushed = 0;

  if (ret == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      pc_client_fix_error (error);
      text = g_strdup_printf (_ ("Could not flush the DNS cache: %s"), error->message);
    }
  else
    {
      g_variant_get (ret, "(u)", &flushed);
      text = g_strdup_printf (g_dngettext (NULL, "%u answer removed from the DNS cache",
                                           "%u answers removed from the DNS cache", flushed),
                              flushed);
    }
  g_free (self->last_flush);
  self->last_flush = g_strdup (text);
  toast (self, text);
  reload (self);
}

static void
flush_clicked_cb (GtkButton *button, gpointer user_data)
{
  PcDnsGroup *self = user_data;
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL)
    return;
  /* polkit may ask for a password (manage): no timeout */
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (client)), "FlushDnsCache", NULL,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, self->cancellable,
                     flush_cb, g_object_ref (self));
}

/* ---- showing the status ------------------------------------------------------------------- */

static char *
upstream_subtitle (GVariant *upstream)
{
  const char *transport = "", *last_error = "";
  guint64 latency = 0, queries = 0, failures = 0;
  gboolean reachable = FALSE;
  g_autoptr (GString) s = g_string_new (NULL);

  g_variant_lookup (upstream, "transport", "&s", &transport);
  g_variant_lookup (upstream, "reachable", "b", &reachable);
  g_variant_lookup (upstream, "latency-us", "t", &latency);
  g_variant_lookup (upstream, "queries", "t", &queries);
  g_variant_lookup (upstream, "failures", "t", &failures);
  g_variant_lookup (upstream, "last-error", "&s", &last_error);
  g_string_append (s, transport_text (transport));
  g_string_append (s, " · ");
  if (queries == 0)
    g_string_append (s, _ ("not asked yet"));
  else
    {
      if (reachable)
        /* TRANSLATORS: the upstream answers; its round trip, e.g. "answers in 12 ms" */
        g_string_append_printf (s, _ ("answers in %.0f ms"), latency / 1000.0);
      else
        g_string_append (s, _ ("not answering"));
      g_string_append (s, " · ");
      /* %llu, not G_GUINT64_FORMAT: xgettext cannot expand the macro, so the catalog would have
       * the message "%" only and the text would never be translated */
      g_string_append_printf (s, g_dngettext (NULL, "%llu query", "%llu queries", queries),
                              (unsigned long long)queries);
      g_string_append (s, ", ");
      g_string_append_printf (s, g_dngettext (NULL, "%llu failure", "%llu failures", failures),
                              (unsigned long long)failures);
    }
  if (!reachable && last_error[0] != '\0')
    {
      g_string_append (s, " · ");
      g_string_append (s, last_error);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
set_state_icon (GtkWidget *icon, GVariant *upstream)
{
  gboolean reachable = FALSE;
  guint64 queries = 0;

  g_variant_lookup (upstream, "reachable", "b", &reachable);
  g_variant_lookup (upstream, "queries", "t", &queries);
  gtk_widget_remove_css_class (icon, "success");
  gtk_widget_remove_css_class (icon, "warning");
  gtk_widget_remove_css_class (icon, "dim-label");
  /* an upstream counts as reachable until a query says otherwise: say so only once asked */
  if (queries > 0 && reachable)
    {
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), "emblem-ok-symbolic");
      gtk_widget_add_css_class (icon, "success");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Answering"), -1);
    }
  else if (queries > 0)
    {
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), "dialog-warning-symbolic");
      gtk_widget_add_css_class (icon, "warning");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Not answering"), -1);
    }
  else
    {
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), "network-idle-symbolic");
      gtk_widget_add_css_class (icon, "dim-label");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Not asked yet"), -1);
    }
}

/* The dns-servers entry an upstream comes from: its URL, or "system" for the servers of the
 * network (one upstream each); NULL when the setting does not have it. */
static const char *
setting_entry (PcDnsGroup *self, const char *url, const char *transport)
{
  if (is_configured (self, url))
    return url;
  if (g_strcmp0 (transport, "system") == 0 && is_configured (self, "system"))
    return "system";
  return NULL;
}

static GtkWidget *
make_upstream_row (PcDnsGroup *self, const char *url, const char *transport)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new ();
  const char *entry = setting_entry (self, url, transport);

  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  g_object_set_data (G_OBJECT (row), "pc-icon", icon);
  g_object_set_data_full (G_OBJECT (row), "pc-url", g_strdup (url), g_free);
  g_object_set_data_full (G_OBJECT (row), "pc-entry", g_strdup (entry), g_free);
  if (entry != NULL && g_strcmp0 (self->source, "admin") != 0)
    {
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _ ("Remove This Server"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Remove This Server"), -1);
      g_object_set_data_full (G_OBJECT (remove), "pc-entry", g_strdup (entry), g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      g_object_set_data (G_OBJECT (row), "pc-remove", remove);
    }
  return row;
}

static void
show_upstreams (PcDnsGroup *self)
{
  g_autoptr (GVariant) upstreams = NULL;
  g_autoptr (GString) signature = g_string_new (NULL);
  GVariantIter iter;
  GVariant *upstream;
  guint i = 0;

  if (self->status != NULL)
    upstreams = g_variant_lookup_value (self->status, "upstreams", G_VARIANT_TYPE ("aa{sv}"));
  if (upstreams != NULL)
    {
      g_variant_iter_init (&iter, upstreams);
      while ((upstream = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *url = "", *transport = "";

          g_variant_lookup (upstream, "url", "&s", &url);
          g_variant_lookup (upstream, "transport", "&s", &transport);
          g_string_append_printf (signature, "%s%c%s\n", url, 0x1f,
                                  setting_entry (self, url, transport) ?: "");
          g_variant_unref (upstream);
        }
    }
  g_string_append (signature, self->source ? self->source : "");
  if (g_strcmp0 (signature->str, self->signature) != 0)
    {
      /* other servers: new rows, in the order they are tried, above the entry */
      g_free (self->signature);
      self->signature = g_strdup (signature->str);
      for (guint j = 0; j < self->upstream_rows->len; j++)
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->upstream_rows->pdata[j]);
      g_ptr_array_set_size (self->upstream_rows, 0);
      g_object_ref (self->add_row);
      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->add_row);
      if (upstreams != NULL)
        {
          g_variant_iter_init (&iter, upstreams);
          while ((upstream = g_variant_iter_next_value (&iter)) != NULL)
            {
              const char *url = "", *transport = "";
              GtkWidget *row;

              g_variant_lookup (upstream, "url", "&s", &url);
              g_variant_lookup (upstream, "transport", "&s", &transport);
              row = make_upstream_row (self, url, transport);
              adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
              g_ptr_array_add (self->upstream_rows, row);
              g_variant_unref (upstream);
            }
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->add_row);
      g_object_unref (self->add_row);
    }
  if (upstreams == NULL)
    return;
  g_variant_iter_init (&iter, upstreams);
  while ((upstream = g_variant_iter_next_value (&iter)) != NULL && i < self->upstream_rows->len)
    {
      GtkWidget *row = self->upstream_rows->pdata[i++];
      const char *name = "", *url = "";
      g_autofree char *subtitle = upstream_subtitle (upstream);

      g_variant_lookup (upstream, "name", "&s", &name);
      g_variant_lookup (upstream, "url", "&s", &url);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name[0] ? name : url);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_tooltip_text (row, url);
      set_state_icon (g_object_get_data (G_OBJECT (row), "pc-icon"), upstream);
      g_variant_unref (upstream);
    }
  g_clear_pointer (&upstream, g_variant_unref);
}

static void
show_status (PcDnsGroup *self)
{
  g_autoptr (GString) resolver = g_string_new (NULL);
  g_autofree const char **listen = NULL;
  g_autoptr (GVariant) cache = NULL;
  const char *listen_error = "", *error = "";
  gboolean enabled = TRUE, running = TRUE, intercepting = FALSE;
  guint32 entries = 0;
  guint64 hits = 0, misses = 0;

  if (self->status == NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->resolver_row),
                                   self->error_text ? self->error_text : "");
      gtk_widget_set_sensitive (self->flush_button, FALSE);
      show_upstreams (self);
      return;
    }
  g_variant_lookup (self->status, "enabled", "b", &enabled);
  g_variant_lookup (self->status, "running", "b", &running);
  g_variant_lookup (self->status, "intercepting", "b", &intercepting);
  g_variant_lookup (self->status, "listen", "^a&s", &listen);
  g_variant_lookup (self->status, "listen-error", "&s", &listen_error);
  g_variant_lookup (self->status, "error", "&s", &error);
  if (!enabled)
    g_string_append (resolver, _ ("The local resolver is off (dns-resolver)"));
  else if (!running)
    g_string_append (resolver, _ ("The local resolver is not running"));
  else if (listen != NULL && listen[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (", ", (char **)listen);

      /* TRANSLATORS: where the local resolver answers, e.g. "Answers on 127.0.0.17:53" */
      g_string_append_printf (resolver, _ ("Answers on %s"), joined);
      g_string_append (resolver, " · ");
      g_string_append (resolver, intercepting ? _ ("queries to other servers are redirected here")
                                              : _ ("queries to other servers are not redirected"));
    }
  else
    g_string_append (resolver, _ ("Running, but bound to no address"));
  if (listen_error[0] != '\0')
    g_string_append_printf (resolver, " · %s", listen_error);
  if (error[0] != '\0')
    g_string_append_printf (resolver, " · %s", error);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->resolver_row), resolver->str);

  cache = g_variant_lookup_value (self->status, "cache", G_VARIANT_TYPE_VARDICT);
  if (cache != NULL)
    {
      g_autofree char *text = NULL;

      g_variant_lookup (cache, "entries", "u", &entries);
      g_variant_lookup (cache, "hits", "t", &hits);
      g_variant_lookup (cache, "misses", "t", &misses);
      /* TRANSLATORS: the DNS cache, e.g. "12 answers · 30 hits, 12 misses" */
      text = g_strdup_printf (g_dngettext (NULL, "%u answer · %llu hits, %llu misses",
                                           "%u answers · %llu hits, %llu misses", entries),
                              entries, (unsigned long long)hits, (unsigned long long)misses);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cache_row), text);
    }
  gtk_widget_set_sensitive (self->flush_button, running);
  show_upstreams (self);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void
status_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcDnsGroup *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, &error);

  if (ret == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->loading = FALSE;
  g_clear_pointer (&self->status, g_variant_unref);
  g_clear_pointer (&self->error_text, g_free);
  if (ret == NULL)
    {
      if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
        self->error_text
            = g_strdup (_ ("This version of the firewall service does not report DNS status"));
      else
        {
          pc_client_fix_error (error);
          self->error_text = g_strdup (error->message);
        }
    }
  else
    g_variant_get (ret, "(@a{sv})", &self->status);
  show_status (self);
}

static void
reload (PcDnsGroup *self)
{
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL || !pc_application_get_helper_available (app ()) || self->loading)
    return;
  self->loading = TRUE;
  /* called by name: the method is newer than some helpers */
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (client)), "GetDnsStatus", NULL,
                     G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, status_cb, self);
}

static gboolean
poll_cb (gpointer user_data)
{
  reload (user_data);
  return G_SOURCE_CONTINUE;
}

void
pc_dns_group_set_setting (PcDnsGroup *self, GVariant *value, const char *source)
{
  g_strfreev (self->servers);
  self->servers = value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY)
                      ? g_variant_dup_strv (value, NULL)
                      : NULL;
  g_free (self->source);
  self->source = g_strdup (source);
  gtk_widget_set_sensitive (self->add_row, g_strcmp0 (source, "admin") != 0);
  /* which rows can be removed may have changed */
  show_upstreams (self);
  reload (self);
}

gboolean
pc_dns_group_test_do (PcDnsGroup *self, const char *what, const char *text)
{
  if (g_str_equal (what, "add"))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->add_row), text);
      g_signal_emit_by_name (self->add_row, "apply");
      return TRUE;
    }
  if (g_str_equal (what, "flush"))
    {
      g_signal_emit_by_name (self->flush_button, "clicked");
      return TRUE;
    }
  if (g_str_equal (what, "remove"))
    for (guint i = 0; i < self->upstream_rows->len; i++)
      {
        GtkWidget *row = self->upstream_rows->pdata[i];
        GtkWidget *remove = g_object_get_data (G_OBJECT (row), "pc-remove");

        if (remove != NULL && g_str_equal (g_object_get_data (G_OBJECT (row), "pc-entry"), text))
          {
            g_signal_emit_by_name (remove, "clicked");
            return TRUE;
          }
      }
  return FALSE;
}

GVariant *
pc_dns_group_dump (PcDnsGroup *self)
{
  GVariantBuilder b, rows;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->upstream_rows->len; i++)
    {
      GtkWidget *row = self->upstream_rows->pdata[i];
      GtkWidget *icon = g_object_get_data (G_OBJECT (row), "pc-icon");

      g_variant_builder_add_parsed (
          &rows,
          "{'url': <%s>, 'title': <%s>, 'subtitle': <%s>, 'reachable': <%b>, 'removable': <%b>}",
          (const char *)g_object_get_data (G_OBJECT (row), "pc-url"),
          adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)),
          adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) ?: "",
          gtk_widget_has_css_class (icon, "success"),
          g_object_get_data (G_OBJECT (row), "pc-remove") != NULL);
    }
  g_variant_builder_add (&b, "{sv}", "upstreams", g_variant_builder_end (&rows));
  g_variant_builder_add (
      &b, "{sv}", "resolver",
      g_variant_new_string (adw_action_row_get_subtitle (ADW_ACTION_ROW (self->resolver_row))
                                ?: ""));
  g_variant_builder_add (
      &b, "{sv}", "cache",
      g_variant_new_string (adw_action_row_get_subtitle (ADW_ACTION_ROW (self->cache_row)) ?: ""));
  g_variant_builder_add (&b, "{sv}", "error",
                         g_variant_new_string (self->error_text ? self->error_text : ""));
  g_variant_builder_add (
      &b, "{sv}", "add-error",
      g_variant_new_string (gtk_widget_get_visible (self->add_error)
                                ? gtk_label_get_text (GTK_LABEL (self->add_error))
                                : ""));
  g_variant_builder_add (&b, "{sv}", "last-flush",
                         g_variant_new_string (self->last_flush ? self->last_flush : ""));
  return g_variant_builder_end (&b);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void
pc_dns_group_map (GtkWidget *widget)
{
  PcDnsGroup *self = PC_DNS_GROUP (widget);

  GTK_WIDGET_CLASS (pc_dns_group_parent_class)->map (widget);
  /* live while shown */
  reload (self);
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add_seconds (POLL_SECONDS, poll_cb, self);
}

static void
pc_dns_group_unmap (GtkWidget *widget)
{
  PcDnsGroup *self = PC_DNS_GROUP (widget);

  g_clear_handle_id (&self->poll_id, g_source_remove);
  GTK_WIDGET_CLASS (pc_dns_group_parent_class)->unmap (widget);
}

static void
pc_dns_group_dispose (GObject *object)
{
  PcDnsGroup *self = PC_DNS_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->status, g_variant_unref);
  g_clear_pointer (&self->upstream_rows, g_ptr_array_unref);
  G_OBJECT_CLASS (pc_dns_group_parent_class)->dispose (object);
}

static void
pc_dns_group_finalize (GObject *object)
{
  PcDnsGroup *self = PC_DNS_GROUP (object);

  g_strfreev (self->servers);
  g_free (self->source);
  g_free (self->signature);
  g_free (self->error_text);
  g_free (self->last_flush);
  G_OBJECT_CLASS (pc_dns_group_parent_class)->finalize (object);
}

static void
pc_dns_group_class_init (PcDnsGroupClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_dns_group_dispose;
  G_OBJECT_CLASS (klass)->finalize = pc_dns_group_finalize;
  GTK_WIDGET_CLASS (klass)->map = pc_dns_group_map;
  GTK_WIDGET_CLASS (klass)->unmap = pc_dns_group_unmap;
}

static void
pc_dns_group_init (PcDnsGroup *self)
{
  self->cancellable = g_cancellable_new ();
  self->upstream_rows = g_ptr_array_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _ ("DNS Servers"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (self),
      _ ("Tried in this order. Add one as dot://HOST?ip=ADDR (DNS over TLS), "
         "doh://HOST/dns-query?ip=ADDR (DNS over HTTPS), dns://ADDR or system."));

  self->resolver_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->resolver_row), _ ("Local Resolver"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->resolver_row);

  self->cache_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->cache_row), _ ("Cache"));
  self->flush_button = gtk_button_new_with_mnemonic (_ ("_Flush"));
  gtk_widget_set_valign (self->flush_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->flush_button, _ ("Forget the cached answers"));
  g_signal_connect (self->flush_button, "clicked", G_CALLBACK (flush_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->cache_row), self->flush_button);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->cache_row);

  self->add_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->add_row), _ ("Add a DNS server"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->add_row), TRUE);
  gtk_widget_add_css_class (self->add_row, "monospace");
  g_signal_connect (self->add_row, "apply", G_CALLBACK (add_apply_cb), self);
  g_signal_connect (self->add_row, "entry-activated", G_CALLBACK (add_apply_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->add_row);

  /* not a row: shown under the list */
  self->add_error = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->add_error), 0);
  gtk_label_set_wrap (GTK_LABEL (self->add_error), TRUE);
  gtk_widget_set_margin_top (self->add_error, 6);
  gtk_widget_add_css_class (self->add_error, "error");
  gtk_widget_set_visible (self->add_error, FALSE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->add_row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->add_error, NULL, -1);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->add_error);
}

GtkWidget *
pc_dns_group_new (void)
{
  return g_object_new (PC_TYPE_DNS_GROUP, NULL);
}
