/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for helper/store/pc-history.c with a real sqlite database in a temp dir. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc-error.h"
#include "pc-history.h"

static char *
tmp_db (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pc-history-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "history.db", NULL);
}

static PcConnection *
conn (guint64 id,
      const char *app,
      const char *raddr,
      guint16 rport,
      const char *domain,
      gboolean allowed,
      gint64 started)
{
  PcConnection *c = g_new0 (PcConnection, 1);

  c->ref_count = 1;
  c->id = id;
  c->key.family = strchr (raddr, ':') ? AF_INET6 : AF_INET;
  c->key.proto = IPPROTO_TCP;
  c->key.direction = PC_DIR_OUTBOUND;
  g_assert_true (pc_addr_parse (raddr, &c->key.raddr));
  pc_addr_parse (c->key.family == AF_INET ? "10.0.0.2" : "fd00::2", &c->key.laddr);
  c->key.lport = 40000 + (id % 20000);
  c->key.rport = rport;
  c->pid = 100 + (pid_t)id;
  c->comm = g_strdup ("prog");
  c->exe = g_strdup_printf ("/usr/bin/%s", app);
  c->app_kind = g_strdup ("native");
  c->app_id = g_strdup_printf ("/usr/bin/%s", app);
  c->profile_id = g_strdup (app);
  c->domain = g_strdup (domain);
  c->allowed = allowed;
  c->reason = g_strdup (allowed ? "default action: allow" : "global endpoints rule 1 '- *'");
  c->started = started;
  return c;
}

static GArray *
batch_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (PcConnectionChange));
}

static void
batch_add (GArray *batch, PcConnectionEvent event, PcConnection *c)
{
  PcConnectionChange ch = { event, c };
  g_array_append_val (batch, ch);
}

static void
batch_free (GArray *batch)
{
  for (guint i = 0; i < batch->len; i++)
    pc_connection_unref (g_array_index (batch, PcConnectionChange, i).connection);
  g_array_unref (batch);
}

static guint
n_rows (PcHistory *h, const PcHistoryQuery *q)
{
  g_autoptr (GError) error = NULL;
  PcHistoryQuery all = *q;
  all.limit = G_MAXUINT;
  g_autoptr (GVariant) rows = pc_history_search (h, &all, &error);

  g_assert_no_error (error);
  return (guint)g_variant_n_children (rows);
}

static void
test_burst_is_not_lost (void)
{
  g_autofree char *path = tmp_db ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, &error);
  PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
  PcHistoryStatus st;
  gint64 now = g_get_real_time ();

  g_assert_no_error (error);
  /* 50,000 connections in batches as the engine delivers them, each added and ended */
  for (guint b = 0; b < 50; b++)
    {
      GArray *batch = batch_new ();
      for (guint i = 0; i < 1000; i++)
        {
          guint64 id = b * 1000 + i + 1;
          PcConnection *c = conn (id, i % 2 ? "curl" : "firefox", "93.184.216.34", 443,
                                  "example.com", TRUE, now + (gint64)id);
          PcConnection *e = pc_connection_copy (c);
          e->ended = now + (gint64)id + 10;
          e->bytes_in = 1000;
          batch_add (batch, PC_CONNECTION_ADDED, c);
          batch_add (batch, PC_CONNECTION_ENDED, e);
        }
      pc_history_record (h, batch);
      batch_free (batch);
    }
  pc_history_flush (h);
  pc_history_get_status (h, &st);
  g_assert_cmpuint (st.written, ==, 100000);
  g_assert_cmpuint (st.backlog, ==, 0);
  g_assert_cmpuint (st.dropped, ==, 0);
  g_assert_cmpuint (n_rows (h, &q), ==, 50000);
  q.app = "curl";
  g_assert_cmpuint (n_rows (h, &q), ==, 25000);
}

static void
test_search_filters (void)
{
  g_autofree char *path = tmp_db ();
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, NULL);
  GArray *batch = batch_new ();
  PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) rows = NULL;
  g_autoptr (GVariant) counts = NULL;
  const char *domain = NULL;
  gint64 t0 = 1700000000000000;

  batch_add (batch, PC_CONNECTION_ADDED,
             conn (1, "firefox", "93.184.216.34", 443, "www.example.com", TRUE, t0));
  batch_add (batch, PC_CONNECTION_ADDED,
             conn (2, "firefox", "2606:4700::1", 443, "tracker.ads.net", FALSE, t0 + 10));
  batch_add (batch, PC_CONNECTION_ADDED, conn (3, "curl", "10.77.0.1", 80, "", TRUE, t0 + 20));
  batch_add (batch, PC_CONNECTION_ADDED, conn (4, "curl", "10.77.0.1", 8080, "", FALSE, t0 + 30));
  pc_history_record (h, batch);
  batch_free (batch);
  pc_history_flush (h);

  g_assert_cmpuint (n_rows (h, &q), ==, 4);
  q.text = "example"; /* prefix of a domain label */
  g_assert_cmpuint (n_rows (h, &q), ==, 1);
  q.text = "10.77.0.1"; /* an address as written */
  g_assert_cmpuint (n_rows (h, &q), ==, 2);
  q.text = "ads.net firefox"; /* words are ANDed */
  g_assert_cmpuint (n_rows (h, &q), ==, 1);
  q.text = "\"unbalanced (quote"; /* odd input is searched for, never a syntax error */
  g_assert_cmpuint (n_rows (h, &q), ==, 0);
  q.text = NULL;
  q.verdict = 0;
  g_assert_cmpuint (n_rows (h, &q), ==, 2);
  q.app = "curl";
  g_assert_cmpuint (n_rows (h, &q), ==, 1);
  q.app = NULL;
  q.verdict = -1;
  q.since = t0 + 10;
  q.until = t0 + 30;
  g_assert_cmpuint (n_rows (h, &q), ==, 2);

  /* newest first, paginated */
  q = (PcHistoryQuery)PC_HISTORY_QUERY_INIT;
  q.limit = 1;
  q.offset = 1;
  rows = pc_history_search (h, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  {
    g_autoptr (GVariant) row = g_variant_get_child_value (rows, 0);
    gint64 started;
    g_assert_true (g_variant_lookup (row, "started", "x", &started));
    g_assert_cmpint (started, ==, t0 + 20);
    g_assert_true (g_variant_lookup (row, "remote", "&s", &domain));
    g_assert_cmpstr (domain, ==, "10.77.0.1");
  }

  q = (PcHistoryQuery)PC_HISTORY_QUERY_INIT;
  counts = pc_history_count (h, &q, "app", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (counts), ==, 2);
  g_assert_null (pc_history_count (h, &q, "exe; DROP TABLE connections", &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
}

static void
test_bandwidth_series (void)
{
  g_autofree char *path = tmp_db ();
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, NULL);
  g_autoptr (GVariant) series = NULL;
  g_autoptr (GError) error = NULL;
  PcConnection *c = conn (1, "curl", "10.77.0.1", 80, "", TRUE, g_get_real_time ());
  GArray *batch = batch_new ();
  guint64 total_in = 0, total_out = 0;
  GVariantIter iter;
  gint64 t;
  guint64 bin, bout;

  batch_add (batch, PC_CONNECTION_ADDED, pc_connection_ref (c));
  for (guint i = 1; i <= 5; i++)
    {
      PcConnection *u = pc_connection_copy (c);
      u->bytes_in = i * 1000;
      u->bytes_out = i * 10;
      batch_add (batch, i < 5 ? PC_CONNECTION_CHANGED : PC_CONNECTION_ENDED, u);
    }
  pc_history_record (h, batch);
  batch_free (batch);
  pc_connection_unref (c);
  pc_history_flush (h);

  series = pc_history_bandwidth (h, "curl", 0, 0, 60, &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, series);
  while (g_variant_iter_next (&iter, "(xtt)", &t, &bin, &bout))
    {
      total_in += bin;
      total_out += bout;
    }
  g_assert_cmpuint (total_in, ==, 5000);
  g_assert_cmpuint (total_out, ==, 50);
  g_clear_pointer (&series, g_variant_unref);
  series = pc_history_bandwidth (h, "firefox", 0, 0, 60, &error);
  g_assert_cmpuint (g_variant_n_children (series), ==, 0);
}

/* A row tells what happened to the connection: one let through and later cut by a new rule
 * stays allowed (it did talk) and keeps both reasons; one that waited for a prompt and was
 * allowed says so; updates of its byte counts add nothing to the reason. */
static void
test_verdict_history (void)
{
  g_autofree char *path = tmp_db ();
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) rows = NULL;
  PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
  GArray *batch = batch_new ();
  gint64 now = g_get_real_time ();
  PcConnection *cut = conn (1, "curl", "10.77.0.1", 80, "", TRUE, now);
  PcConnection *asked = conn (2, "wget", "10.77.0.1", 80, "", FALSE, now);
  PcConnection *u;
  GVariantIter iter;
  GVariant *row;
  guint seen = 0;

  g_free (asked->reason);
  asked->reason = g_strdup ("default action: prompt (waiting for an answer)");
  batch_add (batch, PC_CONNECTION_ADDED, pc_connection_ref (cut));
  batch_add (batch, PC_CONNECTION_ADDED, pc_connection_ref (asked));
  u = pc_connection_copy (cut);
  u->allowed = FALSE;
  g_free (u->reason);
  u->reason = g_strdup ("profile 'curl' endpoints rule 1 '- 10.77.0.1'");
  batch_add (batch, PC_CONNECTION_CHANGED, u);
  u = pc_connection_copy (u);
  u->bytes_in = 500;
  batch_add (batch, PC_CONNECTION_CHANGED, u);
  u = pc_connection_copy (asked);
  u->allowed = TRUE;
  g_free (u->reason);
  u->reason = g_strdup ("answer: allow");
  batch_add (batch, PC_CONNECTION_ENDED, u);
  pc_history_record (h, batch);
  batch_free (batch);
  pc_connection_unref (cut);
  pc_connection_unref (asked);
  pc_history_flush (h);

  rows = pc_history_search (h, &q, &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariantDict) d = g_variant_dict_new (row);
      const char *app = NULL, *reason = NULL;
      gboolean allowed = FALSE;

      g_assert_true (g_variant_dict_lookup (d, "app", "&s", &app));
      g_assert_true (g_variant_dict_lookup (d, "reason", "&s", &reason));
      g_assert_true (g_variant_dict_lookup (d, "allowed", "b", &allowed));
      g_assert_true (allowed);
      if (g_str_has_suffix (app, "curl"))
        g_assert_cmpstr (reason, ==,
                         "default action: allow → profile 'curl' endpoints rule 1 '- 10.77.0.1'");
      else
        g_assert_cmpstr (reason, ==,
                         "default action: prompt (waiting for an answer) → answer: allow");
      seen++;
      g_variant_unref (row);
    }
  g_assert_cmpuint (seen, ==, 2);
}

static void
test_retention_and_delete (void)
{
  g_autofree char *path = tmp_db ();
  g_autofree char *csv = g_strconcat (path, ".csv", NULL);
  g_autofree char *json = g_strconcat (path, ".json", NULL);
  g_autoptr (PcHistory) h = pc_history_new (path, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
  GArray *batch = batch_new ();
  gint64 now = g_get_real_time ();
  gint64 day = (gint64)24 * 3600 * G_USEC_PER_SEC;

  /* backdated rows stand in for a clock 40 days on */
  batch_add (batch, PC_CONNECTION_ADDED,
             conn (1, "old", "192.0.2.1", 443, "old.example", TRUE, now - 40 * day));
  batch_add (batch, PC_CONNECTION_ADDED,
             conn (2, "old", "192.0.2.1", 443, "old.example", TRUE, now - 31 * day));
  batch_add (batch, PC_CONNECTION_ADDED,
             conn (3, "new", "192.0.2.2", 443, "new.example", TRUE, now - 1 * day));
  batch_add (batch, PC_CONNECTION_ADDED,
             conn (4, "other", "192.0.2.3", 53, "quo\"ted,name", FALSE, now));
  pc_history_record (h, batch);
  batch_free (batch);
  pc_history_cleanup (h, now - 30 * day);
  pc_history_flush (h);
  g_assert_cmpuint (n_rows (h, &q), ==, 2);

  g_assert_true (pc_history_export (h, &q, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "id,app,pid,exe,"));
  g_assert_nonnull (strstr (text, "\"quo\"\"ted,name\""));
  g_assert_nonnull (strstr (text, ",blocked,"));
  g_clear_pointer (&text, g_free);
  g_assert_true (pc_history_export (h, &q, json, "json", &error));
  g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"domain\": \"quo\\\"ted,name\""));
  g_assert_nonnull (strstr (text, "\"allowed\": false"));
  g_assert_false (pc_history_export (h, &q, json, "xml", &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  g_assert_cmpint (pc_history_delete (h, "new", 0, 0, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows (h, &q), ==, 1);
  g_assert_cmpint (pc_history_delete (h, NULL, 0, 0, &error), ==, 1);
  g_assert_cmpuint (n_rows (h, &q), ==, 0);
}

static void
test_corrupt_database_is_kept_aside (void)
{
  g_autofree char *path = tmp_db ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *problem = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcHistory) h = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;
  gboolean found = FALSE;

  g_assert_true (
      g_file_set_contents (path, "this is not a database, but it is someone's data", -1, NULL));
  h = pc_history_new (path, &problem, &error);
  g_assert_no_error (error);
  g_assert_nonnull (h);
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem, "moved"));
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "history.db.corrupt-"))
      {
        g_autofree char *aside = g_build_filename (dir, name, NULL);
        g_autofree char *content = NULL;
        g_assert_true (g_file_get_contents (aside, &content, NULL, NULL));
        g_assert_true (g_str_has_prefix (content, "this is not a database"));
        found = TRUE;
      }
  g_assert_true (found);
}

/* kill -9 of a process in the middle of a burst: every row it acknowledged (flushed) is there. */
static void
test_kill_during_burst_loses_nothing_acknowledged (void)
{
  g_autofree char *path = tmp_db ();
  int fds[2];
  pid_t pid;
  guint64 acked = 0, value;
  ssize_t n;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      PcHistory *h = pc_history_new (path, NULL, NULL);
      gint64 now = g_get_real_time ();
      close (fds[0]);
      for (guint64 b = 0;; b++)
        {
          GArray *batch = batch_new ();
          for (guint i = 0; i < 500; i++)
            batch_add (batch, PC_CONNECTION_ADDED,
                       conn (b * 500 + i + 1, "burst", "192.0.2.9", 443, "", TRUE, now));
          pc_history_record (h, batch);
          batch_free (batch);
          pc_history_flush (h);
          value = (b + 1) * 500;
          if (write (fds[1], &value, sizeof value) != sizeof value)
            _exit (1);
        }
    }
  close (fds[1]);
  while (acked < 20000 && (n = read (fds[0], &value, sizeof value)) == sizeof value)
    acked = value;
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  /* acknowledgements that were in the pipe when the writer died count too */
  while ((n = read (fds[0], &value, sizeof value)) == sizeof value)
    acked = value;
  close (fds[0]);

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PcHistory) h = pc_history_new (path, NULL, &error);
    PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
    g_assert_no_error (error);
    g_assert_cmpuint (n_rows (h, &q), >=, acked);
    g_assert_cmpuint (acked, >=, 20000);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/history/burst", test_burst_is_not_lost);
  g_test_add_func ("/history/search", test_search_filters);
  g_test_add_func ("/history/bandwidth", test_bandwidth_series);
  g_test_add_func ("/history/verdicts", test_verdict_history);
  g_test_add_func ("/history/retention-delete-export", test_retention_and_delete);
  g_test_add_func ("/history/corrupt", test_corrupt_database_is_kept_aside);
  g_test_add_func ("/history/kill-9", test_kill_during_burst_loses_nothing_acknowledged);
  return g_test_run ();
}
