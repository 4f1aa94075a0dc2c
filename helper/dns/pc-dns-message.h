/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DNS messages on the wire (RFC 1035, EDNS0 OPT of RFC 6891 passed through). The parser takes
 * any bytes: compression pointers may only point backwards (so loops cannot happen), names are
 * at most 255 bytes, every length is checked against the message end, and anything malformed is
 * an error (the server answers FORMERR). Hot path: plain C, no GObject. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PC_DNS_HEADER_LEN 12
#define PC_DNS_MAX_NAME 255
/* Longest presentation form of a name: every byte escaped as \DDD, plus dots. */
#define PC_DNS_NAME_STRLEN (PC_DNS_MAX_NAME * 4 + 1)

typedef enum
{
  PC_DNS_TYPE_A = 1,
  PC_DNS_TYPE_NS = 2,
  PC_DNS_TYPE_CNAME = 5,
  PC_DNS_TYPE_SOA = 6,
  PC_DNS_TYPE_PTR = 12,
  PC_DNS_TYPE_MX = 15,
  PC_DNS_TYPE_TXT = 16,
  PC_DNS_TYPE_AAAA = 28,
  PC_DNS_TYPE_SRV = 33,
  PC_DNS_TYPE_OPT = 41,
  PC_DNS_TYPE_HTTPS = 65,
  PC_DNS_TYPE_ANY = 255,
} PcDnsType;

#define PC_DNS_CLASS_IN 1

typedef enum
{
  PC_DNS_RCODE_NOERROR = 0,
  PC_DNS_RCODE_FORMERR = 1,
  PC_DNS_RCODE_SERVFAIL = 2,
  PC_DNS_RCODE_NXDOMAIN = 3,
  PC_DNS_RCODE_NOTIMP = 4,
  PC_DNS_RCODE_REFUSED = 5,
} PcDnsRcode;

/* header flag bits (the 16-bit flags word without opcode and rcode) */
#define PC_DNS_FLAG_QR 0x8000
#define PC_DNS_FLAG_AA 0x0400
#define PC_DNS_FLAG_TC 0x0200
#define PC_DNS_FLAG_RD 0x0100
#define PC_DNS_FLAG_RA 0x0080
#define PC_DNS_FLAG_AD 0x0020
#define PC_DNS_FLAG_CD 0x0010
#define PC_DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define PC_DNS_RCODE(flags) ((flags)&0xf)

typedef enum
{
  PC_DNS_SECTION_ANSWER,
  PC_DNS_SECTION_AUTHORITY,
  PC_DNS_SECTION_ADDITIONAL,
  PC_DNS_N_SECTIONS,
} PcDnsSection;

typedef struct
{
  char *name; /* presentation form, original case, no trailing dot; "." is the root */
  guint16 type;
  guint16 klass;
} PcDnsQuestion;

typedef struct
{
  char *name;
  guint16 type;
  guint16 klass;
  guint32 ttl;
  /* rdata with every name in it uncompressed (for the RFC 1035 types that may compress
   * names: NS, CNAME, SOA, PTR, MX), so it can be copied into any other message */
  guint16 rdlen;
  guint8 *rdata;
  /* where the TTL field sat in the parsed message (0 for records built in memory): the cache
   * rewrites TTLs in place there */
  guint ttl_offset;
} PcDnsRecord;

typedef struct
{
  guint16 id;
  guint16 flags;                       /* QR, opcode, AA, TC, RD, RA, AD, CD, rcode (low 4 bits) */
  GArray *questions;                   /* PcDnsQuestion */
  GArray *sections[PC_DNS_N_SECTIONS]; /* PcDnsRecord, OPT excluded */
  /* EDNS0 (RFC 6891): the OPT record is kept out of the additional section and passed through */
  gboolean has_edns;
  guint16 edns_udp_size;
  guint8 edns_ext_rcode;
  guint8 edns_version;
  guint16 edns_flags; /* DO is 0x8000 */
  GBytes *edns_options;
} PcDnsMessage;

PcDnsMessage *pc_dns_message_new (void);
void pc_dns_message_free (PcDnsMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsMessage, pc_dns_message_free)

/* Parses a whole message; trailing bytes after the last record are an error. On error the
 * message is malformed and the caller answers FORMERR (see pc_dns_build_error_reply). */
PcDnsMessage *pc_dns_message_parse (const guint8 *data, gsize len, GError **error);

/* Serialises with name compression for owner and question names. When the result would be
 * longer than max_len (UDP), whole records are left off from the end, the TC bit is set, and
 * the answer still fits. max_len 0 means 65535. */
GBytes *pc_dns_message_build (const PcDnsMessage *msg, gsize max_len, GError **error);

void pc_dns_message_add_question (PcDnsMessage *msg, const char *name, guint16 type, guint16 klass);
void pc_dns_message_add_record (PcDnsMessage *msg,
                                PcDnsSection section,
                                const char *name,
                                guint16 type,
                                guint16 klass,
                                guint32 ttl,
                                const guint8 *rdata,
                                guint16 rdlen);
/* Removes record i of a section. */
void pc_dns_message_remove_record (PcDnsMessage *msg, PcDnsSection section, guint i);
/* A new reply skeleton for query: same id, opcode, RD and CD, QR set, question copied, rcode
 * set; EDNS echoed (with our UDP size) when the query had it. */
PcDnsMessage *pc_dns_message_new_reply (const PcDnsMessage *query, PcDnsRcode rcode);

/* An error reply (FORMERR, SERVFAIL, ...) for raw query bytes that may not even parse: copies
 * the id and, if it parses, the question. NULL when there are fewer than 12 bytes or the bytes
 * are themselves a response (QR set): those are dropped, never answered. */
GBytes *pc_dns_build_error_reply (const guint8 *query, gsize len, PcDnsRcode rcode);

/* End of the question section of wire bytes (what follows the header and every question); 0
 * when the bytes do not parse that far. */
gsize pc_dns_question_end (const guint8 *wire, gsize len);
/* TRUE when reply is a response (QR) with query's id and the same question (case-insensitively):
 * the check an upstream transport makes before it accepts an answer. */
gboolean pc_dns_reply_matches_query (const guint8 *reply,
                                     gsize reply_len,
                                     const guint8 *query,
                                     gsize query_len);

/* Name conversions. Presentation form escapes '.', '\\' and bytes outside printable ASCII as
 * \DDD. pc_dns_name_to_wire fails (FALSE) on a name longer than 255 bytes on the wire, an
 * empty label or a label longer than 63 bytes, or a bad escape. */
gboolean pc_dns_name_to_wire (const char *name, guint8 out[PC_DNS_MAX_NAME], gsize *out_len);
/* Reads a possibly compressed name at *offset of msg; advances *offset past it. */
gboolean pc_dns_name_read (
    const guint8 *msg, gsize len, gsize *offset, guint8 out[PC_DNS_MAX_NAME], gsize *out_len);
void pc_dns_name_wire_to_string (const guint8 *wire, gsize len, char out[PC_DNS_NAME_STRLEN]);
/* Case-insensitive name equality (RFC 4343), and "name is zone or below it". */
gboolean pc_dns_name_equal (const char *a, const char *b);
gboolean pc_dns_name_is_subdomain (const char *name, const char *zone);

const char *pc_dns_type_to_string (guint16 type, char buf[16]);
/* "A", "aaaa", "TYPE65", "65" -> the type; FALSE for anything else. */
gboolean pc_dns_type_from_string (const char *text, guint16 *type);
/* A record in presentation form, "name TTL TYPE data" (RFC 1035 section 5.1; unknown types as
 * RFC 3597 "\# LEN HEX"). New string. */
char *pc_dns_record_to_string (const PcDnsRecord *rec);
const char *pc_dns_rcode_to_string (guint rcode);
/* TTL of a negative answer (RFC 2308 section 5): min(SOA TTL, SOA MINIMUM) of the SOA in the
 * authority section; FALSE when there is none. */
gboolean pc_dns_message_negative_ttl (const PcDnsMessage *msg, guint32 *ttl);

G_END_DECLS
