/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Signed filter-list updates: see pc-intel-update.h.
 *
 * Downloads use libcurl (libcurl4-gnutls-dev): the field's standard HTTP client, with HTTPS over
 * the same GnuTLS the signatures are checked with, timeouts, redirects limited to http(s), and a
 * clean error for a connection closed before Content-Length bytes arrived (a truncated file).
 * Each file is written to a private download directory while its sha256 is computed on the fly
 * and its size is capped at what the signed index says. */
#define G_LOG_DOMAIN "portcullis-intel"

#include "config.h"

#include "pc-intel-update.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pc-error.h"
#include "pc-intel-private.h"

#define MAX_SIG_SIZE 4096
#define ED25519_SIG_LEN 64
#define CONNECT_TIMEOUT_S 15L
#define LOW_SPEED_TIME_S 30L /* abort a transfer slower than 1 byte/s for this long */

struct _PcIntelUpdater
{
  GObject parent_instance;

  PcIntel *intel;
  char *url;
  char *keys_dir;
  char *state_dir;
  gint running;

  GMutex status_lock;
  gint64 last_attempt;
  gint64 last_success;
  char *last_result;
  /* progress of the running update (see pc_intel_updater_dup_status) */
  const char *phase; /* static string, "" when idle */
  guint64 bytes_done;
  guint64 bytes_total; /* 0: unknown */

  guint timer_id;
  GMainContext *context;
};

G_DEFINE_FINAL_TYPE (PcIntelUpdater, pc_intel_updater, G_TYPE_OBJECT)

static void
pc_intel_updater_finalize (GObject *object)
{
  PcIntelUpdater *self = PC_INTEL_UPDATER (object);

  if (self->timer_id != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->context, self->timer_id);

      if (source != NULL)
        g_source_destroy (source);
    }
  g_clear_object (&self->intel);
  g_free (self->url);
  g_free (self->keys_dir);
  g_free (self->state_dir);
  g_free (self->last_result);
  g_mutex_clear (&self->status_lock);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (pc_intel_updater_parent_class)->finalize (object);
}

static void
pc_intel_updater_class_init (PcIntelUpdaterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pc_intel_updater_finalize;
}

static void
pc_intel_updater_init (PcIntelUpdater *self)
{
  g_mutex_init (&self->status_lock);
  self->phase = "";
  self->context = g_main_context_ref_thread_default ();
}

PcIntelUpdater *
pc_intel_updater_new (PcIntel *intel, const char *url, const char *keys_dir, const char *state_dir)
{
  PcIntelUpdater *self = g_object_new (PC_TYPE_INTEL_UPDATER, NULL);
  static gsize curl_ready = 0;

  if (g_once_init_enter (&curl_ready))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_ready, 1);
    }
  self->intel = g_object_ref (intel);
  self->url = g_strdup (url);
  self->keys_dir = g_strdup (keys_dir);
  self->state_dir = g_strdup (state_dir);
  return self;
}

/* ---- progress ------------------------------------------------------------------------- */

static void
set_progress (PcIntelUpdater *self, const char *phase, guint64 done, guint64 total)
{
  g_mutex_lock (&self->status_lock);
  self->phase = phase;
  self->bytes_done = done;
  self->bytes_total = total;
  g_mutex_unlock (&self->status_lock);
}

static void
set_bytes_done (PcIntelUpdater *self, guint64 done)
{
  g_mutex_lock (&self->status_lock);
  self->bytes_done = done;
  g_mutex_unlock (&self->status_lock);
}

/* ---- signatures ------------------------------------------------------------------------- */

static gboolean
decode_signature (const char *text, gsize len, guchar out[ED25519_SIG_LEN], GError **error)
{
  g_autofree char *s = text != NULL ? g_strndup (text, len) : g_strdup ("");
  g_autofree guchar *raw = NULL;
  gsize raw_len = 0;
  gsize n;

  g_strstrip (s);
  n = strlen (s);
  if (n == 0 || n % 4 != 0
      || strspn (s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789+/=")
             != n)
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_CORRUPT, "signature is not base64 text");
      return FALSE;
    }
  raw = g_base64_decode (s, &raw_len);
  if (raw_len != ED25519_SIG_LEN)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                   "signature is %" G_GSIZE_FORMAT " bytes, an Ed25519 signature has 64", raw_len);
      return FALSE;
    }
  memcpy (out, raw, ED25519_SIG_LEN);
  return TRUE;
}

gboolean
pc_intel_verify_signature (const char *keys_dir,
                           const char *data,
                           gsize len,
                           const char *sig_base64,
                           gsize sig_len,
                           GError **error)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) local_error = NULL;
  guchar sig[ED25519_SIG_LEN];
  gnutls_datum_t sig_datum = { sig, ED25519_SIG_LEN };
  gnutls_datum_t data_datum = { (unsigned char *)data, (unsigned int)len };
  const char *name;
  guint n_keys = 0;

  if (!decode_signature (sig_base64, sig_len, sig, error))
    return FALSE;
  dir = g_dir_open (keys_dir, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "no trusted keys: %s",
                   local_error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *pem = NULL;
      gsize pem_len = 0;
      gnutls_pubkey_t key = NULL;
      gnutls_datum_t pem_datum;
      int rc;

      if (!g_str_has_suffix (name, ".pub"))
        continue;
      path = g_build_filename (keys_dir, name, NULL);
      if (!g_file_get_contents (path, &pem, &pem_len, NULL) || pem_len > 64 * 1024)
        {
          g_message ("trusted key %s cannot be read; skipped", path);
          continue;
        }
      pem_datum.data = (unsigned char *)pem;
      pem_datum.size = (unsigned int)pem_len;
      if (gnutls_pubkey_init (&key) < 0)
        continue;
      rc = gnutls_pubkey_import (key, &pem_datum, GNUTLS_X509_FMT_PEM);
      if (rc < 0)
        {
          g_message ("trusted key %s is not a PEM public key (%s); skipped", path,
                     gnutls_strerror (rc));
          gnutls_pubkey_deinit (key);
          continue;
        }
      n_keys++;
      rc = gnutls_pubkey_verify_data2 (key, GNUTLS_SIGN_EDDSA_ED25519, 0, &data_datum, &sig_datum);
      gnutls_pubkey_deinit (key);
      if (rc >= 0)
        {
          g_debug ("index signature verified with %s", path);
          return TRUE;
        }
    }
  if (n_keys == 0)
    g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "no trusted keys (*.pub) in %s", keys_dir);
  else
    g_set_error (error, PC_ERROR, PC_ERROR_ACCESS_DENIED,
                 "bad signature: the index is not signed by any of the %u trusted keys in %s",
                 n_keys, keys_dir);
  return FALSE;
}

/* ---- downloads -------------------------------------------------------------------------- */

typedef struct
{
  int fd;
  guint64 written;
  guint64 max;
  gboolean too_big;
  gboolean write_failed;
  GChecksum *sum;
  GCancellable *cancellable;
  PcIntelUpdater *progress; /* gets base + written as bytes-done after each write */
  guint64 base;
} Download;

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Download *d = user_data;
  size_t n = size * nmemb;
  size_t off = 0;

  if (d->written + n > d->max)
    {
      d->too_big = TRUE;
      return 0;
    }
  while (off < n)
    {
      ssize_t w = write (d->fd, ptr + off, n - off);

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          d->write_failed = TRUE;
          return 0;
        }
      off += (size_t)w;
    }
  g_checksum_update (d->sum, (const guchar *)ptr, (gssize)n);
  d->written += n;
  set_bytes_done (d->progress, d->base + d->written);
  return n;
}

static int
progress_cb (
    void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  Download *d = user_data;

  return g_cancellable_is_cancelled (d->cancellable) ? 1 : 0;
}

static char *
join_url (const char *base, const char *name)
{
  return g_strconcat (base, g_str_has_suffix (base, "/") ? "" : "/", name, NULL);
}

/* Downloads url to path (created, mode 0644), at most max bytes; *sha256 gets the hex sum.
 * While it runs, self's bytes-done is base plus the bytes written so far. */
static gboolean
download (PcIntelUpdater *self,
          guint64 base,
          const char *url,
          const char *path,
          guint64 max,
          char **sha256,
          guint64 *size,
          GCancellable *cancellable,
          GError **error)
{
  CURL *curl = curl_easy_init ();
  char curl_error[CURL_ERROR_SIZE] = "";
  Download d
      = { -1, 0, max, FALSE, FALSE, g_checksum_new (G_CHECKSUM_SHA256), cancellable, self, base };
  CURLcode rc;
  long status = 0;
  gboolean ok = FALSE;

  d.fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (d.fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s", path,
                   g_strerror (saved));
    }
  else if (curl == NULL)
    g_set_error_literal (error, PC_ERROR, PC_ERROR_FAILED, "cannot start an HTTP transfer");
  else
    {
      curl_easy_setopt (curl, CURLOPT_URL, url);
      curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
      curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt (curl, CURLOPT_MAXREDIRS, 3L);
      curl_easy_setopt (curl, CURLOPT_FAILONERROR, 1L);
      curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
      curl_easy_setopt (curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt (curl, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
      curl_easy_setopt (curl, CURLOPT_USERAGENT, "portcullis/" PACKAGE_VERSION);
      curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, curl_error);
      curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, write_cb);
      curl_easy_setopt (curl, CURLOPT_WRITEDATA, &d);
      curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
      curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &d);
      curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
      rc = curl_easy_perform (curl);
      curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);

      if (d.too_big)
        g_set_error (error, PC_ERROR, PC_ERROR_LIMIT,
                     "%s: the server sent more than the %" G_GUINT64_FORMAT " bytes expected", url,
                     max);
      else if (rc == CURLE_ABORTED_BY_CALLBACK)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", url);
      else if (d.write_failed)
        g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "cannot write %s: %s", path,
                     g_strerror (errno));
      else if (rc != CURLE_OK)
        g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s: %s", url,
                     curl_error[0] ? curl_error : curl_easy_strerror (rc));
      else if (fsync (d.fd) < 0)
        g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "cannot write %s: %s", path,
                     g_strerror (errno));
      else
        {
          *sha256 = g_strdup (g_checksum_get_string (d.sum));
          *size = d.written;
          ok = TRUE;
        }
    }
  if (d.fd >= 0)
    close (d.fd);
  if (curl != NULL)
    curl_easy_cleanup (curl);
  g_checksum_free (d.sum);
  return ok;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Removes a directory and the plain files in it (our download and data directories are flat). */
static void
remove_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (path, name, NULL);

      if (g_unlink (p) < 0)
        g_message ("cannot remove %s: %s", p, g_strerror (errno));
    }
  if (g_rmdir (path) < 0 && errno != ENOENT)
    g_message ("cannot remove %s: %s", path, g_strerror (errno));
}

static void
fsync_dir (const char *path)
{
  int fd = g_open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

static gboolean
read_verified_index (const char *keys_dir, const char *dir, PcIntelIndex **out, GError **error)
{
  g_autofree char *index_path = g_build_filename (dir, "index.json", NULL);
  g_autofree char *sig_path = g_build_filename (dir, "index.json.sig", NULL);
  g_autofree char *index = NULL;
  g_autofree char *sig = NULL;
  gsize index_len = 0, sig_len = 0;

  if (!g_file_get_contents (index_path, &index, &index_len, error)
      || !g_file_get_contents (sig_path, &sig, &sig_len, error))
    return FALSE;
  if (!pc_intel_verify_signature (keys_dir, index, index_len, sig, sig_len, error))
    return FALSE;
  *out = pc_intel_index_parse (index, index_len, error);
  return *out != NULL;
}

static gint64
installed_serial (PcIntelUpdater *self)
{
  g_autofree char *path = g_build_filename (self->state_dir, "lists", "index.json", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (PcIntelIndex) index = NULL;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return -1;
  index = pc_intel_index_parse (data, len, NULL);
  return index != NULL ? index->serial : -1;
}

gboolean
pc_intel_updater_load_installed (PcIntelUpdater *self, GError **error)
{
  g_autofree char *dir = g_build_filename (self->state_dir, "lists", NULL);
  g_autoptr (PcIntelIndex) index = NULL;

  if (!read_verified_index (self->keys_dir, dir, &index, error)
      || !pc_intel_load_dir (self->intel, dir, error))
    {
      g_prefix_error (error, "installed lists %s: ", dir);
      return FALSE;
    }
  return TRUE;
}

/* Removes leftovers: interrupted downloads and data directories no longer current. */
static void
clean_state_dir (PcIntelUpdater *self, const char *keep)
{
  g_autoptr (GDir) dir = g_dir_open (self->state_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (self->state_dir, name, NULL);

      if ((g_str_has_prefix (name, "lists-") && g_strcmp0 (name, keep) != 0)
          || g_str_has_prefix (name, ".download-"))
        remove_dir (p);
    }
}

/* *work is the download directory; once renamed to its final name, *work follows, so the caller
 * always removes the right directory on failure. */
static gboolean
do_update (PcIntelUpdater *self,
           char **work,
           gboolean *updated,
           gint64 *serial,
           GCancellable *cancellable,
           GError **error)
{
  const char *tmp = *work;
  g_autofree char *index_url = join_url (self->url, "index.json");
  g_autofree char *sig_url = join_url (self->url, "index.json.sig");
  g_autofree char *index_path = g_build_filename (tmp, "index.json", NULL);
  g_autofree char *sig_path = g_build_filename (tmp, "index.json.sig", NULL);
  g_autofree char *ignored_sum = NULL;
  g_autofree char *final_name = NULL;
  g_autofree char *final = NULL;
  g_autofree char *link_tmp = NULL;
  g_autofree char *link = NULL;
  g_autoptr (PcIntelIndex) index = NULL;
  guint64 size = 0;
  gint64 installed;

  guint64 index_size = 0;
  guint64 total = 0, done = 0;

  set_progress (self, "index", 0, 0);
  if (!download (self, 0, index_url, index_path, PC_INTEL_MAX_INDEX_SIZE, &ignored_sum, &index_size,
                 cancellable, error))
    return FALSE;
  g_clear_pointer (&ignored_sum, g_free);
  if (!download (self, index_size, sig_url, sig_path, MAX_SIG_SIZE, &ignored_sum, &size,
                 cancellable, error))
    return FALSE;
  set_progress (self, "verifying", 0, 0);
  if (!read_verified_index (self->keys_dir, tmp, &index, error))
    return FALSE;
  *serial = index->serial;

  installed = installed_serial (self);
  if (index->serial < installed)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                   "the server's index has serial %" G_GINT64_FORMAT
                   ", older than the installed %" G_GINT64_FORMAT " (refusing a rollback)",
                   index->serial, installed);
      return FALSE;
    }
  if (index->serial == installed)
    {
      *updated = FALSE;
      return TRUE;
    }

  /* the signed index gives every size: the fraction is exact */
  for (guint i = 0; i < index->entries->len; i++)
    total += ((const PcIntelIndexEntry *)g_ptr_array_index (index->entries, i))->size;
  set_progress (self, "downloading", 0, total);
  for (guint i = 0; i < index->entries->len; i++)
    {
      const PcIntelIndexEntry *e = g_ptr_array_index (index->entries, i);
      g_autofree char *url = join_url (self->url, e->file);
      g_autofree char *path = g_build_filename (tmp, e->file, NULL);
      g_autofree char *sum = NULL;

      if (!download (self, done, url, path, e->size, &sum, &size, cancellable, error))
        return FALSE;
      done += size;
      if (size != e->size)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                       "%s: got %" G_GUINT64_FORMAT
                       " bytes, the signed index says %" G_GUINT64_FORMAT " (truncated)",
                       url, size, e->size);
          return FALSE;
        }
      if (strcmp (sum, e->sha256) != 0)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                       "%s: sha256 is %s, the signed index says %s", url, sum, e->sha256);
          return FALSE;
        }
    }
  fsync_dir (tmp);

  /* complete and verified: make it the data (loading re-checks the sums and builds the sets) */
  set_progress (self, "swapping", total, total);
  final_name = g_strdup_printf ("lists-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, index->serial,
                                g_get_real_time ());
  final = g_build_filename (self->state_dir, final_name, NULL);
  if (g_rename (tmp, final) < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "cannot rename %s to %s: %s", tmp, final,
                   g_strerror (errno));
      return FALSE;
    }
  g_free (*work);
  *work = g_strdup (final);
  if (!pc_intel_load_dir (self->intel, final, error))
    return FALSE;

  link = g_build_filename (self->state_dir, "lists", NULL);
  link_tmp = g_strdup_printf ("%s.new-%d", link, (int)getpid ());
  g_unlink (link_tmp);
  if (symlink (final_name, link_tmp) < 0 || g_rename (link_tmp, link) < 0)
    {
      /* the new data is live but would not survive a restart: say so, keep going */
      g_warning ("cannot point %s at %s: %s", link, final_name, g_strerror (errno));
      g_unlink (link_tmp);
    }
  fsync_dir (self->state_dir);
  *updated = TRUE;
  return TRUE;
}

gboolean
pc_intel_updater_update_sync (PcIntelUpdater *self,
                              gboolean *updated,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *result = NULL;
  gboolean did_update = FALSE;
  gint64 serial = 0;
  gboolean ok;

  g_return_val_if_fail (PC_IS_INTEL_UPDATER (self), FALSE);
  if (!g_atomic_int_compare_and_exchange (&self->running, 0, 1))
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_EXISTS, "an update is already running");
      return FALSE;
    }
  g_mutex_lock (&self->status_lock);
  self->last_attempt = g_get_real_time () / G_USEC_PER_SEC;
  self->phase = "index";
  self->bytes_done = self->bytes_total = 0;
  g_mutex_unlock (&self->status_lock);

  if (g_mkdir_with_parents (self->state_dir, 0755) < 0)
    g_set_error (&local_error, PC_ERROR, PC_ERROR_FAILED, "cannot create %s: %s", self->state_dir,
                 g_strerror (errno));
  else
    {
      tmp = g_build_filename (self->state_dir, ".download-XXXXXX", NULL);
      if (g_mkdtemp (tmp) == NULL)
        g_set_error (&local_error, PC_ERROR, PC_ERROR_FAILED, "cannot create a directory in %s: %s",
                     self->state_dir, g_strerror (errno));
    }

  ok = local_error == NULL
       && do_update (self, &tmp, &did_update, &serial, cancellable, &local_error);
  if ((!ok || !did_update) && tmp != NULL)
    remove_dir (tmp);
  if (ok && did_update)
    {
      g_autofree char *keep = g_path_get_basename (tmp);

      clean_state_dir (self, keep);
    }

  if (ok)
    result = did_update ? g_strdup_printf ("updated to serial %" G_GINT64_FORMAT, serial)
                        : g_strdup_printf ("up to date (serial %" G_GINT64_FORMAT ")", serial);
  else
    result = g_strdup_printf ("update from %s failed: %s", self->url, local_error->message);
  g_mutex_lock (&self->status_lock);
  g_free (self->last_result);
  self->last_result = g_strdup (result);
  if (ok)
    self->last_success = self->last_attempt;
  self->phase = "";
  self->bytes_done = self->bytes_total = 0;
  g_mutex_unlock (&self->status_lock);
  if (ok)
    g_message ("filter lists: %s", result);
  else
    pc_intel_set_last_error (self->intel, result);
  g_atomic_int_set (&self->running, 0);

  if (updated != NULL)
    *updated = did_update;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

static void
update_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean updated = FALSE;

  if (pc_intel_updater_update_sync (source, &updated, cancellable, &error))
    g_task_return_int (task, updated);
  else
    g_task_return_error (task, error);
}

void
pc_intel_updater_update_async (PcIntelUpdater *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pc_intel_updater_update_async);
  g_task_run_in_thread (task, update_thread);
}

gboolean
pc_intel_updater_update_finish (PcIntelUpdater *self,
                                GAsyncResult *result,
                                gboolean *updated,
                                GError **error)
{
  gssize v;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  v = g_task_propagate_int (G_TASK (result), error);
  if (v < 0)
    return FALSE;
  if (updated != NULL)
    *updated = v != 0;
  return TRUE;
}

static void
scheduled_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  /* the outcome is logged and kept in the status by update_sync */
  pc_intel_updater_update_finish (PC_INTEL_UPDATER (source), result, NULL, NULL);
}

static gboolean
timer_cb (gpointer user_data)
{
  PcIntelUpdater *self = user_data;

  if (!g_atomic_int_get (&self->running))
    pc_intel_updater_update_async (self, NULL, scheduled_done_cb, NULL);
  return G_SOURCE_CONTINUE;
}

void
pc_intel_updater_set_interval (PcIntelUpdater *self, guint interval_s)
{
  if (self->timer_id != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->context, self->timer_id);

      if (source != NULL)
        g_source_destroy (source);
      self->timer_id = 0;
    }
  if (interval_s > 0)
    {
      GSource *source = g_timeout_source_new_seconds (interval_s);

      g_source_set_callback (source, timer_cb, self, NULL);
      g_source_set_name (source, "[portcullis] filter list updates");
      self->timer_id = g_source_attach (source, self->context);
      g_source_unref (source);
    }
}

GVariant *
pc_intel_updater_dup_status (PcIntelUpdater *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_mutex_lock (&self->status_lock);
  g_variant_builder_add (&b, "{sv}", "url", g_variant_new_string (self->url));
  g_variant_builder_add (&b, "{sv}", "running",
                         g_variant_new_boolean (g_atomic_int_get (&self->running) != 0));
  g_variant_builder_add (&b, "{sv}", "last-attempt", g_variant_new_int64 (self->last_attempt));
  g_variant_builder_add (&b, "{sv}", "last-success", g_variant_new_int64 (self->last_success));
  g_variant_builder_add (&b, "{sv}", "last-result",
                         g_variant_new_string (self->last_result ? self->last_result : ""));
  g_variant_builder_add (&b, "{sv}", "phase", g_variant_new_string (self->phase));
  g_variant_builder_add (
      &b, "{sv}", "fraction",
      g_variant_new_double (self->bytes_total > 0
                                ? MIN (1.0, (double)self->bytes_done / (double)self->bytes_total)
                                : -1.0));
  g_variant_builder_add (&b, "{sv}", "bytes-done", g_variant_new_uint64 (self->bytes_done));
  g_variant_builder_add (&b, "{sv}", "bytes-total", g_variant_new_uint64 (self->bytes_total));
  g_mutex_unlock (&self->status_lock);
  return g_variant_ref_sink (g_variant_builder_end (&b));
}
