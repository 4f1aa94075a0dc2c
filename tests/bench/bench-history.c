/* SPDX-License-Identifier: GPL-3.0-or-later */
/* History benchmark: the writer's insert throughput (rows/s, against plain sqlite inserts of the
 * same rows without FTS or batching logic, measured in the same run), and search latency over
 * 1,000,000 rows, free text and filtered (p50/p99). Targets: 100,000 rows/s, search < 100 ms. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>

#include "pc-history.h"

#define N_ROWS 1000000
#define BATCH 2000

static const char *const apps[]
    = { "firefox", "curl", "thunderbird", "spotify", "steam", "org.gnome.Maps", "python3", "git" };
static const char *const words[]
    = { "example", "tracker", "cdn", "api", "mail", "update", "static", "video" };

static PcConnection *
make (guint64 id, gint64 t)
{
  PcConnection *c = g_new0 (PcConnection, 1);
  guint a = id % G_N_ELEMENTS (apps);

  c->ref_count = 1;
  c->id = id;
  c->key.family = AF_INET;
  c->key.proto = id % 5 ? IPPROTO_TCP : IPPROTO_UDP;
  c->key.direction = id % 17 ? PC_DIR_OUTBOUND : PC_DIR_INBOUND;
  c->key.laddr.family = c->key.raddr.family = AF_INET;
  c->key.raddr.b[0] = 93;
  c->key.raddr.b[1] = (guint8)(id >> 16);
  c->key.raddr.b[2] = (guint8)(id >> 8);
  c->key.raddr.b[3] = (guint8)id;
  c->key.rport = 443;
  c->pid = 1000 + (pid_t)a;
  c->comm = g_strdup (apps[a]);
  c->exe = g_strdup_printf ("/usr/bin/%s", apps[a]);
  c->app_kind = g_strdup ("native");
  c->app_id = g_strdup (c->exe);
  c->profile_id = g_strdup (apps[a]);
  c->domain = g_strdup_printf ("%s%u.%s.com", words[id % G_N_ELEMENTS (words)], (guint)(id % 997),
                               words[(id / 8) % G_N_ELEMENTS (words)]);
  c->allowed = id % 11 != 0;
  c->reason = g_strdup ("default action: allow");
  c->started = t;
  return c;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void
search_bench (PcHistory *h, const char *label, PcHistoryQuery *q)
{
  double lat[50];

  for (guint i = 0; i < G_N_ELEMENTS (lat); i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GVariant) rows = pc_history_search (h, q, NULL);
      lat[i] = (g_get_monotonic_time () - t0) / 1000.0;
      g_assert_nonnull (rows);
    }
  qsort (lat, G_N_ELEMENTS (lat), sizeof lat[0], cmp_double);
  printf ("search %-34s p50 %7.2f ms   p99 %7.2f ms\n", label, lat[G_N_ELEMENTS (lat) / 2],
          lat[G_N_ELEMENTS (lat) * 99 / 100]);
}

int
main (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pc-bench-history-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autofree char *plain_path = g_build_filename (dir, "plain.db", NULL);
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, NULL);
  gint64 base = g_get_real_time () - (gint64)N_ROWS * 1000;
  gint64 t0, t1;
  double writer_rate = 0, plain_rate;
  sqlite3 *plain;
  sqlite3_stmt *st;

  /* plain sqlite: one prepared insert per row, one transaction per batch, no FTS */
  sqlite3_open (plain_path, &plain);
  sqlite3_exec (plain,
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                "CREATE TABLE c (app TEXT, exe TEXT, domain TEXT, remote TEXT, started INT)",
                NULL, NULL, NULL);
  sqlite3_prepare_v2 (plain, "INSERT INTO c VALUES (?,?,?,?,?)", -1, &st, NULL);
  t0 = g_get_monotonic_time ();
  for (guint64 id = 1; id <= 200000; id++)
    {
      g_autoptr (PcConnection) c = make (id, base + (gint64)id * 1000);
      char r[PC_ADDR_STRLEN];
      if (id % BATCH == 1)
        sqlite3_exec (plain, "BEGIN", NULL, NULL, NULL);
      sqlite3_bind_text (st, 1, c->profile_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, c->exe, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 3, c->domain, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 4, pc_addr_to_string (&c->key.raddr, r), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (st, 5, c->started);
      sqlite3_step (st);
      sqlite3_reset (st);
      if (id % BATCH == 0)
        sqlite3_exec (plain, "COMMIT", NULL, NULL, NULL);
    }
  plain_rate = 200000 / ((g_get_monotonic_time () - t0) / 1e6);
  sqlite3_finalize (st);
  sqlite3_close (plain);

  /* the writer, fed the way the engine feeds it */
  t0 = g_get_monotonic_time ();
  for (guint64 id = 1; id <= N_ROWS; id += BATCH)
    {
      GArray *batch = g_array_new (FALSE, FALSE, sizeof (PcConnectionChange));
      for (guint64 i = id; i < id + BATCH; i++)
        {
          PcConnectionChange ch = { PC_CONNECTION_ADDED, make (i, base + (gint64)i * 1000) };
          g_array_append_val (batch, ch);
        }
      pc_history_record (h, batch);
      for (guint i = 0; i < batch->len; i++)
        pc_connection_unref (g_array_index (batch, PcConnectionChange, i).connection);
      g_array_unref (batch);
      if (id == 200001)
        {
          pc_history_flush (h);
          t1 = g_get_monotonic_time ();
          writer_rate = 200000 / ((t1 - t0) / 1e6);
        }
    }
  pc_history_flush (h);
  printf ("insert: writer %.0f rows/s (first 200,000 rows), plain sqlite without FTS %.0f rows/s,"
          " ratio %.2f   target >= 100000 rows/s\n",
          writer_rate, plain_rate, writer_rate / plain_rate);
  printf ("insert: all %d rows in %.1f s\n", N_ROWS, (g_get_monotonic_time () - t0) / 1e6);

  {
    PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
    search_bench (h, "newest 100, no filter", &q);
    q.text = "tracker";
    search_bench (h, "free text 'tracker'", &q);
    q.text = "example5";
    search_bench (h, "free text prefix 'example5'", &q);
    q.text = NULL;
    q.app = "curl";
    q.verdict = 0;
    search_bench (h, "app=curl verdict=blocked", &q);
    q.app = NULL;
    q.verdict = -1;
    q.since = base + 400000000;
    q.until = base + 410000000;
    search_bench (h, "time range (10,000 rows)", &q);
    q = (PcHistoryQuery)PC_HISTORY_QUERY_INIT;
    q.text = "93.4";
    q.proto = IPPROTO_UDP;
    search_bench (h, "free text '93.4' + udp", &q);
  }
  printf ("target: search < 100 ms\n");
  g_clear_pointer (&h, pc_history_free);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *f = g_build_filename (dir, name, NULL);
        g_unlink (f);
      }
    g_rmdir (dir);
  }
  return 0;
}
