/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-sparkline.h"

#include "pc-application.h"

#define SPARK_SAMPLES 60

struct _PcSparkline
{
  GtkWidget parent_instance;

  char *key;
  gulong tick_id;
};

G_DEFINE_FINAL_TYPE (PcSparkline, pc_sparkline, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static PcLiveModel *
model (void)
{
  GApplication *app = g_application_get_default ();

  return PC_IS_APPLICATION (app) ? pc_application_get_live_model (PC_APPLICATION (app)) : NULL;
}

static void
pc_sparkline_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PcSparkline *self = PC_SPARKLINE (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  const double *in, *out;
  guint head;
  double peak = 0;
  double values[SPARK_SAMPLES];
  GdkRGBA color;
  cairo_t *cr;

  if (model () == NULL || self->key == NULL
      || !pc_live_model_get_series (model (), self->key, &in, &out, &head))
    return;
  for (guint i = 0; i < SPARK_SAMPLES; i++)
    {
      guint idx = (head + PC_LIVE_MODEL_SAMPLES - SPARK_SAMPLES + i) % PC_LIVE_MODEL_SAMPLES;

      values[i] = in[idx] + out[idx];
      peak = MAX (peak, values[i]);
    }
  if (peak <= 0)
    return;
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), "accent_color",
                                       &color))
    gdk_rgba_parse (&color, "#3584e4");
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, (float)width, (float)height));
  for (guint i = 0; i < SPARK_SAMPLES; i++)
    {
      double x = width * i / (SPARK_SAMPLES - 1);
      double y = height - 1 - (height - 2) * values[i] / peak;

      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, color.alpha);
  cairo_stroke_preserve (cr);
  cairo_line_to (cr, width, height);
  cairo_line_to (cr, 0, height);
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, color.red, color.green, color.blue, 0.2);
  cairo_fill (cr);
  cairo_destroy (cr);
}

static void
tick_cb (PcLiveModel *live, gpointer user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
pc_sparkline_map (GtkWidget *widget)
{
  PcSparkline *self = PC_SPARKLINE (widget);

  GTK_WIDGET_CLASS (pc_sparkline_parent_class)->map (widget);
  if (model () != NULL && self->tick_id == 0)
    self->tick_id = g_signal_connect (model (), "tick", G_CALLBACK (tick_cb), self);
}

static void
pc_sparkline_unmap (GtkWidget *widget)
{
  PcSparkline *self = PC_SPARKLINE (widget);

  if (self->tick_id != 0 && model () != NULL)
    g_clear_signal_handler (&self->tick_id, model ());
  GTK_WIDGET_CLASS (pc_sparkline_parent_class)->unmap (widget);
}

static void
pc_sparkline_measure (GtkWidget *widget,
                      GtkOrientation orientation,
                      int for_size,
                      int *minimum,
                      int *natural,
                      int *minimum_baseline,
                      int *natural_baseline)
{
  *minimum = *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 48 : 20;
}

static void
pc_sparkline_finalize (GObject *object)
{
  g_free (PC_SPARKLINE (object)->key);
  G_OBJECT_CLASS (pc_sparkline_parent_class)->finalize (object);
}

static void
pc_sparkline_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
      case PROP_KEY:
        pc_sparkline_set_key (PC_SPARKLINE (object), g_value_get_string (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pc_sparkline_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
      case PROP_KEY:
        g_value_set_string (value, PC_SPARKLINE (object)->key);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pc_sparkline_class_init (PcSparklineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pc_sparkline_finalize;
  object_class->set_property = pc_sparkline_set_property;
  object_class->get_property = pc_sparkline_get_property;
  widget_class->snapshot = pc_sparkline_snapshot;
  widget_class->measure = pc_sparkline_measure;
  widget_class->map = pc_sparkline_map;
  widget_class->unmap = pc_sparkline_unmap;

  properties[PROP_KEY]
      = g_param_spec_string ("key", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "sparkline");
  /* decoration: the row's text says the rate */
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_PRESENTATION);
}

static void
pc_sparkline_init (PcSparkline *self)
{
}

void
pc_sparkline_set_key (PcSparkline *self, const char *key)
{
  if (g_strcmp0 (self->key, key) == 0)
    return;
  g_free (self->key);
  self->key = g_strdup (key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
