/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PcIntel: categories, the shipped lists, list directories (good, wrong sum, wrong size,
 * missing file, bad index: the old data stays), subdomain, CNAME and address matches, UNBREAK,
 * L:ID rules through the real rule matcher, the custom list reloaded on change, and atomic swaps
 * under concurrent lookups. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <glib/gstdio.h>
#include <string.h>

#include "pc-error.h"
#include "pc-intel.h"
#include "pc-rule.h"

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-intel-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (p), ==, 0);
    }
  g_rmdir (dir);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (dir, name, NULL);

  g_file_set_contents (p, text, -1, &error);
  g_assert_no_error (error);
}

/* A list directory with one list per (file, format, categories, text) quadruple. */
static void
write_list_dir (const char *dir, gint64 serial, const char *const *spec)
{
  g_autoptr (GString) index = g_string_new (NULL);

  g_string_append_printf (index, "{\"version\": 1, \"serial\": %" G_GINT64_FORMAT ", \"lists\": [",
                          serial);
  for (guint i = 0; spec[i] != NULL; i += 4)
    {
      g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, spec[i + 3], -1);
      g_autofree char *id = g_strndup (spec[i], strcspn (spec[i], "."));

      write_file (dir, spec[i], spec[i + 3]);
      g_string_append_printf (index,
                              "%s{\"id\": \"%s\", \"file\": \"%s\", \"format\": \"%s\", "
                              "\"categories\": [%s], \"size\": %zu, \"sha256\": \"%s\"}",
                              i > 0 ? ", " : "", id, spec[i], spec[i + 1], spec[i + 2],
                              strlen (spec[i + 3]), sum);
    }
  g_string_append (index, "]}\n");
  write_file (dir, "index.json", index->str);
}

static void
test_categories (void)
{
  guint n = 0;
  const PcIntelCategory *cats = pc_intel_get_categories (&n);
  const char *ids[] = { "ads", "TRAC", "nope", "DNS-bypass", NULL };
  const char *unknown = NULL;
  guint32 seen = 0;

  g_assert_cmpuint (n, >=, 9);
  g_assert_true (g_str_has_suffix (pc_intel_get_shipped_dir (), "/portcullis/lists"));
  for (guint i = 0; i < n; i++)
    {
      g_assert_nonnull (cats[i].description);
      g_assert_cmpuint (seen & cats[i].bit, ==, 0);
      seen |= cats[i].bit;
      g_assert_true (pc_intel_category_lookup (cats[i].id) == &cats[i]);
    }
  g_assert_cmpuint (pc_intel_mask_from_ids (ids, &unknown), ==,
                    PC_INTEL_ADS | PC_INTEL_TRAC | PC_INTEL_DNS_BYPASS);
  g_assert_cmpstr (unknown, ==, "nope");
  g_assert_cmpstr (pc_intel_first_category (PC_INTEL_UNBREAK | PC_INTEL_MAL | PC_INTEL_TEST), ==,
                   "MAL");
  g_assert_null (pc_intel_first_category (PC_INTEL_UNBREAK));
  g_assert_true (pc_intel_mask_blocks (PC_INTEL_ADS, PC_INTEL_ADS | PC_INTEL_TRAC));
  g_assert_false (pc_intel_mask_blocks (PC_INTEL_ADS | PC_INTEL_UNBREAK, PC_INTEL_ADS));
  g_assert_false (pc_intel_mask_blocks (PC_INTEL_ADS, PC_INTEL_TRAC));
}

static void
test_shipped (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) lists = NULL;
  g_autofree char *dir = g_build_filename (PC_SOURCE_DIR, "data", "lists", NULL);
  const char *last_error = NULL;
  PcAddr a;

  g_assert_false (pc_intel_match (intel, "ADS", "doubleclick.net", NULL, NULL));
  g_assert_true (pc_intel_load_dir (intel, dir, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pc_intel_get_serial (intel), >=, 1);

  g_assert_true (pc_intel_match (intel, "ADS", "doubleclick.net", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "ads", "stats.g.doubleclick.net", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "stats.g.doubleclick.net", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "TRAC", "www.google-analytics.com", NULL, NULL));
  /* a tracker's collection host, not the dashboard its customers sign in to */
  g_assert_true (pc_intel_match (intel, "TRAC", "api-js.mixpanel.com", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "mixpanel.com", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "one.newrelic.com", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "DNS-BYPASS", "dns.google", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "MAL", "malware.testing.google.test", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "MAL", "testsafebrowsing.appspot.com", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "PHISH", "testsafebrowsing.appspot.com", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "PHISH", "appspot.com", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "P2P", "router.bittorrent.com", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "P2P", "bittorrent.com", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "TEST", "x.blocked.portcullis.test", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TEST", "portcullis.test", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "UNBREAK", "allowed.portcullis.test", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "ADS", "example.com", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "NOSUCHLIST", "doubleclick.net", NULL, NULL));
  g_assert_true (pc_addr_parse ("192.0.2.66", &a));
  g_assert_true (pc_intel_match (intel, "TEST", NULL, NULL, &a));
  g_assert_true (pc_addr_parse ("::ffff:192.0.2.66", &a));
  g_assert_true (pc_intel_match (intel, "TEST", "example.com", NULL, &a));

  status = pc_intel_dup_status (intel);
  g_assert_true (g_variant_lookup (status, "last-error", "&s", &last_error));
  g_assert_cmpstr (last_error, ==, "");
  lists = g_variant_lookup_value (status, "lists", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (lists);
  g_assert_cmpuint (g_variant_n_children (lists), ==, 9);
}

static void
test_load_errors (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *bad = make_tmpdir ();
  const char *const good[] = { "mal.txt", "hosts", "\"MAL\"",          "0.0.0.0 evil.example\n",
                               "ip.txt",  "ip",    "\"MAL\", \"P2P\"", "198.51.100.0/24\n",
                               NULL };
  PcAddr a;

  write_list_dir (dir, 7, good);
  g_assert_true (pc_intel_load_dir (intel, dir, &error));
  g_assert_no_error (error);
  g_assert_true (pc_intel_match (intel, "MAL", "a.evil.example", NULL, NULL));
  g_assert_true (pc_addr_parse ("198.51.100.9", &a));
  g_assert_true (pc_intel_match (intel, "P2P", NULL, NULL, &a));
  g_assert_cmpint (pc_intel_get_serial (intel), ==, 7);

  /* wrong sum: the file changed after the index was written */
  write_list_dir (bad, 8, good);
  write_file (bad, "mal.txt", "0.0.0.0 live.example\n"); /* same size */
  g_assert_false (pc_intel_load_dir (intel, bad, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "sha256"));
  g_clear_error (&error);
  /* the old data stays, and the status says why */
  g_assert_true (pc_intel_match (intel, "MAL", "evil.example", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "MAL", "live.example", NULL, NULL));
  g_assert_cmpint (pc_intel_get_serial (intel), ==, 7);
  {
    g_autoptr (GVariant) status = pc_intel_dup_status (intel);
    const char *last_error = NULL;

    g_assert_true (g_variant_lookup (status, "last-error", "&s", &last_error));
    g_assert_nonnull (strstr (last_error, "mal.txt"));
  }

  /* wrong size (a truncated file with a size the index does not have) */
  write_list_dir (bad, 8, good);
  write_file (bad, "mal.txt", "0.0.0.0 evil.exa");
  g_assert_false (pc_intel_load_dir (intel, bad, &error));
  g_assert_nonnull (strstr (error->message, "size is 16 bytes"));
  g_clear_error (&error);

  /* a missing file */
  write_list_dir (bad, 8, good);
  {
    g_autofree char *p = g_build_filename (bad, "ip.txt", NULL);

    g_unlink (p);
  }
  g_assert_false (pc_intel_load_dir (intel, bad, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* bad indexes */
  {
    static const char *const indexes[][2] = {
      { "not json", "not valid JSON" },
      { "[]", "not a JSON object" },
      { "{\"version\": 2, \"lists\": []}", "version must be 1" },
      { "{\"version\": 1}", "no 'lists' array" },
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"../etc/passwd\", \"categories\": "
        "[\"MAL\"], \"size\": 1, \"sha256\": \"" G_STRINGIFY (0) "\"}]}",
        "bad file name '../etc/passwd'" },
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"x.txt\", \"categories\": "
        "[\"EVIL\"], \"size\": 1, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
        "unknown category 'EVIL'" },
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"x.txt\", \"categories\": "
        "[\"MAL\"], \"size\": 1, \"sha256\": \"abc\"}]}",
        "sha256 must be 64 lower-case hex digits, not 'abc'" },
      /* a known category before an unknown one must not half-accept the entry */
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"x.txt\", \"categories\": "
        "[\"MAL\", \"EVIL\"], \"size\": 1, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
        "unknown category 'EVIL'" },
      /* untrusted bytes in messages are escaped */
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"x\\u00e9\\n.txt\"}]}",
        "bad file name 'x\\303\\251\\n.txt'" },
      { "", "not a JSON object" },
      /* a list must not overwrite the index it came with */
      { "{\"version\": 1, \"lists\": [{\"id\": \"x\", \"file\": \"index.json.sig\"}]}",
        "bad file name 'index.json.sig'" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (indexes); i++)
      {
        write_file (bad, "index.json", indexes[i][0]);
        g_assert_false (pc_intel_load_dir (intel, bad, &error));
        g_assert_nonnull (error);
        g_assert_true (g_utf8_validate (error->message, -1, NULL));
        if (strstr (error->message, indexes[i][1]) == NULL)
          g_error ("index %u: '%s' does not say '%s'", i, error->message, indexes[i][1]);
        g_clear_error (&error);
      }
  }
  g_assert_true (pc_intel_match (intel, "MAL", "evil.example", NULL, NULL));
  rm_rf (dir);
  rm_rf (bad);
}

static void
test_cname_unbreak (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  const char *const spec[] = {
    "trac.txt",    "domains", "\"TRAC\"",    "tracker.example\ncdn-tracker.example\n",
    "unbreak.txt", "domains", "\"UNBREAK\"", "good.tracker.example\nfixed.example\n",
    "ads.txt",     "adblock", "\"ADS\"",     "||ads.example^\n@@||ok.ads.example^\n",
    NULL,
  };
  const char *chain[] = { "edge.cdn-tracker.example", NULL };
  const char *unbroken_chain[] = { "fixed.example", "cdn-tracker.example", NULL };
  const char *only_unbreak[] = { "www.fixed.example", NULL };

  write_list_dir (dir, 1, spec);
  g_assert_true (pc_intel_load_dir (intel, dir, &error));
  g_assert_no_error (error);

  /* subdomains, and UNBREAK on a subdomain of a listed name */
  g_assert_true (pc_intel_match (intel, "TRAC", "a.tracker.example", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "good.tracker.example", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "x.good.tracker.example", NULL, NULL));
  g_assert_true (pc_intel_match (intel, "UNBREAK", "x.good.tracker.example", NULL, NULL));
  /* AdBlock exceptions are UNBREAK entries */
  g_assert_true (pc_intel_match (intel, "ADS", "x.ads.example", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "ADS", "ok.ads.example", NULL, NULL));

  /* CNAME targets: a clean name whose chain reaches a listed one matches */
  g_assert_true (pc_intel_match (intel, "TRAC", "metrics.shop.example", chain, NULL));
  g_assert_false (pc_intel_match (intel, "ADS", "metrics.shop.example", chain, NULL));
  /* UNBREAK on a target clears only that target */
  g_assert_true (pc_intel_match (intel, "TRAC", "metrics.shop.example", unbroken_chain, NULL));
  g_assert_false (pc_intel_match (intel, "TRAC", "metrics.shop.example", only_unbreak, NULL));
  /* UNBREAK on the asked name wins over a listed target */
  g_assert_false (pc_intel_match (intel, "TRAC", "fixed.example", chain, NULL));
  rm_rf (dir);
}

static void
test_rule_callback (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) rules = NULL;
  g_autofree char *dir = g_build_filename (PC_SOURCE_DIR, "data", "lists", NULL);
  PcFlowKey key = { 0 };
  PcMatchInput input = { 0 };
  PcMatchResult result;

  g_assert_true (pc_intel_load_dir (intel, dir, &error));
  rules = pc_rule_list_parse ("- L:ADS\n- L:TEST\n+ *\n", &error);
  g_assert_no_error (error);

  g_assert_true (pc_addr_parse ("203.0.113.5", &key.raddr));
  key.family = AF_INET;
  key.proto = IPPROTO_TCP;
  key.rport = 443;
  input.key = &key;
  input.scope = pc_scope_classify (&key.raddr);
  input.in_list = pc_intel_rule_in_list_cb;
  input.user_data = intel;

  input.domain = "securepubads.g.doubleclick.net";
  pc_rule_list_match (rules, &input, &result);
  g_assert_nonnull (result.rule);
  g_assert_cmpstr (pc_rule_get_text (result.rule), ==, "- L:ADS");

  input.domain = "example.org";
  pc_rule_list_match (rules, &input, &result);
  g_assert_cmpstr (pc_rule_get_text (result.rule), ==, "+ *");

  /* the address alone */
  input.domain = NULL;
  g_assert_true (pc_addr_parse ("192.0.2.66", &key.raddr));
  pc_rule_list_match (rules, &input, &result);
  g_assert_cmpstr (pc_rule_get_text (result.rule), ==, "- L:TEST");
}

/* With a memo the lists are looked up once per input, and every list still gets its own
 * answer: the same answers as without one, for a listed name, a listed address and neither. */
static void
test_rule_callback_memo (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (PC_SOURCE_DIR, "data", "lists", NULL);
  const char *const lists[] = { "ADS", "TRAC", "MAL", "TEST", "ads", "UNBREAK", "NOSUCH" };
  const struct
  {
    const char *domain;
    const char *addr;
  } inputs[] = {
    { "securepubads.g.doubleclick.net", "203.0.113.5" },
    { NULL, "192.0.2.66" },
    { "example.org", "203.0.113.5" },
  };

  g_assert_true (pc_intel_load_dir (intel, dir, &error));
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      PcFlowKey key = { .family = AF_INET, .proto = IPPROTO_TCP, .rport = 443 };
      PcListMemo memo = { 0 };
      PcMatchInput plain = { .key = &key, .domain = inputs[i].domain };
      PcMatchInput memoized = plain;
      guint hits = 0;

      g_assert_true (pc_addr_parse (inputs[i].addr, &key.raddr));
      memoized.list_memo = &memo;
      for (guint j = 0; j < G_N_ELEMENTS (lists); j++)
        {
          gboolean want = pc_intel_rule_in_list_cb (lists[j], &plain, intel);

          g_assert_cmpint (pc_intel_rule_in_list_cb (lists[j], &memoized, intel), ==, want);
          hits += want;
        }
      g_assert_true (memo.known);
      /* a listed name, a listed address; then neither */
      if (i < 2)
        g_assert_cmpuint (hits, >, 0);
      else
        g_assert_cmpuint (hits, ==, 0);
    }
}

typedef struct
{
  GMainLoop *loop;
  guint n_changed;
} Waiter;

static void
changed_cb (PcIntel *intel, gpointer user_data)
{
  Waiter *w = user_data;

  w->n_changed++;
  g_main_loop_quit (w->loop);
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("timed out waiting for the custom list to be reloaded");
  return G_SOURCE_REMOVE;
}

/* Spins the main loop until match() has the expected answer (the monitor may deliver more than
 * one event per change). */
static void
wait_for (PcIntel *intel, Waiter *w, const char *domain, gboolean expected)
{
  guint id = g_timeout_add_seconds (10, timeout_cb, NULL);

  while (pc_intel_match (intel, "CUSTOM", domain, NULL, NULL) != expected)
    g_main_loop_run (w->loop);
  g_source_remove (id);
}

static void
test_custom (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "custom.txt", NULL);
  g_autofree char *tmp = g_build_filename (dir, "custom.txt.new", NULL);
  Waiter w = { g_main_loop_new (NULL, FALSE), 0 };
  PcAddr a;

  g_signal_connect (intel, "changed", G_CALLBACK (changed_cb), &w);

  /* a missing file is an error, but still watched */
  g_assert_false (pc_intel_set_custom_list (intel, path, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  {
    g_autoptr (GVariant) status = pc_intel_dup_status (intel);
    const char *custom_error = NULL;

    g_assert_true (g_variant_lookup (status, "custom-error", "&s", &custom_error));
    g_assert_nonnull (strstr (custom_error, "custom.txt"));
  }

  /* created: picked up */
  write_file (dir, "custom.txt",
              "# mine\nannoying.example\n0.0.0.0 hosts-style.example\n"
              "203.0.113.0/24\n@@||fine.annoying.example^\nnot a valid line\n");
  wait_for (intel, &w, "x.annoying.example", TRUE);
  g_assert_true (pc_intel_match (intel, "CUSTOM", "hosts-style.example", NULL, NULL));
  g_assert_false (pc_intel_match (intel, "CUSTOM", "fine.annoying.example", NULL, NULL));
  g_assert_true (pc_addr_parse ("203.0.113.7", &a));
  g_assert_true (pc_intel_match (intel, "CUSTOM", NULL, NULL, &a));
  {
    g_autoptr (GVariant) status = pc_intel_dup_status (intel);
    guint32 rejected = 0, domains = 0;

    g_assert_true (g_variant_lookup (status, "custom-rejected", "u", &rejected));
    g_assert_true (g_variant_lookup (status, "custom-domains", "u", &domains));
    g_assert_cmpuint (rejected, ==, 1);
    g_assert_cmpuint (domains, ==, 3);
  }

  /* replaced by rename, as editors save */
  {
    g_autofree char *p = g_build_filename (dir, "custom.txt.new", NULL);

    write_file (dir, "custom.txt.new", "other.example\n");
    g_assert_cmpint (g_rename (p, path), ==, 0);
  }
  wait_for (intel, &w, "other.example", TRUE);
  g_assert_false (pc_intel_match (intel, "CUSTOM", "annoying.example", NULL, NULL));

  /* deleted: empty */
  g_assert_cmpint (g_unlink (path), ==, 0);
  wait_for (intel, &w, "other.example", FALSE);

  /* switched off */
  write_file (dir, "custom.txt", "again.example\n");
  wait_for (intel, &w, "again.example", TRUE);
  g_assert_true (pc_intel_set_custom_list (intel, NULL, &error));
  g_assert_false (pc_intel_match (intel, "CUSTOM", "again.example", NULL, NULL));
  g_assert_cmpuint (w.n_changed, >=, 4);

  g_main_loop_unref (w.loop);
  g_unlink (tmp);
  rm_rf (dir);
}

/* ---- atomic swap under concurrent lookups ---------------------------------------------- */

typedef struct
{
  PcIntel *intel;
  gint stop;
  guint n_bad;
} SwapState;

static gpointer
reader_thread (gpointer user_data)
{
  SwapState *st = user_data;
  const char *cnames[] = { "b-only.example", NULL };
  guint64 n = 0;

  while (!g_atomic_int_get (&st->stop))
    {
      /* version A lists a-only as ADS, version B lists b-only as TRAC; "always" is in both. One
       * lookup must see exactly one version. */
      guint32 m = pc_intel_lookup (st->intel, "x.a-only.example", cnames, NULL);
      guint32 always = pc_intel_lookup (st->intel, "always.example", NULL, NULL);

      if ((m != PC_INTEL_ADS && m != PC_INTEL_TRAC) || always == 0)
        g_atomic_int_inc (&st->n_bad);
      n++;
    }
  return GSIZE_TO_POINTER (n);
}

static void
test_swap (void)
{
  g_autoptr (PcIntel) intel = pc_intel_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *a = make_tmpdir ();
  g_autofree char *b = make_tmpdir ();
  g_autoptr (GString) big_a = g_string_new ("a-only.example\nalways.example\n");
  g_autoptr (GString) big_b = g_string_new ("always.example\n");
  GThread *threads[3];
  SwapState st = { intel, 0, 0 };
  guint64 total = 0;

  /* big enough that a build takes a while */
  for (guint i = 0; i < 5000; i++)
    {
      g_string_append_printf (big_a, "filler%u.a.example\n", i);
      g_string_append_printf (big_b, "filler%u.b.example\n", i);
    }
  {
    const char *const spec_a[] = { "l.txt", "domains", "\"ADS\"", big_a->str, NULL };
    const char *const spec_b[] = { "l.txt",   "domains",  "\"ADS\"",          big_b->str, "t.txt",
                                   "domains", "\"TRAC\"", "b-only.example\n", NULL };

    write_list_dir (a, 1, spec_a);
    write_list_dir (b, 2, spec_b);
  }
  g_assert_true (pc_intel_load_dir (intel, a, &error));
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("reader", reader_thread, &st);
  for (guint i = 0; i < 40; i++)
    {
      g_assert_true (pc_intel_load_dir (intel, i % 2 ? a : b, &error));
      g_assert_no_error (error);
    }
  g_atomic_int_set (&st.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    total += GPOINTER_TO_SIZE (g_thread_join (threads[i]));
  g_test_message ("%" G_GUINT64_FORMAT " lookups during 40 swaps", total);
  g_assert_cmpuint (total, >, 0);
  g_assert_cmpuint (st.n_bad, ==, 0);
  rm_rf (a);
  rm_rf (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* failed loads are reported with g_warning(), which these tests provoke on purpose */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/intel/categories", test_categories);
  g_test_add_func ("/intel/shipped", test_shipped);
  g_test_add_func ("/intel/load-errors", test_load_errors);
  g_test_add_func ("/intel/cname-unbreak", test_cname_unbreak);
  g_test_add_func ("/intel/rule-callback", test_rule_callback);
  g_test_add_func ("/intel/rule-callback-memo", test_rule_callback_memo);
  g_test_add_func ("/intel/custom", test_custom);
  g_test_add_func ("/intel/swap", test_swap);
  return g_test_run ();
}
