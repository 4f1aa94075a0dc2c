/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-store"

#include "pc-history.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "pc-error.h"

/* SQL for a row's reason after an update with reason ?2: appended unless it is the latest. */
#define PC_REASON_CHAIN                                                                            \
  "CASE WHEN ?2 IS NULL OR ?2 = '' OR reason IS NULL OR substr(reason, -length(?2)) = ?2"          \
  " THEN coalesce(reason, ?2) ELSE reason || ' → ' || ?2 END"

/* Rows a backlog may hold before new ones are counted as dropped: far more than a minute of
 * a connection storm, far less than the memory of a desktop. */
#define PC_HISTORY_MAX_BACKLOG 1000000
#define PC_HISTORY_FINE_SECONDS 3600

static const char schema_sql[]
    = "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS connections ("
      "  id INTEGER PRIMARY KEY, run INTEGER NOT NULL, conn INTEGER NOT NULL,"
      "  app TEXT NOT NULL, pid INTEGER, exe TEXT, direction INTEGER, proto INTEGER,"
      "  local TEXT, lport INTEGER, remote TEXT, rport INTEGER, domain TEXT, country TEXT,"
      "  allowed INTEGER, reason TEXT, started INTEGER NOT NULL, ended INTEGER,"
      "  bytes_in INTEGER DEFAULT 0, bytes_out INTEGER DEFAULT 0);"
      "CREATE INDEX IF NOT EXISTS connections_started ON connections (started);"
      "CREATE INDEX IF NOT EXISTS connections_app ON connections (app, started);"
      "CREATE VIRTUAL TABLE IF NOT EXISTS connections_fts USING fts5("
      "  app, exe, domain, remote, content='connections', content_rowid='id');"
      "CREATE TRIGGER IF NOT EXISTS connections_ad AFTER DELETE ON connections BEGIN"
      "  INSERT INTO connections_fts (connections_fts, rowid, app, exe, domain, remote)"
      "  VALUES ('delete', old.id, old.app, old.exe, old.domain, old.remote); END;"
      "CREATE TRIGGER IF NOT EXISTS connections_au AFTER UPDATE OF app, exe, domain, remote"
      "  ON connections BEGIN"
      "  INSERT INTO connections_fts (connections_fts, rowid, app, exe, domain, remote)"
      "  VALUES ('delete', old.id, old.app, old.exe, old.domain, old.remote);"
      "  INSERT INTO connections_fts (rowid, app, exe, domain, remote)"
      "  VALUES (new.id, new.app, new.exe, new.domain, new.remote); END;"
      "CREATE TABLE IF NOT EXISTS bandwidth (app TEXT NOT NULL, t INTEGER NOT NULL,"
      "  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, PRIMARY KEY (app, t)) WITHOUT "
      "ROWID;"
      "CREATE TABLE IF NOT EXISTS bandwidth_minute (app TEXT NOT NULL, t INTEGER NOT NULL,"
      "  bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, PRIMARY KEY (app, t)) WITHOUT "
      "ROWID;";

typedef enum
{
  JOB_BATCH,
  JOB_FLUSH,
  JOB_CLEANUP,
  JOB_STOP,
} JobKind;

typedef struct
{
  JobKind kind;
  GArray *changes; /* JOB_BATCH: PcConnectionChange with refs */
  gint64 cutoff;   /* JOB_CLEANUP */
  gboolean *done;  /* JOB_FLUSH: set under PcHistory.lock when the job ran */
} Job;

typedef struct
{
  char *app;
  sqlite3_int64 rowid;
  guint64 bytes_in;
  guint64 bytes_out;
} LiveConn;

struct _PcHistory
{
  char *path;
  gint64 run;   /* this helper run: connection ids restart at 1 with every run */
  sqlite3 *wdb; /* writer thread only */
  GMutex read_lock;
  sqlite3 *rdb; /* queries, under read_lock */
  GThread *writer;
  GAsyncQueue *jobs;
  GHashTable *live; /* writer: conn id -> LiveConn, for bandwidth deltas */

  GMutex lock; /* status and flush */
  GCond cond;
  guint backlog;
  guint64 written;
  guint64 dropped;
  gint64 last_commit;

  sqlite3_stmt *insert;
  sqlite3_stmt *update;
  sqlite3_stmt *end;
  sqlite3_stmt *bw;
  sqlite3_stmt *max_id;
  sqlite3_stmt *fts;
};

static gboolean
db_error (sqlite3 *db, int rc, const char *what, GError **error)
{
  g_set_error (error, PC_ERROR,
               rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? PC_ERROR_CORRUPT : PC_ERROR_FAILED,
               "history database: %s: %s", what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static sqlite3 *
open_db (const char *path, GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

  if (rc != SQLITE_OK)
    {
      db_error (db, rc, "open", error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  /* WAL with synchronous=NORMAL: a committed transaction survives the helper being killed at
   * any moment (only a power cut can lose the last ones). */
  rc = sqlite3_exec (db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, schema_sql, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_stmt *check = NULL;
      rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &check, NULL);
      if (rc == SQLITE_OK && sqlite3_step (check) == SQLITE_ROW
          && g_strcmp0 ((const char *)sqlite3_column_text (check, 0), "ok") != 0)
        rc = SQLITE_CORRUPT;
      sqlite3_finalize (check);
    }
  if (rc != SQLITE_OK)
    {
      db_error (db, rc, "open", error);
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

static void
live_conn_free (LiveConn *c)
{
  g_free (c->app);
  g_free (c);
}

static const char *
conn_app (const PcConnection *c)
{
  if (c->profile_id != NULL && *c->profile_id)
    return c->profile_id;
  if (c->app_id != NULL && *c->app_id)
    return c->app_id;
  return c->comm != NULL && *c->comm ? c->comm : "unknown";
}

static void
add_bandwidth (GHashTable *bw, const char *app, gint64 t, guint64 in, guint64 out)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT "\t%s", t, app);
  guint64 *v = g_hash_table_lookup (bw, key);

  if (v == NULL)
    {
      v = g_new0 (guint64, 2);
      g_hash_table_insert (bw, g_steal_pointer (&key), v);
    }
  v[0] += in;
  v[1] += out;
}

/* Bytes since the last report of this connection, booked to the second they were seen in. */
static void
account (PcHistory *self, GHashTable *bw, const PcConnection *c, gint64 now_s)
{
  LiveConn *live = g_hash_table_lookup (self->live, &c->id);
  guint64 din, dout;

  if (live == NULL)
    return;
  din = c->bytes_in > live->bytes_in ? c->bytes_in - live->bytes_in : 0;
  dout = c->bytes_out > live->bytes_out ? c->bytes_out - live->bytes_out : 0;
  live->bytes_in = MAX (live->bytes_in, c->bytes_in);
  live->bytes_out = MAX (live->bytes_out, c->bytes_out);
  if (din || dout)
    add_bandwidth (bw, live->app, now_s, din, dout);
}

static void
bind_text (sqlite3_stmt *st, int i, const char *s)
{
  sqlite3_bind_text (st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

static void
write_batch (PcHistory *self, GArray *changes)
{
  g_autoptr (GHashTable) bw = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;
  GHashTableIter iter;
  gpointer key, value;
  sqlite3_int64 last_id = 0;
  gboolean added = FALSE;
  int rc;

  rc = sqlite3_exec (self->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_warning ("history: cannot begin a transaction: %s", sqlite3_errmsg (self->wdb));
      return;
    }
  if (sqlite3_step (self->max_id) == SQLITE_ROW)
    last_id = sqlite3_column_int64 (self->max_id, 0);
  sqlite3_reset (self->max_id);
  for (guint i = 0; i < changes->len; i++)
    {
      const PcConnectionChange *ch = &g_array_index (changes, PcConnectionChange, i);
      const PcConnection *c = ch->connection;
      char l[PC_ADDR_STRLEN], r[PC_ADDR_STRLEN];
      sqlite3_stmt *st;

      LiveConn *live = g_hash_table_lookup (self->live, &c->id);

      if (ch->event == PC_CONNECTION_ADDED)
        {
          if (live != NULL)
            continue;
          added = TRUE;
          st = self->insert;
          sqlite3_bind_int64 (st, 1, self->run);
          sqlite3_bind_int64 (st, 2, (sqlite3_int64)c->id);
          bind_text (st, 3, conn_app (c));
          sqlite3_bind_int64 (st, 4, c->pid);
          bind_text (st, 5, c->exe);
          sqlite3_bind_int (st, 6, c->key.direction);
          sqlite3_bind_int (st, 7, c->key.proto);
          bind_text (st, 8, pc_addr_to_string (&c->key.laddr, l));
          sqlite3_bind_int (st, 9, c->key.lport);
          bind_text (st, 10, pc_addr_to_string (&c->key.raddr, r));
          sqlite3_bind_int (st, 11, c->key.rport);
          bind_text (st, 12, c->domain);
          bind_text (st, 13, c->country);
          sqlite3_bind_int (st, 14, c->allowed);
          bind_text (st, 15, c->reason);
          sqlite3_bind_int64 (st, 16, c->started);
          sqlite3_bind_int64 (st, 17, (sqlite3_int64)c->bytes_in);
          sqlite3_bind_int64 (st, 18, (sqlite3_int64)c->bytes_out);
          if (sqlite3_step (st) == SQLITE_DONE)
            {
              /* Later changes update the row by its rowid: no second index to maintain. */
              live = g_new0 (LiveConn, 1);
              live->app = g_strdup (conn_app (c));
              live->rowid = sqlite3_last_insert_rowid (self->wdb);
              g_hash_table_insert (self->live, g_memdup2 (&c->id, sizeof c->id), live);
              account (self, bw, c, now_s);
            }
          else
            g_warning ("history: cannot write connection %" G_GUINT64_FORMAT ": %s", c->id,
                       sqlite3_errmsg (self->wdb));
        }
      else
        {
          if (live == NULL)
            continue;
          st = ch->event == PC_CONNECTION_CHANGED ? self->update : self->end;
          sqlite3_bind_int (st, 1, c->allowed);
          bind_text (st, 2, c->reason);
          sqlite3_bind_int64 (st, 3, (sqlite3_int64)c->bytes_in);
          sqlite3_bind_int64 (st, 4, (sqlite3_int64)c->bytes_out);
          sqlite3_bind_int64 (st, 5, c->ended);
          sqlite3_bind_int64 (st, 6, live->rowid);
          account (self, bw, c, now_s);
          if (sqlite3_step (st) != SQLITE_DONE)
            g_warning ("history: cannot update connection %" G_GUINT64_FORMAT ": %s", c->id,
                       sqlite3_errmsg (self->wdb));
          if (ch->event == PC_CONNECTION_ENDED)
            g_hash_table_remove (self->live, &c->id);
        }
      sqlite3_reset (st);
      sqlite3_clear_bindings (st);
    }

  /* The full-text index gets the batch's new rows in one statement: three times faster than a
   * trigger per row, which decides whether the writer keeps up with a connection storm. */
  if (added)
    {
      sqlite3_bind_int64 (self->fts, 1, last_id);
      if (sqlite3_step (self->fts) != SQLITE_DONE)
        g_warning ("history: cannot index connections: %s", sqlite3_errmsg (self->wdb));
      sqlite3_reset (self->fts);
    }

  g_hash_table_iter_init (&iter, bw);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *tab = strchr (key, '\t');
      guint64 *v = value;
      sqlite3_bind_int64 (self->bw, 1, g_ascii_strtoll (key, NULL, 10));
      sqlite3_bind_text (self->bw, 2, tab + 1, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (self->bw, 3, (sqlite3_int64)v[0]);
      sqlite3_bind_int64 (self->bw, 4, (sqlite3_int64)v[1]);
      if (sqlite3_step (self->bw) != SQLITE_DONE)
        g_warning ("history: cannot write bandwidth: %s", sqlite3_errmsg (self->wdb));
      sqlite3_reset (self->bw);
    }

  if (sqlite3_exec (self->wdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_warning ("history: cannot commit: %s", sqlite3_errmsg (self->wdb));
      sqlite3_exec (self->wdb, "ROLLBACK", NULL, NULL, NULL);
      return;
    }
  g_mutex_lock (&self->lock);
  self->written += changes->len;
  self->last_commit = g_get_real_time ();
  g_mutex_unlock (&self->lock);
}

static void
run_cleanup (PcHistory *self, gint64 cutoff)
{
  gint64 fine_limit = g_get_real_time () / G_USEC_PER_SEC - PC_HISTORY_FINE_SECONDS;
  g_autofree char *sql = g_strdup_printf (
      "BEGIN IMMEDIATE;"
      "DELETE FROM connections WHERE started < %" G_GINT64_FORMAT ";"
      "INSERT INTO bandwidth_minute (app, t, bytes_in, bytes_out)"
      "  SELECT app, t / 60 * 60, sum (bytes_in), sum (bytes_out) FROM bandwidth"
      "  WHERE t < %" G_GINT64_FORMAT " GROUP BY app, t / 60"
      "  ON CONFLICT (app, t) DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in,"
      "  bytes_out = bytes_out + excluded.bytes_out;"
      "DELETE FROM bandwidth WHERE t < %" G_GINT64_FORMAT ";"
      "DELETE FROM bandwidth_minute WHERE t < %" G_GINT64_FORMAT ";"
      "COMMIT;",
      cutoff, fine_limit, fine_limit, cutoff / G_USEC_PER_SEC);

  if (sqlite3_exec (self->wdb, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      g_warning ("history: cleanup failed: %s", sqlite3_errmsg (self->wdb));
      sqlite3_exec (self->wdb, "ROLLBACK", NULL, NULL, NULL);
    }
}

static void
job_free (Job *job)
{
  if (job->changes != NULL)
    g_array_unref (job->changes);
  g_free (job);
}

static gpointer
writer_thread (gpointer user_data)
{
  PcHistory *self = user_data;

  /* Recording is background work: it must not take CPU time from the programs whose
   * connections it records, nor from the packet thread. A lower priority (per thread on
   * Linux) still keeps up under load; the backlog is bounded by the queue's limit. */
  if (setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), 10) != 0)
    g_debug ("history: cannot lower the writer's priority: %s", g_strerror (errno));

  for (;;)
    {
      Job *job = g_async_queue_pop (self->jobs);
      JobKind kind = job->kind;

      if (kind == JOB_BATCH)
        {
          guint n = job->changes->len;
          write_batch (self, job->changes);
          g_mutex_lock (&self->lock);
          self->backlog -= n;
          g_mutex_unlock (&self->lock);
        }
      else if (kind == JOB_CLEANUP)
        run_cleanup (self, job->cutoff);
      else if (kind == JOB_FLUSH)
        {
          g_mutex_lock (&self->lock);
          *job->done = TRUE;
          g_cond_broadcast (&self->cond);
          g_mutex_unlock (&self->lock);
        }
      job_free (job);
      if (kind == JOB_STOP)
        return NULL;
    }
}

static gboolean
prepare (sqlite3 *db, const char *sql, sqlite3_stmt **st, GError **error)
{
  int rc = sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
  return rc == SQLITE_OK || db_error (db, rc, "prepare", error);
}

PcHistory *
pc_history_new (const char *path, char **problem, GError **error)
{
  g_autoptr (PcHistory) self = g_new0 (PcHistory, 1);
  g_autoptr (GError) local_error = NULL;

  self->path = g_strdup (path);
  self->run = g_get_real_time ();
  g_mutex_init (&self->lock);
  g_mutex_init (&self->read_lock);
  g_cond_init (&self->cond);
  self->live
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)live_conn_free);
  self->jobs = g_async_queue_new_full ((GDestroyNotify)job_free);

  self->wdb = open_db (path, &local_error);
  if (self->wdb == NULL && g_error_matches (local_error, PC_ERROR, PC_ERROR_CORRUPT))
    {
      /* Never wipe data silently: the damaged file is kept beside the new one. */
      g_autofree char *aside = g_strdup_printf ("%s.corrupt-%" G_GINT64_FORMAT, path,
                                                g_get_real_time () / G_USEC_PER_SEC);
      g_autofree char *wal = g_strdup_printf ("%s-wal", path);
      g_autofree char *shm = g_strdup_printf ("%s-shm", path);
      if (g_rename (path, aside) == 0)
        {
          g_unlink (wal);
          g_unlink (shm);
          if (problem != NULL)
            *problem = g_strdup_printf ("the history database was damaged (%s); it was moved "
                                        "to %s and a new one started",
                                        local_error->message, aside);
          g_clear_error (&local_error);
          self->wdb = open_db (path, &local_error);
        }
    }
  if (self->wdb == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (sqlite3_open_v2 (path, &self->rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      db_error (self->rdb, SQLITE_CANTOPEN, "open", error);
      return NULL;
    }
  sqlite3_busy_timeout (self->rdb, 10000);
  if (!prepare (self->wdb,
                "INSERT INTO connections (run, conn, app, pid, exe, direction, proto,"
                " local, lport, remote, rport, domain, country, allowed, reason, started,"
                " bytes_in, bytes_out) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &self->insert, error)
      /* A connection's row keeps what happened to it: allowed if it was ever let through
       * (a live connection cut by a later rule did talk), and every verdict it got, in
       * order ("first reason → later reason"), not just the last one. */
      || !prepare (self->wdb,
                   "UPDATE connections SET allowed = MAX(allowed, ?1), reason = " PC_REASON_CHAIN
                   ", bytes_in = ?3, bytes_out = ?4 WHERE id = ?6",
                   &self->update, error)
      || !prepare (self->wdb,
                   "UPDATE connections SET allowed = MAX(allowed, ?1), reason = " PC_REASON_CHAIN
                   ", bytes_in = ?3, bytes_out = ?4, ended = ?5 WHERE id = ?6",
                   &self->end, error)
      || !prepare (self->wdb,
                   "INSERT INTO bandwidth (t, app, bytes_in, bytes_out) VALUES (?,?,?,?)"
                   " ON CONFLICT (app, t) DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in,"
                   " bytes_out = bytes_out + excluded.bytes_out",
                   &self->bw, error)
      || !prepare (self->wdb, "SELECT coalesce (max (id), 0) FROM connections", &self->max_id,
                   error)
      || !prepare (self->wdb,
                   "INSERT INTO connections_fts (rowid, app, exe, domain, remote)"
                   " SELECT id, app, exe, domain, remote FROM connections WHERE id > ?",
                   &self->fts, error))
    return NULL;

  self->writer = g_thread_try_new ("pc-history", writer_thread, self, error);
  if (self->writer == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

void
pc_history_free (PcHistory *self)
{
  if (self == NULL)
    return;
  if (self->writer != NULL)
    {
      Job *stop = g_new0 (Job, 1);
      stop->kind = JOB_STOP;
      g_async_queue_push (self->jobs, stop);
      g_thread_join (self->writer);
    }
  g_clear_pointer (&self->insert, sqlite3_finalize);
  g_clear_pointer (&self->update, sqlite3_finalize);
  g_clear_pointer (&self->end, sqlite3_finalize);
  g_clear_pointer (&self->bw, sqlite3_finalize);
  g_clear_pointer (&self->max_id, sqlite3_finalize);
  g_clear_pointer (&self->fts, sqlite3_finalize);
  g_clear_pointer (&self->wdb, sqlite3_close);
  g_clear_pointer (&self->rdb, sqlite3_close);
  g_clear_pointer (&self->jobs, g_async_queue_unref);
  g_clear_pointer (&self->live, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->read_lock);
  g_cond_clear (&self->cond);
  g_free (self->path);
  g_free (self);
}

static void
change_clear (PcConnectionChange *change)
{
  g_clear_pointer (&change->connection, pc_connection_unref);
}

void
pc_history_record (PcHistory *self, GArray *changes)
{
  Job *job;

  g_mutex_lock (&self->lock);
  if (self->backlog + changes->len > PC_HISTORY_MAX_BACKLOG)
    {
      self->dropped += changes->len;
      g_mutex_unlock (&self->lock);
      return;
    }
  self->backlog += changes->len;
  g_mutex_unlock (&self->lock);

  job = g_new0 (Job, 1);
  job->kind = JOB_BATCH;
  job->changes = g_array_sized_new (FALSE, FALSE, sizeof (PcConnectionChange), changes->len);
  g_array_set_clear_func (job->changes, (GDestroyNotify)change_clear);
  for (guint i = 0; i < changes->len; i++)
    {
      PcConnectionChange ch = g_array_index (changes, PcConnectionChange, i);
      ch.connection = pc_connection_ref (ch.connection);
      g_array_append_val (job->changes, ch);
    }
  g_async_queue_push (self->jobs, job);
}

void
pc_history_flush (PcHistory *self)
{
  Job *job = g_new0 (Job, 1);
  gboolean done = FALSE;

  job->kind = JOB_FLUSH;
  job->done = &done;
  g_async_queue_push (self->jobs, job);
  /* The queue is FIFO: once our flush job ran, every batch queued before it is committed. */
  g_mutex_lock (&self->lock);
  while (!done)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
pc_history_get_status (PcHistory *self, PcHistoryStatus *status)
{
  g_mutex_lock (&self->lock);
  status->backlog = self->backlog;
  status->written = self->written;
  status->dropped = self->dropped;
  status->last_commit = self->last_commit;
  g_mutex_unlock (&self->lock);
}

void
pc_history_cleanup (PcHistory *self, gint64 cutoff)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_CLEANUP;
  job->cutoff = cutoff;
  g_async_queue_push (self->jobs, job);
}

/* --- queries --- */

/* Free text becomes a conjunction of quoted prefix phrases, so no input is an FTS syntax error
 * and "10.77.0.1" or "example.com" match as written. */
static char *
fts_query (const char *text)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \t\n", -1);
  GString *q = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (q->len > 0)
        g_string_append_c (q, ' ');
      g_string_append_c (q, '"');
      for (const char *p = words[i]; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (q, '"');
          g_string_append_c (q, *p);
        }
      g_string_append (q, "\"*");
    }
  return g_string_free (q, FALSE);
}

typedef struct
{
  const char *from; /* "connections c", or joined with the full-text index */
  gboolean fts;
  GString *where;
  GPtrArray *texts; /* bound in order, with ints interleaved via types */
  GArray *kinds;    /* 's' or 'x' per parameter */
  GArray *ints;
} Where;

static void
where_add (Where *w, const char *clause, char kind, const char *s, gint64 x)
{
  g_string_append (w->where, w->where->len ? " AND " : " WHERE ");
  g_string_append (w->where, clause);
  g_array_append_val (w->kinds, kind);
  g_ptr_array_add (w->texts, g_strdup (s));
  g_array_append_val (w->ints, x);
}

static void
where_build (Where *w, const PcHistoryQuery *q)
{
  w->where = g_string_new (NULL);
  w->texts = g_ptr_array_new_with_free_func (g_free);
  w->kinds = g_array_new (FALSE, FALSE, 1);
  w->ints = g_array_new (FALSE, FALSE, sizeof (gint64));
  w->from = "connections c";
  w->fts = FALSE;
  if (q->text != NULL && *q->text)
    {
      g_autofree char *fts = fts_query (q->text);
      if (*fts)
        {
          /* Joined from the index side, matches come newest first without sorting them all. */
          w->from = "connections_fts f JOIN connections c ON c.id = f.rowid";
          w->fts = TRUE;
          where_add (w, "f.connections_fts MATCH ?", 's', fts, 0);
        }
    }
  if (q->app != NULL)
    where_add (w, "c.app = ?", 's', q->app, 0);
  if (q->verdict >= 0)
    where_add (w, "c.allowed = ?", 'x', NULL, q->verdict);
  if (q->direction >= 0)
    where_add (w, "c.direction = ?", 'x', NULL, q->direction);
  if (q->proto >= 0)
    where_add (w, "c.proto = ?", 'x', NULL, q->proto);
  if (q->country != NULL)
    where_add (w, "c.country = ?", 's', q->country, 0);
  if (q->since > 0)
    where_add (w, "c.started >= ?", 'x', NULL, q->since);
  if (q->until > 0)
    where_add (w, "c.started < ?", 'x', NULL, q->until);
}

static void
where_bind (Where *w, sqlite3_stmt *st)
{
  for (guint i = 0; i < w->kinds->len; i++)
    {
      if (g_array_index (w->kinds, char, i) == 's')
        sqlite3_bind_text (st, (int)i + 1, w->texts->pdata[i], -1, SQLITE_TRANSIENT);
      else
        sqlite3_bind_int64 (st, (int)i + 1, g_array_index (w->ints, gint64, i));
    }
}

static void
where_clear (Where *w)
{
  g_string_free (w->where, TRUE);
  g_ptr_array_unref (w->texts);
  g_array_unref (w->kinds);
  g_array_unref (w->ints);
}

static const char row_columns[]
    = "c.id, c.app, c.pid, c.exe, c.direction, c.proto, c.local, c.lport, c.remote, c.rport,"
      " c.domain, c.country, c.allowed, c.reason, c.started, c.ended, c.bytes_in, c.bytes_out";

static const char *
col_text (sqlite3_stmt *st, int i)
{
  const char *s = (const char *)sqlite3_column_text (st, i);
  return s != NULL ? s : "";
}

static GVariant *
row_to_variant (sqlite3_stmt *st)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "id", "x", sqlite3_column_int64 (st, 0));
  g_variant_dict_insert (&d, "app", "s", col_text (st, 1));
  g_variant_dict_insert (&d, "pid", "u", (guint32)sqlite3_column_int64 (st, 2));
  g_variant_dict_insert (&d, "exe", "s", col_text (st, 3));
  g_variant_dict_insert (&d, "direction", "s",
                         sqlite3_column_int (st, 4) == PC_DIR_INBOUND ? "in" : "out");
  g_variant_dict_insert (&d, "protocol", "s",
                         pc_proto_to_string ((guint8)sqlite3_column_int (st, 5)));
  g_variant_dict_insert (&d, "local", "s", col_text (st, 6));
  g_variant_dict_insert (&d, "local-port", "q", (guint16)sqlite3_column_int (st, 7));
  g_variant_dict_insert (&d, "remote", "s", col_text (st, 8));
  g_variant_dict_insert (&d, "remote-port", "q", (guint16)sqlite3_column_int (st, 9));
  g_variant_dict_insert (&d, "domain", "s", col_text (st, 10));
  g_variant_dict_insert (&d, "country", "s", col_text (st, 11));
  g_variant_dict_insert (&d, "allowed", "b", sqlite3_column_int (st, 12) != 0);
  g_variant_dict_insert (&d, "reason", "s", col_text (st, 13));
  g_variant_dict_insert (&d, "started", "x", sqlite3_column_int64 (st, 14));
  g_variant_dict_insert (&d, "ended", "x", sqlite3_column_int64 (st, 15));
  g_variant_dict_insert (&d, "bytes-in", "t", (guint64)sqlite3_column_int64 (st, 16));
  g_variant_dict_insert (&d, "bytes-out", "t", (guint64)sqlite3_column_int64 (st, 17));
  return g_variant_dict_end (&d);
}

/* Runs a read statement; func gets each row. */
static gboolean
run_query (PcHistory *self,
           const char *sql,
           Where *w,
           gint64 limit,
           gint64 offset,
           void (*func) (sqlite3_stmt *, gpointer),
           gpointer data,
           GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  g_mutex_lock (&self->read_lock);
  rc = sqlite3_prepare_v2 (self->rdb, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self->rdb, rc, "query", error);
      g_mutex_unlock (&self->read_lock);
      return FALSE;
    }
  where_bind (w, st);
  if (limit >= 0)
    {
      sqlite3_bind_int64 (st, (int)w->kinds->len + 1, limit);
      sqlite3_bind_int64 (st, (int)w->kinds->len + 2, offset);
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    func (st, data);
  if (rc != SQLITE_DONE)
    db_error (self->rdb, rc, "query", error);
  sqlite3_finalize (st);
  g_mutex_unlock (&self->read_lock);
  return rc == SQLITE_DONE;
}

static void
add_row_cb (sqlite3_stmt *st, gpointer data)
{
  g_variant_builder_add_value (data, row_to_variant (st));
}

GVariant *
pc_history_search (PcHistory *self, const PcHistoryQuery *query, GError **error)
{
  Where w;
  GVariantBuilder b;
  g_autofree char *sql = NULL;
  gboolean ok;

  where_build (&w, query);
  /* Newest first: by start time, or by insertion order (the same, as connections are recorded
   * when they start) when the full-text index leads. */
  sql = g_strdup_printf ("SELECT %s FROM %s%s ORDER BY %s LIMIT ? OFFSET ?", row_columns, w.from,
                         w.where->str, w.fts ? "f.rowid DESC" : "c.started DESC, c.id DESC");
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  ok = run_query (self, sql, &w, query->limit ? query->limit : 100, query->offset, add_row_cb, &b,
                  error);
  where_clear (&w);
  if (!ok)
    {
      g_variant_builder_clear (&b);
      return NULL;
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
add_count_cb (sqlite3_stmt *st, gpointer data)
{
  g_variant_builder_add (data, "(st)", col_text (st, 0), (guint64)sqlite3_column_int64 (st, 1));
}

GVariant *
pc_history_count (PcHistory *self,
                  const PcHistoryQuery *query,
                  const char *group_by,
                  GError **error)
{
  Where w;
  GVariantBuilder b;
  g_autofree char *sql = NULL;
  gboolean ok;

  if (g_strcmp0 (group_by, "app") != 0 && g_strcmp0 (group_by, "domain") != 0
      && g_strcmp0 (group_by, "country") != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "cannot group by '%s': use app, domain or country", group_by);
      return NULL;
    }
  where_build (&w, query);
  sql = g_strdup_printf ("SELECT c.%s, count (*) AS n FROM %s%s GROUP BY c.%s"
                         " ORDER BY n DESC, c.%s LIMIT ? OFFSET ?",
                         group_by, w.from, w.where->str, group_by, group_by);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(st)"));
  ok = run_query (self, sql, &w, query->limit ? query->limit : 100, query->offset, add_count_cb, &b,
                  error);
  where_clear (&w);
  if (!ok)
    {
      g_variant_builder_clear (&b);
      return NULL;
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static void
add_bw_cb (sqlite3_stmt *st, gpointer data)
{
  g_variant_builder_add (data, "(xtt)", sqlite3_column_int64 (st, 0) * G_USEC_PER_SEC,
                         (guint64)sqlite3_column_int64 (st, 1),
                         (guint64)sqlite3_column_int64 (st, 2));
}

GVariant *
pc_history_bandwidth (PcHistory *self,
                      const char *app,
                      gint64 since,
                      gint64 until,
                      guint step_seconds,
                      GError **error)
{
  Where w = { 0 };
  GVariantBuilder b;
  g_autofree char *sql = NULL;
  gint64 step = MAX (step_seconds, 1);
  gint64 from = since / G_USEC_PER_SEC;
  gint64 to = until > 0 ? until / G_USEC_PER_SEC : G_MAXINT64;
  const char *app_clause = app != NULL ? " AND app = ?" : "";
  gboolean ok;

  w.where = g_string_new (NULL);
  w.texts = g_ptr_array_new_with_free_func (g_free);
  w.kinds = g_array_new (FALSE, FALSE, 1);
  w.ints = g_array_new (FALSE, FALSE, sizeof (gint64));
  /* parameters: from, to, [app], from, to, [app] */
  for (int part = 0; part < 2; part++)
    {
      char x = 'x', s = 's';
      g_array_append_val (w.kinds, x);
      g_ptr_array_add (w.texts, NULL);
      g_array_append_val (w.ints, from);
      g_array_append_val (w.kinds, x);
      g_ptr_array_add (w.texts, NULL);
      g_array_append_val (w.ints, to);
      if (app != NULL)
        {
          gint64 zero = 0;
          g_array_append_val (w.kinds, s);
          g_ptr_array_add (w.texts, g_strdup (app));
          g_array_append_val (w.ints, zero);
        }
    }
  sql = g_strdup_printf (
      "SELECT t / %" G_GINT64_FORMAT " * %" G_GINT64_FORMAT " AS s, sum (bytes_in), sum (bytes_out)"
      " FROM (SELECT t, bytes_in, bytes_out FROM bandwidth WHERE t >= ? AND t < ?%s"
      " UNION ALL SELECT t, bytes_in, bytes_out FROM bandwidth_minute WHERE t >= ? AND t < ?%s)"
      " GROUP BY s ORDER BY s",
      step, step, app_clause, app_clause);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(xtt)"));
  ok = run_query (self, sql, &w, -1, 0, add_bw_cb, &b, error);
  where_clear (&w);
  if (!ok)
    {
      g_variant_builder_clear (&b);
      return NULL;
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

gint64
pc_history_delete (PcHistory *self, const char *app, gint64 since, gint64 until, GError **error)
{
  PcHistoryQuery q = PC_HISTORY_QUERY_INIT;
  Where w;
  g_autofree char *sql = NULL;
  sqlite3_stmt *st = NULL;
  gint64 deleted = -1;
  int rc;

  q.app = app;
  q.since = since;
  q.until = until;
  where_build (&w, &q);
  g_mutex_lock (&self->read_lock);
  /* no free text here: the WHERE clause only names columns of connections, aliased c */
  sql = g_strdup_printf ("DELETE FROM connections AS c%s", w.where->str);
  rc = sqlite3_exec (self->rdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->rdb, sql, -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      where_bind (&w, st);
      rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode (self->rdb);
      deleted = sqlite3_changes64 (self->rdb);
      sqlite3_finalize (st);
      st = NULL;
    }
  if (rc == SQLITE_OK)
    {
      /* bandwidth rows are per second/minute: the same bounds in seconds */
      const char *tables[] = { "bandwidth", "bandwidth_minute" };
      for (guint i = 0; i < G_N_ELEMENTS (tables) && rc == SQLITE_OK; i++)
        {
          g_autofree char *one = g_strdup_printf (
              "DELETE FROM %s WHERE t >= %" G_GINT64_FORMAT " AND t < %" G_GINT64_FORMAT "%s",
              tables[i], since / G_USEC_PER_SEC, until > 0 ? until / G_USEC_PER_SEC : G_MAXINT64,
              app != NULL ? " AND app = ?1" : "");
          rc = sqlite3_prepare_v2 (self->rdb, one, -1, &st, NULL);
          if (rc == SQLITE_OK)
            {
              if (app != NULL)
                sqlite3_bind_text (st, 1, app, -1, SQLITE_TRANSIENT);
              rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode (self->rdb);
              sqlite3_finalize (st);
            }
        }
    }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->rdb, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self->rdb, rc, "delete", error);
      sqlite3_exec (self->rdb, "ROLLBACK", NULL, NULL, NULL);
      g_mutex_unlock (&self->read_lock);
      where_clear (&w);
      return -1;
    }
  /* Deleted data must really be gone from the file, not only unlinked inside it. */
  if (sqlite3_exec (self->rdb,
                    "INSERT INTO connections_fts (connections_fts) VALUES ('optimize');"
                    "VACUUM;",
                    NULL, NULL, NULL)
      != SQLITE_OK)
    g_warning ("history: vacuum after delete failed: %s", sqlite3_errmsg (self->rdb));
  g_mutex_unlock (&self->read_lock);
  where_clear (&w);
  return deleted;
}

typedef struct
{
  GString *out;
  gboolean json;
  guint rows;
} ExportData;

static void
csv_field (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++)
    {
      if (*s == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

/* Written by hand: the rows are flat (strings, numbers, booleans), so a JSON library would add a
 * dependency for a dozen lines of escaping. */
static void
export_row_cb (sqlite3_stmt *st, gpointer data)
{
  ExportData *e = data;
  g_autoptr (GVariant) row = g_variant_ref_sink (row_to_variant (st));

  if (e->json)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_string_append (e->out, e->rows ? ",\n  {" : "\n  {");
      g_variant_iter_init (&iter, row);
      for (gboolean first = TRUE; g_variant_iter_next (&iter, "{&sv}", &key, &value); first = FALSE)
        {
          g_autofree char *v = NULL;
          if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            {
              g_autoptr (GString) esc = g_string_new ("\"");
              for (const char *p = g_variant_get_string (value, NULL); *p; p++)
                {
                  if (*p == '"' || *p == '\\')
                    g_string_append_printf (esc, "\\%c", *p);
                  else if ((guchar)*p < 0x20)
                    g_string_append_printf (esc, "\\u%04x", *p);
                  else
                    g_string_append_c (esc, *p);
                }
              g_string_append_c (esc, '"');
              v = g_string_free (g_steal_pointer (&esc), FALSE);
            }
          else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
            v = g_strdup (g_variant_get_boolean (value) ? "true" : "false");
          else
            {
              /* numbers: GVariant prints typed literals ("int64 5"); take the number */
              g_autofree char *p = g_variant_print (value, FALSE);
              const char *sp = strrchr (p, ' ');
              v = g_strdup (sp != NULL ? sp + 1 : p);
            }
          g_string_append_printf (e->out, "%s\"%s\": %s", first ? "" : ", ", key, v);
          g_variant_unref (value);
        }
      g_string_append_c (e->out, '}');
    }
  else
    {
      static const char *const cols[]
          = { "id",      "app",        "pid",     "exe",         "direction", "protocol",
              "local",   "local-port", "remote",  "remote-port", "domain",    "country",
              "allowed", "reason",     "started", "ended",       "bytes-in",  "bytes-out" };
      for (guint i = 0; i < G_N_ELEMENTS (cols); i++)
        {
          g_autoptr (GVariant) v = g_variant_lookup_value (row, cols[i], NULL);
          if (i > 0)
            g_string_append_c (e->out, ',');
          if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
            csv_field (e->out, g_variant_get_string (v, NULL));
          else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
            g_string_append (e->out, g_variant_get_boolean (v) ? "allowed" : "blocked");
          else
            {
              g_autofree char *p = g_variant_print (v, FALSE);
              const char *sp = strrchr (p, ' ');
              g_string_append (e->out, sp != NULL ? sp + 1 : p);
            }
        }
      g_string_append_c (e->out, '\n');
    }
  e->rows++;
}

char *
pc_history_export_data (
    PcHistory *self, const PcHistoryQuery *query, const char *format, gsize *length, GError **error)
{
  ExportData e = { 0 };
  Where w;
  g_autofree char *sql = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean ok;

  if (g_strcmp0 (format, "csv") != 0 && g_strcmp0 (format, "json") != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "unknown export format '%s': use csv or json", format);
      return NULL;
    }
  e.out = out;
  e.json = g_str_equal (format, "json");
  if (e.json)
    g_string_append_c (out, '[');
  else
    g_string_append (out, "id,app,pid,exe,direction,protocol,local,local_port,remote,remote_port,"
                          "domain,country,verdict,reason,started,ended,bytes_in,bytes_out\n");
  where_build (&w, query);
  sql = g_strdup_printf ("SELECT %s FROM %s%s ORDER BY c.started, c.id LIMIT ? OFFSET ?",
                         row_columns, w.from, w.where->str);
  ok = run_query (self, sql, &w, query->limit ? query->limit : G_MAXINT64, query->offset,
                  export_row_cb, &e, error);
  where_clear (&w);
  if (!ok)
    return NULL;
  if (e.json)
    g_string_append (out, e.rows ? "\n]\n" : "]\n");
  if (length != NULL)
    *length = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
pc_history_export (PcHistory *self,
                   const PcHistoryQuery *query,
                   const char *path,
                   const char *format,
                   GError **error)
{
  gsize length = 0;
  g_autofree char *data = pc_history_export_data (self, query, format, &length, error);

  if (data == NULL)
    return FALSE;
  return g_file_set_contents_full (path, data, (gssize)length, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                   error);
}
