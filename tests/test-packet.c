/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for helper/intercept/pc-packet.c: flows read from raw IPv4/IPv6 packets. */
#include <glib.h>
#include <string.h>

#include "pc-packet.h"

static GByteArray *
ipv4 (guint8 proto, const guint8 *l4, gsize l4len, guint16 frag, guint ihl_words)
{
  GByteArray *p = g_byte_array_new ();
  guint8 h[60] = { 0 };
  gsize hl = ihl_words * 4;
  guint16 total = (guint16)(hl + l4len);

  h[0] = 0x40 | ihl_words;
  h[2] = total >> 8;
  h[3] = total & 0xff;
  h[6] = frag >> 8;
  h[7] = frag & 0xff;
  h[8] = 64;
  h[9] = proto;
  memcpy (h + 12, (guint8[]){ 10, 77, 0, 2 }, 4);
  memcpy (h + 16, (guint8[]){ 10, 77, 0, 1 }, 4);
  g_byte_array_append (p, h, hl);
  g_byte_array_append (p, l4, l4len);
  return p;
}

static GByteArray *
ipv6 (guint8 next, const guint8 *rest, gsize len)
{
  GByteArray *p = g_byte_array_new ();
  guint8 h[40] = { 0x60 };

  h[4] = len >> 8;
  h[5] = len & 0xff;
  h[6] = next;
  h[7] = 64;
  h[8] = 0xfd;
  h[9] = 0x77;
  h[23] = 2;
  h[24] = 0xfd;
  h[25] = 0x77;
  h[39] = 1;
  g_byte_array_append (p, h, 40);
  g_byte_array_append (p, rest, len);
  return p;
}

static const guint8 tcp_syn[20] = { 0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };
static const guint8 udp_dns[8] = { 0x9c, 0x41, 0x00, 0x35, 0, 8, 0, 0 };
static const guint8 icmp_echo[8] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1 };

static void
test_ipv4_tcp (void)
{
  g_autoptr (GByteArray) p = ipv4 (6, tcp_syn, sizeof tcp_syn, 0, 5);
  PcPacketInfo info;
  char buf[PC_ADDR_STRLEN];

  g_assert_true (pc_packet_parse (p->data, p->len, &info));
  g_assert_cmpint (info.src.family, ==, AF_INET);
  g_assert_cmpint (info.proto, ==, 6);
  g_assert_true (info.has_ports);
  g_assert_cmpuint (info.sport, ==, 40000);
  g_assert_cmpuint (info.dport, ==, 80);
  g_assert_cmpuint (info.tcp_flags, ==, 0x02); /* SYN */
  g_assert_cmpuint (info.tcp_seq, ==, 1);
  g_assert_cmpstr (pc_addr_to_string (&info.src, buf), ==, "10.77.0.2");
  g_assert_cmpstr (pc_addr_to_string (&info.dst, buf), ==, "10.77.0.1");
}

static void
test_ipv4_options_and_udp (void)
{
  g_autoptr (GByteArray) p = ipv4 (17, udp_dns, sizeof udp_dns, 0, 7);
  PcPacketInfo info;

  g_assert_true (pc_packet_parse (p->data, p->len, &info));
  g_assert_cmpuint (info.sport, ==, 40001);
  g_assert_cmpuint (info.dport, ==, 53);
}

static void
test_ipv4_icmp (void)
{
  g_autoptr (GByteArray) p = ipv4 (1, icmp_echo, sizeof icmp_echo, 0, 5);
  PcPacketInfo info;

  g_assert_true (pc_packet_parse (p->data, p->len, &info));
  g_assert_cmpuint (info.dport, ==, 8);      /* type */
  g_assert_cmpuint (info.sport, ==, 0x1234); /* echo id */
}

static void
test_ipv4_later_fragment_has_no_ports (void)
{
  g_autoptr (GByteArray) p = ipv4 (17, udp_dns, sizeof udp_dns, 0x0010, 5);
  PcPacketInfo info;

  g_assert_true (pc_packet_parse (p->data, p->len, &info));
  g_assert_false (info.has_ports);
}

static void
test_ipv6_extension_headers (void)
{
  guint8 rest[8 + 8 + sizeof udp_dns] = { 44, 0 }; /* hop-by-hop -> fragment -> udp */
  PcPacketInfo info;
  char buf[PC_ADDR_STRLEN];

  rest[8] = 17; /* fragment header: next = udp, offset 0 */
  memcpy (rest + 16, udp_dns, sizeof udp_dns);
  g_autoptr (GByteArray) p = ipv6 (0, rest, sizeof rest);
  g_assert_true (pc_packet_parse (p->data, p->len, &info));
  g_assert_cmpint (info.src.family, ==, AF_INET6);
  g_assert_cmpint (info.proto, ==, 17);
  g_assert_cmpuint (info.dport, ==, 53);
  g_assert_cmpstr (pc_addr_to_string (&info.dst, buf), ==, "fd77::1");
}

static void
test_malformed (void)
{
  g_autoptr (GByteArray) p = ipv4 (6, tcp_syn, sizeof tcp_syn, 0, 5);
  guint8 bad_ihl[20] = { 0x42 };
  guint8 v6_short[30] = { 0x60 };
  guint8 v5[40] = { 0x50 };
  guint8 loop[40 + 16] = { 0x60 };
  PcPacketInfo info;

  g_assert_false (pc_packet_parse (NULL, 0, &info));
  g_assert_false (pc_packet_parse (p->data, 10, &info));
  g_assert_false (pc_packet_parse (bad_ihl, sizeof bad_ihl, &info));
  g_assert_false (pc_packet_parse (v6_short, sizeof v6_short, &info));
  g_assert_false (pc_packet_parse (v5, sizeof v5, &info));
  /* a destination-options header claiming more bytes than the packet has */
  loop[6] = 60;
  loop[40] = 60;
  loop[41] = 200;
  g_assert_false (pc_packet_parse (loop, sizeof loop, &info));
  /* truncated L4: a valid IP packet without ports */
  g_assert_true (pc_packet_parse (p->data, 22, &info));
  g_assert_false (info.has_ports);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/packet/ipv4-tcp", test_ipv4_tcp);
  g_test_add_func ("/packet/ipv4-options-udp", test_ipv4_options_and_udp);
  g_test_add_func ("/packet/ipv4-icmp", test_ipv4_icmp);
  g_test_add_func ("/packet/ipv4-fragment", test_ipv4_later_fragment_has_no_ports);
  g_test_add_func ("/packet/ipv6-extension-headers", test_ipv6_extension_headers);
  g_test_add_func ("/packet/malformed", test_malformed);
  return g_test_run ();
}
