/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-connection-row.h"

#include <glib/gi18n.h>
#include <string.h>

struct _PcConnectionRow
{
  GObject parent_instance;

  guint64 id;
  char *app_key;
  char *profile;
  char *exe;
  char *app_id;
  char *fallback_name;
  char *time;
  gint64 started;
  gint64 ended;
  char *direction;
  gboolean inbound;
  char *endpoint;
  char *domain;
  char *country;
  char *remote_address;
  char *port;
  char *verdict;
  char *reason;
  char *verdict_text;
  guint64 bytes_in;
  guint64 bytes_out;
  char *bytes_text;
  char *search_text;
};

G_DEFINE_FINAL_TYPE (PcConnectionRow, pc_connection_row, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_APP_KEY,
  PROP_TIME,
  PROP_STARTED,
  PROP_DIRECTION,
  PROP_ENDPOINT,
  PROP_PORT,
  PROP_COUNTRY,
  PROP_VERDICT,
  PROP_VERDICT_TEXT,
  PROP_BYTES,
  PROP_BYTES_TEXT,
  PROP_LIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pc_connection_row_finalize (GObject *object)
{
  PcConnectionRow *self = PC_CONNECTION_ROW (object);

  g_free (self->app_key);
  g_free (self->profile);
  g_free (self->exe);
  g_free (self->app_id);
  g_free (self->fallback_name);
  g_free (self->time);
  g_free (self->direction);
  g_free (self->endpoint);
  g_free (self->domain);
  g_free (self->country);
  g_free (self->remote_address);
  g_free (self->port);
  g_free (self->verdict);
  g_free (self->reason);
  g_free (self->verdict_text);
  g_free (self->bytes_text);
  g_free (self->search_text);
  G_OBJECT_CLASS (pc_connection_row_parent_class)->finalize (object);
}

static void
pc_connection_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PcConnectionRow *self = PC_CONNECTION_ROW (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_uint64 (value, self->id);
        break;
      case PROP_APP_KEY:
        g_value_set_string (value, self->app_key);
        break;
      case PROP_TIME:
        g_value_set_string (value, self->time);
        break;
      case PROP_STARTED:
        g_value_set_int64 (value, self->started);
        break;
      case PROP_DIRECTION:
        g_value_set_string (value, self->direction);
        break;
      case PROP_ENDPOINT:
        g_value_set_string (value, self->endpoint);
        break;
      case PROP_PORT:
        g_value_set_string (value, self->port);
        break;
      case PROP_COUNTRY:
        g_value_set_string (value, self->country);
        break;
      case PROP_VERDICT:
        g_value_set_string (value, self->verdict);
        break;
      case PROP_VERDICT_TEXT:
        g_value_set_string (value, self->verdict_text);
        break;
      case PROP_BYTES:
        g_value_set_uint64 (value, self->bytes_in + self->bytes_out);
        break;
      case PROP_BYTES_TEXT:
        g_value_set_string (value, self->bytes_text);
        break;
      case PROP_LIVE:
        g_value_set_boolean (value, self->ended == 0);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pc_connection_row_class_init (PcConnectionRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = pc_connection_row_finalize;
  object_class->get_property = pc_connection_row_get_property;

  properties[PROP_ID] = g_param_spec_uint64 ("id", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_APP_KEY] = g_param_spec_string ("app-key", NULL, NULL, NULL, flags);
  properties[PROP_TIME] = g_param_spec_string ("time", NULL, NULL, NULL, flags);
  properties[PROP_STARTED]
      = g_param_spec_int64 ("started", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_DIRECTION] = g_param_spec_string ("direction", NULL, NULL, NULL, flags);
  properties[PROP_ENDPOINT] = g_param_spec_string ("endpoint", NULL, NULL, NULL, flags);
  properties[PROP_PORT] = g_param_spec_string ("port", NULL, NULL, NULL, flags);
  properties[PROP_COUNTRY] = g_param_spec_string ("country", NULL, NULL, NULL, flags);
  properties[PROP_VERDICT] = g_param_spec_string ("verdict", NULL, NULL, NULL, flags);
  properties[PROP_VERDICT_TEXT] = g_param_spec_string ("verdict-text", NULL, NULL, NULL, flags);
  properties[PROP_BYTES] = g_param_spec_uint64 ("bytes", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_BYTES_TEXT] = g_param_spec_string ("bytes-text", NULL, NULL, NULL, flags);
  properties[PROP_LIVE] = g_param_spec_boolean ("live", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pc_connection_row_init (PcConnectionRow *self)
{
}

void
pc_record_parse (GVariant *record, PcRecord *out)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  memset (out, 0, sizeof *out);
  out->profile = out->app_kind = out->app_id = out->exe = out->comm = out->protocol = "";
  out->country = "";
  out->domain = out->remote_address = out->direction = out->verdict = out->reason = "";
  g_variant_iter_init (&iter, record);
  /* one pass: g_variant_lookup() per key would scan the dictionary each time */
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      const char **str = NULL;

      switch (key[0])
        {
          case 'a':
            str = g_str_equal (key, "app-id")     ? &out->app_id
                  : g_str_equal (key, "app-kind") ? &out->app_kind
                                                  : NULL;
            break;
          case 'b':
            if (g_str_equal (key, "bytes-in")
                && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
              out->bytes_in = g_variant_get_uint64 (value), out->has_bytes = TRUE;
            else if (g_str_equal (key, "bytes-out")
                     && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
              out->bytes_out = g_variant_get_uint64 (value), out->has_bytes = TRUE;
            break;
          case 'c':
            str = g_str_equal (key, "comm")      ? &out->comm
                  : g_str_equal (key, "country") ? &out->country
                                                 : NULL;
            break;
          case 'd':
            str = g_str_equal (key, "domain")      ? &out->domain
                  : g_str_equal (key, "direction") ? &out->direction
                                                   : NULL;
            break;
          case 'e':
            if (g_str_equal (key, "exe"))
              str = &out->exe;
            else if (g_str_equal (key, "ended")
                     && g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
              out->ended = g_variant_get_int64 (value), out->has_ended = TRUE;
            break;
          case 'i':
            if (g_str_equal (key, "id") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
              out->id = g_variant_get_uint64 (value);
            break;
          case 'p':
            str = g_str_equal (key, "profile")    ? &out->profile
                  : g_str_equal (key, "protocol") ? &out->protocol
                                                  : NULL;
            break;
          case 'r':
            if (g_str_equal (key, "remote-port")
                && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
              out->remote_port = g_variant_get_uint16 (value);
            else
              str = g_str_equal (key, "remote-address") ? &out->remote_address
                    : g_str_equal (key, "reason")       ? &out->reason
                                                        : NULL;
            break;
          case 's':
            if (g_str_equal (key, "started") && g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
              out->started = g_variant_get_int64 (value);
            break;
          case 'v':
            str = g_str_equal (key, "verdict") ? &out->verdict : NULL;
            break;
          default:
            break;
        }
      /* a child that is not in normal form is a copy: keep it while its string is used */
      if (str != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
          && out->n_keep < G_N_ELEMENTS (out->keep))
        {
          *str = g_variant_get_string (value, NULL);
          out->keep[out->n_keep++] = value;
          continue;
        }
      g_variant_unref (value);
    }
}

void
pc_record_clear (PcRecord *record)
{
  for (guint i = 0; i < record->n_keep; i++)
    g_variant_unref (record->keep[i]);
  record->n_keep = 0;
}

char *
pc_format_bytes (guint64 bytes)
{
  if (bytes == 0)
    return g_strdup ("0 B");
  return g_format_size (bytes);
}

static char *
verdict_text (const char *verdict, const char *reason)
{
  const char *what = g_str_equal (verdict, "block")   ? _ ("Blocked")
                     : g_str_equal (verdict, "allow") ? _ ("Allowed")
                                                      : verdict;
  if (reason[0] == '\0')
    return g_strdup (what);
  /* TRANSLATORS: a verdict and the reason the helper gave, e.g. "Blocked: rule - example.com" */
  return g_strdup_printf (_ ("%s: %s"), what, reason);
}

static gboolean
set_str (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

PcConnectionRow *
pc_connection_row_new (const PcRecord *record, const char *profile_hint)
{
  PcConnectionRow *self = g_object_new (PC_TYPE_CONNECTION_ROW, NULL);
  const char *profile = record->profile;
  const char *app_id = record->app_id;
  const char *exe = record->exe;
  const char *comm = record->comm;
  const char *protocol = record->protocol;
  const char *domain = record->domain;
  const char *remote = record->remote_address;
  const char *direction = record->direction;
  guint16 port = record->remote_port;
  g_autoptr (GDateTime) dt = NULL;
  g_autofree char *joined = NULL;

  self->id = record->id;
  /* the helper decides a new program's first flows before its profile exists */
  if (profile[0] == '\0' && profile_hint != NULL)
    profile = profile_hint;
  self->profile = g_strdup (profile);
  self->exe = g_strdup (exe);
  self->app_id = g_strdup (app_id);
  /* the app a connection belongs to: its profile, else its identity as the helper saw it */
  if (profile[0] != '\0')
    self->app_key = g_strdup (profile);
  else if (app_id[0] != '\0')
    self->app_key = g_strdup_printf ("app:%s", app_id);
  else if (exe[0] != '\0')
    self->app_key = g_strdup_printf ("exe:%s", exe);
  else
    self->app_key = g_strdup ("unknown");
  if (app_id[0] != '\0' && app_id[0] != '/')
    self->fallback_name = g_strdup (app_id);
  else if (exe[0] != '\0')
    self->fallback_name = g_path_get_basename (exe);
  else if (comm[0] != '\0')
    self->fallback_name = g_strdup (comm);
  else
    self->fallback_name = g_strdup (_ ("Unknown process"));

  self->started = record->started;
  dt = g_date_time_new_from_unix_local (self->started / G_USEC_PER_SEC);
  if (dt == NULL)
    self->time = g_strdup ("");
  else
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();

      /* history reaches back further than today: then the date too */
      self->time = g_date_time_format (
          dt, g_date_time_get_day_of_year (dt) == g_date_time_get_day_of_year (now)
                      && g_date_time_get_year (dt) == g_date_time_get_year (now)
                  ? "%X"
                  : "%x %X");
    }
  self->inbound = g_str_equal (direction, "inbound");
  self->direction = g_strdup (self->inbound ? _ ("In") : _ ("Out"));
  self->domain = g_strdup (domain);
  self->country = g_strdup (record->country);
  self->remote_address = g_strdup (remote);
  self->endpoint = g_strdup (domain[0] != '\0' ? domain : remote);
  if (port != 0)
    self->port = g_strdup_printf ("%s/%u", protocol, port);
  else
    self->port = g_strdup (protocol);
  self->verdict = g_strdup (record->verdict);
  self->reason = g_strdup (record->reason);
  self->verdict_text = verdict_text (self->verdict, self->reason);
  self->bytes_in = record->bytes_in;
  self->bytes_out = record->bytes_out;
  self->bytes_text = pc_format_bytes (self->bytes_in + self->bytes_out);
  self->ended = record->ended;
  joined = g_strjoin (" ", self->fallback_name, self->endpoint, remote, self->port,
                      self->verdict_text, self->app_key, NULL);
  self->search_text = g_utf8_casefold (joined, -1);
  return self;
}

gboolean
pc_connection_row_update (PcConnectionRow *self,
                          const PcRecord *record,
                          guint64 *bytes_delta_in,
                          guint64 *bytes_delta_out)
{
  /* a partial record (only some keys) changes only what it has */
  guint64 in = self->bytes_in, out = self->bytes_out;
  gint64 ended = self->ended;
  const char *verdict = self->verdict;
  const char *reason = self->reason;
  gboolean changed = FALSE;

  if (record->has_bytes)
    in = record->bytes_in, out = record->bytes_out;
  if (record->has_ended)
    ended = record->ended;
  if (record->verdict[0] != '\0')
    verdict = record->verdict;
  if (record->reason[0] != '\0')
    reason = record->reason;

  *bytes_delta_in = in > self->bytes_in ? in - self->bytes_in : 0;
  *bytes_delta_out = out > self->bytes_out ? out - self->bytes_out : 0;
  if (in != self->bytes_in || out != self->bytes_out)
    {
      self->bytes_in = in;
      self->bytes_out = out;
      g_free (self->bytes_text);
      self->bytes_text = pc_format_bytes (in + out);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_TEXT]);
      changed = TRUE;
    }
  if (set_str (&self->verdict, verdict) | set_str (&self->reason, reason))
    {
      g_free (self->verdict_text);
      self->verdict_text = verdict_text (self->verdict, self->reason);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERDICT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERDICT_TEXT]);
      changed = TRUE;
    }
  if ((ended != 0) != (self->ended != 0))
    {
      self->ended = ended;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
      changed = TRUE;
    }
  return changed;
}

guint64
pc_connection_row_get_id (PcConnectionRow *self)
{
  return self->id;
}

void
pc_connection_row_set_profile (PcConnectionRow *self, const char *profile)
{
  if (g_strcmp0 (self->profile, profile) == 0)
    return;
  g_free (self->profile);
  self->profile = g_strdup (profile);
  g_free (self->app_key);
  self->app_key = g_strdup (profile);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_APP_KEY]);
}

const guint64 *
pc_connection_row_peek_id (PcConnectionRow *self)
{
  return &self->id;
}

const char *
pc_connection_row_get_app_key (PcConnectionRow *self)
{
  return self->app_key;
}

const char *
pc_connection_row_get_profile (PcConnectionRow *self)
{
  return self->profile;
}

const char *
pc_connection_row_get_exe (PcConnectionRow *self)
{
  return self->exe;
}

const char *
pc_connection_row_get_app_id (PcConnectionRow *self)
{
  return self->app_id;
}

const char *
pc_connection_row_get_fallback_name (PcConnectionRow *self)
{
  return self->fallback_name;
}

const char *
pc_connection_row_get_endpoint (PcConnectionRow *self)
{
  return self->endpoint;
}

const char *
pc_connection_row_get_domain (PcConnectionRow *self)
{
  return self->domain;
}

const char *
pc_connection_row_get_remote_address (PcConnectionRow *self)
{
  return self->remote_address;
}

const char *
pc_connection_row_get_port (PcConnectionRow *self)
{
  return self->port;
}

const char *
pc_connection_row_get_verdict (PcConnectionRow *self)
{
  return self->verdict;
}

const char *
pc_connection_row_get_reason (PcConnectionRow *self)
{
  return self->reason;
}

gboolean
pc_connection_row_is_blocked (PcConnectionRow *self)
{
  return g_str_equal (self->verdict, "block");
}

gboolean
pc_connection_row_is_inbound (PcConnectionRow *self)
{
  return self->inbound;
}

gboolean
pc_connection_row_is_live (PcConnectionRow *self)
{
  return self->ended == 0;
}

gint64
pc_connection_row_get_ended (PcConnectionRow *self)
{
  return self->ended;
}

guint64
pc_connection_row_get_bytes (PcConnectionRow *self)
{
  return self->bytes_in + self->bytes_out;
}

guint64
pc_connection_row_get_bytes_in (PcConnectionRow *self)
{
  return self->bytes_in;
}

guint64
pc_connection_row_get_bytes_out (PcConnectionRow *self)
{
  return self->bytes_out;
}

gboolean
pc_connection_row_matches (PcConnectionRow *self, const char *needle)
{
  return needle == NULL || needle[0] == '\0' || strstr (self->search_text, needle) != NULL;
}
