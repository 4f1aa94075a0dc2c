/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test hook: compiled in, but off unless the environment variable PORTCULLIS_TEST_SOCKET
 * names a path. Then the app listens on a unix socket at that path (mode 0600) for one command
 * per connection and answers one line (JSON, "ok", or "error: ..."). It drives the app the way a
 * person does: through its actions and widgets.
 *
 *   action NAME [GVARIANT]   activate an action: app.*, win.*, monitor.* (e.g.
 *                            "action monitor.block uint64 7", "action win.show-page 'apps'")
 *   dump                     what the window shows: page, banner, Monitor's apps and rows,
 *                            the Apps page, the Settings page, the bandwidth graph (JSON)
 *   screenshot PATH          the window as PNG
 *   scheme light|dark|default   force the color scheme (AdwStyleManager)
 *   select-app KEY           select an app in Monitor ("" for all)
 *   search TEXT              Monitor's search entry
 *   set KEY VALUE            change a setting through its row on the shown settings view (Apps
 *                            page when shown, else Settings); KEY add-rule adds a rule
 *   popup ID                 open a connection's context menu
 *   history-search TEXT      search the History page
 *   history-filter KEY VALUE History's filters: app ID, verdict allowed|blocked, direction
 *                            out|in, time hour|day|week|month (an empty VALUE: all)
 *   dialog-response RESPONSE answer the open message dialog (e.g. delete, cancel)
 *   bandwidth-range N        Bandwidth page: 0 live, 1 last 24 hours, 2 last 30 days
 *   size WIDTH HEIGHT        resize the window
 *   bench-feed N             add N synthetic connections to the live model in one batch
 *   prompts                  the pending prompts the app knows, what each popup shows (JSON)
 *   prompt-set ID KEY VALUE  a popup's choice: scope, lifetime, minutes, details (true/false)
 *   prompt-click ID allow|block   activate a popup's button (refused while insensitive)
 *   prompt-close ID          the popup's close button ("decide later")
 *   prompt-screenshot ID PATH     a popup as PNG
 *   bench-run SECONDS RATE   RATE synthetic connection events a second (half new, half byte
 *                            updates) in batches every 100 ms, as the helper sends them, while
 *                            the window draws every frame; answers frame-time percentiles (ms:
 *                            the main thread's work for a frame, its update/layout/paint phases
 *                            plus the batches applied since the previous frame, in wall and in
 *                            thread CPU time), frame-interval
 *                            percentiles, batch apply times and RSS (JSON). RATE 0 is the
 *                            baseline.
 */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-test-hook.h"

#include "pc-apps-page.h"
#include "pc-bandwidth-graph.h"
#include "pc-history-page.h"
#include "pc-monitor-page.h"
#include "pc-prompt-manager.h"
#include "pc-settings-view.h"
#include "pc-window.h"

#include <adwaita.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct _PcTestHook
{
  GSocketService *service;
  char *path;
};

static PcWindow *
window (void)
{
  GList *list = gtk_application_get_windows (GTK_APPLICATION (g_application_get_default ()));

  /* the main window, not a prompt popup */
  for (GList *l = list; l != NULL; l = l->next)
    if (PC_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static char *
to_json (GVariant *value)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (value);

  return json_gvariant_serialize_data (owned, NULL);
}

/* The message dialog the app shows (a confirmation), if any. */
static AdwMessageDialog *
open_dialog (void)
{
  g_autoptr (GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (w))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static char *
dump (PcWindow *win)
{
  AdwMessageDialog *dialog = open_dialog ();
  GVariantBuilder b;
  const char *title = NULL, *detail = NULL;
  gboolean shown = pc_window_get_banner (win, &title, &detail);
  PcApplication *app = PC_APPLICATION (g_application_get_default ());
  GtkWidget *bandwidth = pc_window_get_page_widget (win, "bandwidth");
  GtkWidget *graph = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "page", g_variant_new_string (pc_window_get_page (win)));
  g_variant_builder_add_parsed (&b, "{'banner', <{'shown': <%b>, 'title': <%s>, 'detail': <%s>}>}",
                                shown, title, detail);
  g_variant_builder_add_parsed (&b, "{'dialog', <{'shown': <%b>, 'heading': <%s>, 'body': <%s>}>}",
                                dialog != NULL,
                                dialog ? adw_message_dialog_get_heading (dialog) ?: "" : "",
                                dialog ? adw_message_dialog_get_body (dialog) ?: "" : "");
  g_variant_builder_add (&b, "{sv}", "helper-state",
                         g_variant_new_int32 (pc_application_get_helper_state (app)));
  g_variant_builder_add (
      &b, "{sv}", "monitor",
      pc_monitor_page_dump (PC_MONITOR_PAGE (pc_window_get_page_widget (win, "monitor"))));
  g_variant_builder_add (
      &b, "{sv}", "apps",
      pc_apps_page_dump (PC_APPS_PAGE (pc_window_get_page_widget (win, "apps"))));
  g_variant_builder_add (
      &b, "{sv}", "settings",
      pc_settings_view_dump (PC_SETTINGS_VIEW (pc_window_get_page_widget (win, "settings"))));
  g_variant_builder_add (
      &b, "{sv}", "history",
      pc_history_page_dump (PC_HISTORY_PAGE (pc_window_get_page_widget (win, "history"))));
  /* the graph is inside the bandwidth page's box */
  for (GtkWidget *w = bandwidth; w != NULL && graph == NULL;)
    {
      if (PC_IS_BANDWIDTH_GRAPH (w))
        graph = w;
      else if (gtk_widget_get_first_child (w) != NULL)
        w = gtk_widget_get_first_child (w);
      else
        {
          while (w != NULL && w != bandwidth && gtk_widget_get_next_sibling (w) == NULL)
            w = gtk_widget_get_parent (w);
          w = (w == NULL || w == bandwidth) ? NULL : gtk_widget_get_next_sibling (w);
        }
    }
  if (graph != NULL)
    g_variant_builder_add (&b, "{sv}", "bandwidth",
                           pc_bandwidth_graph_dump (PC_BANDWIDTH_GRAPH (graph)));
  return to_json (g_variant_builder_end (&b));
}

/* NULL while the widget has nothing to draw yet (a resize not laid out, no frame since) */
static char *
try_screenshot (GtkWidget *widget, const char *path)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return NULL;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, (float)width, (float)height));
  if (!gdk_texture_save_to_png (texture, path))
    return g_strdup_printf ("error: cannot write %s", path);
  return g_strdup ("ok");
}

typedef struct
{
  GSocketConnection *connection;
  char *path;
  guint frames;
} Shot;

static void
answer_later (GSocketConnection *connection, const char *answer)
{
  g_autofree char *out = g_strconcat (answer, "\n", NULL);

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), out,
                             strlen (out), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static gboolean
shot_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  Shot *shot = user_data;
  g_autofree char *answer = try_screenshot (widget, shot->path);

  if (answer == NULL && ++shot->frames < 120)
    {
      gtk_widget_queue_draw (widget);
      return G_SOURCE_CONTINUE;
    }
  answer_later (shot->connection, answer != NULL ? answer : "error: nothing to draw");
  g_object_unref (shot->connection);
  g_free (shot->path);
  g_free (shot);
  return G_SOURCE_REMOVE;
}

/* The widget as PNG; when a frame is still due (e.g. just after a resize), after it. */
static char *
screenshot (GSocketConnection *connection, GtkWidget *widget, const char *path)
{
  char *answer = try_screenshot (widget, path);
  Shot *shot;

  if (answer != NULL)
    return answer;
  if (!gtk_widget_get_mapped (widget))
    return g_strdup ("error: nothing to draw (not shown)");
  shot = g_new0 (Shot, 1);
  shot->connection = g_object_ref (connection);
  shot->path = g_strdup (path);
  gtk_widget_add_tick_callback (widget, shot_tick_cb, shot, NULL);
  gtk_widget_queue_draw (widget);
  return NULL; /* answered from the frame clock */
}

/* ---- benchmark --------------------------------------------------------------------------- */

typedef struct
{
  GSocketConnection *connection;
  PcWindow *window;
  GArray *frames;  /* gint64 µs between frames */
  GArray *work;    /* gint64 µs the main thread worked for a frame */
  GArray *cpu;     /* gint64 µs of CPU time the main thread used for it */
  GArray *applies; /* gint64 µs per batch */
  GdkFrameClock *clock;
  gulong before_id;
  gulong after_id;
  gint64 paint_start;
  gint64 paint_cpu_start;
  gint64 pending;     /* µs of batches applied since the last frame */
  gint64 pending_cpu; /* and their CPU time */
  gint64 last_frame;
  gint64 end;
  guint rate;
  guint tick_id;
  guint timer_id;
} Bench;

static guint64 bench_next_id = G_GUINT64_CONSTANT (1) << 40;

static GVariant *
bench_record (guint64 id, guint64 bytes, gboolean ended)
{
  static const char *apps[] = { "firefox", "thunderbird",    "curl", "apt",       "spotify",
                                "steam",   "signal-desktop", "code", "syncthing", "evolution" };
  const char *app = apps[id % G_N_ELEMENTS (apps)];
  g_autofree char *exe = g_strdup_printf ("/usr/bin/%s", app);
  g_autofree char *domain
      = g_strdup_printf ("host%u.example%u.com", (guint)(id % 997), (guint)(id % 13));
  g_autofree char *address
      = g_strdup_printf ("203.0.%u.%u", (guint)(id / 250 % 250), (guint)(id % 250));
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "id", "t", id);
  g_variant_dict_insert (&d, "profile", "s", app);
  g_variant_dict_insert (&d, "app-kind", "s", "native");
  g_variant_dict_insert (&d, "app-id", "s", exe);
  g_variant_dict_insert (&d, "exe", "s", exe);
  g_variant_dict_insert (&d, "comm", "s", app);
  g_variant_dict_insert (&d, "direction", "s", "outbound");
  g_variant_dict_insert (&d, "protocol", "s", id % 5 == 0 ? "udp" : "tcp");
  g_variant_dict_insert (&d, "remote-address", "s", address);
  g_variant_dict_insert (&d, "remote-port", "q", (guint16)(id % 3 == 0 ? 80 : 443));
  g_variant_dict_insert (&d, "domain", "s", id % 4 == 0 ? "" : domain);
  g_variant_dict_insert (&d, "verdict", "s", id % 7 == 0 ? "block" : "allow");
  g_variant_dict_insert (&d, "reason", "s", id % 7 == 0 ? "rule - L:ADS" : "default action: allow");
  g_variant_dict_insert (&d, "bytes-in", "t", bytes * 3);
  g_variant_dict_insert (&d, "bytes-out", "t", bytes);
  g_variant_dict_insert (&d, "started", "x", g_get_real_time ());
  g_variant_dict_insert (&d, "ended", "x", ended ? g_get_real_time () : (gint64)0);
  g_variant_dict_insert (&d, "event", "s", "added");
  return g_variant_dict_end (&d);
}

/* The main thread's CPU time: unlike wall time it does not grow when other processes of a
 * shared machine take the CPU away. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static PcLiveModel *
live_model (void)
{
  return pc_application_get_live_model (PC_APPLICATION (g_application_get_default ()));
}

static gint64
apply_batch (guint n_new, guint n_changed, gint64 *cpu)
{
  GVariantBuilder b;
  gint64 start, cpu_start;
  gint64 took;
  g_autoptr (GVariant) batch = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n_new; i++)
    g_variant_builder_add_value (&b, bench_record (bench_next_id++, 100, FALSE));
  for (guint i = 0; i < n_changed && bench_next_id > (G_GUINT64_CONSTANT (1) << 40); i++)
    {
      guint64 id
          = (G_GUINT64_CONSTANT (1) << 40)
            + g_random_int_range (0, (gint32)(bench_next_id - (G_GUINT64_CONSTANT (1) << 40)));
      g_variant_builder_add_value (
          &b, bench_record (id, (guint64)g_random_int_range (100, 100000), FALSE));
    }
  batch = g_variant_ref_sink (g_variant_builder_end (&b));
  start = g_get_monotonic_time ();
  cpu_start = thread_cpu_us ();
  pc_live_model_apply (live_model (), batch);
  took = g_get_monotonic_time () - start;
  if (cpu != NULL)
    *cpu = thread_cpu_us () - cpu_start;
  return took;
}

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

static double
pct (GArray *values, double p)
{
  g_autoptr (GArray) sorted = NULL;

  if (values->len == 0)
    return 0;
  sorted = g_array_copy (values);
  g_array_sort (sorted, cmp_i64);
  return g_array_index (sorted, gint64, MIN (sorted->len - 1, (guint)(p * sorted->len))) / 1000.0;
}

static guint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  /* freed heap that glibc keeps would count as the app's memory otherwise */
  malloc_trim (0);
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

static void
bench_finish (Bench *bench)
{
  g_autofree char *json = NULL;
  g_autofree char *out = NULL;
  GOutputStream *stream = g_io_stream_get_output_stream (G_IO_STREAM (bench->connection));

  gtk_widget_remove_tick_callback (GTK_WIDGET (bench->window), bench->tick_id);
  g_clear_handle_id (&bench->timer_id, g_source_remove);
  g_clear_signal_handler (&bench->before_id, bench->clock);
  g_clear_signal_handler (&bench->after_id, bench->clock);
  g_clear_object (&bench->clock);
  json = to_json (g_variant_new_parsed (
      "{'rate': <%u>, 'frames': <%u>, 'frame-p50-ms': <%d>, 'frame-p95-ms': <%d>, "
      "'frame-p99-ms': <%d>, 'frame-max-ms': <%d>, 'work-p50-ms': <%d>, 'work-p95-ms': <%d>, "
      "'work-p99-ms': <%d>, 'work-max-ms': <%d>, 'cpu-p50-ms': <%d>, 'cpu-p95-ms': <%d>, "
      "'cpu-p99-ms': <%d>, 'cpu-max-ms': <%d>, 'batches': <%u>, 'apply-p50-ms': <%d>, "
      "'apply-p95-ms': <%d>, 'rows': <%u>, 'rss-kib': <%t>}",
      bench->rate, bench->frames->len, pct (bench->frames, 0.5), pct (bench->frames, 0.95),
      pct (bench->frames, 0.99), pct (bench->frames, 0.9999), pct (bench->work, 0.5),
      pct (bench->work, 0.95), pct (bench->work, 0.99), pct (bench->work, 0.9999),
      pct (bench->cpu, 0.5), pct (bench->cpu, 0.95), pct (bench->cpu, 0.99),
      pct (bench->cpu, 0.9999), bench->applies->len, pct (bench->applies, 0.5),
      pct (bench->applies, 0.95),
      g_list_model_get_n_items (pc_live_model_get_connections (live_model ())), rss_kib ()));
  out = g_strconcat (json, "\n", NULL);
  g_output_stream_write_all (stream, out, strlen (out), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (bench->connection), NULL, NULL);
  g_object_unref (bench->connection);
  g_array_unref (bench->frames);
  g_array_unref (bench->work);
  g_array_unref (bench->cpu);
  g_array_unref (bench->applies);
  g_free (bench);
}

static gboolean
bench_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  Bench *bench = user_data;
  gint64 now = g_get_monotonic_time ();

  if (bench->last_frame != 0)
    {
      gint64 interval = now - bench->last_frame;
      g_array_append_val (bench->frames, interval);
    }
  bench->last_frame = now;
  /* something changes every frame, as in a busy monitor */
  gtk_widget_queue_draw (widget);
  if (now >= bench->end)
    {
      bench->tick_id = 0;
      bench_finish (bench);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* The frame interval cannot go below the frame clock's period (16.7 ms at 60 Hz) and jitters
 * with the machine's load; what the app controls is how long its main thread works for a
 * frame: the update, layout and paint phases (before-paint to after-paint) plus the batches it
 * applied since the previous frame. */
static void
bench_before_paint_cb (GdkFrameClock *clock, gpointer user_data)
{
  Bench *bench = user_data;

  bench->paint_start = g_get_monotonic_time ();
  bench->paint_cpu_start = thread_cpu_us ();
}

static void
bench_after_paint_cb (GdkFrameClock *clock, gpointer user_data)
{
  Bench *bench = user_data;
  gint64 work;

  if (bench->paint_start == 0)
    return;
  work = g_get_monotonic_time () - bench->paint_start + bench->pending;
  g_array_append_val (bench->work, work);
  work = thread_cpu_us () - bench->paint_cpu_start + bench->pending_cpu;
  g_array_append_val (bench->cpu, work);
  bench->pending = bench->pending_cpu = 0;
  bench->paint_start = 0;
}

static gboolean
bench_timer_cb (gpointer user_data)
{
  Bench *bench = user_data;
  /* half new connections, half byte updates of existing ones */
  gint64 cpu = 0;
  gint64 took = apply_batch (bench->rate / 20, bench->rate / 20, &cpu);

  g_array_append_val (bench->applies, took);
  bench->pending += took;
  bench->pending_cpu += cpu;
  return G_SOURCE_CONTINUE;
}

static char *
bench_run (GSocketConnection *connection, PcWindow *win, const char *arg)
{
  guint seconds = 0, rate = 0;
  Bench *bench;

  if (sscanf (arg, "%u %u", &seconds, &rate) != 2 || seconds == 0)
    return g_strdup ("error: bench-run SECONDS RATE");
  bench = g_new0 (Bench, 1);
  bench->connection = g_object_ref (connection);
  bench->window = win;
  bench->frames = g_array_new (FALSE, FALSE, sizeof (gint64));
  bench->work = g_array_new (FALSE, FALSE, sizeof (gint64));
  bench->cpu = g_array_new (FALSE, FALSE, sizeof (gint64));
  bench->applies = g_array_new (FALSE, FALSE, sizeof (gint64));
  bench->rate = rate;
  bench->clock = g_object_ref (gtk_widget_get_frame_clock (GTK_WIDGET (win)));
  bench->before_id
      = g_signal_connect (bench->clock, "before-paint", G_CALLBACK (bench_before_paint_cb), bench);
  bench->after_id
      = g_signal_connect (bench->clock, "after-paint", G_CALLBACK (bench_after_paint_cb), bench);
  bench->end = g_get_monotonic_time () + (gint64)seconds * G_USEC_PER_SEC;
  bench->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (win), bench_tick_cb, bench, NULL);
  if (rate > 0)
    bench->timer_id = g_timeout_add (100, bench_timer_cb, bench);
  return NULL; /* answered when done */
}

static PcSettingsView *
shown_settings_view (PcWindow *win)
{
  if (g_strcmp0 (pc_window_get_page (win), "apps") == 0)
    return pc_apps_page_get_view (PC_APPS_PAGE (pc_window_get_page_widget (win, "apps")));
  return PC_SETTINGS_VIEW (pc_window_get_page_widget (win, "settings"));
}

/* ---- prompts (they work without the main window: the agent has none) --------------------- */

static char *
prompt_command (GSocketConnection *connection, const char *cmd, const char *arg)
{
  PcPromptManager *manager
      = pc_application_get_prompt_manager (PC_APPLICATION (g_application_get_default ()));
  g_auto (GStrv) args = g_strsplit (arg, " ", 3);
  PcPromptWindow *popup;

  if (manager == NULL)
    return g_strdup ("error: no prompt manager (no system bus?)");
  if (g_str_equal (cmd, "prompts"))
    return to_json (g_variant_new_parsed ("{'registered': <%b>, 'prompts': <%@aa{sv}>}",
                                          pc_prompt_manager_is_registered (manager),
                                          pc_prompt_manager_dump (manager)));
  popup = args[0] != NULL ? pc_prompt_manager_get_window (manager, args[0]) : NULL;
  if (popup == NULL)
    return g_strdup_printf ("error: no popup for prompt %s", arg);
  if (g_str_equal (cmd, "prompt-set") && args[1] != NULL && args[2] != NULL)
    return g_strdup (pc_prompt_window_test_set (popup, args[1], args[2]) ? "ok"
                                                                         : "error: bad choice");
  if (g_str_equal (cmd, "prompt-click") && args[1] != NULL)
    {
      GtkWidget *button = pc_prompt_window_get_button (popup, args[1]);

      if (button == NULL)
        return g_strdup ("error: prompt-click ID allow|block");
      if (!gtk_widget_get_visible (GTK_WIDGET (popup)))
        return g_strdup ("error: the popup is hidden");
      if (!gtk_widget_is_sensitive (button))
        return g_strdup ("error: the button is insensitive");
      /* as a click: the button's own "clicked" and its action */
      gtk_widget_activate (button);
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "prompt-close"))
    {
      gtk_window_close (GTK_WINDOW (popup));
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "prompt-screenshot") && args[1] != NULL)
    return screenshot (connection, GTK_WIDGET (popup), args[1]);
  return g_strdup_printf ("error: bad command %s %s", cmd, arg);
}

static char *
run (GSocketConnection *connection, const char *line)
{
  g_auto (GStrv) argv = g_strsplit (line, " ", 2);
  const char *cmd = argv[0];
  const char *arg = argv[1] ? argv[1] : "";
  PcWindow *win = window ();

  if (g_str_has_prefix (cmd, "prompt"))
    return prompt_command (connection, cmd, arg);
  if (win == NULL)
    return g_strdup ("error: no window");
  if (g_str_equal (cmd, "dump"))
    return dump (win);
  if (g_str_equal (cmd, "screenshot"))
    return screenshot (connection, GTK_WIDGET (win), arg);
  if (g_str_equal (cmd, "scheme"))
    {
      AdwStyleManager *manager = adw_style_manager_get_default ();

      adw_style_manager_set_color_scheme (
          manager, g_str_equal (arg, "dark")    ? ADW_COLOR_SCHEME_FORCE_DARK
                   : g_str_equal (arg, "light") ? ADW_COLOR_SCHEME_FORCE_LIGHT
                                                : ADW_COLOR_SCHEME_DEFAULT);
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "select-app"))
    return g_strdup (pc_monitor_page_select_app (
                         PC_MONITOR_PAGE (pc_window_get_page_widget (win, "monitor")), arg)
                         ? "ok"
                         : "error: no such app");
  if (g_str_equal (cmd, "search"))
    {
      pc_monitor_page_set_search (PC_MONITOR_PAGE (pc_window_get_page_widget (win, "monitor")),
                                  arg);
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "bandwidth-range"))
    {
      pc_window_set_bandwidth_range (win, (guint)g_ascii_strtoull (arg, NULL, 10));
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "history-search"))
    {
      pc_history_page_search (PC_HISTORY_PAGE (pc_window_get_page_widget (win, "history")), arg);
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "history-filter"))
    {
      g_auto (GStrv) kv = g_strsplit (arg, " ", 2);

      if (kv[0] == NULL || kv[0][0] == '\0')
        return g_strdup ("error: history-filter KEY VALUE");
      return g_strdup (
          pc_history_page_set_filter (PC_HISTORY_PAGE (pc_window_get_page_widget (win, "history")),
                                      kv[0], kv[1] ? kv[1] : "")
              ? "ok"
              : "error: no such filter or choice");
    }
  if (g_str_equal (cmd, "dialog-response"))
    {
      AdwMessageDialog *dialog = open_dialog ();

      if (dialog == NULL)
        return g_strdup ("error: no dialog");
      adw_message_dialog_response (dialog, arg);
      gtk_window_close (GTK_WINDOW (dialog));
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "popup"))
    return g_strdup (
        pc_monitor_page_popup_menu (PC_MONITOR_PAGE (pc_window_get_page_widget (win, "monitor")),
                                    g_ascii_strtoull (arg, NULL, 10))
            ? "ok"
            : "error: no such connection");
  if (g_str_equal (cmd, "size"))
    {
      int w = 0, h = 0;

      if (sscanf (arg, "%d %d", &w, &h) != 2)
        return g_strdup ("error: size WIDTH HEIGHT");
      gtk_window_set_default_size (GTK_WINDOW (win), w, h);
      return g_strdup ("ok");
    }
  if (g_str_equal (cmd, "set"))
    {
      g_auto (GStrv) kv = g_strsplit (arg, " ", 2);

      if (kv[0] == NULL || kv[1] == NULL)
        return g_strdup ("error: set KEY VALUE");
      return g_strdup (pc_settings_view_test_set (shown_settings_view (win), kv[0], kv[1])
                           ? "ok"
                           : "error: no such row");
    }
  if (g_str_equal (cmd, "action"))
    {
      g_auto (GStrv) parts = g_strsplit (arg, " ", 2);
      g_autoptr (GVariant) param = NULL;
      g_autoptr (GError) error = NULL;
      const char *pages[] = { "monitor", "apps", "settings", "history", NULL };

      if (parts[0] == NULL || parts[0][0] == '\0')
        return g_strdup ("error: action NAME [GVARIANT]");
      if (parts[1] != NULL)
        {
          param = g_variant_parse (NULL, parts[1], NULL, NULL, &error);
          if (param == NULL)
            return g_strdup_printf ("error: %s", error->message);
        }
      if (g_str_has_prefix (parts[0], "app."))
        {
          g_action_group_activate_action (G_ACTION_GROUP (g_application_get_default ()),
                                          parts[0] + 4, param);
          return g_strdup ("ok");
        }
      if (gtk_widget_activate_action_variant (GTK_WIDGET (win), parts[0], param))
        return g_strdup ("ok");
      for (guint i = 0; pages[i] != NULL; i++)
        if (gtk_widget_activate_action_variant (pc_window_get_page_widget (win, pages[i]), parts[0],
                                                param))
          return g_strdup ("ok");
      return g_strdup_printf ("error: no action %s", parts[0]);
    }
  if (g_str_equal (cmd, "bench-feed"))
    {
      guint n = (guint)g_ascii_strtoull (arg, NULL, 10);
      gint64 took = 0;

      /* in batches of the size the helper sends (it splits busy batches) */
      for (guint done = 0; done < n; done += 500)
        took += apply_batch (MIN (500, n - done), 0, NULL);

      return g_strdup_printf (
          "{\"rows\": %u, \"apply-ms\": %.1f, \"rss-kib\": %" G_GUINT64_FORMAT "}",
          g_list_model_get_n_items (pc_live_model_get_connections (live_model ())), took / 1000.0,
          rss_kib ());
    }
  if (g_str_equal (cmd, "bench-run"))
    return bench_run (connection, win, arg);
  return g_strdup_printf ("error: unknown command %s", cmd);
}

static void
read_line_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GSocketConnection) connection = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line
      = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL, &error);
  g_autofree char *answer = NULL;
  g_autofree char *out = NULL;
  GOutputStream *stream = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_object_unref (source);
  if (line == NULL)
    return;
  g_debug ("test hook: %s", line);
  answer = run (connection, g_strstrip (line));
  if (answer == NULL)
    return; /* answered later */
  out = g_strconcat (answer, "\n", NULL);
  /* answers are small and the test reads them at once */
  g_output_stream_write_all (stream, out, strlen (out), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static gboolean
incoming_cb (GSocketService *service,
             GSocketConnection *connection,
             GObject *source,
             gpointer user_data)
{
  GDataInputStream *in
      = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));

  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, read_line_cb,
                                       g_object_ref (connection));
  return TRUE;
}

PcTestHook *
pc_test_hook_new (const char *path, GError **error)
{
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  PcTestHook *hook = g_new0 (PcTestHook, 1);

  g_unlink (path);
  hook->path = g_strdup (path);
  hook->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (hook->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL,
                                      error))
    {
      pc_test_hook_free (hook);
      return NULL;
    }
  g_chmod (path, 0600);
  g_signal_connect (hook->service, "incoming", G_CALLBACK (incoming_cb), NULL);
  g_socket_service_start (hook->service);
  g_message ("test hook listening on %s", path);
  return hook;
}

void
pc_test_hook_free (PcTestHook *hook)
{
  if (hook->service != NULL)
    {
      g_socket_service_stop (hook->service);
      g_socket_listener_close (G_SOCKET_LISTENER (hook->service));
      g_unlink (hook->path);
    }
  g_clear_object (&hook->service);
  g_free (hook->path);
  g_free (hook);
}
