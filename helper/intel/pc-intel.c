/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter-list intelligence: see pc-intel.h for the API the policy uses.
 *
 * index.json, in a list directory (shipped data/lists, or a verified update):
 *
 *   { "version": 1,
 *     "serial": 3,                                   newer data has a larger serial
 *     "lists": [ { "id": "ads",                      letters, digits, '-', '_'
 *                  "file": "ads.txt",                a plain file name in the same directory
 *                  "format": "domains",              auto | hosts | domains | adblock | ip
 *                  "categories": [ "ADS" ],          category ids (pc_intel_get_categories)
 *                  "size": 1234,                     bytes
 *                  "sha256": "…",                    64 hex digits
 *                  "description": "…" } ] }          optional
 *
 * Concurrency: the current data is one pointer to an immutable Snapshot (the base lists' Layer
 * and the custom list's Layer, each sets plus status). A load builds a complete new Layer
 * without any lock, then publishes a new Snapshot with one atomic pointer store. Lookups take
 * no lock and never wait: a reader counts itself in readers[epoch] (an atomic increment), reads
 * the pointer, looks up, and counts itself out. The writer frees the old Snapshot only after a
 * grace period: it flips the epoch and waits for the old epoch's count to drain, twice, so that
 * every reader that could have read the old pointer has finished (one flip is not enough: a
 * reader may read the epoch, stall across a whole publish, then count itself under the stale
 * epoch). New readers always count under the new epoch, so the writer waits only for lookups
 * already in flight, however busy the readers are (a reader-writer lock would starve it). */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-intel.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pc-domain-set.h"
#include "pc-error.h"
#include "pc-intel-private.h"
#include "pc-list-parser.h"
#include "pc-net-set.h"
#include "pc-rule.h"

/* names and descriptions stay English here (D-Bus, portcullisctl, logs); N_() marks them for
 * po/ so that the app shows them translated (app/pc-filter-lists-group.c) */
static const PcIntelCategory categories[] = {
  { "ADS", PC_INTEL_ADS, N_ ("Ads"), N_ ("Advertising networks and ad servers.") },
  { "TRAC", PC_INTEL_TRAC, N_ ("Trackers"), N_ ("Tracking, analytics and telemetry services.") },
  { "MAL", PC_INTEL_MAL, N_ ("Malware"), N_ ("Hosts that spread or control malware.") },
  { "PHISH", PC_INTEL_PHISH, N_ ("Phishing"),
    N_ ("Sites that imitate others to steal credentials.") },
  { "CRYPTOMINING", PC_INTEL_CRYPTOMINING, N_ ("Cryptomining"),
    N_ ("In-browser and unwanted cryptocurrency miners and their pools.") },
  { "P2P", PC_INTEL_P2P, N_ ("Peer-to-peer"),
    N_ ("Trackers and bootstrap hosts of peer-to-peer networks.") },
  { "DNS-BYPASS", PC_INTEL_DNS_BYPASS, N_ ("DNS bypass"),
    N_ ("Public DNS-over-HTTPS/TLS resolvers that programs use to get around the local "
        "resolver.") },
  { "UNBREAK", PC_INTEL_UNBREAK, N_ ("Unbreak"),
    N_ ("Allow-list: names that other lists would block but that sites need to work.") },
  { "TEST", PC_INTEL_TEST, N_ ("Test"), N_ ("Names reserved for checking that filtering works.") },
  { "CUSTOM", PC_INTEL_CUSTOM, N_ ("Custom"), N_ ("The user's own list (setting custom-list).") },
};

const PcIntelCategory *
pc_intel_get_categories (guint *n_categories)
{
  *n_categories = G_N_ELEMENTS (categories);
  return categories;
}

const PcIntelCategory *
pc_intel_category_lookup (const char *id)
{
  if (id == NULL)
    return NULL;
  /* settings and rules hold the ids as written here: the exact comparison first (it runs for
   * every list of every decision) */
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    if (strcmp (id, categories[i].id) == 0)
      return &categories[i];
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    if (g_ascii_strcasecmp (id, categories[i].id) == 0)
      return &categories[i];
  return NULL;
}

guint32
pc_intel_mask_from_ids (const char *const *ids, const char **unknown)
{
  guint32 mask = 0;

  if (unknown != NULL)
    *unknown = NULL;
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    {
      const PcIntelCategory *c = pc_intel_category_lookup (ids[i]);

      if (c != NULL)
        mask |= c->bit;
      else if (unknown != NULL && *unknown == NULL)
        *unknown = ids[i];
    }
  return mask;
}

const char *
pc_intel_first_category (guint32 mask)
{
  mask &= ~(guint32)PC_INTEL_UNBREAK;
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    if (mask & categories[i].bit)
      return categories[i].id;
  return NULL;
}

/* ---- index.json ------------------------------------------------------------------------- */

static void
index_entry_free (gpointer p)
{
  PcIntelIndexEntry *e = p;

  g_free (e->id);
  g_free (e->file);
  g_free (e->sha256);
  g_free (e->description);
  g_free (e);
}

void
pc_intel_index_free (PcIntelIndex *index)
{
  if (index == NULL)
    return;
  g_clear_pointer (&index->entries, g_ptr_array_unref);
  g_free (index);
}

static gboolean
valid_id (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 64)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

/* Plain names that are safe both as a path component and in a URL, and not the index's own. */
static gboolean
valid_file_name (const char *s)
{
  if (s == NULL || *s == '\0' || *s == '.' || strlen (s) > 128
      || g_str_has_prefix (s, "index.json"))
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_' && *s != '.')
      return FALSE;
  return TRUE;
}

static gboolean
valid_sha256 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isxdigit (*s) || g_ascii_isupper (*s))
      return FALSE;
  return TRUE;
}

/* Members of a given type, or NULL/default: json-glib's *_with_default accessors complain
 * (g_critical) about members of the wrong type, and untrusted input may have any. */
static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
member_string (JsonObject *o, const char *name, const char *default_value)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL)
    return default_value;
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

static gboolean
member_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/* An untrusted string for an error message: escaped to printable ASCII and cut short. */
static char *
printable (const char *s)
{
  g_autofree char *escaped = NULL;

  if (s == NULL)
    return g_strdup ("(missing or not a string)");
  escaped = g_strescape (s, NULL);
  if (strlen (escaped) > 80)
    return g_strdup_printf ("%.77s...", escaped);
  return g_steal_pointer (&escaped);
}

static PcIntelIndexEntry *
index_entry_parse (JsonNode *node, guint i, GError **error)
{
  JsonObject *o;
  JsonArray *a;
  gint64 size = 0;
  gboolean has_size;
  PcIntelIndexEntry *e;
  const char *format;
  g_autofree char *shown = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "lists[%u] is not an object", i);
      return NULL;
    }
  o = json_node_get_object (node);
  e = g_new0 (PcIntelIndexEntry, 1);
  e->id = g_strdup (member_string (o, "id", NULL));
  e->file = g_strdup (member_string (o, "file", NULL));
  e->sha256 = g_strdup (member_string (o, "sha256", NULL));
  e->description = g_strdup (member_string (o, "description", ""));
  format = member_string (o, "format", "auto");
  has_size = member_int (o, "size", &size);
  a = member_array (o, "categories");

  if (!valid_id (e->id))
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "lists[%u]: bad or missing id '%s'", i,
                 shown = printable (e->id));
  else if (!valid_file_name (e->file))
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s': bad file name '%s'", e->id,
                 shown = printable (e->file));
  else if (!valid_sha256 (e->sha256))
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                 "list '%s': sha256 must be 64 lower-case hex digits, not '%s'", e->id,
                 shown = printable (e->sha256));
  else if (format == NULL || !pc_list_format_from_string (format, &e->format))
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s': unknown format '%s'", e->id,
                 shown = printable (format));
  else if (!has_size || size < 0 || (guint64)size > PC_INTEL_MAX_FILE_SIZE)
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s': bad or missing size", e->id);
  else if (a == NULL || json_array_get_length (a) == 0)
    g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s': no categories", e->id);
  else
    {
      gboolean bad = FALSE;

      e->size = (guint64)size;
      for (guint k = 0; k < json_array_get_length (a) && !bad; k++)
        {
          JsonNode *c = json_array_get_element (a, k);
          const char *id
              = JSON_NODE_HOLDS_VALUE (c) && json_node_get_value_type (c) == G_TYPE_STRING
                    ? json_node_get_string (c)
                    : NULL;
          const PcIntelCategory *cat = pc_intel_category_lookup (id);

          if (cat == NULL)
            {
              g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s': unknown category '%s'",
                           e->id, shown = printable (id));
              bad = TRUE;
            }
          else
            e->categories |= cat->bit;
        }
      if (!bad)
        return e;
    }
  index_entry_free (e);
  return NULL;
}

PcIntelIndex *
pc_intel_index_parse (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (PcIntelIndex) index = g_new0 (PcIntelIndex, 1);
  g_autoptr (GError) local_error = NULL;
  JsonObject *root;
  JsonArray *lists;
  gint64 version = 0;

  if (len > PC_INTEL_MAX_INDEX_SIZE)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                   "index is too large (%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize)len, &local_error))
    {
      g_autofree char *shown = printable (local_error->message);

      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "index is not valid JSON: %s", shown);
      return NULL;
    }
  /* an empty document parses, without a root */
  if (json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_CORRUPT, "index is not a JSON object");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  if (!member_int (root, "version", &version) || version != 1)
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_CORRUPT, "index version must be 1");
      return NULL;
    }
  if (!member_int (root, "serial", &index->serial))
    index->serial = 0;
  lists = member_array (root, "lists");
  if (lists == NULL)
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_CORRUPT, "index has no 'lists' array");
      return NULL;
    }
  index->entries = g_ptr_array_new_with_free_func (index_entry_free);
  for (guint i = 0; i < json_array_get_length (lists); i++)
    {
      PcIntelIndexEntry *e = index_entry_parse (json_array_get_element (lists, i), i, error);

      if (e == NULL)
        return NULL;
      for (guint k = 0; k < index->entries->len; k++)
        {
          PcIntelIndexEntry *other = g_ptr_array_index (index->entries, k);

          if (g_strcmp0 (other->id, e->id) == 0 || g_strcmp0 (other->file, e->file) == 0)
            {
              g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "list '%s' appears twice", e->id);
              index_entry_free (e);
              return NULL;
            }
        }
      g_ptr_array_add (index->entries, e);
    }
  return g_steal_pointer (&index);
}

gboolean
pc_intel_index_entry_check (const PcIntelIndexEntry *entry,
                            const char *data,
                            gsize len,
                            GError **error)
{
  g_autofree char *sum = NULL;
  guint8 digest[32];

  if (len != entry->size)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                   "list '%s' (%s): size is %" G_GSIZE_FORMAT
                   " bytes, the index says %" G_GUINT64_FORMAT,
                   entry->id, entry->file, len, entry->size);
      return FALSE;
    }
  /* GnuTLS' SHA-256 uses the CPU's SHA/AVX instructions: several times GChecksum's speed on the
   * tens of MiB of a big list */
  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, digest) < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "list '%s': cannot compute sha256", entry->id);
      return FALSE;
    }
  sum = g_malloc (65);
  for (guint i = 0; i < 32; i++)
    g_snprintf (sum + 2 * i, 3, "%02x", digest[i]);
  if (strcmp (sum, entry->sha256) != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                   "list '%s' (%s): sha256 is %s, the index says %s", entry->id, entry->file, sum,
                   entry->sha256);
      return FALSE;
    }
  return TRUE;
}

/* ---- layers ----------------------------------------------------------------------------- */

typedef struct
{
  gatomicrefcount ref_count;
  PcDomainSet *domains;
  PcNetSet *nets;
  GVariant *lists; /* aa{sv} status of the lists it was built from */
  char *dir;
  gint64 serial;
  PcListStats stats; /* totals (custom layer) */
} Layer;

static void
layer_unref (Layer *l)
{
  if (l == NULL || !g_atomic_ref_count_dec (&l->ref_count))
    return;
  g_clear_pointer (&l->domains, pc_domain_set_unref);
  g_clear_pointer (&l->nets, pc_net_set_unref);
  g_clear_pointer (&l->lists, g_variant_unref);
  g_free (l->dir);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Layer, layer_unref)

static Layer *
layer_ref (Layer *l)
{
  g_atomic_ref_count_inc (&l->ref_count);
  return l;
}

typedef struct
{
  Layer *base;
  Layer *custom;
} Snapshot;

static void
snapshot_free (Snapshot *snap)
{
  layer_unref (snap->base);
  layer_unref (snap->custom);
  g_free (snap);
}

static Layer *
layer_new_empty (void)
{
  Layer *l = g_new0 (Layer, 1);

  g_atomic_ref_count_init (&l->ref_count);
  l->domains = pc_domain_set_new_empty ();
  l->nets = pc_net_set_new_empty ();
  l->lists = g_variant_ref_sink (g_variant_new ("aa{sv}", NULL));
  return l;
}

typedef struct
{
  PcDomainSetBuilder *domains;
  PcNetSetBuilder *nets;
  guint32 mask;
} Sink;

static void
sink_domain_cb (const char *domain, gsize len, PcListEntryFlags flags, gpointer user_data)
{
  Sink *s = user_data;

  pc_domain_set_builder_add (s->domains, domain, (gssize)len,
                             (flags & PC_LIST_ENTRY_EXCEPTION) ? PC_INTEL_UNBREAK : s->mask);
}

static void
sink_net_cb (const PcAddr *addr, guint prefix_len, gpointer user_data)
{
  Sink *s = user_data;

  pc_net_set_builder_add (s->nets, addr, prefix_len, s->mask);
}

static GVariant *
list_status (const PcIntelIndexEntry *e, const PcListStats *st)
{
  GVariantBuilder b;
  GVariantBuilder cats;

  g_variant_builder_init (&cats, G_VARIANT_TYPE ("as"));
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    if (e->categories & categories[i].bit)
      g_variant_builder_add (&cats, "s", categories[i].id);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (e->id));
  g_variant_builder_add (&b, "{sv}", "file", g_variant_new_string (e->file));
  g_variant_builder_add (&b, "{sv}", "description", g_variant_new_string (e->description));
  g_variant_builder_add (&b, "{sv}", "categories", g_variant_builder_end (&cats));
  g_variant_builder_add (&b, "{sv}", "format",
                         g_variant_new_string (pc_list_format_to_string (e->format)));
  g_variant_builder_add (&b, "{sv}", "domains", g_variant_new_uint32 (st->n_domains));
  g_variant_builder_add (&b, "{sv}", "networks", g_variant_new_uint32 (st->n_nets));
  g_variant_builder_add (&b, "{sv}", "rejected", g_variant_new_uint32 (st->n_rejected));
  g_variant_builder_add (&b, "{sv}", "first-rejected-line",
                         g_variant_new_uint32 (st->first_rejected_line));
  g_variant_builder_add (
      &b, "{sv}", "first-rejected-reason",
      g_variant_new_string (st->first_rejected_reason ? st->first_rejected_reason : ""));
  return g_variant_builder_end (&b);
}

static void
bytes_unref0 (gpointer bytes)
{
  if (bytes != NULL)
    g_bytes_unref (bytes);
}

static Layer *
layer_load_dir (const char *dir, GError **error)
{
  g_autofree char *index_path = g_build_filename (dir, "index.json", NULL);
  g_autofree char *index_data = NULL;
  gsize index_len = 0;
  g_autoptr (PcIntelIndex) index = NULL;
  g_autoptr (PcDomainSetBuilder) domains = NULL;
  g_autoptr (PcNetSetBuilder) nets = NULL;
  g_autoptr (GPtrArray) contents = NULL;
  gsize n_lines = 0;
  GVariantBuilder lists;
  Layer *l;

  if (!g_file_get_contents (index_path, &index_data, &index_len, error))
    return NULL;
  index = pc_intel_index_parse (index_data, index_len, error);
  if (index == NULL)
    {
      g_prefix_error (error, "%s: ", index_path);
      return NULL;
    }

  /* every file is read and checked before anything is parsed: a bad one costs no parsing, and
   * the line count sizes the table once (at most one name per line, usually exactly one)
   * instead of growing it step by step */
  contents = g_ptr_array_new_with_free_func (bytes_unref0);
  for (guint i = 0; i < index->entries->len; i++)
    {
      const PcIntelIndexEntry *e = g_ptr_array_index (index->entries, i);
      g_autofree char *path = g_build_filename (dir, e->file, NULL);
      char *data = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &data, &len, error))
        return NULL;
      g_ptr_array_add (contents, g_bytes_new_take (data, len));
      if (!pc_intel_index_entry_check (e, data, len, error))
        return NULL;
      for (const char *p = data; (p = memchr (p, '\n', len - (gsize)(p - data))) != NULL; p++)
        n_lines++;
      n_lines++;
    }

  domains = pc_domain_set_builder_new (n_lines);
  nets = pc_net_set_builder_new ();
  g_variant_builder_init (&lists, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < index->entries->len; i++)
    {
      const PcIntelIndexEntry *e = g_ptr_array_index (index->entries, i);
      gsize len = 0;
      const char *data = g_bytes_get_data (g_ptr_array_index (contents, i), &len);
      Sink sink = { domains, nets, e->categories };
      PcListStats st;

      pc_list_parse (data, len, e->format, sink_domain_cb, sink_net_cb, &sink, &st);
      if (st.n_rejected > 0)
        g_message ("list '%s' (%s/%s): %u lines rejected, the first at line %u: %s", e->id, dir,
                   e->file, st.n_rejected, st.first_rejected_line, st.first_rejected_reason);
      g_variant_builder_add_value (&lists, list_status (e, &st));
      /* free each file as soon as it is parsed */
      g_clear_pointer (&contents->pdata[i], g_bytes_unref);
    }

  l = g_new0 (Layer, 1);
  g_atomic_ref_count_init (&l->ref_count);
  l->domains = pc_domain_set_builder_finish (g_steal_pointer (&domains));
  l->nets = pc_net_set_builder_finish (g_steal_pointer (&nets));
  l->lists = g_variant_ref_sink (g_variant_builder_end (&lists));
  l->dir = g_strdup (dir);
  l->serial = index->serial;
  return l;
}

static Layer *
layer_load_custom (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  Sink sink = { NULL, NULL, PC_INTEL_CUSTOM };
  Layer *l;
  GStatBuf st;

  /* refuse before reading it all in */
  if (g_stat (path, &st) == 0 && (guint64)st.st_size > PC_INTEL_MAX_FILE_SIZE)
    len = (gsize)st.st_size;
  else if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  if (len > PC_INTEL_MAX_FILE_SIZE)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_LIMIT,
                   "custom list %s is too large (%" G_GSIZE_FORMAT " bytes)", path, len);
      return NULL;
    }
  sink.domains = pc_domain_set_builder_new (0);
  sink.nets = pc_net_set_builder_new ();
  l = layer_new_empty ();
  pc_list_parse (data, len, PC_LIST_FORMAT_AUTO, sink_domain_cb, sink_net_cb, &sink, &l->stats);
  pc_domain_set_unref (l->domains);
  pc_net_set_unref (l->nets);
  l->domains = pc_domain_set_builder_finish (sink.domains);
  l->nets = pc_net_set_builder_finish (sink.nets);
  l->dir = g_strdup (path);
  return l;
}

/* ---- PcIntel ---------------------------------------------------------------------------- */

struct _PcIntel
{
  GObject parent_instance;

  Snapshot *current; /* atomic; see the top of this file */
  gint epoch;        /* atomic, 0 or 1 */
  gint readers[2];   /* atomic: lookups in flight, by the epoch they started in */
  GMutex write_lock; /* serialises publishing; guards the strings below and reading current
                      * outside the reader protocol */
  char *custom_path;
  char *custom_error;
  char *last_error;

  GMainContext *context; /* where "changed" is emitted and the monitor runs */
  GFileMonitor *monitor;
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PcIntel, pc_intel, G_TYPE_OBJECT)

static void
pc_intel_finalize (GObject *object)
{
  PcIntel *self = PC_INTEL (object);

  if (self->monitor != NULL)
    g_file_monitor_cancel (self->monitor);
  g_clear_object (&self->monitor);
  g_clear_pointer (&self->current, snapshot_free);
  g_clear_pointer (&self->custom_path, g_free);
  g_clear_pointer (&self->custom_error, g_free);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->write_lock);
  G_OBJECT_CLASS (pc_intel_parent_class)->finalize (object);
}

static void
pc_intel_class_init (PcIntelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pc_intel_finalize;

  /* Emitted in the creating thread's main context after new data was swapped in. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pc_intel_init (PcIntel *self)
{
  g_mutex_init (&self->write_lock);
  self->current = g_new0 (Snapshot, 1);
  self->current->base = layer_new_empty ();
  self->current->custom = layer_new_empty ();
  self->context = g_main_context_ref_thread_default ();
}

const char *
pc_intel_get_shipped_dir (void)
{
  return PC_INTEL_SHIPPED_DIR;
}

PcIntel *
pc_intel_new (void)
{
  return g_object_new (PC_TYPE_INTEL, NULL);
}

static gboolean
emit_changed_cb (gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
emit_changed (PcIntel *self)
{
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, emit_changed_cb,
                              g_object_ref (self), g_object_unref);
}

static inline const Snapshot *
read_begin (PcIntel *self, gint *epoch)
{
  *epoch = g_atomic_int_get (&self->epoch);
  g_atomic_int_inc (&self->readers[*epoch]);
  return g_atomic_pointer_get (&self->current);
}

static inline void
read_end (PcIntel *self, gint epoch)
{
  g_atomic_int_dec_and_test (&self->readers[epoch]);
}

/* With write_lock held: returns once no lookup can still be using a Snapshot that was current
 * before the call. */
static void
wait_for_readers (PcIntel *self)
{
  for (guint phase = 0; phase < 2; phase++)
    {
      gint old = g_atomic_int_get (&self->epoch);

      g_atomic_int_set (&self->epoch, 1 - old);
      while (g_atomic_int_get (&self->readers[old]) != 0)
        g_thread_yield ();
    }
}

/* Publishes base and/or custom (owned; NULL keeps the current one) as the new data. */
static void
publish (PcIntel *self, Layer *base, Layer *custom)
{
  Snapshot *snap = g_new0 (Snapshot, 1);
  Snapshot *old;

  g_mutex_lock (&self->write_lock);
  old = self->current;
  snap->base = base != NULL ? base : layer_ref (old->base);
  snap->custom = custom != NULL ? custom : layer_ref (old->custom);
  g_atomic_pointer_set (&self->current, snap);
  wait_for_readers (self);
  g_mutex_unlock (&self->write_lock);
  snapshot_free (old);
}

gboolean
pc_intel_load_dir (PcIntel *self, const char *dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  Layer *layer;

  g_return_val_if_fail (PC_IS_INTEL (self), FALSE);

  layer = layer_load_dir (dir, &local_error);
  if (layer == NULL)
    {
      pc_intel_set_last_error (self, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_message (
      "filter lists loaded from %s: %" G_GSIZE_FORMAT " domains, %" G_GSIZE_FORMAT
      " networks (%" G_GSIZE_FORMAT " KiB)",
      dir, pc_domain_set_get_size (layer->domains), pc_net_set_get_size (layer->nets),
      (pc_domain_set_get_memory_size (layer->domains) + pc_net_set_get_memory_size (layer->nets))
          / 1024);
  publish (self, layer, NULL);
  pc_intel_set_last_error (self, NULL);
  emit_changed (self);
  return TRUE;
}

char *
pc_intel_dup_data_dir (PcIntel *self)
{
  char *dir;

  g_mutex_lock (&self->write_lock);
  dir = g_strdup (self->current->base->dir);
  g_mutex_unlock (&self->write_lock);
  return dir;
}

gint64
pc_intel_get_serial (PcIntel *self)
{
  gint64 serial;

  g_mutex_lock (&self->write_lock);
  serial = self->current->base->serial;
  g_mutex_unlock (&self->write_lock);
  return serial;
}

void
pc_intel_set_last_error (PcIntel *self, const char *message)
{
  g_mutex_lock (&self->write_lock);
  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_mutex_unlock (&self->write_lock);
  if (message != NULL)
    g_warning ("filter lists: %s", message);
}

static void
reload_custom (PcIntel *self)
{
  g_autoptr (GError) error = NULL;
  Layer *layer = NULL;

  if (self->custom_path != NULL)
    layer = layer_load_custom (self->custom_path, &error);
  if (layer == NULL)
    layer = layer_new_empty ();
  else if (layer->stats.n_rejected > 0)
    g_message ("custom list %s: %u lines rejected, the first at line %u: %s", self->custom_path,
               layer->stats.n_rejected, layer->stats.first_rejected_line,
               layer->stats.first_rejected_reason);

  g_mutex_lock (&self->write_lock);
  g_free (self->custom_error);
  self->custom_error = error != NULL ? g_strdup (error->message) : NULL;
  g_mutex_unlock (&self->write_lock);
  if (error != NULL)
    g_warning ("custom list: %s", error->message);
  publish (self, NULL, layer);
  emit_changed (self);
}

static void
custom_changed_cb (
    GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer user_data)
{
  PcIntel *self = user_data;

  switch (event)
    {
      case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
      case G_FILE_MONITOR_EVENT_CREATED:
      case G_FILE_MONITOR_EVENT_DELETED:
      case G_FILE_MONITOR_EVENT_MOVED_IN:
      case G_FILE_MONITOR_EVENT_MOVED_OUT:
      case G_FILE_MONITOR_EVENT_RENAMED:
        g_debug ("custom list %s changed (event %d), reloading", self->custom_path, event);
        reload_custom (self);
        break;
      default:
        break;
    }
}

gboolean
pc_intel_set_custom_list (PcIntel *self, const char *path, GError **error)
{
  g_return_val_if_fail (PC_IS_INTEL (self), FALSE);

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  g_clear_pointer (&self->custom_path, g_free);
  if (path != NULL && *path != '\0')
    {
      g_autoptr (GFile) file = g_file_new_for_path (path);

      self->custom_path = g_strdup (path);
      /* WATCH_MOVES: editors save by renaming a new file over the old one */
      self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
      if (self->monitor != NULL)
        g_signal_connect (self->monitor, "changed", G_CALLBACK (custom_changed_cb), self);
    }
  reload_custom (self);
  if (self->custom_error != NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND, "%s", self->custom_error);
      return FALSE;
    }
  return TRUE;
}

static inline guint32
layer_lookup_name (const Layer *base, const Layer *custom, const char *name)
{
  return pc_domain_set_lookup (base->domains, name, -1)
         | pc_domain_set_lookup (custom->domains, name, -1);
}

guint32
pc_intel_lookup (PcIntel *self, const char *domain, const char *const *cnames, const PcAddr *addr)
{
  const Snapshot *snap;
  guint32 mask = 0;
  gint epoch;

  snap = read_begin (self, &epoch);
  if (domain != NULL && *domain != '\0')
    mask |= layer_lookup_name (snap->base, snap->custom, domain);
  for (guint i = 0; cnames != NULL && cnames[i] != NULL; i++)
    {
      guint32 m = layer_lookup_name (snap->base, snap->custom, cnames[i]);

      /* UNBREAK on a CNAME target clears that target only */
      if ((m & PC_INTEL_UNBREAK) == 0)
        mask |= m;
    }
  if (addr != NULL)
    {
      guint32 m = pc_net_set_lookup (snap->base->nets, addr)
                  | pc_net_set_lookup (snap->custom->nets, addr);

      if ((m & PC_INTEL_UNBREAK) == 0)
        mask |= m;
    }
  read_end (self, epoch);
  return mask;
}

static gboolean
category_matches (const PcIntelCategory *cat, guint32 mask)
{
  if (cat->bit == PC_INTEL_UNBREAK)
    return (mask & PC_INTEL_UNBREAK) != 0;
  return pc_intel_mask_blocks (mask, cat->bit);
}

gboolean
pc_intel_match (PcIntel *self,
                const char *list_id,
                const char *domain,
                const char *const *cnames,
                const PcAddr *addr)
{
  const PcIntelCategory *cat = pc_intel_category_lookup (list_id);

  if (cat == NULL || self == NULL)
    return FALSE;
  return category_matches (cat, pc_intel_lookup (self, domain, cnames, addr));
}

gboolean
pc_intel_rule_in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data)
{
  PcIntel *self = user_data;
  const PcIntelCategory *cat = pc_intel_category_lookup (list_id);
  const PcAddr *addr = input->key != NULL ? &input->key->raddr : NULL;
  PcListMemo *memo = input->list_memo;

  if (cat == NULL || self == NULL)
    return FALSE;
  if (memo == NULL)
    return category_matches (cat, pc_intel_lookup (self, input->domain, input->cnames, addr));
  if (!memo->known)
    {
      memo->mask = pc_intel_lookup (self, input->domain, input->cnames, addr);
      memo->known = TRUE;
    }
  return category_matches (cat, memo->mask);
}

GVariant *
pc_intel_dup_status (PcIntel *self)
{
  GVariantBuilder b;
  const Layer *base, *custom;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_mutex_lock (&self->write_lock);
  base = self->current->base;
  custom = self->current->custom;
  g_variant_builder_add (&b, "{sv}", "data-dir", g_variant_new_string (base->dir ? base->dir : ""));
  g_variant_builder_add (&b, "{sv}", "serial", g_variant_new_int64 (base->serial));
  g_variant_builder_add (&b, "{sv}", "domains",
                         g_variant_new_uint64 (pc_domain_set_get_size (base->domains)));
  g_variant_builder_add (&b, "{sv}", "networks",
                         g_variant_new_uint64 (pc_net_set_get_size (base->nets)));
  g_variant_builder_add (&b, "{sv}", "memory",
                         g_variant_new_uint64 (pc_domain_set_get_memory_size (base->domains)
                                               + pc_net_set_get_memory_size (base->nets)));
  g_variant_builder_add (&b, "{sv}", "lists", base->lists);
  g_variant_builder_open (&b, G_VARIANT_TYPE ("{sv}"));
  g_variant_builder_add (&b, "s", "categories");
  g_variant_builder_open (&b, G_VARIANT_TYPE ("v"));
  g_variant_builder_open (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    g_variant_builder_add_parsed (&b, "{'id': <%s>, 'name': <%s>, 'description': <%s>}",
                                  categories[i].id, categories[i].name, categories[i].description);
  g_variant_builder_close (&b);
  g_variant_builder_close (&b);
  g_variant_builder_close (&b);
  g_variant_builder_add (&b, "{sv}", "custom-list",
                         g_variant_new_string (self->custom_path ? self->custom_path : ""));
  g_variant_builder_add (&b, "{sv}", "custom-domains",
                         g_variant_new_uint32 (custom->stats.n_domains));
  g_variant_builder_add (&b, "{sv}", "custom-networks",
                         g_variant_new_uint32 (custom->stats.n_nets));
  g_variant_builder_add (&b, "{sv}", "custom-rejected",
                         g_variant_new_uint32 (custom->stats.n_rejected));
  g_variant_builder_add (&b, "{sv}", "custom-error",
                         g_variant_new_string (self->custom_error ? self->custom_error : ""));
  g_variant_builder_add (&b, "{sv}", "last-error",
                         g_variant_new_string (self->last_error ? self->last_error : ""));
  g_mutex_unlock (&self->write_lock);
  return g_variant_ref_sink (g_variant_builder_end (&b));
}
