/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-store"

#include "pc-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "pc-error.h"

struct _PcStore
{
  sqlite3 *db;
  char *path;
  gboolean in_transaction;
};

static const char schema[]
    = "CREATE TABLE IF NOT EXISTS items ("
      "  kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id));"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";

static gboolean
set_db_error (sqlite3 *db, int rc, const char *what, GError **error)
{
  g_set_error (error, PC_ERROR,
               rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? PC_ERROR_CORRUPT : PC_ERROR_FAILED,
               "%s: %s", what, db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static gboolean
exec (sqlite3 *db, const char *sql, GError **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return set_db_error (db, rc, sql, error);
  return TRUE;
}

/* Opens and checks the file; any sign of corruption is PC_ERROR_CORRUPT. */
static sqlite3 *
open_checked (const char *path, GError **error)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;
  g_autofree char *verdict = NULL;

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (db, rc, path, error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  /* WAL: readers never block the writer, and a commit is one append + fsync. synchronous=FULL
   * fsyncs the WAL at every commit, so an acknowledged change survives power loss as well as
   * kill -9. */
  if (!exec (db, "PRAGMA journal_mode=WAL", error) || !exec (db, "PRAGMA synchronous=FULL", error)
      || !exec (db, schema, error))
    {
      sqlite3_close (db);
      return NULL;
    }
  rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    verdict = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  else
    rc = sqlite3_errcode (db);
  sqlite3_finalize (stmt);
  if (verdict == NULL || !g_str_equal (verdict, "ok"))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "integrity check failed: %s",
                   verdict != NULL ? verdict : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

PcStore *
pc_store_open (const char *path, char **problem, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  sqlite3 *db = open_checked (path, &local_error);

  if (db == NULL && g_error_matches (local_error, PC_ERROR, PC_ERROR_CORRUPT))
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
      g_autofree char *aside = g_strdup_printf ("%s.corrupt-%s", path, stamp);
      const char *suffixes[] = { "-wal", "-shm" };
      g_autofree char *msg = NULL;

      if (g_rename (path, aside) < 0)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                       "%s is corrupt (%s) and cannot be moved aside to %s: %s", path,
                       local_error->message, aside, g_strerror (errno));
          return NULL;
        }
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
          g_autofree char *to = g_strconcat (aside, suffixes[i], NULL);
          (void)g_rename (from, to);
        }
      msg = g_strdup_printf ("policy database %s is corrupt (%s); it was moved aside to %s and "
                             "Portcullis started with default settings",
                             path, local_error->message, aside);
      g_warning ("%s", msg);
      if (problem != NULL)
        *problem = g_steal_pointer (&msg);
      g_clear_error (&local_error);
      db = open_checked (path, &local_error);
    }
  if (db == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  PcStore *self = g_new0 (PcStore, 1);
  self->db = db;
  self->path = g_strdup (path);
  return self;
}

void
pc_store_free (PcStore *self)
{
  if (self == NULL)
    return;
  sqlite3_close (self->db);
  g_free (self->path);
  g_free (self);
}

gboolean
pc_store_begin (PcStore *self, GError **error)
{
  g_return_val_if_fail (!self->in_transaction, FALSE);
  if (!exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  self->in_transaction = TRUE;
  return TRUE;
}

gboolean
pc_store_commit (PcStore *self, GError **error)
{
  g_return_val_if_fail (self->in_transaction, FALSE);
  if (!exec (self->db, "COMMIT", error))
    {
      pc_store_rollback (self);
      return FALSE;
    }
  self->in_transaction = FALSE;
  return TRUE;
}

void
pc_store_rollback (PcStore *self)
{
  if (!self->in_transaction)
    return;
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  self->in_transaction = FALSE;
}

/* Runs one statement with up to three text parameters (NULL: unused). */
static gboolean
run (PcStore *self, const char *sql, const char *a, const char *b, const char *c, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  const char *params[] = { a, b, c };
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    return set_db_error (self->db, rc, "prepare", error);
  for (int i = 0; i < 3 && params[i] != NULL; i++)
    sqlite3_bind_text (stmt, i + 1, params[i], -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return set_db_error (self->db, rc, "write", error);
  return TRUE;
}

gboolean
pc_store_put (PcStore *self, const char *kind, const char *id, GVariant *value, GError **error)
{
  /* The GVariant text format with types keeps every value exact ("uint32 60", "@as []"). */
  g_autofree char *text = g_variant_print (value, TRUE);

  if (!run (self, "INSERT OR REPLACE INTO items (kind, id, value) VALUES (?1, ?2, ?3)", kind, id,
            text, error))
    {
      g_prefix_error (error, "cannot store %s '%s': ", kind, id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pc_store_delete (PcStore *self, const char *kind, const char *id, GError **error)
{
  if (!run (self, "DELETE FROM items WHERE kind = ?1 AND id = ?2", kind, id, NULL, error))
    {
      g_prefix_error (error, "cannot delete %s '%s': ", kind, id);
      return FALSE;
    }
  return TRUE;
}

gboolean
pc_store_delete_kind (PcStore *self, const char *kind, GError **error)
{
  return run (self, "DELETE FROM items WHERE kind = ?1", kind, NULL, NULL, error);
}

GHashTable *
pc_store_load (PcStore *self, const char *kind, GPtrArray *problems, GError **error)
{
  g_autoptr (GHashTable) items
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, "SELECT id, value FROM items WHERE kind = ?1 ORDER BY id",
                               -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      set_db_error (self->db, rc, "prepare", error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *)sqlite3_column_text (stmt, 0);
      const char *text = (const char *)sqlite3_column_text (stmt, 1);
      g_autoptr (GError) parse_error = NULL;
      GVariant *value = g_variant_parse (NULL, text != NULL ? text : "", NULL, NULL, &parse_error);

      if (value == NULL)
        {
          if (problems != NULL)
            g_ptr_array_add (problems,
                             g_strdup_printf ("%s: stored %s '%s' is unreadable and was "
                                              "ignored: %s",
                                              self->path, kind, id, parse_error->message));
          continue;
        }
      g_hash_table_insert (items, g_strdup (id), g_variant_ref_sink (value));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (self->db, rc, "read", error);
      return NULL;
    }
  return g_steal_pointer (&items);
}
