/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-bandwidth-graph.h"

#include <glib/gi18n.h>
#include <math.h>

#define PAD_LEFT 72.0
#define PAD_RIGHT 16.0
#define PAD_TOP 32.0
#define PAD_BOTTOM 28.0

struct _PcBandwidthGraph
{
  GtkWidget parent_instance;

  PcLiveModel *model;
  char *app;
  gulong tick_id;
  gboolean held;
  double hover_x; /* < 0: no pointer */
  /* a range from the helper's history instead of the live series */
  gboolean history;
  GArray *h_in;
  GArray *h_out;
  guint step; /* seconds per sample */
};

G_DEFINE_FINAL_TYPE (PcBandwidthGraph, pc_bandwidth_graph, GTK_TYPE_WIDGET)

static double
nice_ceiling (double v)
{
  double base, f;

  if (v <= 1024)
    return 1024; /* at least 1 kB/s on the axis */
  base = pow (10, floor (log10 (v)));
  f = v / base;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * base;
}

static char *
format_rate (double bytes_per_second)
{
  g_autofree char *size = g_format_size ((guint64)bytes_per_second);

  /* TRANSLATORS: a transfer rate, e.g. "1.2 kB/s" */
  return g_strdup_printf (_ ("%s/s"), size);
}

static gboolean
series (PcBandwidthGraph *self, const double **in, const double **out, guint *head, guint *n)
{
  if (self->history)
    {
      *in = (const double *)(gpointer)self->h_in->data;
      *out = (const double *)(gpointer)self->h_out->data;
      *head = 0;
      *n = self->h_in->len;
      return *n >= 2;
    }
  *n = PC_LIVE_MODEL_SAMPLES;
  return self->model != NULL
         && pc_live_model_get_series (self->model, self->app ? self->app : "", in, out, head);
}

static GdkRGBA
named_color (GtkWidget *widget, const char *name, const char *fallback)
{
  GdkRGBA color;
  GtkStyleContext *context = gtk_widget_get_style_context (widget);

  if (!gtk_style_context_lookup_color (context, name, &color))
    gdk_rgba_parse (&color, fallback);
  return color;
}

static void
add_label (GtkWidget *widget,
           GtkSnapshot *snapshot,
           const char *text,
           double x,
           double y,
           double xalign,
           const GdkRGBA *color)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot,
                          &GRAPHENE_POINT_INIT ((float)(x - w * xalign), (float)(y - h / 2.0)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
draw_series (cairo_t *cr,
             const double *values,
             guint head,
             guint n,
             double x0,
             double y0,
             double w,
             double h,
             double top,
             const GdkRGBA *color)
{
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < n; i++)
    {
      double v = values[(head + i) % n];
      double x = x0 + w * i / (n - 1);
      double y = y0 + h - h * MIN (v / top, 1.0);

      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha);
  cairo_stroke_preserve (cr);
  cairo_line_to (cr, x0 + w, y0 + h);
  cairo_line_to (cr, x0, y0 + h);
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, 0.15);
  cairo_fill (cr);
}

static void
pc_bandwidth_graph_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PcBandwidthGraph *self = PC_BANDWIDTH_GRAPH (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  double x0 = PAD_LEFT, y0 = PAD_TOP;
  double w = width - PAD_LEFT - PAD_RIGHT, h = height - PAD_TOP - PAD_BOTTOM;
  const double *in = NULL, *out = NULL;
  guint head = 0, n = PC_LIVE_MODEL_SAMPLES;
  guint step = self->history ? self->step : 1;
  double peak = 0, top;
  GdkRGBA fg, grid, c_in, c_out;
  cairo_t *cr;

  if (w < 40 || h < 40)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  grid = fg;
  grid.alpha = 0.15f;
  c_in = named_color (widget, "pc_graph_received", "#3584e4");
  c_out = named_color (widget, "pc_graph_sent", "#e66100");

  if (!series (self, &in, &out, &head, &n))
    in = out = NULL;
  else
    for (guint i = 0; i < n; i++)
      peak = MAX (peak, MAX (in[i], out[i]));
  top = nice_ceiling (peak);

  /* grid and the rate axis */
  for (int i = 0; i <= 4; i++)
    {
      double y = y0 + h - h * i / 4.0;
      g_autofree char *label = format_rate (top * i / 4.0);
      GdkRGBA dim = fg;

      dim.alpha = 0.7f;
      gtk_snapshot_append_color (snapshot, &grid,
                                 &GRAPHENE_RECT_INIT ((float)x0, (float)y, (float)w, 1));
      add_label (widget, snapshot, label, x0 - 8, y, 1.0, &dim);
    }
  /* the time axis: how long ago */
  /* 2 minutes, 4 hours or 5 days apart */
  for (int ticks = self->history ? 6 : 5, k = ticks; k >= 0; k--)
    {
      double x = x0 + w * (ticks - k) / (double)ticks;
      double ago = (double)n * step * k / ticks; /* seconds */
      g_autofree char *label
          = k == 0 ? g_strdup (_ ("now"))
            /* TRANSLATORS: minutes, hours or days ago on the graph's time axis */
            : ago < 3 * 3600  ? g_strdup_printf (_ ("−%.0f min"), ago / 60)
            : ago < 3 * 86400 ? g_strdup_printf (_ ("−%.0f h"), ago / 3600)
                              : g_strdup_printf (_ ("−%.0f d"), ago / 86400);
      int m = k;
      GdkRGBA dim = fg;

      dim.alpha = 0.7f;
      gtk_snapshot_append_color (snapshot, &grid,
                                 &GRAPHENE_RECT_INIT ((float)x, (float)y0, 1, (float)h));
      add_label (widget, snapshot, label, x, y0 + h + PAD_BOTTOM / 2.0,
                 m == 0       ? 1.0
                 : m == ticks ? 0.0
                              : 0.5,
                 &dim);
    }
  /* legend */
  gtk_snapshot_append_color (snapshot, &c_in, &GRAPHENE_RECT_INIT ((float)x0, 8, 12, 12));
  add_label (widget, snapshot, _ ("Received"), x0 + 18, 14, 0.0, &fg);
  gtk_snapshot_append_color (snapshot, &c_out, &GRAPHENE_RECT_INIT ((float)x0 + 120, 8, 12, 12));
  add_label (widget, snapshot, _ ("Sent"), x0 + 138, 14, 0.0, &fg);

  if (in == NULL)
    return;
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, (float)width, (float)height));
  cairo_rectangle (cr, x0, y0 - 2, w, h + 4);
  cairo_clip (cr);
  draw_series (cr, in, head, n, x0, y0, w, h, top, &c_in);
  draw_series (cr, out, head, n, x0, y0, w, h, top, &c_out);
  cairo_destroy (cr);

  if (self->hover_x >= x0 && self->hover_x <= x0 + w)
    {
      guint i = (guint)round ((self->hover_x - x0) / w * (n - 1));
      double x = x0 + w * i / (n - 1);
      guint idx = (head + i) % n;
      g_autofree char *rin = format_rate (in[idx]);
      g_autofree char *rout = format_rate (out[idx]);
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autoptr (GDateTime) at = g_date_time_add_seconds (now, -(double)(n - i) * step);
      g_autofree char *time = g_date_time_format (at, step >= 60 ? "%x %H:%M" : "%X");
      /* TRANSLATORS: the values under the pointer: time, received, sent */
      g_autofree char *text = g_strdup_printf (_ ("%s\n↓ %s\n↑ %s"), time, rin, rout);
      g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
      GdkRGBA bg = named_color (widget, "popover_bg_color", "#ffffff");
      GdkRGBA shade = fg;
      GskRoundedRect box;
      int tw, th;
      double bx;

      shade.alpha = 0.5f;
      gtk_snapshot_append_color (snapshot, &shade,
                                 &GRAPHENE_RECT_INIT ((float)x, (float)y0, 1, (float)h));
      pango_layout_get_pixel_size (layout, &tw, &th);
      bx = x + 10 + tw + 16 > width ? x - 10 - tw - 16 : x + 10;
      gsk_rounded_rect_init_from_rect (
          &box, &GRAPHENE_RECT_INIT ((float)bx, (float)y0 + 8, (float)tw + 16, (float)th + 12), 6);
      gtk_snapshot_push_rounded_clip (snapshot, &box);
      gtk_snapshot_append_color (snapshot, &bg, &box.bounds);
      gtk_snapshot_pop (snapshot);
      gtk_snapshot_append_border (snapshot, &box, (float[4]){ 1, 1, 1, 1 },
                                  (GdkRGBA[4]){ grid, grid, grid, grid });
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float)bx + 8, (float)y0 + 14));
      gtk_snapshot_append_layout (snapshot, layout, &fg);
      gtk_snapshot_restore (snapshot);
    }
}

static void
update_accessible (PcBandwidthGraph *self)
{
  const double *in, *out;
  guint head, n;
  g_autofree char *rin = NULL, *rout = NULL, *text = NULL;

  if (!series (self, &in, &out, &head, &n))
    return;
  {
    guint last = (head + n - 1) % n;

    rin = format_rate (in[last]);
    rout = format_rate (out[last]);
  }
  /* TRANSLATORS: the graph's accessible description: received and sent rates now */
  text = g_strdup_printf (_ ("Receiving %s, sending %s"), rin, rout);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text,
                                  -1);
}

static void
tick_cb (PcLiveModel *model, gpointer user_data)
{
  PcBandwidthGraph *self = user_data;

  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, gpointer user_data)
{
  PcBandwidthGraph *self = user_data;

  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *motion, gpointer user_data)
{
  PcBandwidthGraph *self = user_data;

  self->hover_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
pc_bandwidth_graph_map (GtkWidget *widget)
{
  PcBandwidthGraph *self = PC_BANDWIDTH_GRAPH (widget);

  GTK_WIDGET_CLASS (pc_bandwidth_graph_parent_class)->map (widget);
  if (self->model != NULL && !self->held)
    {
      self->held = TRUE;
      pc_live_model_hold (self->model);
    }
}

static void
pc_bandwidth_graph_unmap (GtkWidget *widget)
{
  PcBandwidthGraph *self = PC_BANDWIDTH_GRAPH (widget);

  if (self->held)
    {
      self->held = FALSE;
      pc_live_model_release (self->model);
    }
  GTK_WIDGET_CLASS (pc_bandwidth_graph_parent_class)->unmap (widget);
}

static void
pc_bandwidth_graph_dispose (GObject *object)
{
  PcBandwidthGraph *self = PC_BANDWIDTH_GRAPH (object);

  if (self->model != NULL)
    g_clear_signal_handler (&self->tick_id, self->model);
  g_clear_object (&self->model);
  g_clear_pointer (&self->app, g_free);
  g_clear_pointer (&self->h_in, g_array_unref);
  g_clear_pointer (&self->h_out, g_array_unref);
  G_OBJECT_CLASS (pc_bandwidth_graph_parent_class)->dispose (object);
}

static void
pc_bandwidth_graph_class_init (PcBandwidthGraphClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pc_bandwidth_graph_dispose;
  widget_class->snapshot = pc_bandwidth_graph_snapshot;
  widget_class->map = pc_bandwidth_graph_map;
  widget_class->unmap = pc_bandwidth_graph_unmap;
  gtk_widget_class_set_css_name (widget_class, "bandwidthgraph");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pc_bandwidth_graph_init (PcBandwidthGraph *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->hover_x = -1;
  self->app = g_strdup ("");
  self->h_in = g_array_new (FALSE, TRUE, sizeof (double));
  self->h_out = g_array_new (FALSE, TRUE, sizeof (double));
  self->step = 1;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Bandwidth over the last 10 minutes"), -1);
}

void
pc_bandwidth_graph_set_model (PcBandwidthGraph *self, PcLiveModel *model)
{
  g_return_if_fail (self->model == NULL);
  self->model = g_object_ref (model);
  self->tick_id = g_signal_connect (model, "tick", G_CALLBACK (tick_cb), self);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->held)
    {
      self->held = TRUE;
      pc_live_model_hold (self->model);
    }
}

void
pc_bandwidth_graph_set_app (PcBandwidthGraph *self, const char *key)
{
  g_free (self->app);
  self->app = g_strdup (key);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GVariant *
pc_bandwidth_graph_dump (PcBandwidthGraph *self)
{
  const double *in = NULL, *out = NULL;
  guint head = 0, n = 0;
  double peak = 0, total = 0;

  if (series (self, &in, &out, &head, &n))
    for (guint i = 0; i < n; i++)
      {
        peak = MAX (peak, MAX (in[i], out[i]));
        /* rates times the seconds each sample stands for: bytes */
        total += (in[i] + out[i]) * (self->history ? self->step : 1);
      }
  return g_variant_new_parsed ("{'app': <%s>, 'peak': <%d>, 'total': <%d>, 'history': <%b>}",
                               self->app, peak, total, self->history);
}

void
pc_bandwidth_graph_set_live (PcBandwidthGraph *self)
{
  self->history = FALSE;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pc_bandwidth_graph_set_history (
    PcBandwidthGraph *self, GVariant *series_, gint64 since, guint step, guint n_samples)
{
  GVariantIter iter;
  gint64 start;
  guint64 in, out;

  g_array_set_size (self->h_in, 0);
  g_array_set_size (self->h_out, 0);
  /* n_samples slots from since, step seconds each; the helper leaves out empty ones */
  g_array_set_size (self->h_in, n_samples);
  g_array_set_size (self->h_out, n_samples);
  g_variant_iter_init (&iter, series_);
  while (g_variant_iter_next (&iter, "(xtt)", &start, &in, &out))
    {
      gint64 slot = (start - since) / ((gint64)step * G_USEC_PER_SEC);

      if (slot < 0 || slot >= n_samples)
        continue;
      g_array_index (self->h_in, double, slot) += (double)in / step;
      g_array_index (self->h_out, double, slot) += (double)out / step;
    }
  self->step = step;
  self->history = TRUE;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
