/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint rules: every valid form parsed and matched, every malformed form with its exact
 * message, and a randomized comparison of the indexed matcher against a reference written here
 * from the specification (and against the library's own linear scan). */
#define G_LOG_DOMAIN "portcullis-policy"

#include <string.h>

#include "pc-error.h"
#include "pc-rule.h"
#include "pc-rule-private.h"
#include "pc-scope.h"

#define PROTO_HOPOPT 256 /* MatchCase.proto 0 means "tcp"; this means protocol number 0 */

typedef struct
{
  const char *rules;
  const char *domain;
  const char *cname;
  const char *addr;    /* remote address; NULL: 203.0.113.10 */
  guint proto;         /* 0: tcp */
  guint16 rport;       /* 0: 443 */
  guint16 lport;       /* 0: 40000 */
  const char *scope;   /* NULL: pc_scope_classify (addr) */
  const char *country; /* geo data, available unless no_geo */
  const char *continent;
  guint32 asn;
  gboolean no_geo;
  const char *lists; /* comma-separated ids in_list answers TRUE for; NULL: no callback */
  guint expect;      /* line of the matching rule, 0 for none */
  gboolean expect_geo_unavailable;
} MatchCase;

static const MatchCase match_cases[] = {
  /* '*' and scopes */
  { .rules = "+ *", .expect = 1 },
  { .rules = "+ *", .addr = "2001:db8::1", .proto = IPPROTO_UDP, .expect = 1 },
  { .rules = "+ localhost", .addr = "127.0.0.1", .expect = 1 },
  { .rules = "+ localhost", .addr = "::1", .expect = 1 },
  { .rules = "+ localhost", .addr = "192.168.1.1", .expect = 0 },
  { .rules = "+ lan", .addr = "192.168.1.1", .expect = 1 },
  { .rules = "+ LAN", .addr = "fe80::1", .expect = 1 },
  { .rules = "+ lan", .addr = "8.8.8.8", .expect = 0 },
  { .rules = "+ internet", .addr = "8.8.8.8", .expect = 1 },
  { .rules = "+ internet", .addr = "10.0.0.1", .expect = 0 },
  { .rules = "+ internet", .addr = "10.0.0.1", .scope = "internet", .expect = 1 },
  /* exact domains */
  { .rules = "+ example.com", .domain = "example.com", .expect = 1 },
  { .rules = "+ example.com", .domain = "www.example.com", .expect = 0 },
  { .rules = "+ example.com", .domain = "badexample.com", .expect = 0 },
  { .rules = "+ example.com", .domain = NULL, .expect = 0 },
  { .rules = "+ EXAMPLE.Com", .domain = "example.com", .expect = 1 },
  { .rules = "+ example.com.", .domain = "example.com", .expect = 1 },
  { .rules = "+ example.com", .domain = "example.com.", .expect = 1 },
  { .rules = "+ router", .domain = "router", .expect = 1 },
  { .rules = "+ localhost.", .domain = "localhost", .expect = 1 },
  { .rules = "+ _dmarc.example.com", .domain = "_dmarc.example.com", .expect = 1 },
  { .rules = "+ xn--bcher-kva.de", .domain = "xn--bcher-kva.de", .expect = 1 },
  { .rules = "+ a1.example", .domain = "a1.example", .expect = 1 },
  { .rules = "+ 3com.com", .domain = "3com.com", .expect = 1 },
  /* domain and subdomains */
  { .rules = "+ .example.com", .domain = "example.com", .expect = 1 },
  { .rules = "+ .example.com", .domain = "www.example.com", .expect = 1 },
  { .rules = "+ .example.com", .domain = "a.b.c.example.com", .expect = 1 },
  { .rules = "+ .example.com", .domain = "badexample.com", .expect = 0 },
  { .rules = "+ .example.com", .domain = "example.com.evil.net", .expect = 0 },
  { .rules = "+ .example.com", .domain = "com", .expect = 0 },
  { .rules = "+ .com", .domain = "example.com", .expect = 1 },
  { .rules = "+ .at", .domain = "orf.at", .expect = 1 },
  /* subdomains only */
  { .rules = "+ *.example.com", .domain = "example.com", .expect = 0 },
  { .rules = "+ *.example.com", .domain = "www.example.com", .expect = 1 },
  { .rules = "+ *.example.com", .domain = "x.www.example.com", .expect = 1 },
  { .rules = "+ *.Example.COM.", .domain = "www.example.com", .expect = 1 },
  /* CNAME chains */
  { .rules = "- .tracker.net",
    .domain = "shop.example.com",
    .cname = "x.tracker.net",
    .expect = 1 },
  { .rules = "- tracker.net", .domain = "shop.example.com", .cname = "x.tracker.net", .expect = 0 },
  { .rules = "- *.tracker.net", .domain = NULL, .cname = "x.tracker.net", .expect = 1 },
  /* IPv4 */
  { .rules = "+ 203.0.113.5", .addr = "203.0.113.5", .expect = 1 },
  { .rules = "+ 203.0.113.5", .addr = "203.0.113.6", .expect = 0 },
  { .rules = "+ 203.0.113.5", .addr = "::ffff:203.0.113.5", .expect = 1 },
  { .rules = "+ 10.0.0.0/8", .addr = "10.255.1.1", .expect = 1 },
  { .rules = "+ 10.0.0.0/8", .addr = "11.0.0.1", .expect = 0 },
  { .rules = "+ 10.0.0.0/8", .addr = "::ffff:10.1.2.3", .expect = 1 },
  { .rules = "+ 192.0.2.0/25", .addr = "192.0.2.127", .expect = 1 },
  { .rules = "+ 192.0.2.0/25", .addr = "192.0.2.128", .expect = 0 },
  { .rules = "+ 192.0.2.1/32", .addr = "192.0.2.1", .expect = 1 },
  { .rules = "+ 0.0.0.0/0", .addr = "198.51.100.1", .expect = 1 },
  { .rules = "+ 0.0.0.0/0", .addr = "2001:db8::1", .expect = 0 },
  /* IPv6 */
  { .rules = "+ 2001:db8::1", .addr = "2001:db8::1", .expect = 1 },
  { .rules = "+ 2001:DB8:0:0::1", .addr = "2001:db8::1", .expect = 1 },
  { .rules = "+ 2001:db8::1", .addr = "2001:db8::2", .expect = 0 },
  { .rules = "+ 2001:db8::/32", .addr = "2001:db8:1::1", .expect = 1 },
  { .rules = "+ 2001:db8::/32", .addr = "2001:db9::1", .expect = 0 },
  { .rules = "+ 2001:db8:0:80::/57", .addr = "2001:db8:0:ff::1", .expect = 1 },
  { .rules = "+ 2001:db8:0:80::/57", .addr = "2001:db8:0:7f::1", .expect = 0 },
  { .rules = "+ fe80::/10", .addr = "febf::1", .expect = 1 },
  { .rules = "+ c::1", .addr = "c::1", .expect = 1 },
  { .rules = "+ ::/0", .addr = "2001:db8::1", .expect = 1 },
  { .rules = "+ ::/0", .addr = "192.0.2.1", .expect = 0 },
  { .rules = "+ ::/0", .addr = "::ffff:192.0.2.1", .expect = 0 },
  { .rules = "+ ::ffff:192.0.2.1", .addr = "192.0.2.1", .expect = 1 },
  { .rules = "+ ::ffff:10.0.0.0/104", .addr = "10.9.9.9", .expect = 1 },
  { .rules = "+ ::ffff:0:0/96", .addr = "198.51.100.7", .expect = 1 },
  /* countries, continents, ASNs */
  { .rules = "+ AT", .country = "AT", .expect = 1 },
  { .rules = "+ at", .country = "AT", .expect = 1 },
  { .rules = "+ AT", .country = "DE", .expect = 0 },
  { .rules = "+ AT", .country = NULL, .expect = 0 },
  { .rules = "+ AT", .country = "AT", .no_geo = TRUE, .expect = 0, .expect_geo_unavailable = TRUE },
  { .rules = "+ AS", .country = "AS", .expect = 1 },
  { .rules = "+ XK", .country = "XK", .expect = 1 },
  { .rules = "+ C:EU", .continent = "EU", .expect = 1 },
  { .rules = "+ c:eu", .continent = "EU", .expect = 1 },
  { .rules = "+ C:EU", .continent = "NA", .expect = 0 },
  { .rules = "+ C:EU", .continent = "EU", .no_geo = TRUE, .expect_geo_unavailable = TRUE },
  { .rules = "+ AS13335", .asn = 13335, .expect = 1 },
  { .rules = "+ as13335", .asn = 13335, .expect = 1 },
  { .rules = "+ AS13335", .asn = 15169, .expect = 0 },
  { .rules = "+ AS4294967295", .asn = 4294967295u, .expect = 1 },
  { .rules = "+ AS13335", .asn = 13335, .no_geo = TRUE, .expect_geo_unavailable = TRUE },
  { .rules = "- AT\n+ *",
    .country = "AT",
    .no_geo = TRUE,
    .expect = 2,
    .expect_geo_unavailable = TRUE },
  { .rules = "+ *\n- AT", .country = "AT", .no_geo = TRUE, .expect = 1 },
  { .rules = "- AT tcp/80\n+ *", .proto = IPPROTO_UDP, .no_geo = TRUE, .expect = 2 },
  { .rules = "- example.com\n- C:AS\n+ *", .domain = "example.com", .no_geo = TRUE, .expect = 1 },
  /* filter lists */
  { .rules = "- L:MAL", .lists = "MAL", .expect = 1 },
  { .rules = "- L:MAL", .lists = "TRAC", .expect = 0 },
  { .rules = "- L:MAL", .lists = NULL, .expect = 0 },
  { .rules = "- L:ads_v2-x", .lists = "ads_v2-x", .expect = 1 },
  { .rules = "- l:TRAC\n- L:MAL", .lists = "MAL,TRAC", .expect = 1 },
  /* protocols */
  { .rules = "+ * tcp", .proto = IPPROTO_TCP, .expect = 1 },
  { .rules = "+ * TCP", .proto = IPPROTO_TCP, .expect = 1 },
  { .rules = "+ * tcp", .proto = IPPROTO_UDP, .expect = 0 },
  { .rules = "+ * udp", .proto = IPPROTO_UDP, .expect = 1 },
  { .rules = "+ * icmp", .proto = IPPROTO_ICMP, .expect = 1 },
  { .rules = "+ * icmp", .proto = IPPROTO_ICMPV6, .addr = "2001:db8::1", .expect = 1 },
  { .rules = "+ * icmp", .proto = IPPROTO_TCP, .expect = 0 },
  { .rules = "+ * 1", .proto = IPPROTO_ICMP, .expect = 1 },
  { .rules = "+ * 1", .proto = IPPROTO_ICMPV6, .expect = 0 },
  { .rules = "+ * 58", .proto = IPPROTO_ICMPV6, .expect = 1 },
  { .rules = "+ * 0", .proto = PROTO_HOPOPT, .expect = 1 },
  { .rules = "+ * 0", .proto = IPPROTO_TCP, .expect = 0 },
  { .rules = "+ * 47", .proto = IPPROTO_GRE, .expect = 1 },
  { .rules = "+ * 255", .proto = 255, .expect = 1 },
  { .rules = "+ * *", .proto = IPPROTO_GRE, .expect = 1 },
  { .rules = "+ * 6", .proto = IPPROTO_TCP, .expect = 1 },
  /* ports */
  { .rules = "+ * tcp/443", .rport = 443, .expect = 1 },
  { .rules = "+ * tcp/443", .rport = 444, .expect = 0 },
  { .rules = "+ * tcp/443", .proto = IPPROTO_UDP, .rport = 443, .expect = 0 },
  { .rules = "+ * tcp/443", .rport = 1, .lport = 443, .expect = 0 },
  { .rules = "+ * tcp/65535", .rport = 65535, .expect = 1 },
  { .rules = "+ * udp/1000-2000", .proto = IPPROTO_UDP, .rport = 1000, .expect = 1 },
  { .rules = "+ * udp/1000-2000", .proto = IPPROTO_UDP, .rport = 2000, .expect = 1 },
  { .rules = "+ * udp/1000-2000", .proto = IPPROTO_UDP, .rport = 999, .expect = 0 },
  { .rules = "+ * udp/1000-2000", .proto = IPPROTO_UDP, .rport = 2001, .expect = 0 },
  { .rules = "+ * tcp/local:22", .lport = 22, .rport = 5555, .expect = 1 },
  { .rules = "+ * tcp/local:22", .lport = 5555, .rport = 22, .expect = 0 },
  { .rules = "+ * tcp/local:8000-8080", .lport = 8080, .expect = 1 },
  { .rules = "+ * tcp/local:8000-8080", .lport = 8081, .expect = 0 },
  { .rules = "+ * */53", .proto = IPPROTO_UDP, .rport = 53, .expect = 1 },
  { .rules = "+ * */53", .proto = IPPROTO_TCP, .rport = 53, .expect = 1 },
  { .rules = "+ * */53", .proto = IPPROTO_ICMP, .rport = 53, .expect = 0 },
  { .rules = "+ * */local:5353", .proto = IPPROTO_UDP, .lport = 5353, .expect = 1 },
  { .rules = "+ * 132/80", .proto = IPPROTO_SCTP, .rport = 80, .expect = 1 },
  { .rules = "+ example.com tcp/443", .domain = "example.com", .rport = 443, .expect = 1 },
  { .rules = "+ example.com tcp/443", .domain = "example.com", .rport = 80, .expect = 0 },
  { .rules = "+ 10.0.0.0/8 udp/53",
    .addr = "10.0.0.53",
    .proto = IPPROTO_UDP,
    .rport = 53,
    .expect = 1 },
  /* comments, blanks, line endings */
  { .rules = "  + example.com   tcp/80   # web",
    .domain = "example.com",
    .rport = 80,
    .expect = 1 },
  { .rules = "# header\n\n+ a.example", .domain = "a.example", .expect = 3 },
  { .rules = "+ a.example# no blank before the comment", .domain = "a.example", .expect = 1 },
  { .rules = "\t+\ta.example\r\n- *\r\n", .domain = "b.example", .expect = 2 },
  { .rules = "", .expect = 0 },
  { .rules = "# only a comment\n\n   \n", .expect = 0 },
  /* first match wins, across kinds and indexes */
  { .rules = "- .example.com\n+ www.example.com", .domain = "www.example.com", .expect = 1 },
  { .rules = "+ www.example.com\n- .example.com", .domain = "www.example.com", .expect = 1 },
  { .rules = "+ www.example.com\n- .example.com", .domain = "mail.example.com", .expect = 2 },
  { .rules = "- 10.0.0.0/8 tcp/22\n+ 10.0.0.0/8", .addr = "10.1.1.1", .rport = 22, .expect = 1 },
  { .rules = "- 10.0.0.0/8 tcp/22\n+ 10.0.0.0/8", .addr = "10.1.1.1", .rport = 80, .expect = 2 },
  { .rules = "+ 192.0.2.1\n- example.com",
    .domain = "example.com",
    .addr = "192.0.2.1",
    .expect = 1 },
  { .rules = "- example.com\n+ 192.0.2.1",
    .domain = "example.com",
    .addr = "192.0.2.1",
    .expect = 1 },
  { .rules = "- * tcp/25\n+ example.com", .domain = "example.com", .rport = 25, .expect = 1 },
  { .rules = "+ example.com tcp/25\n- * tcp/25",
    .domain = "example.com",
    .rport = 25,
    .expect = 1 },
  { .rules = "- 10.0.0.0/16\n+ 10.0.0.0/8\n- 10.0.0.1", .addr = "10.0.0.1", .expect = 1 },
  { .rules = "+ 10.0.0.1\n- 10.0.0.0/8", .addr = "10.0.0.1", .expect = 1 },
  { .rules = "- lan\n+ 10.0.0.1", .addr = "10.0.0.1", .expect = 1 },
  { .rules = "+ example.com udp\n+ example.com tcp", .domain = "example.com", .expect = 2 },
};

static const char *
case_lists_lookup (const char *lists, const char *id)
{
  g_auto (GStrv) ids = g_strsplit (lists, ",", -1);

  return g_strv_contains ((const char *const *)ids, id) ? id : NULL;
}

static gboolean
case_in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data)
{
  const MatchCase *mc = user_data;

  return case_lists_lookup (mc->lists, list_id) != NULL;
}

static void
test_match_case (gconstpointer data)
{
  const MatchCase *mc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse (mc->rules, &error);
  const char *cnames[] = { mc->cname, NULL };
  PcFlowKey key = { 0 };
  PcMatchInput input = { 0 };
  PcMatchResult result = { 0 }, linear = { 0 };

  g_assert_no_error (error);
  g_assert_nonnull (list);

  g_assert_true (pc_addr_parse (mc->addr != NULL ? mc->addr : "203.0.113.10", &key.raddr));
  g_assert_true (
      pc_addr_parse (key.raddr.family == AF_INET ? "192.168.1.2" : "2001:db8:ffff::2", &key.laddr));
  key.family = key.raddr.family;
  key.proto = mc->proto == 0 ? IPPROTO_TCP : (mc->proto == PROTO_HOPOPT ? 0 : (guint8)mc->proto);
  key.rport = mc->rport != 0 ? mc->rport : 443;
  key.lport = mc->lport != 0 ? mc->lport : 40000;

  input.key = &key;
  if (mc->scope != NULL)
    g_assert_true (pc_scope_from_string (mc->scope, &input.scope));
  else
    input.scope = pc_scope_classify (&key.raddr);
  input.domain = mc->domain;
  input.cnames = mc->cname != NULL ? cnames : NULL;
  input.country = mc->country;
  input.continent = mc->continent;
  input.asn = mc->asn;
  input.geo_available = !mc->no_geo;
  input.in_list = mc->lists != NULL ? case_in_list_cb : NULL;
  input.user_data = (gpointer)mc;

  pc_rule_list_match (list, &input, &result);
  if (mc->expect == 0)
    g_assert_null (result.rule);
  else
    {
      g_assert_nonnull (result.rule);
      g_assert_cmpuint (pc_rule_get_line (result.rule), ==, mc->expect);
    }
  g_assert_cmpint (result.geo_unavailable, ==, mc->expect_geo_unavailable);

  pc_rule_list_match_linear (list, &input, &linear);
  g_assert_true (linear.rule == result.rule);
  g_assert_cmpint (linear.geo_unavailable, ==, result.geo_unavailable);
}

typedef struct
{
  const char *rules;
  const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "allow example.com", "line 1: expected '+' or '-' at the start of the rule, got 'allow'" },
  { "* example.com", "line 1: expected '+' or '-' at the start of the rule, got '*'" },
  { "+example.com", "line 1: '+example.com': expected a space after '+'" },
  { "-10.0.0.1", "line 1: '-10.0.0.1': expected a space after '-'" },
  { "+", "line 1: missing entity after '+'" },
  { "-   # nothing", "line 1: missing entity after '-'" },
  { "+ 10.0.0.0/33", "line 1: '10.0.0.0/33': prefix length must be 0-32" },
  { "+ 10.0.0.0/", "line 1: '10.0.0.0/': prefix length must be 0-32" },
  { "+ 10.0.0.0/x", "line 1: '10.0.0.0/x': prefix length must be 0-32" },
  { "+ 10.0.0.0/-1", "line 1: '10.0.0.0/-1': prefix length must be 0-32" },
  { "+ 2001:db8::/129", "line 1: '2001:db8::/129': prefix length must be 0-128" },
  { "+ 10.0.0.1/8",
    "line 1: '10.0.0.1/8': address has bits set after the /8 prefix (did you mean '10.0.0.0/8'?)" },
  { "+ 2001:db8::1/32", "line 1: '2001:db8::1/32': address has bits set after the /32 prefix "
                        "(did you mean '2001:db8::/32'?)" },
  { "+ 10.0.0.300/8", "line 1: '10.0.0.300/8': invalid ip address before '/'" },
  { "+ /8", "line 1: '/8': invalid ip address before '/'" },
  { "+ 10.0.0.256", "line 1: '10.0.0.256': invalid ipv4 address" },
  { "+ 1.2.3", "line 1: '1.2.3': invalid ipv4 address" },
  { "+ 2001:db8::g", "line 1: '2001:db8::g': invalid ipv6 address" },
  { "+ fe80::1%eth0", "line 1: 'fe80::1%eth0': invalid ipv6 address" },
  { "+ Q:EU",
    "line 1: 'Q:EU': unknown prefix 'Q:' (expected 'C:' for a continent or 'L:' for a filter "
    "list)" },
  { "+ XX", "line 1: 'XX': unknown country code" },
  { "+ zz", "line 1: 'zz': unknown country code" },
  { "+ uk", "line 1: 'uk': unknown country code (the united kingdom is 'GB')" },
  { "+ EU", "line 1: 'EU': unknown country code (for europe write 'C:EU')" },
  { "+ C:XY",
    "line 1: 'C:XY': unknown continent (expected C:AF, C:AN, C:AS, C:EU, C:NA, C:OC or C:SA)" },
  { "+ C:",
    "line 1: 'C:': unknown continent (expected C:AF, C:AN, C:AS, C:EU, C:NA, C:OC or C:SA)" },
  { "+ C:EUR",
    "line 1: 'C:EUR': unknown continent (expected C:AF, C:AN, C:AS, C:EU, C:NA, C:OC or C:SA)" },
  { "+ AS0", "line 1: 'AS0': as number must be 1-4294967295" },
  { "+ AS4294967296", "line 1: 'AS4294967296': as number must be 1-4294967295" },
  { "+ AS12x", "line 1: 'AS12x': as number must be 1-4294967295" },
  { "+ L:", "line 1: 'L:': missing filter list id after 'L:'" },
  { "+ L:M@L", "line 1: 'L:M@L': filter list ids may contain only letters, digits, '-' and '_'" },
  { "+ exa$mple.com",
    "line 1: 'exa$mple.com': invalid character '$' in domain name (letters, digits, '-' and '_' "
    "only)" },
  { "+ exa\001mple.com",
    "line 1: 'exa\001mple.com': invalid character 0x01 in domain name (letters, digits, '-' and "
    "'_' only)" },
  { "+ exa mple.com", "line 1: 'exa mple.com': domain names cannot contain spaces" },
  { "- exa mple.com tcp/80", "line 1: 'exa mple.com': domain names cannot contain spaces" },
  { "+ exa..mple.com", "line 1: 'exa..mple.com': empty label in domain name" },
  { "+ example.com..", "line 1: 'example.com..': empty label in domain name" },
  { "+ ..example.com", "line 1: '..example.com': empty label in domain name" },
  { "+ -example.com", "line 1: '-example.com': label '-example' must not start or end with '-'" },
  { "+ www.example-.com",
    "line 1: 'www.example-.com': label 'example-' must not start or end with '-'" },
  { "+ bücher.de",
    "line 1: 'bücher.de': non-ascii domain names must be written in punycode (xn--...)" },
  { "+ foo.*.com",
    "line 1: 'foo.*.com': '*' is only allowed as the whole first label, as in '*.example.com'" },
  { "+ *example.com", "line 1: '*example.com': '*' is only allowed as the whole first label, as in "
                      "'*.example.com'" },
  { "+ .*.example.com",
    "line 1: '.*.example.com': '*' is only allowed as the whole first label, as in "
    "'*.example.com'" },
  { "+ .", "line 1: '.': missing domain name after '.'" },
  { "+ *.", "line 1: '*.': missing domain name after '*.'" },
  { "+ foo.123", "line 1: 'foo.123': top-level domain must not be all digits" },
  { "+ .10.0.0.1", "line 1: '.10.0.0.1': top-level domain must not be all digits" },
  { "+ example.com tcpp",
    "line 1: 'tcpp': unknown protocol (expected tcp, udp, icmp, a number 0-255 or '*')" },
  { "+ example.com http/80",
    "line 1: 'http/80': unknown protocol (expected tcp, udp, icmp, a number 0-255 or '*')" },
  { "+ * 256", "line 1: '256': protocol number must be 0-255" },
  { "+ * 256/80", "line 1: '256/80': protocol number must be 0-255" },
  { "+ * /80", "line 1: '/80': missing protocol before '/'" },
  { "+ * tcp/70000", "line 1: 'tcp/70000': port must be 1-65535" },
  { "+ * tcp/0", "line 1: 'tcp/0': port must be 1-65535" },
  { "+ * tcp/99999999999999999999999",
    "line 1: 'tcp/99999999999999999999999': port must be 1-65535" },
  { "+ * tcp/http", "line 1: 'tcp/http': port must be a number 1-65535" },
  { "+ * tcp/-80", "line 1: 'tcp/-80': port must be a number 1-65535" },
  { "+ * tcp/80-", "line 1: 'tcp/80-': port must be a number 1-65535" },
  { "+ * tcp/80-90-100", "line 1: 'tcp/80-90-100': port must be a number 1-65535" },
  { "+ * tcp/80-70000", "line 1: 'tcp/80-70000': port must be 1-65535" },
  { "+ * tcp/90-80", "line 1: 'tcp/90-80': port range 90-80 is reversed (the start must not "
                     "exceed the end)" },
  { "+ * tcp/", "line 1: 'tcp/': missing port after '/'" },
  { "+ * tcp/local:", "line 1: 'tcp/local:': missing port after 'local:'" },
  { "+ * tcp/local:0", "line 1: 'tcp/local:0': port must be 1-65535" },
  { "+ * tcp/remote:80", "line 1: 'tcp/remote:80': port must be a number 1-65535" },
  { "+ * icmp/8", "line 1: 'icmp/8': icmp has no ports" },
  { "+ * 47/1", "line 1: '47/1': protocol 47 has no ports" },
  { "+ * 1/local:1", "line 1: '1/local:1': protocol 1 has no ports" },
  { "+ * local:22", "line 1: 'local:22': write the protocol before a local port, as in "
                    "'tcp/local:22'" },
  { "+ * tcp/80 extra", "line 1: 'extra': unexpected text after the rule" },
  { "+ 10.0.0.1 tcp/80 udp/53", "line 1: 'udp/53': unexpected text after the rule" },
  /* the line number counts comments and blank lines; the first bad line is reported */
  { "+ a.example\n# comment\n\n- 10.0.0.0/33\n- XX",
    "line 4: '10.0.0.0/33': prefix length must be 0-32" },
  { "+ a.example\r\nallow b.example\r\n",
    "line 2: expected '+' or '-' at the start of the rule, got 'allow'" },
};

static void
test_error_case (gconstpointer data)
{
  const ErrorCase *ec = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse (ec->rules, &error);

  g_assert_null (list);
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_cmpstr (error->message, ==, ec->message);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));

  /* single-line cases: pc_rule_validate() says the same without the line prefix */
  if (strchr (ec->rules, '\n') == NULL)
    {
      g_autoptr (GError) verror = NULL;

      g_assert_false (pc_rule_validate (ec->rules, &verror));
      g_assert_error (verror, PC_ERROR, PC_ERROR_INVALID_RULE);
      g_assert_true (g_str_has_prefix (ec->message, "line 1: "));
      g_assert_cmpstr (verror->message, ==, ec->message + strlen ("line 1: "));
    }
}

static void
test_long_names (void)
{
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *label63 = g_strnfill (63, 'a');
  /* 4 * 63 + 3 dots = 255 */
  g_autofree char *name255 = g_strjoin (".", label63, label63, label63, label63, NULL);
  /* 3 * 63 + 61 + 3 dots = 253 */
  g_autofree char *label61 = g_strnfill (61, 'b');
  g_autofree char *name253 = g_strjoin (".", label63, label63, label63, label61, NULL);
  g_autofree char *rule = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = NULL;

  rule = g_strdup_printf ("+ %s.example", label64);
  g_assert_false (pc_rule_validate (rule, &error));
  expected = g_strdup_printf ("'%s.example': label 'aaaaaaaaaa...' is longer than 63 characters",
                              label64);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_clear_pointer (&rule, g_free);
  g_clear_pointer (&expected, g_free);

  /* tokens longer than 80 bytes are shortened in messages */
  rule = g_strdup_printf ("+ %s", name255);
  g_assert_false (pc_rule_validate (rule, &error));
  expected = g_strdup_printf ("'%.80s...': domain name is longer than 253 characters", name255);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_clear_pointer (&rule, g_free);

  rule = g_strdup_printf ("+ .%s.", name253);
  list = pc_rule_list_parse (rule, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, 1);
}

static void
test_invalid_utf8_message (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (pc_rule_validate ("+ \xff\xfe.example", &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_nonnull (strstr (error->message, "punycode"));
}

static void
test_whole_list_rejected (void)
{
  const char *text = "+ a.example\n"
                     "- .b.example\n"
                     "+ 10.0.0.0/8\n"
                     "- AT\n"
                     "# comment\n"
                     "+ * tcp/local:22\n"
                     "- 10.0.0.0/8 tcp/99999\n"
                     "+ *\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse (text, &error);

  g_assert_null (list);
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_cmpstr (error->message, ==, "line 7: 'tcp/99999': port must be 1-65535");
}

static void
test_accessors (void)
{
  const char *text = "# global rules\n"
                     "\n"
                     "  + .example.com tcp/443   # web\n"
                     "- 10.0.0.0/8\n"
                     "\t- *\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse (text, &error);
  g_autoptr (PcRuleList) addr_only = pc_rule_list_parse ("- 10.0.0.0/8\n+ *", &error);
  const PcRule *rule;

  g_assert_no_error (error);
  g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, 3);

  rule = pc_rule_list_get_rule (list, 0);
  g_assert_cmpint (pc_rule_get_action (rule), ==, PC_ACTION_ALLOW);
  g_assert_cmpuint (pc_rule_get_line (rule), ==, 3);
  g_assert_cmpuint (pc_rule_get_index (rule), ==, 0);
  g_assert_cmpstr (pc_rule_get_text (rule), ==, "+ .example.com tcp/443");

  rule = pc_rule_list_get_rule (list, 1);
  g_assert_cmpint (pc_rule_get_action (rule), ==, PC_ACTION_BLOCK);
  g_assert_cmpuint (pc_rule_get_line (rule), ==, 4);
  g_assert_cmpstr (pc_rule_get_text (rule), ==, "- 10.0.0.0/8");

  rule = pc_rule_list_get_rule (list, 2);
  g_assert_cmpuint (pc_rule_get_line (rule), ==, 5);
  g_assert_cmpuint (pc_rule_get_index (rule), ==, 2);
  g_assert_cmpstr (pc_rule_get_text (rule), ==, "- *");

  g_assert_true (pc_rule_list_has_domain_rules (list));
  g_assert_false (pc_rule_list_has_domain_rules (addr_only));

  /* references are counted */
  {
    PcRuleList *extra = pc_rule_list_ref (list);

    g_assert_true (extra == list);
    pc_rule_list_unref (extra);
    g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, 3);
  }
}

static void
test_empty_list (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse ("", &error);
  PcFlowKey key = { 0 };
  PcMatchInput input = { .key = &key, .domain = "example.com" };
  PcMatchResult result = { .geo_unavailable = TRUE };

  g_assert_no_error (error);
  g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, 0);
  g_assert_false (pc_rule_list_has_domain_rules (list));
  pc_addr_parse ("192.0.2.1", &key.raddr);
  key.family = AF_INET;
  pc_rule_list_match (list, &input, &result);
  g_assert_null (result.rule);
  g_assert_false (result.geo_unavailable);
}

static void
test_parse_strv (void)
{
  const char *good[] = { "+ a.example", "", "# note", "- 10.0.0.0/8 tcp/22 # ssh", NULL };
  const char *bad[] = { "+ a.example", "", "- 10.0.0.0/33", NULL };
  const char *newline[] = { "+ a.example\n- b.example", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = pc_rule_list_parse_strv (good, &error);
  g_autoptr (PcRuleList) none = NULL;
  g_autoptr (PcRuleList) empty = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, 2);
  g_assert_cmpuint (pc_rule_get_line (pc_rule_list_get_rule (list, 1)), ==, 4);
  g_assert_cmpstr (pc_rule_get_text (pc_rule_list_get_rule (list, 1)), ==, "- 10.0.0.0/8 tcp/22");

  none = pc_rule_list_parse_strv (bad, &error);
  g_assert_null (none);
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_cmpstr (error->message, ==, "line 3: '10.0.0.0/33': prefix length must be 0-32");
  g_clear_error (&error);

  none = pc_rule_list_parse_strv (newline, &error);
  g_assert_null (none);
  g_assert_cmpstr (error->message, ==, "line 1: a rule must not contain a line break");
  g_clear_error (&error);

  empty = pc_rule_list_parse_strv (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pc_rule_list_get_n_rules (empty), ==, 0);
}

static void
test_validate (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pc_rule_validate ("+ .example.com tcp/443", &error));
  g_assert_no_error (error);
  g_assert_true (pc_rule_validate ("  - 2001:db8::/32 udp/local:5353-5354  # mdns", &error));
  g_assert_no_error (error);

  g_assert_false (pc_rule_validate ("", &error));
  g_assert_cmpstr (error->message, ==, "empty rule");
  g_clear_error (&error);
  g_assert_false (pc_rule_validate ("   # just a comment", &error));
  g_assert_cmpstr (error->message, ==, "empty rule");
  g_clear_error (&error);
  g_assert_false (pc_rule_validate ("+ a.example\n- b.example", &error));
  g_assert_cmpstr (error->message, ==, "a rule must not contain a line break");
  g_clear_error (&error);
  g_assert_false (pc_rule_validate ("+ 10.0.0.0/33", &error));
  g_assert_cmpstr (error->message, ==, "'10.0.0.0/33': prefix length must be 0-32");
}

/* ---- randomized: indexed matcher == reference ------------------------------------------------ */

typedef enum
{
  REF_ANY,
  REF_EXACT,
  REF_TREE,
  REF_SUB,
  REF_ADDR,
  REF_SCOPE,
  REF_COUNTRY,
  REF_CONTINENT,
  REF_ASN,
  REF_LIST,
  REF_N_KINDS,
} RefKind;

typedef struct
{
  gboolean allow;
  RefKind kind;
  char name[64];
  PcAddr addr; /* masked */
  guint prefix;
  PcScope scope;
  const char *code;
  guint32 asn;
  const char *list;
  int proto;     /* -1 any, -2 icmp, else number */
  int port_side; /* 0 none, 1 remote, 2 local */
  guint16 lo, hi;
} RefRule;

static const char *const ref_labels[] = { "a", "b", "www", "x-y", "c_d" };
static const char *const ref_countries[] = { "AT", "DE", "US" };
static const char *const ref_continents[] = { "EU", "NA" };
static const char *const ref_lists[] = { "MAL", "TRAC" };
static const int ref_protos[]
    = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 0, IPPROTO_GRE, IPPROTO_SCTP };

static void
random_domain (GRand *rand, char *out, gsize size)
{
  guint n = (guint)g_rand_int_range (rand, 1, 5);

  out[0] = '\0';
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_strlcat (out, ".", size);
      g_strlcat (out, ref_labels[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_labels))], size);
    }
}

static void
random_addr (GRand *rand, gboolean v6, PcAddr *out)
{
  memset (out, 0, sizeof *out);
  if (!v6)
    {
      out->family = AF_INET;
      out->b[0] = 10;
      out->b[1] = (guint8)g_rand_int_range (rand, 0, 3);
      out->b[2] = (guint8)g_rand_int_range (rand, 0, 3);
      out->b[3] = (guint8)g_rand_int_range (rand, 0, 6);
    }
  else
    {
      out->family = AF_INET6;
      out->b[0] = 0x20;
      out->b[1] = 0x01;
      out->b[2] = 0x0d;
      out->b[3] = 0xb8;
      out->b[7] = (guint8)g_rand_int_range (rand, 0, 3);
      out->b[15] = (guint8)g_rand_int_range (rand, 0, 6);
    }
}

static gboolean
ref_prefix_equal (const PcAddr *a, const PcAddr *b, guint prefix)
{
  if (a->family != b->family)
    return FALSE;
  for (guint bit = 0; bit < prefix; bit++)
    {
      guint8 m = (guint8)(0x80 >> (bit % 8));

      if ((a->b[bit / 8] & m) != (b->b[bit / 8] & m))
        return FALSE;
    }
  return TRUE;
}

static void
ref_mask (PcAddr *a, guint prefix)
{
  guint size = a->family == AF_INET ? 32 : 128;

  for (guint bit = prefix; bit < size; bit++)
    a->b[bit / 8] &= (guint8) ~(0x80 >> (bit % 8));
}

static void
random_rule (GRand *rand, RefRule *r)
{
  static const guint v4_prefixes[] = { 0, 8, 16, 23, 24, 30, 32, 32 };
  static const guint v6_prefixes[] = { 0, 32, 56, 64, 125, 128, 128 };

  memset (r, 0, sizeof *r);
  r->allow = g_rand_boolean (rand);
  /* weight towards the indexed kinds, which is where mistakes would hide */
  switch (g_rand_int_range (rand, 0, 16))
    {
      case 0:
        r->kind = REF_ANY;
        break;
      case 1:
        r->kind = REF_SCOPE;
        break;
      case 2:
        r->kind = REF_COUNTRY;
        break;
      case 3:
        r->kind = REF_CONTINENT;
        break;
      case 4:
        r->kind = REF_ASN;
        break;
      case 5:
        r->kind = REF_LIST;
        break;
      case 6:
      case 7:
        r->kind = REF_EXACT;
        break;
      case 8:
      case 9:
        r->kind = REF_TREE;
        break;
      case 10:
        r->kind = REF_SUB;
        break;
      default:
        r->kind = REF_ADDR;
        break;
    }

  switch (r->kind)
    {
      case REF_EXACT:
      case REF_TREE:
      case REF_SUB:
        random_domain (rand, r->name, sizeof r->name);
        break;
      case REF_ADDR:
        if (g_rand_boolean (rand))
          {
            random_addr (rand, FALSE, &r->addr);
            r->prefix = v4_prefixes[g_rand_int_range (rand, 0, G_N_ELEMENTS (v4_prefixes))];
          }
        else
          {
            random_addr (rand, TRUE, &r->addr);
            r->prefix = v6_prefixes[g_rand_int_range (rand, 0, G_N_ELEMENTS (v6_prefixes))];
          }
        ref_mask (&r->addr, r->prefix);
        break;
      case REF_SCOPE:
        r->scope = (PcScope)g_rand_int_range (rand, PC_SCOPE_LOCALHOST, PC_SCOPE_INTERNET + 1);
        break;
      case REF_COUNTRY:
        r->code = ref_countries[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_countries))];
        break;
      case REF_CONTINENT:
        r->code = ref_continents[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_continents))];
        break;
      case REF_ASN:
        r->asn = (guint32)g_rand_int_range (rand, 1, 4);
        break;
      case REF_LIST:
        r->list = ref_lists[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_lists))];
        break;
      case REF_ANY:
      case REF_N_KINDS:
      default:
        break;
    }

  switch (g_rand_int_range (rand, 0, 6))
    {
      case 0:
      case 1:
        r->proto = -1; /* no filter, or '*' */
        break;
      case 2:
        r->proto = -2;
        break;
      default:
        r->proto = ref_protos[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_protos))];
        break;
    }
  if (r->proto != -2
      && (r->proto == -1 || r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP
          || r->proto == IPPROTO_SCTP)
      && g_rand_int_range (rand, 0, 3) == 0)
    {
      r->port_side = g_rand_boolean (rand) ? 1 : 2;
      r->lo = (guint16)g_rand_int_range (rand, 1, 8);
      r->hi = g_rand_boolean (rand) ? r->lo : (guint16)g_rand_int_range (rand, r->lo, 9);
    }
}

/* Writes the rule in one of its spellings (case, trailing dots, comments vary). */
static void
render_rule (GRand *rand, const RefRule *r, GString *out)
{
  g_string_append (out, r->allow ? "+ " : "- ");
  switch (r->kind)
    {
      case REF_ANY:
        g_string_append (out, "*");
        break;
      case REF_EXACT:
      case REF_TREE:
      case REF_SUB:
        {
          g_autofree char *name = g_rand_int_range (rand, 0, 4) == 0 ? g_ascii_strup (r->name, -1)
                                                                     : g_strdup (r->name);

          g_string_append_printf (out, "%s%s%s",
                                  r->kind == REF_TREE ? "." : (r->kind == REF_SUB ? "*." : ""),
                                  name, g_rand_int_range (rand, 0, 5) == 0 ? "." : "");
        }
        break;
      case REF_ADDR:
        {
          char buf[PC_ADDR_STRLEN];
          guint full = r->addr.family == AF_INET ? 32 : 128;

          if (r->prefix == full && g_rand_boolean (rand))
            g_string_append (out, pc_addr_to_string (&r->addr, buf));
          else
            g_string_append_printf (out, "%s/%u", pc_addr_to_string (&r->addr, buf), r->prefix);
        }
        break;
      case REF_SCOPE:
        g_string_append (out, pc_scope_to_string (r->scope));
        break;
      case REF_COUNTRY:
        g_string_append (out, r->code);
        break;
      case REF_CONTINENT:
        g_string_append_printf (out, "C:%s", r->code);
        break;
      case REF_ASN:
        g_string_append_printf (out, "AS%u", r->asn);
        break;
      case REF_LIST:
        g_string_append_printf (out, "L:%s", r->list);
        break;
      case REF_N_KINDS:
      default:
        g_assert_not_reached ();
    }

  if (r->proto == -1 && r->port_side == 0)
    {
      if (g_rand_int_range (rand, 0, 4) == 0)
        g_string_append (out, " *");
    }
  else
    {
      if (r->proto == -1)
        g_string_append (out, " *");
      else if (r->proto == -2)
        g_string_append (out, " icmp");
      else if (r->proto == IPPROTO_TCP && g_rand_boolean (rand))
        g_string_append (out, " tcp");
      else if (r->proto == IPPROTO_UDP && g_rand_boolean (rand))
        g_string_append (out, " udp");
      else
        g_string_append_printf (out, " %d", r->proto);
      if (r->port_side != 0)
        {
          g_string_append_printf (out, "/%s%u", r->port_side == 2 ? "local:" : "", r->lo);
          if (r->hi != r->lo || g_rand_int_range (rand, 0, 4) == 0)
            g_string_append_printf (out, "-%u", r->hi);
        }
    }
  if (g_rand_int_range (rand, 0, 10) == 0)
    g_string_append (out, "  # note");
  g_string_append_c (out, '\n');
}

typedef struct
{
  const char *domain;
  const char *cnames[3];
  guint lists; /* bit i: in ref_lists[i] */
} RefInput;

static gboolean
ref_in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data)
{
  const RefInput *ri = user_data;

  for (guint i = 0; i < G_N_ELEMENTS (ref_lists); i++)
    if (strcmp (list_id, ref_lists[i]) == 0)
      return (ri->lists & (1u << i)) != 0;
  g_assert_not_reached ();
}

static gboolean
ref_name_matches (const RefRule *r, const char *name)
{
  gsize m, n = strlen (r->name);

  if (name == NULL)
    return FALSE;
  m = strlen (name);
  if (r->kind == REF_EXACT)
    return strcmp (name, r->name) == 0;
  if (r->kind == REF_TREE && strcmp (name, r->name) == 0)
    return TRUE;
  return m > n && name[m - n - 1] == '.' && strcmp (name + m - n, r->name) == 0;
}

/* The specification, written as plainly as possible: returns the 1-based index of the first
 * matching rule or 0. */
static guint
ref_match (const RefRule *rules, guint n, const PcMatchInput *in, gboolean *geo_unavailable)
{
  const PcFlowKey *k = in->key;
  PcAddr remote = k->raddr;
  gboolean has_ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP
                       || k->proto == IPPROTO_SCTP || k->proto == IPPROTO_DCCP
                       || k->proto == IPPROTO_UDPLITE;

  pc_addr_unmap (&remote);
  *geo_unavailable = FALSE;
  for (guint i = 0; i < n; i++)
    {
      const RefRule *r = &rules[i];
      gboolean hit = FALSE;

      if (r->proto == -2 && k->proto != IPPROTO_ICMP && k->proto != IPPROTO_ICMPV6)
        continue;
      if (r->proto >= 0 && k->proto != r->proto)
        continue;
      if (r->port_side != 0)
        {
          guint16 port = r->port_side == 2 ? k->lport : k->rport;

          if (!has_ports || port < r->lo || port > r->hi)
            continue;
        }

      switch (r->kind)
        {
          case REF_ANY:
            hit = TRUE;
            break;
          case REF_EXACT:
          case REF_TREE:
          case REF_SUB:
            hit = ref_name_matches (r, in->domain);
            for (guint j = 0; !hit && in->cnames != NULL && in->cnames[j] != NULL; j++)
              hit = ref_name_matches (r, in->cnames[j]);
            break;
          case REF_ADDR:
            hit = ref_prefix_equal (&remote, &r->addr, r->prefix);
            break;
          case REF_SCOPE:
            hit = in->scope == r->scope;
            break;
          case REF_COUNTRY:
          case REF_CONTINENT:
          case REF_ASN:
            if (!in->geo_available)
              {
                *geo_unavailable = TRUE;
                continue;
              }
            if (r->kind == REF_COUNTRY)
              hit = in->country != NULL && strcmp (in->country, r->code) == 0;
            else if (r->kind == REF_CONTINENT)
              hit = in->continent != NULL && strcmp (in->continent, r->code) == 0;
            else
              hit = in->asn == r->asn;
            break;
          case REF_LIST:
            hit = in->in_list (r->list, in, in->user_data);
            break;
          case REF_N_KINDS:
          default:
            g_assert_not_reached ();
        }
      if (hit)
        return i + 1;
    }
  return 0;
}

static void
test_indexed_equals_reference (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);
  guint iterations = g_test_slow () ? 20000 : 3000;
  guint n_matched = 0, n_inputs = 0, n_geo = 0;

  for (guint it = 0; it < iterations; it++)
    {
      guint n = (guint)g_rand_int_range (rand, 1, 60);
      g_autofree RefRule *rules = g_new0 (RefRule, n);
      g_autoptr (GString) text = g_string_new (NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (PcRuleList) list = NULL;

      for (guint i = 0; i < n; i++)
        {
          random_rule (rand, &rules[i]);
          render_rule (rand, &rules[i], text);
        }
      list = pc_rule_list_parse (text->str, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (pc_rule_list_get_n_rules (list), ==, n);

      for (guint q = 0; q < 40; q++)
        {
          char domain[64], cname[64];
          RefInput ri = { 0 };
          PcFlowKey key = { 0 };
          PcMatchInput input = { 0 };
          PcMatchResult result, linear;
          gboolean ref_geo;
          guint expect;

          if (g_rand_int_range (rand, 0, 5) != 0)
            {
              random_domain (rand, domain, sizeof domain);
              ri.domain = domain;
            }
          if (g_rand_int_range (rand, 0, 4) == 0)
            {
              random_domain (rand, cname, sizeof cname);
              ri.cnames[0] = cname;
            }
          ri.lists = (guint)g_rand_int_range (rand, 0, 4);

          random_addr (rand, g_rand_int_range (rand, 0, 3) == 0, &key.raddr);
          if (key.raddr.family == AF_INET && g_rand_int_range (rand, 0, 5) == 0)
            {
              /* as an IPv4-mapped IPv6 address */
              guint8 v4[4];

              memcpy (v4, key.raddr.b, 4);
              memset (key.raddr.b, 0, 16);
              key.raddr.b[10] = key.raddr.b[11] = 0xff;
              memcpy (key.raddr.b + 12, v4, 4);
              key.raddr.family = AF_INET6;
            }
          key.family = key.raddr.family;
          key.proto = (guint8)ref_protos[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_protos))];
          key.rport = (guint16)g_rand_int_range (rand, 1, 10);
          key.lport = (guint16)g_rand_int_range (rand, 1, 10);
          key.direction = g_rand_boolean (rand) ? PC_DIR_INBOUND : PC_DIR_OUTBOUND;

          input.key = &key;
          input.scope = (PcScope)g_rand_int_range (rand, PC_SCOPE_LOCALHOST, PC_SCOPE_INVALID + 1);
          input.domain = ri.domain;
          input.cnames = ri.cnames[0] != NULL ? ri.cnames : NULL;
          input.geo_available = g_rand_int_range (rand, 0, 3) != 0;
          if (g_rand_int_range (rand, 0, 4) != 0)
            input.country = ref_countries[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_countries))];
          if (g_rand_int_range (rand, 0, 4) != 0)
            input.continent
                = ref_continents[g_rand_int_range (rand, 0, G_N_ELEMENTS (ref_continents))];
          input.asn = (guint32)g_rand_int_range (rand, 0, 4);
          input.in_list = ref_in_list_cb;
          input.user_data = &ri;

          expect = ref_match (rules, n, &input, &ref_geo);
          pc_rule_list_match (list, &input, &result);
          pc_rule_list_match_linear (list, &input, &linear);

          if ((expect == 0) != (result.rule == NULL)
              || (expect != 0 && pc_rule_get_index (result.rule) != expect - 1)
              || ref_geo != result.geo_unavailable)
            {
              g_autofree char *flow = pc_flow_key_to_string (&key);

              g_test_message ("rules:\n%s", text->str);
              g_test_message (
                  "flow %s domain %s cname %s: expected rule %u (geo %d), got %d (geo %d)", flow,
                  ri.domain, ri.cnames[0], expect, ref_geo,
                  result.rule != NULL ? (int)pc_rule_get_index (result.rule) + 1 : 0,
                  result.geo_unavailable);
              g_assert_not_reached ();
            }
          g_assert_true (linear.rule == result.rule);
          g_assert_cmpint (linear.geo_unavailable, ==, result.geo_unavailable);
          if (expect != 0)
            {
              g_assert_cmpint (pc_rule_get_action (result.rule), ==,
                               rules[expect - 1].allow ? PC_ACTION_ALLOW : PC_ACTION_BLOCK);
              n_matched++;
            }
          n_geo += ref_geo;
          n_inputs++;
        }
    }
  /* the generator must exercise both outcomes, or the comparison proves little */
  g_test_message ("%u inputs, %u matched, %u with geo_unavailable", n_inputs, n_matched, n_geo);
  g_assert_cmpuint (n_matched, >, n_inputs / 4);
  g_assert_cmpuint (n_matched, <, n_inputs - n_inputs / 10);
  g_assert_cmpuint (n_geo, >, 0);
}

static gpointer
match_thread (gpointer data)
{
  PcRuleList *list = data;
  PcFlowKey key = { .family = AF_INET, .proto = IPPROTO_TCP, .rport = 443 };
  PcMatchInput input = { .key = &key, .scope = PC_SCOPE_INTERNET, .domain = "www.example.com" };
  guint blocked = 0;

  pc_addr_parse ("192.0.2.1", &key.raddr);
  for (guint i = 0; i < 20000; i++)
    {
      PcRuleList *ref = pc_rule_list_ref (list);
      PcMatchResult result;

      pc_rule_list_match (ref, &input, &result);
      blocked += pc_rule_get_action (result.rule) == PC_ACTION_BLOCK;
      pc_rule_list_unref (ref);
    }
  pc_rule_list_unref (list);
  return GUINT_TO_POINTER (blocked);
}

/* A list is shared between the packet and DNS threads: concurrent ref/unref and matching. */
static void
test_threads_share_list (void)
{
  g_autoptr (GError) error = NULL;
  PcRuleList *list = pc_rule_list_parse ("- .example.com\n+ *", &error);
  GThread *threads[4];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("match", match_thread, pc_rule_list_ref (list));
  pc_rule_list_unref (list);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (threads[i])), ==, 20000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (match_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rule/match/%03u", i);
      g_test_add_data_func (path, &match_cases[i], test_match_case);
    }
  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rule/error/%03u", i);
      g_test_add_data_func (path, &error_cases[i], test_error_case);
    }
  g_test_add_func ("/rule/long-names", test_long_names);
  g_test_add_func ("/rule/invalid-utf8-message", test_invalid_utf8_message);
  g_test_add_func ("/rule/whole-list-rejected", test_whole_list_rejected);
  g_test_add_func ("/rule/accessors", test_accessors);
  g_test_add_func ("/rule/empty-list", test_empty_list);
  g_test_add_func ("/rule/parse-strv", test_parse_strv);
  g_test_add_func ("/rule/validate", test_validate);
  g_test_add_func ("/rule/threads", test_threads_share_list);
  g_test_add_func ("/rule/indexed-equals-reference", test_indexed_equals_reference);

  return g_test_run ();
}
