/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The answer cache with a fake clock: TTL count-down and expiry, clamps, negative caching,
 * LRU bound, coalescing, prefetch. */
#define G_LOG_DOMAIN "portcullis-dns"

#include <string.h>

#include "pc-dns-cache.h"

static gint64 fake_now = 1000 * G_USEC_PER_SEC;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static void
advance (guint seconds)
{
  fake_now += (gint64)seconds * G_USEC_PER_SEC;
}

static PcDnsMessage *
make_query (const char *name, guint16 type, guint16 id)
{
  PcDnsMessage *q = pc_dns_message_new ();

  q->id = id;
  q->flags = PC_DNS_FLAG_RD;
  pc_dns_message_add_question (q, name, type, PC_DNS_CLASS_IN);
  return q;
}

static GBytes *
wire (const PcDnsMessage *msg)
{
  g_autoptr (GError) error = NULL;
  GBytes *b = pc_dns_message_build (msg, 0, &error);

  g_assert_no_error (error);
  return b;
}

/* an A answer with one address and the given TTL */
static GBytes *
make_answer (const PcDnsMessage *query, guint32 ttl, guint8 last_octet)
{
  g_autoptr (PcDnsMessage) r = pc_dns_message_new_reply (query, PC_DNS_RCODE_NOERROR);
  const guint8 addr[4] = { 192, 0, 2, last_octet };
  const char *name = g_array_index (query->questions, PcDnsQuestion, 0).name;

  pc_dns_message_add_record (r, PC_DNS_SECTION_ANSWER, name, PC_DNS_TYPE_A, PC_DNS_CLASS_IN, ttl,
                             addr, 4);
  return wire (r);
}

static GBytes *
make_negative (const PcDnsMessage *query, PcDnsRcode rcode, guint32 soa_ttl, guint32 minimum)
{
  g_autoptr (PcDnsMessage) r = pc_dns_message_new_reply (query, rcode);
  guint8 rdata[64];
  guint8 name[PC_DNS_MAX_NAME];
  gsize n1, n2;

  g_assert_true (pc_dns_name_to_wire ("ns.example", name, &n1));
  memcpy (rdata, name, n1);
  g_assert_true (pc_dns_name_to_wire ("host.example", name, &n2));
  memcpy (rdata + n1, name, n2);
  memset (rdata + n1 + n2, 0, 20);
  rdata[n1 + n2 + 16] = (guint8)(minimum >> 24);
  rdata[n1 + n2 + 17] = (guint8)(minimum >> 16);
  rdata[n1 + n2 + 18] = (guint8)(minimum >> 8);
  rdata[n1 + n2 + 19] = (guint8)minimum;
  pc_dns_message_add_record (r, PC_DNS_SECTION_AUTHORITY, "example", PC_DNS_TYPE_SOA,
                             PC_DNS_CLASS_IN, soa_ttl, rdata, (guint16)(n1 + n2 + 20));
  return wire (r);
}

static PcDnsCacheResult
lookup (PcDnsCache *cache, const PcDnsMessage *q, PcDnsMessage **answer)
{
  g_autoptr (GBytes) qw = wire (q);
  g_autoptr (GBytes) reply = NULL;
  PcDnsCacheResult res;

  res = pc_dns_cache_lookup (cache, q, g_bytes_get_data (qw, NULL), g_bytes_get_size (qw), &reply);
  if (answer != NULL)
    *answer = reply != NULL ? pc_dns_message_parse (g_bytes_get_data (reply, NULL),
                                                    g_bytes_get_size (reply), NULL)
                            : NULL;
  return res;
}

static guint32
first_ttl (PcDnsMessage *m, PcDnsSection s)
{
  return g_array_index (m->sections[s], PcDnsRecord, 0).ttl;
}

static void
test_ttl_countdown (void)
{
  g_autoptr (PcDnsCache) cache = pc_dns_cache_new (NULL, fake_clock, NULL);
  g_autoptr (PcDnsMessage) q = make_query ("www.Example.com", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) q2 = make_query ("WWW.example.COM", PC_DNS_TYPE_A, 77);
  g_autoptr (GBytes) a = make_answer (q, 300, 1);
  g_autoptr (PcDnsMessage) got = NULL;

  g_assert_cmpint (lookup (cache, q, NULL), ==, PC_DNS_CACHE_MISS);
  g_assert_true (pc_dns_cache_insert (cache, q, a));
  advance (100);
  g_assert_cmpint (lookup (cache, q2, &got), ==, PC_DNS_CACHE_HIT);
  /* the asker's id and spelling, the TTL counted down */
  g_assert_cmpuint (got->id, ==, 77);
  g_assert_cmpstr (g_array_index (got->questions, PcDnsQuestion, 0).name, ==, "WWW.example.COM");
  g_assert_cmpuint (first_ttl (got, PC_DNS_SECTION_ANSWER), ==, 200);
  g_clear_pointer (&got, pc_dns_message_free);

  /* other type, other key */
  {
    g_autoptr (PcDnsMessage) q6 = make_query ("www.example.com", PC_DNS_TYPE_AAAA, 2);
    g_assert_cmpint (lookup (cache, q6, NULL), ==, PC_DNS_CACHE_MISS);
  }
  advance (199);
  /* second hit with 1 s of 300 left: also a prefetch candidate */
  g_assert_cmpint (lookup (cache, q, &got), ==, PC_DNS_CACHE_HIT_PREFETCH);
  g_assert_cmpuint (first_ttl (got, PC_DNS_SECTION_ANSWER), ==, 1);
  advance (1);
  g_assert_cmpint (lookup (cache, q, NULL), ==, PC_DNS_CACHE_MISS);
}

static void
test_clamps (void)
{
  PcDnsCacheConfig config;
  g_autoptr (PcDnsCache) cache = NULL;
  g_autoptr (PcDnsMessage) q0 = make_query ("zero.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) qbig = make_query ("big.example", PC_DNS_TYPE_A, 1);
  g_autoptr (GBytes) a0 = make_answer (q0, 0, 1);
  g_autoptr (GBytes) abig = make_answer (qbig, 7 * 86400, 1);
  g_autoptr (PcDnsMessage) got = NULL;

  pc_dns_cache_config_init (&config);
  config.min_ttl = 10;
  config.max_ttl = 3600;
  cache = pc_dns_cache_new (&config, fake_clock, NULL);
  g_assert_true (pc_dns_cache_insert (cache, q0, a0));
  g_assert_true (pc_dns_cache_insert (cache, qbig, abig));
  advance (9);
  /* a zero TTL lives min_ttl, and says 0 to the client */
  g_assert_cmpint (lookup (cache, q0, &got), ==, PC_DNS_CACHE_HIT);
  g_assert_cmpuint (first_ttl (got, PC_DNS_SECTION_ANSWER), ==, 0);
  advance (1);
  g_assert_cmpint (lookup (cache, q0, NULL), ==, PC_DNS_CACHE_MISS);
  g_clear_pointer (&got, pc_dns_message_free);
  /* a week-long TTL is cut to max_ttl */
  g_assert_cmpint (lookup (cache, qbig, &got), ==, PC_DNS_CACHE_HIT);
  g_assert_cmpuint (first_ttl (got, PC_DNS_SECTION_ANSWER), ==, 3600 - 10);
  advance (3600);
  g_assert_cmpint (lookup (cache, qbig, NULL), ==, PC_DNS_CACHE_MISS);
}

static void
test_negative (void)
{
  g_autoptr (PcDnsCache) cache = pc_dns_cache_new (NULL, fake_clock, NULL);
  g_autoptr (PcDnsMessage) qnx = make_query ("nope.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) qnodata = make_query ("v4only.example", PC_DNS_TYPE_AAAA, 1);
  g_autoptr (PcDnsMessage) qlong = make_query ("long.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) qfail = make_query ("broken.example", PC_DNS_TYPE_A, 1);
  g_autoptr (GBytes) nx = make_negative (qnx, PC_DNS_RCODE_NXDOMAIN, 3600, 30);
  g_autoptr (GBytes) nodata = make_negative (qnodata, PC_DNS_RCODE_NOERROR, 20, 600);
  g_autoptr (GBytes) nxlong = make_negative (qlong, PC_DNS_RCODE_NXDOMAIN, 86400, 86400);
  g_autoptr (GBytes) fail = pc_dns_build_error_reply (NULL, 0, PC_DNS_RCODE_SERVFAIL);
  g_autoptr (PcDnsMessage) fail_msg = pc_dns_message_new_reply (qfail, PC_DNS_RCODE_SERVFAIL);
  g_autoptr (GBytes) fail_wire = wire (fail_msg);
  g_autoptr (PcDnsMessage) got = NULL;

  g_assert_null (fail);
  g_assert_true (pc_dns_cache_insert (cache, qnx, nx));
  g_assert_true (pc_dns_cache_insert (cache, qnodata, nodata));
  g_assert_true (pc_dns_cache_insert (cache, qlong, nxlong));
  g_assert_false (pc_dns_cache_insert (cache, qfail, fail_wire));

  advance (19);
  g_assert_cmpint (lookup (cache, qnx, &got), ==, PC_DNS_CACHE_HIT);
  g_assert_cmpuint (PC_DNS_RCODE (got->flags), ==, PC_DNS_RCODE_NXDOMAIN);
  g_assert_cmpint (lookup (cache, qnodata, NULL), ==, PC_DNS_CACHE_HIT);
  advance (1);
  /* NODATA: min (SOA TTL 20, MINIMUM 600) */
  g_assert_cmpint (lookup (cache, qnodata, NULL), ==, PC_DNS_CACHE_MISS);
  advance (10);
  /* NXDOMAIN: min (3600, 30) */
  g_assert_cmpint (lookup (cache, qnx, NULL), ==, PC_DNS_CACHE_MISS);
  /* a day-long negative TTL is cut to neg_max_ttl (900 s) */
  advance (900 - 30 - 1);
  g_assert_cmpint (lookup (cache, qlong, NULL), ==, PC_DNS_CACHE_HIT);
  advance (1);
  g_assert_cmpint (lookup (cache, qlong, NULL), ==, PC_DNS_CACHE_MISS);
}

static void
test_lru_bound (void)
{
  PcDnsCacheConfig config;
  g_autoptr (PcDnsCache) cache = NULL;
  PcDnsCacheStats stats;
  g_autoptr (PcDnsMessage) first = make_query ("n0.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) second = make_query ("n1.example", PC_DNS_TYPE_A, 1);

  pc_dns_cache_config_init (&config);
  config.max_bytes = 20 * 1024;
  cache = pc_dns_cache_new (&config, fake_clock, NULL);
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u.example", i);
      g_autoptr (PcDnsMessage) q = make_query (name, PC_DNS_TYPE_A, 1);
      g_autoptr (GBytes) a = make_answer (q, 300, (guint8)i);

      g_assert_true (pc_dns_cache_insert (cache, q, a));
      /* n0 is used all the time and must survive; n1 never again */
      if (i > 0)
        g_assert_cmpint (lookup (cache, first, NULL), ==, PC_DNS_CACHE_HIT);
      pc_dns_cache_get_stats (cache, &stats);
      g_assert_cmpuint (stats.bytes, <=, config.max_bytes);
    }
  pc_dns_cache_get_stats (cache, &stats);
  g_assert_cmpuint (stats.evictions, >, 800);
  g_assert_cmpuint (stats.entries, ==, 1000 - stats.evictions);
  g_assert_cmpint (lookup (cache, second, NULL), ==, PC_DNS_CACHE_MISS);

  pc_dns_cache_flush (cache);
  g_assert_cmpint (lookup (cache, first, NULL), ==, PC_DNS_CACHE_MISS);
  pc_dns_cache_get_stats (cache, &stats);
  g_assert_cmpuint (stats.entries, ==, 0);
  g_assert_cmpuint (stats.bytes, ==, 0);
}

typedef struct
{
  guint calls;
  guint16 last_id;
  gboolean got_null;
} WaitLog;

static void
wait_cb (GBytes *reply, gpointer user_data)
{
  WaitLog *log = user_data;

  log->calls++;
  if (reply == NULL)
    log->got_null = TRUE;
  else
    {
      static const guint8 query[] = { 0x42, 0x42 };
      g_autoptr (GBytes) mine = pc_dns_reply_for_query (reply, query, sizeof query);
      const guint8 *d = g_bytes_get_data (mine, NULL);
      log->last_id = (guint16)(d[0] << 8 | d[1]);
    }
}

static void
test_coalescing (void)
{
  g_autoptr (PcDnsCache) cache = pc_dns_cache_new (NULL, fake_clock, NULL);
  g_autoptr (PcDnsMessage) q = make_query ("busy.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) other = make_query ("other.example", PC_DNS_TYPE_A, 1);
  g_autoptr (GBytes) a = make_answer (q, 60, 9);
  WaitLog log = { 0 };
  PcDnsCacheStats stats;

  /* the first asker leads, the next 9 wait, another name is not affected */
  g_assert_false (pc_dns_cache_join (cache, q, wait_cb, &log));
  for (guint i = 0; i < 9; i++)
    g_assert_true (pc_dns_cache_join (cache, q, wait_cb, &log));
  g_assert_false (pc_dns_cache_join (cache, other, wait_cb, &log));
  g_assert_cmpuint (log.calls, ==, 0);

  pc_dns_cache_finish (cache, q, a);
  g_assert_cmpuint (log.calls, ==, 9);
  g_assert_cmphex (log.last_id, ==, 0x4242);
  g_assert_cmpint (lookup (cache, q, NULL), ==, PC_DNS_CACHE_HIT);
  pc_dns_cache_get_stats (cache, &stats);
  g_assert_cmpuint (stats.coalesced, ==, 9);

  /* the flight is over: a new asker leads again */
  g_assert_false (pc_dns_cache_join (cache, q, wait_cb, &log));
  pc_dns_cache_finish (cache, q, NULL);

  /* a failed leader tells its waiters; freeing the cache tells those still waiting */
  memset (&log, 0, sizeof log);
  g_assert_true (pc_dns_cache_join (cache, other, wait_cb, &log));
  pc_dns_cache_finish (cache, other, NULL);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_true (log.got_null);
  g_assert_false (pc_dns_cache_join (cache, other, wait_cb, &log));
  g_assert_true (pc_dns_cache_join (cache, other, wait_cb, &log));
  g_clear_pointer (&cache, pc_dns_cache_free);
  g_assert_cmpuint (log.calls, ==, 2);
}

static void
test_prefetch (void)
{
  g_autoptr (PcDnsCache) cache = pc_dns_cache_new (NULL, fake_clock, NULL);
  g_autoptr (PcDnsMessage) popular = make_query ("popular.example", PC_DNS_TYPE_A, 1);
  g_autoptr (PcDnsMessage) rare = make_query ("rare.example", PC_DNS_TYPE_A, 1);
  g_autoptr (GBytes) a = make_answer (popular, 100, 1);
  g_autoptr (GBytes) b = make_answer (rare, 100, 2);
  g_autoptr (GBytes) fresh = make_answer (popular, 100, 3);
  g_autoptr (PcDnsMessage) got = NULL;

  pc_dns_cache_insert (cache, popular, a);
  pc_dns_cache_insert (cache, rare, b);
  g_assert_cmpint (lookup (cache, popular, NULL), ==, PC_DNS_CACHE_HIT);
  advance (50);
  g_assert_cmpint (lookup (cache, popular, NULL), ==, PC_DNS_CACHE_HIT);
  advance (41);
  /* 9 s left of 100: the popular one is reported once, the rare one (first hit) is not */
  g_assert_cmpint (lookup (cache, popular, NULL), ==, PC_DNS_CACHE_HIT_PREFETCH);
  g_assert_cmpint (lookup (cache, popular, NULL), ==, PC_DNS_CACHE_HIT);
  g_assert_cmpint (lookup (cache, rare, NULL), ==, PC_DNS_CACHE_HIT);

  /* the caller refreshes it as a leader; the new answer replaces the old one in place */
  g_assert_false (pc_dns_cache_join (cache, popular, wait_cb, NULL));
  pc_dns_cache_finish (cache, popular, fresh);
  advance (20);
  g_assert_cmpint (lookup (cache, rare, NULL), ==, PC_DNS_CACHE_MISS);
  g_assert_cmpint (lookup (cache, popular, &got), ==, PC_DNS_CACHE_HIT);
  g_assert_cmpuint (g_array_index (got->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, 0).rdata[3],
                    ==, 3);
  g_assert_cmpuint (first_ttl (got, PC_DNS_SECTION_ANSWER), ==, 80);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/cache/ttl-countdown", test_ttl_countdown);
  g_test_add_func ("/dns/cache/clamps", test_clamps);
  g_test_add_func ("/dns/cache/negative", test_negative);
  g_test_add_func ("/dns/cache/lru-bound", test_lru_bound);
  g_test_add_func ("/dns/cache/coalescing", test_coalescing);
  g_test_add_func ("/dns/cache/prefetch", test_prefetch);
  return g_test_run ();
}
