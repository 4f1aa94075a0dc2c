/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IP -> domain memory: per process before global, TTL with its floor, the size bound, and
 * lookups from another thread while the resolver writes. */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-memory.h"

static gint64 fake_now = G_USEC_PER_SEC;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static PcAddr
addr (const char *text)
{
  PcAddr a;

  g_assert_true (pc_addr_parse (text, &a));
  return a;
}

static void
test_per_process (void)
{
  g_autoptr (PcDnsMemory) m = pc_dns_memory_new (100, fake_clock, NULL);
  PcAddr shared = addr ("203.0.113.80");
  PcAddr v6 = addr ("2001:db8::80");
  char out[256];

  /* two apps reach the same CDN address under different names */
  pc_dns_memory_add (m, 100, &shared, "news.example", 300);
  pc_dns_memory_add (m, 200, &shared, "shop.example", 300);
  pc_dns_memory_add (m, 0, &v6, "v6.example", 300);
  g_assert_true (pc_dns_memory_lookup (m, 100, &shared, out, sizeof out));
  g_assert_cmpstr (out, ==, "news.example");
  g_assert_true (pc_dns_memory_lookup (m, 200, &shared, out, sizeof out));
  g_assert_cmpstr (out, ==, "shop.example");
  /* anyone else: the last name anyone got */
  g_assert_true (pc_dns_memory_lookup (m, 300, &shared, out, sizeof out));
  g_assert_cmpstr (out, ==, "shop.example");
  g_assert_true (pc_dns_memory_lookup (m, 100, &v6, out, sizeof out));
  g_assert_cmpstr (out, ==, "v6.example");
  /* short buffers get a terminated prefix */
  g_assert_true (pc_dns_memory_lookup (m, 100, &shared, out, 5));
  g_assert_cmpstr (out, ==, "news");
  {
    PcAddr other = addr ("203.0.113.81");
    g_assert_false (pc_dns_memory_lookup (m, 100, &other, out, sizeof out));
  }
}

static void
test_ttl (void)
{
  g_autoptr (PcDnsMemory) m = pc_dns_memory_new (100, fake_clock, NULL);
  PcAddr a = addr ("192.0.2.1");
  PcAddr b = addr ("192.0.2.2");
  char out[256];

  pc_dns_memory_add (m, 1, &a, "long.example", 100);
  pc_dns_memory_add (m, 1, &b, "zero.example", 0);
  fake_now += (PC_DNS_MEMORY_MIN_TTL - 1) * G_USEC_PER_SEC;
  /* TTL 0 still covers the connection right after the answer */
  g_assert_true (pc_dns_memory_lookup (m, 1, &b, out, sizeof out));
  fake_now += G_USEC_PER_SEC;
  g_assert_false (pc_dns_memory_lookup (m, 1, &b, out, sizeof out));
  g_assert_true (pc_dns_memory_lookup (m, 1, &a, out, sizeof out));
  fake_now += 90 * G_USEC_PER_SEC;
  g_assert_false (pc_dns_memory_lookup (m, 1, &a, out, sizeof out));
}

static void
test_bounded (void)
{
  g_autoptr (PcDnsMemory) m = pc_dns_memory_new (64, fake_clock, NULL);
  char out[256];

  for (guint i = 0; i < 1000; i++)
    {
      PcAddr a = { .family = AF_INET };
      a.b[0] = 198;
      a.b[1] = 51;
      a.b[2] = (guint8)(i >> 8);
      a.b[3] = (guint8)i;
      pc_dns_memory_add (m, (pid_t)(1 + i % 3), &a, "many.example", 60 + i);
      g_assert_cmpuint (pc_dns_memory_get_size (m), <=, 64);
    }
  {
    /* the newest (longest TTL) survive */
    PcAddr last = { .family = AF_INET, .b = { 198, 51, 3, 231 } };
    g_assert_true (pc_dns_memory_lookup (m, 0, &last, out, sizeof out));
  }
  pc_dns_memory_clear (m);
  g_assert_cmpuint (pc_dns_memory_get_size (m), ==, 0);
}

static gpointer
reader_thread (gpointer data)
{
  PcDnsMemory *m = data;
  PcAddr a = addr ("192.0.2.9");
  char out[256];
  guint found = 0;

  for (guint i = 0; i < 200000; i++)
    if (pc_dns_memory_lookup (m, 7, &a, out, sizeof out))
      {
        g_assert_true (g_str_has_suffix (out, ".example"));
        found++;
      }
  return GUINT_TO_POINTER (found);
}

static void
test_threads (void)
{
  g_autoptr (PcDnsMemory) m = pc_dns_memory_new (1000, NULL, NULL);
  PcAddr a = addr ("192.0.2.9");
  GThread *t;

  pc_dns_memory_add (m, 7, &a, "first.example", 300);
  t = g_thread_new ("reader", reader_thread, m);
  for (guint i = 0; i < 200000; i++)
    pc_dns_memory_add (m, 7, &a, i % 2 ? "odd.example" : "even.example", 300);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (t)), ==, 200000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/memory/per-process", test_per_process);
  g_test_add_func ("/dns/memory/ttl", test_ttl);
  g_test_add_func ("/dns/memory/bounded", test_bounded);
  g_test_add_func ("/dns/memory/threads", test_threads);
  return g_test_run ();
}
