/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter list parsing: every format with good and malformed lines, the rejected-line count and
 * the first rejected line, comments, IDN, CIDR masking and auto-detection. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <string.h>

#include "pc-list-parser.h"

typedef struct
{
  GPtrArray *domains; /* "name" or "@@name" for exceptions */
  GPtrArray *nets;    /* "addr/len" */
  PcListStats stats;
} Parsed;

static void
domain_cb (const char *domain, gsize len, PcListEntryFlags flags, gpointer user_data)
{
  Parsed *p = user_data;

  g_assert_cmpuint (strlen (domain), ==, len);
  g_ptr_array_add (p->domains,
                   g_strdup_printf ("%s%s", (flags & PC_LIST_ENTRY_EXCEPTION) ? "@@" : "", domain));
}

static void
net_cb (const PcAddr *addr, guint prefix_len, gpointer user_data)
{
  Parsed *p = user_data;
  char buf[PC_ADDR_STRLEN];

  g_ptr_array_add (p->nets, g_strdup_printf ("%s/%u", pc_addr_to_string (addr, buf), prefix_len));
}

static void
parsed_clear (Parsed *p)
{
  g_clear_pointer (&p->domains, g_ptr_array_unref);
  g_clear_pointer (&p->nets, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Parsed, parsed_clear)

static void
parse (Parsed *p, const char *text, PcListFormat format)
{
  p->domains = g_ptr_array_new_with_free_func (g_free);
  p->nets = g_ptr_array_new_with_free_func (g_free);
  pc_list_parse (text, strlen (text), format, domain_cb, net_cb, p, &p->stats);
}

static char *
joined (GPtrArray *a)
{
  g_ptr_array_add (a, NULL);
  {
    char *s = g_strjoinv (" ", (char **)a->pdata);

    g_ptr_array_remove_index (a, a->len - 1);
    return s;
  }
}

#define assert_entries(arr, expected)                                                              \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autofree char *got_ = joined (arr);                                                          \
    g_assert_cmpstr (got_, ==, expected);                                                          \
  }                                                                                                \
  G_STMT_END

static void
test_hosts (void)
{
  g_auto (Parsed) p = { 0 };

  parse (&p,
         "# a hosts file\n"
         "127.0.0.1 localhost\n"
         "::1 localhost ip6-localhost ip6-loopback\n"
         "fe80::1%lo0 localhost\n"
         "0.0.0.0 0.0.0.0\n"
         "0.0.0.0 Ads.Example.COM tracker.example.net. # trailing comment\n"
         "127.0.0.1\tpixel.example.org\r\n"
         "   \n"
         "0.0.0.0 bad_name!.example.com good.example.com\n"
         "ads.example.com 0.0.0.0\n"
         "0.0.0.0\n"
         "1.2.3.4 xn--bcher-kva.example b\xc3\xbc"
         "cher.example\n",
         PC_LIST_FORMAT_HOSTS);
  assert_entries (p.domains, "ads.example.com tracker.example.net pixel.example.org "
                             "good.example.com xn--bcher-kva.example");
  g_assert_cmpuint (p.nets->len, ==, 0);
  g_assert_cmpuint (p.stats.n_lines, ==, 12);
  g_assert_cmpuint (p.stats.n_domains, ==, 5);
  g_assert_cmpuint (p.stats.n_comments, ==, 2);
  /* bad_name!, the line starting with a name, the line without names, the UTF-8 name */
  g_assert_cmpuint (p.stats.n_rejected, ==, 4);
  g_assert_cmpuint (p.stats.first_rejected_line, ==, 9);
  g_assert_cmpstr (p.stats.first_rejected_reason, ==, "character not allowed in a domain name");
}

static void
test_domains (void)
{
  g_auto (Parsed) p = { 0 };

  parse (&p,
         "\xef\xbb\xbf"
         "# plain domains\n"
         "! also a comment\n"
         "tracker.example.com\n"
         "*.wild.example.com\n"
         "UPPER.example.org.\n"
         "two words.example\n"
         "-leading.example.com\n"
         "trailing-.example.com\n"
         "a..b.example\n"
         "1.2.3.4\n"
         "under_score.example.com # fine\n"
         "xn--80ak6aa92e.com\n"
         "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.com\n"
         "toolong-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n"
         "no-newline-at-end.example",
         PC_LIST_FORMAT_DOMAINS);
  assert_entries (p.domains,
                  "tracker.example.com wild.example.com upper.example.org "
                  "under_score.example.com xn--80ak6aa92e.com no-newline-at-end.example");
  g_assert_cmpuint (p.stats.n_comments, ==, 2);
  g_assert_cmpuint (p.stats.n_rejected, ==, 7);
  g_assert_cmpuint (p.stats.first_rejected_line, ==, 6);
  g_assert_cmpstr (p.stats.first_rejected_reason, ==, "more than one word on a domain list line");
}

static void
test_adblock (void)
{
  g_auto (Parsed) p = { 0 };

  parse (&p,
         "[Adblock Plus 2.0]\n"
         "! Title: test\n"
         "||ads.example.com^\n"
         "||track.example.net^$important\n"
         "||all.example.net^|$all,important\n"
         "@@||cdn.example.com^\n"
         "||third.example.com^$third-party\n"
         "||path.example.com/ads/*\n"
         "||noncaret.example.com\n"
         "example.com##.banner\n"
         "/banner[0-9]+/\n"
         "|https://example.com/x.js\n"
         "||*.wild.example.org^\n"
         "||opts.example.com^$\n"
         "plain.example.com\n",
         PC_LIST_FORMAT_ADBLOCK);
  assert_entries (p.domains, "ads.example.com track.example.net all.example.net "
                             "@@cdn.example.com wild.example.org");
  g_assert_cmpuint (p.stats.n_comments, ==, 2);
  g_assert_cmpuint (p.stats.n_rejected, ==, 8);
  g_assert_cmpuint (p.stats.first_rejected_line, ==, 7);
  g_assert_cmpstr (p.stats.first_rejected_reason, ==,
                   "AdBlock rule with options a domain list cannot express");
}

static void
test_ip (void)
{
  g_auto (Parsed) p = { 0 };

  parse (&p,
         "# ip list\n"
         "192.0.2.1\n"
         "198.51.100.77/24\n"
         "2001:db8::1/32\n"
         "::ffff:203.0.113.0/120\n"
         "10.0.0.0/33\n"
         "10.0.0.0/\n"
         "10.0.0.0/8x\n"
         "300.1.1.1\n"
         "example.com\n"
         "0.0.0.0/0\n"
         "2001:db8::/129\n",
         PC_LIST_FORMAT_IP);
  assert_entries (p.nets, "192.0.2.1/32 198.51.100.0/24 2001:db8::/32 203.0.113.0/24 0.0.0.0/0");
  g_assert_cmpuint (p.domains->len, ==, 0);
  g_assert_cmpuint (p.stats.n_nets, ==, 5);
  g_assert_cmpuint (p.stats.n_rejected, ==, 6);
  g_assert_cmpuint (p.stats.first_rejected_line, ==, 6);
  g_assert_cmpstr (p.stats.first_rejected_reason, ==, "prefix length must be 0-32");
}

static void
test_auto (void)
{
  g_auto (Parsed) p = { 0 };

  parse (&p,
         "# mixed, as a user's custom list may be\n"
         "ads.example.com\n"
         "0.0.0.0 hosts.example.com\n"
         "||adblock.example.com^\n"
         "@@||allowed.example.com^\n"
         "192.0.2.0/24\n"
         "2001:db8::5\n"
         "198.51.100.1\n"
         "what is this\n"
         "example.com:443\n",
         PC_LIST_FORMAT_AUTO);
  assert_entries (p.domains, "ads.example.com hosts.example.com adblock.example.com "
                             "@@allowed.example.com");
  assert_entries (p.nets, "192.0.2.0/24 2001:db8::5/128 198.51.100.1/32");
  g_assert_cmpuint (p.stats.n_rejected, ==, 2);
  g_assert_cmpuint (p.stats.first_rejected_line, ==, 9);
}

static void
test_junk (void)
{
  static const char junk[] = "\0\0\0\n\xff\xfe garbage \x01\n||\n@@\n|\n^\n$\n*.\n.\n..\n";
  g_auto (Parsed) p = { 0 };

  p.domains = g_ptr_array_new_with_free_func (g_free);
  p.nets = g_ptr_array_new_with_free_func (g_free);
  pc_list_parse (junk, sizeof junk - 1, PC_LIST_FORMAT_AUTO, domain_cb, net_cb, &p, &p.stats);
  g_assert_cmpuint (p.domains->len, ==, 0);
  g_assert_cmpuint (p.nets->len, ==, 0);
  g_assert_cmpuint (p.stats.n_lines, ==, 10);
  g_assert_cmpuint (p.stats.n_rejected, ==, 10);
  g_assert_cmpstr (p.stats.first_rejected_reason, ==, "line contains a NUL byte");

  /* empty input */
  pc_list_parse ("", 0, PC_LIST_FORMAT_HOSTS, NULL, NULL, NULL, &p.stats);
  g_assert_cmpuint (p.stats.n_lines, ==, 0);
  g_assert_cmpuint (p.stats.n_rejected, ==, 0);
  g_assert_null (p.stats.first_rejected_reason);
}

static void
test_normalize (void)
{
  char out[254];
  const char *why = NULL;
  g_autofree char *max = NULL;
  g_autofree char *over = NULL;

  g_assert_cmpuint (pc_list_normalize_domain ("WWW.Example.COM.", 16, out, NULL), ==, 15);
  g_assert_cmpstr (out, ==, "www.example.com");
  g_assert_cmpuint (pc_list_normalize_domain ("com", 3, out, NULL), ==, 3);
  g_assert_cmpuint (pc_list_normalize_domain ("", 0, out, &why), ==, 0);
  g_assert_cmpstr (why, ==, "empty name");
  g_assert_cmpuint (pc_list_normalize_domain (".", 1, out, NULL), ==, 0);
  g_assert_cmpuint (pc_list_normalize_domain ("a.b.123", 7, out, &why), ==, 0);
  g_assert_cmpstr (why, ==, "last label is all digits (an address, not a name)");
  g_assert_cmpuint (pc_list_normalize_domain ("123.example", 11, out, NULL), ==, 11);

  /* 253 characters is the limit: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
  {
    GString *s = g_string_new (NULL);

    for (guint i = 0; i < 3; i++)
      {
        for (guint j = 0; j < 63; j++)
          g_string_append_c (s, 'a');
        g_string_append_c (s, '.');
      }
    for (guint j = 0; j < 61; j++)
      g_string_append_c (s, 'b');
    max = g_string_free (s, FALSE);
  }
  g_assert_cmpuint (strlen (max), ==, 253);
  g_assert_cmpuint (pc_list_normalize_domain (max, 253, out, NULL), ==, 253);
  over = g_strconcat ("c", max, NULL);
  g_assert_cmpuint (pc_list_normalize_domain (over, 254, out, &why), ==, 0);
  g_assert_cmpstr (why, ==, "name longer than 253 characters");
}

static void
test_formats (void)
{
  PcListFormat f;

  g_assert_true (pc_list_format_from_string ("HOSTS", &f));
  g_assert_cmpint (f, ==, PC_LIST_FORMAT_HOSTS);
  g_assert_true (pc_list_format_from_string ("adblock", &f));
  g_assert_cmpint (f, ==, PC_LIST_FORMAT_ADBLOCK);
  g_assert_false (pc_list_format_from_string ("csv", &f));
  g_assert_cmpstr (pc_list_format_to_string (PC_LIST_FORMAT_IP), ==, "ip");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/list-parser/hosts", test_hosts);
  g_test_add_func ("/list-parser/domains", test_domains);
  g_test_add_func ("/list-parser/adblock", test_adblock);
  g_test_add_func ("/list-parser/ip", test_ip);
  g_test_add_func ("/list-parser/auto", test_auto);
  g_test_add_func ("/list-parser/junk", test_junk);
  g_test_add_func ("/list-parser/normalize", test_normalize);
  g_test_add_func ("/list-parser/formats", test_formats);
  return g_test_run ();
}
