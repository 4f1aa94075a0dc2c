/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DNS wire format: parsing real shapes, compression in and out, hostile bytes, truncation,
 * error replies and negative TTLs. */
#define G_LOG_DOMAIN "portcullis-dns"

#include <string.h>

#include "pc-dns-message.h"

static GBytes *
read_corpus (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("PC_DNS_CORPUS"), name, NULL);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static PcDnsMessage *
parse_corpus (const char *name, GError **error)
{
  g_autoptr (GBytes) b = read_corpus (name);

  return pc_dns_message_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b), error);
}

static void
test_parse_query (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsMessage) msg = parse_corpus ("query-a", &error);
  PcDnsQuestion *q;

  g_assert_no_error (error);
  g_assert_cmpuint (msg->id, ==, 0x1234);
  g_assert_true (msg->flags & PC_DNS_FLAG_RD);
  g_assert_cmpuint (msg->questions->len, ==, 1);
  q = &g_array_index (msg->questions, PcDnsQuestion, 0);
  g_assert_cmpstr (q->name, ==, "www.example.com");
  g_assert_cmpuint (q->type, ==, PC_DNS_TYPE_A);
  g_assert_false (msg->has_edns);

  g_clear_pointer (&msg, pc_dns_message_free);
  msg = parse_corpus ("query-edns", &error);
  g_assert_no_error (error);
  g_assert_true (msg->has_edns);
  g_assert_cmpuint (msg->edns_udp_size, ==, 1232);
  g_assert_cmphex (msg->edns_flags, ==, 0x8000);
  /* OPT is not a record of the additional section */
  g_assert_cmpuint (msg->sections[PC_DNS_SECTION_ADDITIONAL]->len, ==, 0);
}

static void
test_parse_compressed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsMessage) msg = parse_corpus ("response-cname", &error);
  GArray *an;
  PcDnsRecord *cname, *a;
  char text[PC_DNS_NAME_STRLEN];

  g_assert_no_error (error);
  an = msg->sections[PC_DNS_SECTION_ANSWER];
  g_assert_cmpuint (an->len, ==, 2);
  cname = &g_array_index (an, PcDnsRecord, 0);
  a = &g_array_index (an, PcDnsRecord, 1);
  g_assert_cmpstr (cname->name, ==, "www.example.com");
  g_assert_cmpuint (cname->type, ==, PC_DNS_TYPE_CNAME);
  g_assert_cmpuint (cname->ttl, ==, 300);
  /* the CNAME target was compressed on the wire and is stored uncompressed */
  pc_dns_name_wire_to_string (cname->rdata, cname->rdlen, text);
  g_assert_cmpstr (text, ==, "cdn.example.com");
  g_assert_cmpuint (cname->rdlen, ==, 17);
  g_assert_cmpstr (a->name, ==, "cdn.example.com");
  g_assert_cmpuint (a->rdlen, ==, 4);
  g_assert_cmpuint (a->rdata[0], ==, 93);
  g_assert_cmpuint (a->ttl_offset, >, 12);
}

static void
test_parse_mx_soa (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsMessage) mx = parse_corpus ("response-mx", &error);
  g_autoptr (PcDnsMessage) nx = NULL;
  PcDnsRecord *rec;
  char text[PC_DNS_NAME_STRLEN];
  guint32 ttl = 0;

  g_assert_no_error (error);
  rec = &g_array_index (mx->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, 0);
  g_assert_cmpuint (rec->rdata[1], ==, 10);
  pc_dns_name_wire_to_string (rec->rdata + 2, rec->rdlen - 2, text);
  g_assert_cmpstr (text, ==, "mail.example.com");
  g_assert_false (pc_dns_message_negative_ttl (mx, &ttl));

  nx = parse_corpus ("response-nxdomain", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (PC_DNS_RCODE (nx->flags), ==, PC_DNS_RCODE_NXDOMAIN);
  /* RFC 2308: min (SOA TTL 3600, MINIMUM 300) */
  g_assert_true (pc_dns_message_negative_ttl (nx, &ttl));
  g_assert_cmpuint (ttl, ==, 300);
}

static void
test_parse_hostile (void)
{
  static const char *const bad[] = {
    "pointer-self",   "pointer-forward", "pointer-loop", "truncated", "short-header", "empty",
    "label-too-long", "name-too-long",   "trailing",     "two-opt",   "bad-a-length", "counts-lie",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PcDnsMessage) msg = parse_corpus (bad[i], &error);

      g_test_message ("%s: %s", bad[i], error != NULL ? error->message : "parsed");
      g_assert_null (msg);
      g_assert_nonnull (error);
      g_assert_true (g_str_has_prefix (error->message, "dns message"));
    }
}

static void
test_names (void)
{
  guint8 wire[PC_DNS_MAX_NAME];
  gsize len = 0;
  char text[PC_DNS_NAME_STRLEN];
  g_autofree char *label63 = g_strnfill (63, 'a');
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *long_name = g_strjoin (".", label63, label63, label63, label63, NULL);
  g_autofree char *label61 = g_strnfill (61, 'b');
  /* 3 * 64 + 62 + the root byte = 255, the longest name there is */
  g_autofree char *ok_name = g_strjoin (".", label63, label63, label63, label61, NULL);

  g_assert_true (pc_dns_name_to_wire ("example.com.", wire, &len));
  g_assert_cmpuint (len, ==, 13);
  g_assert_true (pc_dns_name_to_wire (".", wire, &len));
  g_assert_cmpuint (len, ==, 1);
  g_assert_true (pc_dns_name_to_wire (label63, wire, &len));
  g_assert_false (pc_dns_name_to_wire (label64, wire, &len));
  g_assert_false (pc_dns_name_to_wire (long_name, wire, &len));
  g_assert_true (pc_dns_name_to_wire (ok_name, wire, &len));
  g_assert_cmpuint (len, ==, 255);
  g_assert_false (pc_dns_name_to_wire ("a..b", wire, &len));
  g_assert_false (pc_dns_name_to_wire ("trailing\\", wire, &len));

  /* escapes round-trip */
  g_assert_true (pc_dns_name_to_wire ("a\\.b\\\\\\000.com", wire, &len));
  g_assert_cmpuint (wire[0], ==, 5);
  pc_dns_name_wire_to_string (wire, len, text);
  g_assert_cmpstr (text, ==, "a\\.b\\\\\\000.com");

  g_assert_true (pc_dns_name_equal ("WWW.Example.COM", "www.example.com."));
  g_assert_false (pc_dns_name_equal ("www.example.com", "ww.example.com"));
  g_assert_true (pc_dns_name_is_subdomain ("printer.LAN", "lan"));
  g_assert_true (pc_dns_name_is_subdomain ("lan", ".lan"));
  g_assert_false (pc_dns_name_is_subdomain ("plan", "lan"));
  g_assert_true (pc_dns_name_is_subdomain ("a.b.home.arpa", "home.arpa"));
  g_assert_false (pc_dns_name_is_subdomain ("a\\.lan", "lan"));
}

static void
test_build_roundtrip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) orig = read_corpus ("response-cname");
  g_autoptr (PcDnsMessage) msg = parse_corpus ("response-cname", &error);
  g_autoptr (GBytes) built = NULL;
  g_autoptr (PcDnsMessage) back = NULL;

  g_assert_no_error (error);
  built = pc_dns_message_build (msg, 0, &error);
  g_assert_no_error (error);
  /* owner names compress as well as the original; the CNAME rdata is written uncompressed */
  g_assert_cmpuint (g_bytes_get_size (built), <=, g_bytes_get_size (orig) + 16);
  back = pc_dns_message_parse (g_bytes_get_data (built, NULL), g_bytes_get_size (built), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->id, ==, msg->id);
  g_assert_cmpuint (back->flags, ==, msg->flags);
  g_assert_cmpuint (back->sections[PC_DNS_SECTION_ANSWER]->len, ==, 2);
  g_assert_cmpstr (g_array_index (back->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, 1).name, ==,
                   "cdn.example.com");
}

static void
test_build_truncates (void)
{
  g_autoptr (PcDnsMessage) msg = pc_dns_message_new ();
  g_autoptr (GBytes) built = NULL;
  g_autoptr (PcDnsMessage) back = NULL;
  g_autoptr (GError) error = NULL;
  guint8 txt[201];

  memset (txt, 'x', sizeof txt);
  txt[0] = 200;
  msg->id = 7;
  msg->flags = PC_DNS_FLAG_QR | PC_DNS_FLAG_RD | PC_DNS_FLAG_RA;
  msg->has_edns = TRUE;
  msg->edns_udp_size = 1232;
  pc_dns_message_add_question (msg, "big.example", PC_DNS_TYPE_TXT, PC_DNS_CLASS_IN);
  for (guint i = 0; i < 10; i++)
    pc_dns_message_add_record (msg, PC_DNS_SECTION_ANSWER, "big.example", PC_DNS_TYPE_TXT,
                               PC_DNS_CLASS_IN, 60, txt, sizeof txt);

  built = pc_dns_message_build (msg, 512, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (built), <=, 512);
  back = pc_dns_message_parse (g_bytes_get_data (built, NULL), g_bytes_get_size (built), &error);
  g_assert_no_error (error);
  g_assert_true (back->flags & PC_DNS_FLAG_TC);
  g_assert_cmpuint (back->sections[PC_DNS_SECTION_ANSWER]->len, ==, 2);
  g_assert_true (back->has_edns);

  g_clear_pointer (&built, g_bytes_unref);
  g_clear_pointer (&back, pc_dns_message_free);
  built = pc_dns_message_build (msg, 0, &error);
  back = pc_dns_message_parse (g_bytes_get_data (built, NULL), g_bytes_get_size (built), &error);
  g_assert_no_error (error);
  g_assert_false (back->flags & PC_DNS_FLAG_TC);
  g_assert_cmpuint (back->sections[PC_DNS_SECTION_ANSWER]->len, ==, 10);
}

static void
test_error_reply (void)
{
  g_autoptr (GBytes) q = read_corpus ("query-edns");
  g_autoptr (GBytes) loop = read_corpus ("pointer-loop");
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (PcDnsMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 garbage[] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0 };

  reply = pc_dns_build_error_reply (g_bytes_get_data (q, NULL), g_bytes_get_size (q),
                                    PC_DNS_RCODE_SERVFAIL);
  msg = pc_dns_message_parse (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msg->id, ==, 1);
  g_assert_cmpuint (PC_DNS_RCODE (msg->flags), ==, PC_DNS_RCODE_SERVFAIL);
  g_assert_true (msg->flags & PC_DNS_FLAG_QR);
  g_assert_cmpuint (msg->questions->len, ==, 1);
  g_assert_true (msg->has_edns);
  g_clear_pointer (&reply, g_bytes_unref);
  g_clear_pointer (&msg, pc_dns_message_free);

  reply = pc_dns_build_error_reply (garbage, sizeof garbage, PC_DNS_RCODE_FORMERR);
  msg = pc_dns_message_parse (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), &error);
  g_assert_no_error (error);
  g_assert_cmphex (msg->id, ==, 0xabcd);
  g_assert_cmpuint (PC_DNS_RCODE (msg->flags), ==, PC_DNS_RCODE_FORMERR);
  g_assert_cmpuint (msg->questions->len, ==, 0);

  /* responses are never answered (no reflection loops), nor are runts */
  g_assert_null (pc_dns_build_error_reply (g_bytes_get_data (loop, NULL), g_bytes_get_size (loop),
                                           PC_DNS_RCODE_FORMERR));
  g_assert_null (pc_dns_build_error_reply (garbage, 5, PC_DNS_RCODE_FORMERR));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/message/parse-query", test_parse_query);
  g_test_add_func ("/dns/message/parse-compressed", test_parse_compressed);
  g_test_add_func ("/dns/message/parse-mx-soa", test_parse_mx_soa);
  g_test_add_func ("/dns/message/parse-hostile", test_parse_hostile);
  g_test_add_func ("/dns/message/names", test_names);
  g_test_add_func ("/dns/message/build-roundtrip", test_build_roundtrip);
  g_test_add_func ("/dns/message/build-truncates", test_build_truncates);
  g_test_add_func ("/dns/message/error-reply", test_error_reply);
  return g_test_run ();
}
