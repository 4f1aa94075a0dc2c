/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-app-row.h"
#include "pc-connection-row.h"

#include <glib/gi18n.h>
#include <string.h>

struct _PcAppRow
{
  GObject parent_instance;

  char *key;
  char *profile;
  char *name;
  char *icon_name;
  int active;
  int blocked;
  int total;
  double rate;
  char *summary;
  gboolean dirty;
};

G_DEFINE_FINAL_TYPE (PcAppRow, pc_app_row, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_KEY,
  PROP_NAME,
  PROP_ICON_NAME,
  PROP_ACTIVE,
  PROP_BLOCKED,
  PROP_SUMMARY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pc_app_row_finalize (GObject *object)
{
  PcAppRow *self = PC_APP_ROW (object);

  g_free (self->key);
  g_free (self->profile);
  g_free (self->name);
  g_free (self->icon_name);
  g_free (self->summary);
  G_OBJECT_CLASS (pc_app_row_parent_class)->finalize (object);
}

static void
pc_app_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PcAppRow *self = PC_APP_ROW (object);

  switch (prop_id)
    {
      case PROP_KEY:
        g_value_set_string (value, self->key);
        break;
      case PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case PROP_ICON_NAME:
        g_value_set_string (value, self->icon_name);
        break;
      case PROP_ACTIVE:
        g_value_set_uint (value, (guint)MAX (self->active, 0));
        break;
      case PROP_BLOCKED:
        g_value_set_uint (value, (guint)MAX (self->blocked, 0));
        break;
      case PROP_SUMMARY:
        g_value_set_string (value, self->summary);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pc_app_row_class_init (PcAppRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = pc_app_row_finalize;
  object_class->get_property = pc_app_row_get_property;

  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_ICON_NAME] = g_param_spec_string ("icon-name", NULL, NULL, NULL, flags);
  properties[PROP_ACTIVE] = g_param_spec_uint ("active", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_BLOCKED] = g_param_spec_uint ("blocked", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pc_app_row_init (PcAppRow *self)
{
  self->icon_name = g_strdup ("application-x-executable-symbolic");
}

/* a profile named after its executable reads better as the program's name */
static char *
display_name (const char *name)
{
  if (name[0] == '/' && strrchr (name, '/')[1] != '\0')
    return g_strdup (strrchr (name, '/') + 1);
  return g_strdup (name);
}

static char *
make_summary (PcAppRow *self)
{
  g_autofree char *active = NULL;
  g_autofree char *rate = NULL;

  active = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%d connection", "%d connections", MAX (self->active, 0)),
      MAX (self->active, 0));
  if (self->rate >= 1)
    {
      g_autofree char *size = g_format_size ((guint64)self->rate);
      /* TRANSLATORS: a transfer rate, e.g. "1.2 kB/s" */
      rate = g_strdup_printf (_ ("%s/s"), size);
    }
  if (self->blocked > 0 && rate != NULL)
    /* TRANSLATORS: "3 connections · 2 blocked · 1.2 kB/s" */
    return g_strdup_printf (_ ("%s · %d blocked · %s"), active, self->blocked, rate);
  if (self->blocked > 0)
    /* TRANSLATORS: "3 connections · 2 blocked" */
    return g_strdup_printf (_ ("%s · %d blocked"), active, self->blocked);
  if (rate != NULL)
    return g_strdup_printf ("%s · %s", active, rate);
  return g_steal_pointer (&active);
}

PcAppRow *
pc_app_row_new (const char *key, const char *profile, const char *name)
{
  PcAppRow *self = g_object_new (PC_TYPE_APP_ROW, NULL);

  self->key = g_strdup (key);
  self->profile = g_strdup (profile);
  self->name = display_name (name);
  if (key[0] == '\0')
    {
      g_free (self->icon_name);
      self->icon_name = g_strdup ("network-workgroup-symbolic");
    }
  self->summary = make_summary (self);
  return self;
}

const char *
pc_app_row_get_key (PcAppRow *self)
{
  return self->key;
}

const char *
pc_app_row_get_profile (PcAppRow *self)
{
  return self->profile;
}

const char *
pc_app_row_get_name (PcAppRow *self)
{
  return self->name;
}

void
pc_app_row_set_name (PcAppRow *self, const char *name)
{
  g_autofree char *shown = NULL;

  if (name == NULL || name[0] == '\0')
    return;
  shown = display_name (name);
  if (g_strcmp0 (self->name, shown) == 0)
    return;
  g_free (self->name);
  self->name = g_steal_pointer (&shown);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

void
pc_app_row_set_icon_name (PcAppRow *self, const char *icon_name)
{
  if (icon_name == NULL || icon_name[0] == '\0' || g_strcmp0 (self->icon_name, icon_name) == 0)
    return;
  g_free (self->icon_name);
  self->icon_name = g_strdup (icon_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICON_NAME]);
}

guint
pc_app_row_get_active (PcAppRow *self)
{
  return (guint)MAX (self->active, 0);
}

int
pc_app_row_get_total (PcAppRow *self)
{
  return self->total;
}

guint
pc_app_row_get_blocked (PcAppRow *self)
{
  return (guint)MAX (self->blocked, 0);
}

void
pc_app_row_add_counts (PcAppRow *self, int active, int blocked, int total)
{
  self->active += active;
  self->blocked += blocked;
  self->total += total;
  self->dirty = TRUE;
}

void
pc_app_row_set_rate (PcAppRow *self, double bytes_per_second)
{
  if ((guint64)self->rate == (guint64)bytes_per_second)
    return;
  self->rate = bytes_per_second;
  self->dirty = TRUE;
}

double
pc_app_row_get_rate (PcAppRow *self)
{
  return self->rate;
}

void
pc_app_row_commit (PcAppRow *self)
{
  g_autofree char *summary = NULL;

  if (!self->dirty)
    return;
  self->dirty = FALSE;
  summary = make_summary (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLOCKED]);
  if (g_strcmp0 (summary, self->summary) != 0)
    {
      g_free (self->summary);
      self->summary = g_steal_pointer (&summary);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
    }
}
