/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-live-model.h"

#include <glib/gi18n.h>

typedef struct
{
  double in[PC_LIVE_MODEL_SAMPLES];
  double out[PC_LIVE_MODEL_SAMPLES];
  guint64 acc_in;
  guint64 acc_out;
} Series;

struct _PcLiveModel
{
  GObject parent_instance;

  PcClient *client;
  gulong signal_id;
  GCancellable *cancellable;
  gboolean available;
  guint holds;
  gboolean subscribed;
  guint tick_id;
  guint keep_ended;

  GListStore *connections;
  GHashTable *by_id; /* guint64* -> PcConnectionRow (borrowed from the store) */
  GListStore *apps;
  GHashTable *by_key;         /* key -> PcAppRow (borrowed) */
  GHashTable *profiles;       /* profile id -> GVariant a{sv} */
  GHashTable *by_fingerprint; /* "path:/usr/bin/curl" -> profile id */
  GHashTable *series;         /* key -> Series */
  guint head;                 /* index of the next sample */
  guint n_ended;              /* rows of ended connections (what expire() looks for) */
};

G_DEFINE_FINAL_TYPE (PcLiveModel, pc_live_model, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  SIGNAL_TICK,
  SIGNAL_UNKNOWN_APP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void subscribe (PcLiveModel *self);

static void
pc_live_model_dispose (GObject *object)
{
  PcLiveModel *self = PC_LIVE_MODEL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->client != NULL && self->signal_id != 0)
    g_signal_handler_disconnect (pc_client_get_proxy (self->client), self->signal_id);
  self->signal_id = 0;
  g_clear_object (&self->client);
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_pointer (&self->by_key, g_hash_table_unref);
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  g_clear_pointer (&self->by_fingerprint, g_hash_table_unref);
  g_clear_pointer (&self->series, g_hash_table_unref);
  g_clear_object (&self->connections);
  g_clear_object (&self->apps);
  G_OBJECT_CLASS (pc_live_model_parent_class)->dispose (object);
}

static void
pc_live_model_class_init (PcLiveModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_live_model_dispose;

  /* after each applied batch */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* once a second while held: a new rate sample */
  signals[SIGNAL_TICK] = g_signal_new ("tick", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* a connection of a program we know no profile for */
  signals[SIGNAL_UNKNOWN_APP]
      = g_signal_new ("unknown-app", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
}

static void
pc_live_model_init (PcLiveModel *self)
{
  g_autoptr (PcAppRow) all = pc_app_row_new ("", "", _ ("All Applications"));

  self->cancellable = g_cancellable_new ();
  self->keep_ended = 300;
  self->connections = g_list_store_new (PC_TYPE_CONNECTION_ROW);
  self->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->apps = g_list_store_new (PC_TYPE_APP_ROW);
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  self->profiles
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
  self->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->by_fingerprint = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_list_store_append (self->apps, all);
  g_hash_table_insert (self->by_key, (char *)pc_app_row_get_key (all), all);
  g_hash_table_insert (self->series, g_strdup (""), g_new0 (Series, 1));
}

PcLiveModel *
pc_live_model_new (void)
{
  return g_object_new (PC_TYPE_LIVE_MODEL, NULL);
}

GListModel *
pc_live_model_get_connections (PcLiveModel *self)
{
  return G_LIST_MODEL (self->connections);
}

GListModel *
pc_live_model_get_apps (PcLiveModel *self)
{
  return G_LIST_MODEL (self->apps);
}

PcConnectionRow *
pc_live_model_lookup (PcLiveModel *self, guint64 id)
{
  return g_hash_table_lookup (self->by_id, &id);
}

PcAppRow *
pc_live_model_lookup_app (PcLiveModel *self, const char *key)
{
  return g_hash_table_lookup (self->by_key, key);
}

gboolean
pc_live_model_is_subscribed (PcLiveModel *self)
{
  return self->subscribed;
}

void
pc_live_model_set_keep_ended (PcLiveModel *self, guint seconds)
{
  self->keep_ended = seconds;
}

static void
apply_profile (PcLiveModel *self, PcAppRow *app)
{
  GVariant *profile = g_hash_table_lookup (self->profiles, pc_app_row_get_profile (app));
  const char *s;
  gboolean special = FALSE;

  if (profile == NULL)
    return;
  g_variant_lookup (profile, "special", "b", &special);
  /* the helper's own profiles have names marked for translation there */
  if (g_variant_lookup (profile, "name", "&s", &s))
    pc_app_row_set_name (app, special && s[0] != '\0' ? _ (s) : s);
  if (g_variant_lookup (profile, "icon", "&s", &s))
    pc_app_row_set_icon_name (app, s);
}

static void count (PcLiveModel *self, PcAppRow *app, int active, int blocked, int total);

/* Connections of a program from before the helper made its profile move to that profile, so
 * Monitor lists the app once. */
static void
adopt_orphans (PcLiveModel *self)
{
  GListModel *list = G_LIST_MODEL (self->connections);
  g_autoptr (GPtrArray) emptied = g_ptr_array_new ();
  g_autoptr (GPtrArray) new_apps = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (list);

  if (g_hash_table_size (self->by_fingerprint) == 0)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (PcConnectionRow) row = g_list_model_get_item (list, i);
      g_autofree char *fp = NULL;
      const char *id;
      PcAppRow *old_app, *new_app;
      int live, blocked;

      if (pc_connection_row_get_profile (row)[0] != '\0')
        continue;
      fp = g_strdup_printf ("path:%s", pc_connection_row_get_exe (row));
      id = g_hash_table_lookup (self->by_fingerprint, fp);
      if (id == NULL)
        continue;
      old_app = g_hash_table_lookup (self->by_key, pc_connection_row_get_app_key (row));
      new_app = g_hash_table_lookup (self->by_key, id);
      if (new_app == NULL)
        {
          new_app = pc_app_row_new (id, id, pc_connection_row_get_fallback_name (row));
          apply_profile (self, new_app);
          g_hash_table_insert (self->by_key, (char *)pc_app_row_get_key (new_app), new_app);
          g_hash_table_insert (self->series, g_strdup (id), g_new0 (Series, 1));
          g_ptr_array_add (new_apps, new_app);
        }
      live = pc_connection_row_is_live (row) ? 1 : 0;
      blocked = pc_connection_row_is_blocked (row) ? 1 : 0;
      if (old_app != NULL)
        {
          count (self, old_app, -live, -blocked, -1);
          if (pc_app_row_get_total (old_app) <= 0 && !g_ptr_array_find (emptied, old_app, NULL))
            g_ptr_array_add (emptied, old_app);
        }
      count (self, new_app, live, blocked, 1);
      pc_connection_row_set_profile (row, id);
    }
  if (new_apps->len > 0)
    g_list_store_splice (self->apps, g_list_model_get_n_items (G_LIST_MODEL (self->apps)), 0,
                         new_apps->pdata, new_apps->len);
  for (guint i = 0; i < emptied->len; i++)
    {
      PcAppRow *app = emptied->pdata[i];
      guint position;

      if (pc_app_row_get_total (app) > 0 || pc_app_row_get_key (app)[0] == '\0')
        continue;
      g_hash_table_remove (self->series, pc_app_row_get_key (app));
      g_hash_table_remove (self->by_key, pc_app_row_get_key (app));
      /* the store holds the last reference */
      if (g_list_store_find (self->apps, app, &position))
        g_list_store_remove (self->apps, position);
    }
  {
    GHashTableIter hi;
    gpointer value;

    g_hash_table_iter_init (&hi, self->by_key);
    while (g_hash_table_iter_next (&hi, NULL, &value))
      pc_app_row_commit (value);
  }
}

void
pc_live_model_set_profiles (PcLiveModel *self, GVariant *profiles)
{
  GVariantIter iter;
  GVariant *profile;
  GHashTableIter hi;
  gpointer value;

  g_hash_table_remove_all (self->profiles);
  g_hash_table_remove_all (self->by_fingerprint);
  g_variant_iter_init (&iter, profiles);
  while ((profile = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = NULL;
      g_autofree const char **fps = NULL;

      if (g_variant_lookup (profile, "id", "&s", &id))
        {
          g_hash_table_insert (self->profiles, g_strdup (id), g_variant_ref (profile));
          if (g_variant_lookup (profile, "fingerprints", "^a&s", &fps))
            for (guint i = 0; fps[i] != NULL; i++)
              g_hash_table_insert (self->by_fingerprint, g_strdup (fps[i]), g_strdup (id));
        }
      g_variant_unref (profile);
    }
  g_hash_table_iter_init (&hi, self->by_key);
  while (g_hash_table_iter_next (&hi, NULL, &value))
    if (pc_app_row_get_key (value)[0] != '\0')
      apply_profile (self, value);
  adopt_orphans (self);
}

static PcAppRow *
app_for (PcLiveModel *self, PcConnectionRow *row, GPtrArray *new_apps)
{
  const char *key = pc_connection_row_get_app_key (row);
  PcAppRow *app = g_hash_table_lookup (self->by_key, key);

  if (app == NULL)
    {
      app = pc_app_row_new (key, pc_connection_row_get_profile (row),
                            pc_connection_row_get_fallback_name (row));
      apply_profile (self, app);
      g_hash_table_insert (self->by_key, (char *)pc_app_row_get_key (app), app);
      g_hash_table_insert (self->series, g_strdup (key), g_new0 (Series, 1));
      g_ptr_array_add (new_apps, app);
    }
  return app;
}

/* The profile of a record that has none: by the program's exact fingerprint. */
static const char *
profile_hint (PcLiveModel *self, const PcRecord *record)
{
  const char *exe = record->exe, *app_id = record->app_id, *kind = record->app_kind;
  g_autofree char *fp = NULL;
  const char *found = NULL;

  if (record->profile[0] != '\0' || g_hash_table_size (self->by_fingerprint) == 0)
    return NULL;
  if (app_id[0] != '\0' && g_strcmp0 (kind, "native") != 0)
    {
      fp = g_strdup_printf ("%s:%s", kind, app_id);
      found = g_hash_table_lookup (self->by_fingerprint, fp);
      g_clear_pointer (&fp, g_free);
    }
  if (found == NULL && exe[0] != '\0')
    {
      fp = g_strdup_printf ("path:%s", exe);
      found = g_hash_table_lookup (self->by_fingerprint, fp);
    }
  return found;
}

const char *
pc_live_model_profile_for (PcLiveModel *self, PcConnectionRow *row)
{
  const char *profile = pc_connection_row_get_profile (row);
  g_autofree char *fp = NULL;

  if (profile[0] != '\0')
    return profile;
  fp = g_strdup_printf ("path:%s", pc_connection_row_get_exe (row));
  return g_hash_table_lookup (self->by_fingerprint, fp);
}

static void
count (PcLiveModel *self, PcAppRow *app, int active, int blocked, int total)
{
  PcAppRow *all = g_hash_table_lookup (self->by_key, "");

  pc_app_row_add_counts (app, active, blocked, total);
  pc_app_row_add_counts (all, active, blocked, total);
}

static void
account_bytes (PcLiveModel *self, const char *key, guint64 in, guint64 out)
{
  Series *s = g_hash_table_lookup (self->series, key);
  Series *all = g_hash_table_lookup (self->series, "");

  if (s != NULL)
    {
      s->acc_in += in;
      s->acc_out += out;
    }
  all->acc_in += in;
  all->acc_out += out;
}

void
pc_live_model_apply (PcLiveModel *self, GVariant *changes)
{
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) new_apps = g_ptr_array_new_with_free_func (g_object_unref);
  GVariantIter iter;
  GVariant *record;
  GHashTableIter hi;
  gpointer value;

  g_variant_iter_init (&iter, changes);
  while ((record = g_variant_iter_next_value (&iter)) != NULL)
    {
      PcRecord rec;
      PcConnectionRow *row;

      pc_record_parse (record, &rec);
      row = g_hash_table_lookup (self->by_id, &rec.id);
      if (row != NULL)
        {
          gboolean was_live = pc_connection_row_is_live (row);
          gboolean was_blocked = pc_connection_row_is_blocked (row);
          guint64 din, dout;

          if (pc_connection_row_update (row, &rec, &din, &dout))
            {
              PcAppRow *app
                  = g_hash_table_lookup (self->by_key, pc_connection_row_get_app_key (row));
              int active = (int)pc_connection_row_is_live (row) - (int)was_live;

              self->n_ended -= active; /* live -> ended: +1 */
              int blocked = (int)pc_connection_row_is_blocked (row) - (int)was_blocked;

              if (app != NULL && (active != 0 || blocked != 0))
                count (self, app, active, blocked, 0);
              account_bytes (self, pc_connection_row_get_app_key (row), din, dout);
            }
        }
      else
        {
          PcConnectionRow *fresh = pc_connection_row_new (&rec, profile_hint (self, &rec));
          PcAppRow *app = app_for (self, fresh, new_apps);

          count (self, app, pc_connection_row_is_live (fresh) ? 1 : 0,
                 pc_connection_row_is_blocked (fresh) ? 1 : 0, 1);
          if (!pc_connection_row_is_live (fresh))
            self->n_ended++;
          /* its first bytes count as traffic of this moment */
          account_bytes (self, pc_connection_row_get_app_key (fresh),
                         pc_connection_row_get_bytes_in (fresh),
                         pc_connection_row_get_bytes_out (fresh));
          g_hash_table_insert (self->by_id, (gpointer)pc_connection_row_peek_id (fresh), fresh);
          g_ptr_array_add (added, fresh);
        }
      pc_record_clear (&rec);
      g_variant_unref (record);
    }
  if (added->len > 0)
    g_list_store_splice (self->connections,
                         g_list_model_get_n_items (G_LIST_MODEL (self->connections)), 0,
                         added->pdata, added->len);
  if (new_apps->len > 0)
    {
      for (guint i = 0; i < new_apps->len; i++)
        if (pc_app_row_get_profile (new_apps->pdata[i])[0] == '\0')
          {
            /* a program without a known profile: the helper may have made one by now */
            g_signal_emit (self, signals[SIGNAL_UNKNOWN_APP], 0);
            break;
          }
    }
  if (new_apps->len > 0)
    g_list_store_splice (self->apps, g_list_model_get_n_items (G_LIST_MODEL (self->apps)), 0,
                         new_apps->pdata, new_apps->len);
  g_hash_table_iter_init (&hi, self->by_key);
  while (g_hash_table_iter_next (&hi, NULL, &value))
    pc_app_row_commit (value);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* Removes ended connections older than keep_ended, in runs, from the end backwards. */
static void
expire (PcLiveModel *self)
{
  gint64 limit = g_get_real_time () - (gint64)self->keep_ended * G_USEC_PER_SEC;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->connections));
  guint run_end = G_MAXUINT; /* one past the last row of the current run */

  /* once a second: with 10,000 live connections and none ended, no walk over them */
  if (self->n_ended == 0)
    return;
  for (guint i = n; i-- > 0;)
    {
      g_autoptr (PcConnectionRow) row = g_list_model_get_item (G_LIST_MODEL (self->connections), i);
      gint64 ended = pc_connection_row_get_ended (row);
      gboolean old = ended != 0 && ended < limit;

      if (old)
        {
          PcAppRow *app = g_hash_table_lookup (self->by_key, pc_connection_row_get_app_key (row));

          if (app != NULL)
            count (self, app, 0, pc_connection_row_is_blocked (row) ? -1 : 0, -1);
          g_hash_table_remove (self->by_id, pc_connection_row_peek_id (row));
          self->n_ended--;
          if (run_end == G_MAXUINT)
            run_end = i + 1;
        }
      if (!old && run_end != G_MAXUINT)
        {
          g_list_store_splice (self->connections, i + 1, run_end - (i + 1), NULL, 0);
          run_end = G_MAXUINT;
        }
    }
  if (run_end != G_MAXUINT)
    g_list_store_splice (self->connections, 0, run_end, NULL, 0);
}

static gboolean
tick_cb (gpointer user_data)
{
  PcLiveModel *self = user_data;
  GHashTableIter hi;
  gpointer key, value;

  g_hash_table_iter_init (&hi, self->series);
  while (g_hash_table_iter_next (&hi, &key, &value))
    {
      Series *s = value;
      PcAppRow *app = g_hash_table_lookup (self->by_key, key);

      s->in[self->head] = (double)s->acc_in;
      s->out[self->head] = (double)s->acc_out;
      s->acc_in = s->acc_out = 0;
      if (app != NULL)
        pc_app_row_set_rate (app, s->in[self->head] + s->out[self->head]);
    }
  self->head = (self->head + 1) % PC_LIVE_MODEL_SAMPLES;
  expire (self);
  g_hash_table_iter_init (&hi, self->by_key);
  while (g_hash_table_iter_next (&hi, NULL, &value))
    pc_app_row_commit (value);
  g_signal_emit (self, signals[SIGNAL_TICK], 0);
  return G_SOURCE_CONTINUE;
}

gboolean
pc_live_model_get_series (
    PcLiveModel *self, const char *key, const double **in, const double **out, guint *head)
{
  Series *s = g_hash_table_lookup (self->series, key);

  if (s == NULL)
    return FALSE;
  *in = s->in;
  *out = s->out;
  *head = self->head;
  return TRUE;
}

static void
connections_changed_cb (PcDBusPortcullis1 *proxy, GVariant *changes, gpointer user_data)
{
  PcLiveModel *self = user_data;

  if (self->subscribed)
    pc_live_model_apply (self, changes);
}

/* Connections we show as live that the helper no longer lists ended while we did not look. */
static void
end_missing (PcLiveModel *self, GHashTable *listed)
{
  g_autoptr (GVariantBuilder) ended = g_variant_builder_new (G_VARIANT_TYPE ("aa{sv}"));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->connections));
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (PcConnectionRow) row = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      if (pc_connection_row_is_live (row)
          && (listed == NULL || !g_hash_table_contains (listed, pc_connection_row_peek_id (row))))
        {
          GVariantBuilder rec;

          g_variant_builder_init (&rec, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&rec, "{sv}", "id",
                                 g_variant_new_uint64 (pc_connection_row_get_id (row)));
          g_variant_builder_add (&rec, "{sv}", "ended", g_variant_new_int64 (g_get_real_time ()));
          g_variant_builder_add_value (ended, g_variant_builder_end (&rec));
          any = TRUE;
        }
    }
  if (any)
    pc_live_model_apply (self, g_variant_builder_end (ended));
}

static void
list_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcLiveModel *self = user_data;
  g_autoptr (GVariant) connections = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) listed = NULL;
  GVariantIter iter;
  GVariant *rec;

  if (!pc_dbus_portcullis1_call_list_connections_finish (PC_DBUS_PORTCULLIS1 (source), &connections,
                                                         res, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("cannot list connections: %s", error->message);
      return;
    }
  listed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_variant_iter_init (&iter, connections);
  while ((rec = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 id = 0;

      g_variant_lookup (rec, "id", "t", &id);
      g_hash_table_add (listed, g_memdup2 (&id, sizeof id));
      g_variant_unref (rec);
    }
  end_missing (self, listed);
  pc_live_model_apply (self, connections);
}

static void
subscribe_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcLiveModel *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_subscribe_finish (PC_DBUS_PORTCULLIS1 (source), res, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          pc_client_fix_error (error);
          g_message ("cannot subscribe to connections: %s", error->message);
        }
      return;
    }
  if (self->holds == 0 || !self->available)
    {
      /* released while the call was in flight */
      pc_dbus_portcullis1_call_unsubscribe (PC_DBUS_PORTCULLIS1 (source), NULL, NULL, NULL);
      return;
    }
  self->subscribed = TRUE;
  pc_dbus_portcullis1_call_list_connections (PC_DBUS_PORTCULLIS1 (source), self->cancellable,
                                             list_cb, self);
}

static void
subscribe (PcLiveModel *self)
{
  if (self->client == NULL || !self->available || self->subscribed || self->holds == 0)
    return;
  pc_dbus_portcullis1_call_subscribe (pc_client_get_proxy (self->client), self->cancellable,
                                      subscribe_cb, self);
}

static void
unsubscribe (PcLiveModel *self)
{
  if (!self->subscribed)
    return;
  self->subscribed = FALSE;
  if (self->client != NULL && self->available)
    pc_dbus_portcullis1_call_unsubscribe (pc_client_get_proxy (self->client), NULL, NULL, NULL);
}

void
pc_live_model_set_client (PcLiveModel *self, PcClient *client)
{
  g_return_if_fail (self->client == NULL);
  self->client = g_object_ref (client);
  self->signal_id = g_signal_connect (pc_client_get_proxy (client), "connections-changed",
                                      G_CALLBACK (connections_changed_cb), self);
  subscribe (self);
}

void
pc_live_model_set_helper_available (PcLiveModel *self, gboolean available)
{
  if (self->available == available)
    return;
  self->available = available;
  if (available)
    subscribe (self);
  else
    {
      /* the helper's subscription died with it; its connections are no longer watched */
      self->subscribed = FALSE;
      end_missing (self, NULL);
    }
}

void
pc_live_model_hold (PcLiveModel *self)
{
  if (self->holds++ > 0)
    return;
  if (self->tick_id == 0)
    self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  subscribe (self);
}

void
pc_live_model_release (PcLiveModel *self)
{
  g_return_if_fail (self->holds > 0);
  if (--self->holds > 0)
    return;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  unsubscribe (self);
}
