/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter list data structures (issue 6): load time, resident memory and lookup time for
 * 1,000,000 generated domains, for PcDomainSet and, as the baseline measured in the same run,
 * a GHashTable of strdup'd names probed once per label suffix.
 *
 *   bench-lists [N_DOMAINS [N_LOOKUPS]]
 *
 * Load = parsing the list text (pc_list_parse, domains format) and building the set. Memory =
 * growth of the process's resident set (VmRSS) while building, plus the set's own count of
 * allocated bytes. Lookups: half hit (a subdomain of a listed name, 1-3 labels deeper), half
 * miss; each call is timed with CLOCK_MONOTONIC and the median cost of an empty measurement
 * (printed as "timer overhead") is subtracted. Targets: load < 1 s, < 64 MiB, lookup < 300 ns.
 * The last rows are the whole path the policy uses: PcIntel loading the same list from a list
 * directory (read, sha256 check, parse, build, swap) and pc_intel_lookup() (read lock, the base
 * and custom sets, the category test).
 * Figures only: nothing here fails on a slow machine. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib/gstdio.h>

#include "pc-domain-set.h"
#include "pc-intel.h"
#include "pc-list-parser.h"

static const char *const words[] = {
  "cdn",  "api",   "static", "img",  "tracker", "ads",   "metrics", "login", "mail",   "shop",
  "news", "video", "cloud",  "edge", "stats",   "pixel", "sync",    "push",  "update", "telemetry",
};
static const char *const tlds[] = { "com", "net", "org", "io", "de", "at", "co.uk", "info" };

static inline guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64)ts.tv_sec * 1000000000u + (guint64)ts.tv_nsec;
}

static gsize
rss_bytes (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? (gsize)g_ascii_strtoull (line + 6, NULL, 10) * 1024 : 0;
}

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

  return x < y ? -1 : x > y;
}

typedef guint32 (*LookupFunc) (gpointer set, const char *name);

static guint32
lookup_set (gpointer set, const char *name)
{
  return pc_domain_set_lookup (set, name, -1);
}

static guint32
lookup_hash (gpointer set, const char *name)
{
  guint32 mask = 0;

  for (const char *s = name; s != NULL;)
    {
      const char *dot;

      mask |= GPOINTER_TO_UINT (g_hash_table_lookup (set, s));
      dot = strchr (s, '.');
      s = dot != NULL ? dot + 1 : NULL;
    }
  return mask;
}

typedef struct
{
  double median, p99, mean;
  guint hits;
} LookupStats;

static LookupStats
time_lookups (LookupFunc func, gpointer set, char **queries, guint n, guint64 overhead)
{
  g_autofree guint64 *t = g_new (guint64, n);
  LookupStats st = { 0 };
  guint64 total = 0;

  /* warm-up pass, then the timed one */
  for (guint i = 0; i < n; i++)
    st.hits += func (set, queries[i]) != 0;
  st.hits = 0;
  for (guint i = 0; i < n; i++)
    {
      guint64 a = now_ns ();
      guint32 m = func (set, queries[i]);
      guint64 b = now_ns ();

      st.hits += m != 0;
      t[i] = b - a > overhead ? b - a - overhead : 0;
      total += t[i];
    }
  qsort (t, n, sizeof *t, cmp_u64);
  st.median = (double)t[n / 2];
  st.p99 = (double)t[(gsize)n * 99 / 100];
  st.mean = (double)total / n;
  return st;
}

static guint32
lookup_intel (gpointer intel, const char *name)
{
  return pc_intel_match (intel, "ADS", name, NULL, NULL);
}

static void
add_cb (const char *domain, gsize len, PcListEntryFlags flags, gpointer user_data)
{
  pc_domain_set_builder_add (user_data, domain, (gssize)len, 1);
}

int
main (int argc, char **argv)
{
  guint n_domains = argc > 1 ? (guint)g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  guint n_lookups = argc > 2 ? (guint)g_ascii_strtoull (argv[2], NULL, 10) : 1000000;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261128);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (PcDomainSet) set = NULL;
  g_autoptr (GHashTable) hash = NULL;
  g_autoptr (GPtrArray) queries = g_ptr_array_new_with_free_func (g_free);
  guint64 overhead, t0, set_load_ns, hash_load_ns;
  gsize rss0, set_rss, hash_rss;
  PcListStats stats;
  LookupStats s_set, s_hash;

  if (n_domains == 0 || n_lookups == 0)
    {
      g_printerr ("usage: bench-lists [N_DOMAINS [N_LOOKUPS]]\n");
      return 2;
    }

  /* the list, as text: distinct names of 2-4 labels, 10-40 characters */
  for (guint i = 0; i < n_domains; i++)
    {
      char *name;

      if (g_rand_boolean (rand))
        name = g_strdup_printf ("%s%u.%s", words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                                i, tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]);
      else
        name = g_strdup_printf (
            "%s.site%u-%x.%s", words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))], i,
            g_rand_int (rand), tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]);
      g_ptr_array_add (names, name);
      g_string_append (text, name);
      g_string_append_c (text, '\n');
    }
  for (guint i = 0; i < n_lookups; i++)
    {
      if (i % 2 == 0)
        {
          const char *base
              = g_ptr_array_index (names, g_rand_int_range (rand, 0, (gint32)n_domains));
          static const char *const sub[] = { "www.", "a.b.", "x.cdn.eu." };

          g_ptr_array_add (queries, g_strconcat (sub[g_rand_int_range (rand, 0, 3)], base, NULL));
        }
      else
        g_ptr_array_add (queries,
                         g_strdup_printf ("www.%s-miss%u.%s",
                                          words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                                          g_rand_int (rand),
                                          tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]));
    }

  /* timer overhead */
  {
    g_autofree guint64 *t = g_new (guint64, 100000);

    for (guint i = 0; i < 100000; i++)
      {
        guint64 a = now_ns ();
        guint64 b = now_ns ();

        t[i] = b - a;
      }
    qsort (t, 100000, sizeof *t, cmp_u64);
    overhead = t[50000];
  }

  rss0 = rss_bytes ();
  t0 = now_ns ();
  {
    PcDomainSetBuilder *b = pc_domain_set_builder_new (n_domains);

    pc_list_parse (text->str, text->len, PC_LIST_FORMAT_DOMAINS, add_cb, NULL, b, &stats);
    set = pc_domain_set_builder_finish (b);
  }
  set_load_ns = now_ns () - t0;
  set_rss = rss_bytes () - rss0;

  rss0 = rss_bytes ();
  t0 = now_ns ();
  hash = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < n_domains; i++)
    g_hash_table_insert (hash, g_strdup (g_ptr_array_index (names, i)), GUINT_TO_POINTER (1));
  hash_load_ns = now_ns () - t0;
  hash_rss = rss_bytes () - rss0;

  s_set = time_lookups (lookup_set, set, (char **)queries->pdata, n_lookups, overhead);
  s_hash = time_lookups (lookup_hash, hash, (char **)queries->pdata, n_lookups, overhead);

  printf ("bench-lists: %u domains (%u parsed, %u rejected), %u lookups (half hits), "
          "timer overhead %" G_GUINT64_FORMAT " ns\n",
          n_domains, stats.n_domains, stats.n_rejected, n_lookups, overhead);
  printf ("%-28s %12s %12s %12s %12s %12s %8s\n", "", "load ms", "RSS MiB", "alloc MiB",
          "median ns", "p99 ns", "hits");
  printf ("%-28s %12.1f %12.1f %12.1f %12.0f %12.0f %8u\n", "PcDomainSet (parse+build)",
          set_load_ns / 1e6, set_rss / 1048576.0, pc_domain_set_get_memory_size (set) / 1048576.0,
          s_set.median, s_set.p99, s_set.hits);
  printf ("%-28s %12.1f %12.1f %12s %12.0f %12.0f %8u\n", "GHashTable strdup (baseline)",
          hash_load_ns / 1e6, hash_rss / 1048576.0, "-", s_hash.median, s_hash.p99, s_hash.hits);
  /* the whole path: PcIntel from a list directory */
  {
    g_autofree char *dir = g_dir_make_tmp ("bench-lists-XXXXXX", NULL);
    g_autofree char *list = g_build_filename (dir, "ads.txt", NULL);
    g_autofree char *index = g_build_filename (dir, "index.json", NULL);
    g_autofree char *sum
        = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)text->str, text->len);
    g_autofree char *index_text = g_strdup_printf (
        "{\"version\": 1, \"serial\": 1, \"lists\": [{\"id\": \"ads\", \"file\": \"ads.txt\", "
        "\"format\": \"domains\", \"categories\": [\"ADS\"], \"size\": %" G_GSIZE_FORMAT
        ", \"sha256\": \"%s\"}]}",
        text->len, sum);
    g_autoptr (PcIntel) intel = pc_intel_new ();
    g_autoptr (GError) error = NULL;
    guint64 intel_load_ns;
    LookupStats s_intel;

    if (dir == NULL || !g_file_set_contents (list, text->str, (gssize)text->len, &error)
        || !g_file_set_contents (index, index_text, -1, &error))
      {
        g_printerr ("bench-lists: cannot write the list directory: %s\n",
                    error ? error->message : "no temporary directory");
        return 1;
      }
    fflush (stdout);
    t0 = now_ns ();
    if (!pc_intel_load_dir (intel, dir, &error))
      {
        g_printerr ("bench-lists: %s\n", error->message);
        return 1;
      }
    intel_load_ns = now_ns () - t0;
    s_intel = time_lookups (lookup_intel, intel, (char **)queries->pdata, n_lookups, overhead);
    {
      g_autoptr (GVariant) status = pc_intel_dup_status (intel);
      guint64 memory = 0;

      g_variant_lookup (status, "memory", "t", &memory);
      printf ("%-28s %12.1f %12s %12.1f %12.0f %12.0f %8u\n", "PcIntel (load_dir, match)",
              intel_load_ns / 1e6, "-", memory / 1048576.0, s_intel.median, s_intel.p99,
              s_intel.hits);
    }
    g_unlink (list);
    g_unlink (index);
    g_rmdir (dir);
  }

  printf ("ratio PcDomainSet/GHashTable: load %.2f, memory %.2f, lookup median %.2f, p99 %.2f, "
          "mean %.2f\n",
          (double)set_load_ns / hash_load_ns, (double)set_rss / (hash_rss ? hash_rss : 1),
          s_hash.median > 0 ? s_set.median / s_hash.median : 0.0,
          s_hash.p99 > 0 ? s_set.p99 / s_hash.p99 : 0.0, s_set.mean / s_hash.mean);
  printf ("targets (load < 1000 ms, < 64 MiB, median lookup < 300 ns): load %s, memory %s, "
          "lookup %s\n",
          set_load_ns < 1000000000u ? "met" : "MISSED", set_rss < 64u * 1048576 ? "met" : "MISSED",
          s_set.median < 300 ? "met" : "MISSED");
  if (s_set.hits != s_hash.hits)
    {
      printf ("error: the set and the baseline disagree (%u vs %u hits)\n", s_set.hits,
              s_hash.hits);
      return 1;
    }
  return 0;
}
