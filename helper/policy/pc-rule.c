/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint rules: parser and first-match evaluation.
 *
 * Grammar (one rule per line; '#' starts a comment; blank lines are ignored):
 *
 *   RULE    := ('+' | '-') WS ENTITY [WS FILTER]
 *   ENTITY  := '*'
 *            | DOMAIN | '.' DOMAIN | '*.' DOMAIN     exact / domain and subdomains / subdomains only
 *            | IPV4 | IPV6 | IPV4 '/' 0-32 | IPV6 '/' 0-128
 *            | CC                                    ISO 3166-1 alpha-2, any case ("at", "AT")
 *            | 'C:' CONTINENT                        AF AN AS EU NA OC SA, any case
 *            | 'AS' 1-4294967295                     autonomous system, any case ("as13335")
 *            | 'L:' LISTID                           filter list id: letters, digits, '-', '_'
 *            | 'localhost' | 'lan' | 'internet'     network scope (pc_scope_classify), any case
 *   FILTER  := PROTO ['/' ['local:'] PORT ['-' PORT]]
 *   PROTO   := 'tcp' | 'udp' | 'icmp' | 0-255 | '*'
 *   PORT    := 1-65535
 *
 * Examples: "+ .example.com tcp/443", "- 10.0.0.0/8", "+ * tcp/local:22",
 * "+ lan udp/local:5353-5354", and PROTO '*' with a port for "that port of any protocol with
 * ports" (tcp and udp alike, e.g. for QUIC).
 *
 * Semantics, and the choices made where DESIGN.md is silent:
 * - The port is the remote port; 'local:' right after the '/' selects the local port instead
 *   (inbound services). A port filter only matches protocols that have ports (tcp, udp, dccp,
 *   sctp, udplite), so '*' with a port never matches ICMP, whose flow key carries the type in
 *   rport. A port with icmp or with a portless protocol number is an error.
 * - 'icmp' matches ICMP and ICMPv6; a protocol number matches exactly that number ("1" is ICMP
 *   for IPv4 only, "58" ICMPv6 only).
 * - Addresses: IPv4-mapped IPv6 addresses are the IPv4 address they carry, both in rules
 *   ("::ffff:10.0.0.0/104" is 10.0.0.0/8) and in flows, so "10.0.0.0/8" matches a flow to
 *   ::ffff:10.1.2.3 and "::/0" means "all IPv6" only. A CIDR with host bits set is rejected
 *   rather than silently masked, because it usually hides a typo.
 * - Domains: labels of letters, digits, '-' and '_' (1-63 characters, no '-' at either end),
 *   253 characters at most, lower-cased, one trailing dot accepted and removed. Internationalised
 *   names only in punycode. A name whose last label is all digits is not a domain (usually a
 *   mistyped IPv4 address). Domain rules match the flow's domain or any name of its CNAME chain.
 * - A two-letter entity without a dot is a country, never a domain; 'AS' followed by digits is
 *   an ASN; the scope words win over single-label host names (write "localhost." for the name).
 * - Country, continent and ASN rules cannot be judged without geo data: they never match then,
 *   and PcMatchResult.geo_unavailable says that such a rule, whose protocol/port filter matched,
 *   was skipped before the winning rule (or at all, when nothing matched): the verdict might
 *   have been different with a geo database.
 * - Filter list ids are compared as written (case-sensitive); the lookup is the caller's.
 * - pc_rule_get_text() is the rule without its trailing comment, trimmed.
 *
 * Evaluation is first match wins, but not by a linear scan. At parse time the rules are
 * compiled into
 *   - a hash of domain names (exact, '.d' and '*.d' rules under their name d): the flow's name
 *     and each of its label suffixes is looked up once, all suffix hashes coming from a single
 *     right-to-left pass over the name;
 *   - a hash of (family, prefix length, masked address) for IPs and CIDRs, probed once per
 *     prefix length that occurs in the list;
 *   - a short ordered list of the remaining rules ('*', scopes, geo, filter lists).
 * Each hash entry holds the ascending indexes of its rules; the verdict is the smallest index
 * among all candidates whose protocol/port filter also matches, and the ordered list is only
 * walked up to that index. Matching does not allocate. */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-rule.h"
#include "pc-rule-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pc-error.h"

#define DOMAIN_MAX_LEN 253
#define LABEL_MAX_LEN 63
#define LIST_ID_MAX_LEN 64
/* error messages quote the offending token; D-Bus needs them valid UTF-8 and people need them
 * short */
#define QUOTE_MAX_LEN 80

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

typedef enum
{
  ENTITY_ANY,
  ENTITY_DOMAIN_EXACT, /* example.com */
  ENTITY_DOMAIN_TREE,  /* .example.com */
  ENTITY_DOMAIN_SUB,   /* *.example.com */
  ENTITY_ADDR,         /* IP (full-length prefix) or CIDR */
  ENTITY_COUNTRY,
  ENTITY_CONTINENT,
  ENTITY_ASN,
  ENTITY_LIST,
  ENTITY_SCOPE,
} EntityKind;

/* which domain rule kinds a looked-up name accepts: the full name or a proper suffix of it */
#define KINDS_FULL_NAME ((1u << ENTITY_DOMAIN_EXACT) | (1u << ENTITY_DOMAIN_TREE))
#define KINDS_SUFFIX ((1u << ENTITY_DOMAIN_TREE) | (1u << ENTITY_DOMAIN_SUB))

typedef enum
{
  PROTO_ANY,
  PROTO_ICMP, /* ICMP or ICMPv6 */
  PROTO_NUMBER,
} ProtoKind;

typedef enum
{
  PORT_NONE,
  PORT_REMOTE,
  PORT_LOCAL,
} PortSide;

struct _PcRule
{
  guint32 index;
  guint32 line;
  guint8 action; /* PcAction */
  guint8 kind;   /* EntityKind */
  guint8 proto_kind;
  guint8 proto;
  guint8 port_side;
  guint8 prefix; /* ENTITY_ADDR */
  guint8 scope;  /* ENTITY_SCOPE: PcScope */
  char code[3];  /* ENTITY_COUNTRY, ENTITY_CONTINENT: upper case */
  guint16 port_lo;
  guint16 port_hi;
  guint32 asn;
  guint32 name_len;
  const char *name; /* domain (lower case, without '.' / '*.') or filter list id */
  const char *text;
  PcAddr addr; /* ENTITY_ADDR: masked to prefix */
};

typedef struct
{
  guint32 hash;
  guint32 len;
  const char *name; /* NULL: empty slot */
  guint32 first;    /* into PcRuleList.cand */
  guint32 count;
} DomainSlot;

typedef struct
{
  guint32 hash;
  guint8 family; /* 0: empty slot */
  guint8 prefix;
  guint8 addr[16];
  guint32 first;
  guint32 count;
} AddrSlot;

/* IPv4 gets its own compact table: it is most of the address rules and most of the traffic */
typedef struct
{
  guint32 net; /* host byte order, masked */
  guint8 prefix;
  guint8 used;
  guint32 first;
  guint32 count;
} V4Slot;

struct _PcRuleList
{
  gint ref_count;
  guint n_rules;
  PcRule *rules;
  GStringChunk *strings;
  gboolean has_domain_rules;

  guint32 *cand; /* candidate rule indexes, one ascending run per hash slot */

  DomainSlot *domain_slots; /* NULL when there are no domain rules */
  guint32 domain_mask;

  V4Slot *v4_slots; /* NULL when there are no IPv4 rules */
  guint32 v4_mask;
  AddrSlot *addr_slots; /* IPv6; NULL when there are no IPv6 rules */
  guint32 addr_mask;
  guint8 v4_prefixes[33];
  guint n_v4_prefixes;
  guint8 v6_prefixes[129];
  guint n_v6_prefixes;

  guint32 *others; /* indexes of the remaining rules, ascending */
  guint n_others;
};

/* ISO 3166-1 alpha-2, officially assigned codes (249), plus XK (Kosovo): user-assigned in the
 * standard but used by the geo databases we read. */
static const char iso3166_codes[]
    = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
      "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
      "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
      "DE DJ DK DM DO DZ "
      "EC EE EG EH ER ES ET "
      "FI FJ FK FM FO FR "
      "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
      "HK HM HN HR HT HU "
      "ID IE IL IM IN IO IQ IR IS IT "
      "JE JM JO JP "
      "KE KG KH KI KM KN KP KR KW KY KZ "
      "LA LB LC LI LK LR LS LT LU LV LY "
      "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
      "NA NC NE NF NG NI NL NO NP NR NU NZ "
      "OM "
      "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
      "QA "
      "RE RO RS RU RW "
      "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
      "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
      "UA UG UM US UY UZ "
      "VA VC VE VG VI VN VU "
      "WF WS "
      "XK "
      "YE YT "
      "ZA ZM ZW ";

static const char continent_codes[] = "AF AN AS EU NA OC SA ";

/* ---- small helpers ---------------------------------------------------------------------- */

static inline guint8
ascii_lower (guint8 c)
{
  return (c >= 'A' && c <= 'Z') ? (guint8)(c + ('a' - 'A')) : c;
}

static inline gboolean
ascii_caseeq (const char *a, const char *b, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (ascii_lower ((guint8)a[i]) != ascii_lower ((guint8)b[i]))
      return FALSE;
  return TRUE;
}

static inline guint32
fmix32 (guint32 h)
{
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* FNV-1a over the lower-cased name from its LAST byte to its first, so that the hashes of all
 * label suffixes of a flow's name fall out of one pass (see match_domain_indexed()). */
static guint32
domain_hash (const char *name, gsize len)
{
  guint32 h = FNV_OFFSET;

  for (gsize i = len; i-- > 0;)
    h = (h ^ ascii_lower ((guint8)name[i])) * FNV_PRIME;
  return fmix32 (h);
}

static inline guint32
v4_hash (guint32 net, guint8 prefix)
{
  return fmix32 (net ^ (prefix * 0x9e3779b9u));
}

static inline guint32
v4_mask_of (guint8 prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static inline guint32
addr_hash (guint8 family, guint8 prefix, const guint8 b[16])
{
  guint64 x, y, h;

  memcpy (&x, b, 8);
  memcpy (&y, b + 8, 8);
  h = (x * 0x9e3779b97f4a7c15ull) ^ ((y + prefix + ((guint64)family << 8)) * 0xc2b2ae3d27d4eb4full);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return (guint32)h;
}

/* out = in with every bit after the first prefix bits cleared; out has 16 bytes. */
static inline void
mask_addr (const guint8 *in, guint8 family, guint8 prefix, guint8 out[16])
{
  guint full = prefix / 8;
  guint rest = prefix % 8;
  guint size = family == AF_INET ? 4 : 16;

  memset (out, 0, 16);
  memcpy (out, in, full);
  if (rest != 0 && full < size)
    out[full] = in[full] & (guint8)(0xff << (8 - rest));
}

static inline gboolean
addr_is_v4_mapped (const PcAddr *a)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  return a->family == AF_INET6 && memcmp (a->b, prefix, 12) == 0;
}

/* The flow's remote address as rules see it: IPv4-mapped IPv6 becomes IPv4. */
static inline void
flow_remote_addr (const PcFlowKey *key, guint8 *family, guint8 b[16])
{
  if (addr_is_v4_mapped (&key->raddr))
    {
      *family = AF_INET;
      memset (b, 0, 16);
      memcpy (b, key->raddr.b + 12, 4);
    }
  else
    {
      *family = key->raddr.family;
      memcpy (b, key->raddr.b, 16);
    }
}

static inline gboolean
proto_has_ports (guint8 proto)
{
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_DCCP
         || proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static inline gboolean
filter_matches (const PcRule *rule, const PcFlowKey *key)
{
  guint16 port;

  if (rule->proto_kind == PROTO_NUMBER)
    {
      if (key->proto != rule->proto)
        return FALSE;
    }
  else if (rule->proto_kind == PROTO_ICMP)
    {
      if (key->proto != IPPROTO_ICMP && key->proto != IPPROTO_ICMPV6)
        return FALSE;
    }

  if (rule->port_side == PORT_NONE)
    return TRUE;
  if (!proto_has_ports (key->proto))
    return FALSE;
  port = rule->port_side == PORT_LOCAL ? key->lport : key->rport;
  return port >= rule->port_lo && port <= rule->port_hi;
}

static inline gboolean
code_equal (const char *value, const char code[3])
{
  return value != NULL && ascii_lower ((guint8)value[0]) == ascii_lower ((guint8)code[0])
         && value[0] != '\0' && ascii_lower ((guint8)value[1]) == ascii_lower ((guint8)code[1])
         && value[2] == '\0';
}

static inline gboolean
is_geo_kind (guint8 kind)
{
  return kind == ENTITY_COUNTRY || kind == ENTITY_CONTINENT || kind == ENTITY_ASN;
}

/* Entity test for the kinds kept in the ordered "others" list (and, for the linear reference
 * matcher, all kinds). Geo kinds without geo data report through geo_skipped and never match. */
static gboolean
other_entity_matches (const PcRule *rule, const PcMatchInput *input, gboolean *geo_skipped)
{
  if (is_geo_kind (rule->kind) && !input->geo_available)
    {
      *geo_skipped = TRUE;
      return FALSE;
    }

  switch (rule->kind)
    {
      case ENTITY_ANY:
        return TRUE;
      case ENTITY_SCOPE:
        return (guint)input->scope == rule->scope;
      case ENTITY_COUNTRY:
        return code_equal (input->country, rule->code);
      case ENTITY_CONTINENT:
        return code_equal (input->continent, rule->code);
      case ENTITY_ASN:
        return input->asn != 0 && input->asn == rule->asn;
      case ENTITY_LIST:
        return input->in_list != NULL && input->in_list (rule->name, input, input->user_data);
      default:
        return FALSE;
    }
}

/* ---- errors ----------------------------------------------------------------------------- */

static char *
quote_token (const char *token)
{
  g_autofree char *valid = g_utf8_make_valid (token, -1);
  const char *end;

  if (strlen (valid) <= QUOTE_MAX_LEN)
    return g_steal_pointer (&valid);
  /* cut at a character boundary */
  end = valid + QUOTE_MAX_LEN;
  while (end > valid && ((guint8)*end & 0xc0) == 0x80)
    end--;
  return g_strdup_printf ("%.*s...", (int)(end - valid), valid);
}

static gboolean rule_error (GError **error, const char *token, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Sets "'TOKEN': message"; always returns FALSE so parsers can "return rule_error (...)". */
static gboolean
rule_error (GError **error, const char *token, const char *format, ...)
{
  g_autofree char *quoted = quote_token (token);
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE, "'%s': %s", quoted, message);
  return FALSE;
}

/* ---- parsing ---------------------------------------------------------------------------- */

static gboolean
is_all_digits (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Parses len decimal digits (no sign, no blanks) into *out; FALSE when not a number or larger
 * than max. Long runs of leading zeros are fine, overflow is not possible. */
static gboolean
parse_uint (const char *s, gsize len, guint64 max, guint64 *out)
{
  guint64 v = 0;

  if (!is_all_digits (s, len))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      v = v * 10 + (guint64)(s[i] - '0');
      if (v > max)
        return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
code_in_table (const char *table, char a, char b)
{
  for (const char *p = table; *p != '\0'; p += 3)
    if (p[0] == a && p[1] == b)
      return TRUE;
  return FALSE;
}

static gboolean
parse_country (const char *token, PcRule *rule, GError **error)
{
  char a = g_ascii_toupper (token[0]);
  char b = g_ascii_toupper (token[1]);

  if (!code_in_table (iso3166_codes, a, b))
    {
      if (a == 'U' && b == 'K')
        return rule_error (error, token, "unknown country code (the united kingdom is 'GB')");
      if (a == 'E' && b == 'U')
        return rule_error (error, token, "unknown country code (for europe write 'C:EU')");
      return rule_error (error, token, "unknown country code");
    }
  rule->kind = ENTITY_COUNTRY;
  rule->code[0] = a;
  rule->code[1] = b;
  rule->code[2] = '\0';
  return TRUE;
}

static gboolean
parse_continent (const char *token, PcRule *rule, GError **error)
{
  const char *code = token + 2;

  if (strlen (code) != 2 || !g_ascii_isalpha (code[0]) || !g_ascii_isalpha (code[1])
      || !code_in_table (continent_codes, g_ascii_toupper (code[0]), g_ascii_toupper (code[1])))
    return rule_error (error, token,
                       "unknown continent (expected C:AF, C:AN, C:AS, C:EU, C:NA, C:OC or C:SA)");
  rule->kind = ENTITY_CONTINENT;
  rule->code[0] = g_ascii_toupper (code[0]);
  rule->code[1] = g_ascii_toupper (code[1]);
  rule->code[2] = '\0';
  return TRUE;
}

static gboolean
parse_list (const char *token, PcRule *rule, GStringChunk *strings, GError **error)
{
  const char *id = token + 2;
  gsize len = strlen (id);

  if (len == 0)
    return rule_error (error, token, "missing filter list id after 'L:'");
  if (len > LIST_ID_MAX_LEN)
    return rule_error (error, token, "filter list id is longer than %d characters",
                       LIST_ID_MAX_LEN);
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_')
      return rule_error (error, token,
                         "filter list ids may contain only letters, digits, '-' and '_'");
  rule->kind = ENTITY_LIST;
  rule->name = g_string_chunk_insert_len (strings, id, (gssize)len);
  rule->name_len = (guint32)len;
  return TRUE;
}

static gboolean
parse_asn (const char *token, PcRule *rule, GError **error)
{
  guint64 asn;

  if (!parse_uint (token + 2, strlen (token + 2), G_MAXUINT32, &asn) || asn == 0)
    return rule_error (error, token, "as number must be 1-4294967295");
  rule->kind = ENTITY_ASN;
  rule->asn = (guint32)asn;
  return TRUE;
}

/* Stores addr/prefix in rule, rewriting IPv4-mapped IPv6 as IPv4 (see the file comment). */
static void
set_rule_addr (PcRule *rule, const PcAddr *addr, guint prefix)
{
  rule->kind = ENTITY_ADDR;
  memset (&rule->addr, 0, sizeof rule->addr);
  if (addr_is_v4_mapped (addr) && prefix >= 96)
    {
      rule->addr.family = AF_INET;
      memcpy (rule->addr.b, addr->b + 12, 4);
      rule->prefix = (guint8)(prefix - 96);
    }
  else
    {
      rule->addr.family = addr->family;
      memcpy (rule->addr.b, addr->b, 16);
      rule->prefix = (guint8)prefix;
    }
  {
    guint8 masked[16];

    mask_addr (rule->addr.b, rule->addr.family, rule->prefix, masked);
    memcpy (rule->addr.b, masked, 16);
  }
}

static gboolean
parse_cidr (const char *token, PcRule *rule, GError **error)
{
  const char *slash = strrchr (token, '/');
  g_autofree char *addr_text = g_strndup (token, (gsize)(slash - token));
  const char *prefix_text = slash + 1;
  PcAddr addr;
  guint8 masked[16];
  guint64 prefix;
  guint max;

  if (!pc_addr_parse (addr_text, &addr))
    return rule_error (error, token, "invalid ip address before '/'");
  max = addr.family == AF_INET ? 32 : 128;
  if (!parse_uint (prefix_text, strlen (prefix_text), max, &prefix))
    return rule_error (error, token, "prefix length must be 0-%u", max);

  mask_addr (addr.b, addr.family, (guint8)prefix, masked);
  if (memcmp (masked, addr.b, addr.family == AF_INET ? 4 : 16) != 0)
    {
      PcAddr network = addr;
      char buf[PC_ADDR_STRLEN];

      memcpy (network.b, masked, 16);
      return rule_error (error, token,
                         "address has bits set after the /%u prefix (did you mean '%s/%u'?)",
                         (guint)prefix, pc_addr_to_string (&network, buf), (guint)prefix);
    }
  set_rule_addr (rule, &addr, (guint)prefix);
  return TRUE;
}

static gboolean
parse_domain (const char *token, PcRule *rule, GStringChunk *strings, GError **error)
{
  const char *name = token;
  gsize len;
  gsize label_start = 0;
  gboolean last_label_numeric = FALSE;
  g_autofree char *lower = NULL;

  rule->kind = ENTITY_DOMAIN_EXACT;
  if (g_str_has_prefix (name, "*."))
    {
      rule->kind = ENTITY_DOMAIN_SUB;
      name += 2;
    }
  else if (name[0] == '.')
    {
      rule->kind = ENTITY_DOMAIN_TREE;
      name += 1;
    }

  for (const char *p = token; *p != '\0'; p++)
    if ((guint8)*p >= 0x80)
      return rule_error (error, token,
                         "non-ascii domain names must be written in punycode (xn--...)");

  len = strlen (name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  if (len == 0)
    return rule_error (error, token, "missing domain name after '%s'",
                       rule->kind == ENTITY_DOMAIN_SUB ? "*." : ".");
  if (memchr (name, '*', len) != NULL)
    return rule_error (error, token,
                       "'*' is only allowed as the whole first label, as in '*.example.com'");

  for (gsize i = 0; i <= len; i++)
    {
      if (i < len && name[i] != '.')
        {
          char c = name[i];

          if (!g_ascii_isalnum (c) && c != '-' && c != '_')
            {
              if (g_ascii_isprint (c))
                return rule_error (error, token,
                                   "invalid character '%c' in domain name (letters, digits, "
                                   "'-' and '_' only)",
                                   c);
              return rule_error (error, token,
                                 "invalid character 0x%02x in domain name (letters, digits, "
                                 "'-' and '_' only)",
                                 (guint)(guint8)c);
            }
          continue;
        }

      /* end of the label name[label_start, i) */
      {
        gsize label_len = i - label_start;
        const char *label = name + label_start;

        if (label_len == 0)
          return rule_error (error, token, "empty label in domain name");
        if (label_len > LABEL_MAX_LEN)
          return rule_error (error, token, "label '%.10s...' is longer than %d characters", label,
                             LABEL_MAX_LEN);
        if (label[0] == '-' || label[label_len - 1] == '-')
          return rule_error (error, token, "label '%.*s' must not start or end with '-'",
                             (int)label_len, label);
        last_label_numeric = is_all_digits (label, label_len);
        label_start = i + 1;
      }
    }

  if (len > DOMAIN_MAX_LEN)
    return rule_error (error, token, "domain name is longer than %d characters", DOMAIN_MAX_LEN);
  if (last_label_numeric)
    {
      gboolean dotted_digits = strspn (name, "0123456789.") >= len;

      if (dotted_digits && rule->kind == ENTITY_DOMAIN_EXACT)
        return rule_error (error, token, "invalid ipv4 address");
      return rule_error (error, token, "top-level domain must not be all digits");
    }

  lower = g_ascii_strdown (name, (gssize)len);
  rule->name = g_string_chunk_insert_len (strings, lower, (gssize)len);
  rule->name_len = (guint32)len;
  return TRUE;
}

/* TRUE if token, up to an optional '/', is an IP address. */
static gboolean
is_address_like (const char *token)
{
  g_autofree char *addr_text = g_strndup (token, strcspn (token, "/"));
  PcAddr addr;

  return pc_addr_parse (addr_text, &addr);
}

static gboolean
parse_entity (const char *token, PcRule *rule, GStringChunk *strings, GError **error)
{
  gsize len = strlen (token);
  PcAddr addr;
  PcScope scope;

  if (strcmp (token, "*") == 0)
    {
      rule->kind = ENTITY_ANY;
      return TRUE;
    }
  /* "c::1" and "c:1::/32" are IPv6, not continents */
  if ((token[0] == 'C' || token[0] == 'c') && token[1] == ':' && !is_address_like (token))
    return parse_continent (token, rule, error);
  if ((token[0] == 'L' || token[0] == 'l') && token[1] == ':')
    return parse_list (token, rule, strings, error);
  if (len > 2 && g_ascii_strncasecmp (token, "as", 2) == 0 && strchr (token, '.') == NULL
      && is_all_digits (token + 2, 1))
    return parse_asn (token, rule, error);
  if (pc_scope_from_string (token, &scope) && scope != PC_SCOPE_INVALID)
    {
      rule->kind = ENTITY_SCOPE;
      rule->scope = (guint8)scope;
      return TRUE;
    }
  if (len == 2 && g_ascii_isalpha (token[0]) && g_ascii_isalpha (token[1]))
    return parse_country (token, rule, error);
  if (strchr (token, '/') != NULL)
    return parse_cidr (token, rule, error);
  if (pc_addr_parse (token, &addr))
    {
      set_rule_addr (rule, &addr, addr.family == AF_INET ? 32 : 128);
      return TRUE;
    }
  if (strchr (token, ':') != NULL)
    {
      /* "X:..." with X not a hex digit cannot be IPv6: a mistyped prefix such as "Q:EU" */
      if (g_ascii_isalpha (token[0]) && !g_ascii_isxdigit (token[0]) && token[1] == ':')
        return rule_error (error, token,
                           "unknown prefix '%c:' (expected 'C:' for a continent or 'L:' for a "
                           "filter list)",
                           token[0]);
      return rule_error (error, token, "invalid ipv6 address");
    }
  return parse_domain (token, rule, strings, error);
}

static gboolean
parse_port (const char *text, gsize len, guint16 *out)
{
  guint64 port;

  if (!is_all_digits (text, len))
    return FALSE;
  if (!parse_uint (text, len, 65535, &port) || port == 0)
    return FALSE;
  *out = (guint16)port;
  return TRUE;
}

static gboolean
parse_filter (const char *token, PcRule *rule, GError **error)
{
  const char *slash = strchr (token, '/');
  gsize proto_len = slash != NULL ? (gsize)(slash - token) : strlen (token);
  g_autofree char *proto = g_strndup (token, proto_len);
  const char *ports;
  const char *dash;
  guint64 number;

  if (strcmp (proto, "*") == 0)
    rule->proto_kind = PROTO_ANY;
  else if (g_ascii_strcasecmp (proto, "tcp") == 0)
    {
      rule->proto_kind = PROTO_NUMBER;
      rule->proto = IPPROTO_TCP;
    }
  else if (g_ascii_strcasecmp (proto, "udp") == 0)
    {
      rule->proto_kind = PROTO_NUMBER;
      rule->proto = IPPROTO_UDP;
    }
  else if (g_ascii_strcasecmp (proto, "icmp") == 0)
    rule->proto_kind = PROTO_ICMP;
  else if (is_all_digits (proto, proto_len))
    {
      if (!parse_uint (proto, proto_len, 255, &number))
        return rule_error (error, token, "protocol number must be 0-255");
      rule->proto_kind = PROTO_NUMBER;
      rule->proto = (guint8)number;
    }
  else if (g_str_has_prefix (token, "local:"))
    return rule_error (error, token,
                       "write the protocol before a local port, as in 'tcp/local:22'");
  else if (proto_len == 0)
    return rule_error (error, token, "missing protocol before '/'");
  else
    return rule_error (error, token,
                       "unknown protocol (expected tcp, udp, icmp, a number 0-255 or '*')");

  if (slash == NULL)
    return TRUE;

  if (rule->proto_kind == PROTO_ICMP)
    return rule_error (error, token, "icmp has no ports");
  if (rule->proto_kind == PROTO_NUMBER && !proto_has_ports (rule->proto))
    return rule_error (error, token, "protocol %u has no ports", rule->proto);

  ports = slash + 1;
  rule->port_side = PORT_REMOTE;
  if (g_str_has_prefix (ports, "local:"))
    {
      rule->port_side = PORT_LOCAL;
      ports += strlen ("local:");
      if (*ports == '\0')
        return rule_error (error, token, "missing port after 'local:'");
    }
  else if (*ports == '\0')
    return rule_error (error, token, "missing port after '/'");

  dash = strchr (ports, '-');
  if (dash == NULL)
    {
      if (!parse_port (ports, strlen (ports), &rule->port_lo))
        return rule_error (error, token, "port must be %s1-65535",
                           is_all_digits (ports, strlen (ports)) ? "" : "a number ");
      rule->port_hi = rule->port_lo;
      return TRUE;
    }

  if (!parse_port (ports, (gsize)(dash - ports), &rule->port_lo)
      || !parse_port (dash + 1, strlen (dash + 1), &rule->port_hi))
    {
      gboolean numbers = is_all_digits (ports, (gsize)(dash - ports))
                         && is_all_digits (dash + 1, strlen (dash + 1));

      return rule_error (error, token, "port must be %s1-65535", numbers ? "" : "a number ");
    }
  if (rule->port_lo > rule->port_hi)
    return rule_error (error, token,
                       "port range %u-%u is reversed (the start must not exceed the end)",
                       rule->port_lo, rule->port_hi);
  return TRUE;
}

static gboolean
is_rule_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits text at blanks (space, tab, CR, VT, FF). */
static GPtrArray *
tokenize (const char *text)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  while (*p != '\0')
    {
      const char *start;

      while (is_rule_space (*p))
        p++;
      if (*p == '\0')
        break;
      start = p;
      while (*p != '\0' && !is_rule_space (*p))
        p++;
      g_ptr_array_add (tokens, g_strndup (start, (gsize)(p - start)));
    }
  return tokens;
}

static gboolean
is_domain_kind (guint8 kind)
{
  return kind == ENTITY_DOMAIN_EXACT || kind == ENTITY_DOMAIN_TREE || kind == ENTITY_DOMAIN_SUB;
}

/* Parses one rule (comment already removed, trimmed, not empty). Errors carry no line prefix. */
static gboolean
parse_rule (const char *text, PcRule *rule, GStringChunk *strings, GError **error)
{
  g_autoptr (GPtrArray) tokens = tokenize (text);
  const char *sign = g_ptr_array_index (tokens, 0);
  const char *entity;

  if (strcmp (sign, "+") == 0)
    rule->action = PC_ACTION_ALLOW;
  else if (strcmp (sign, "-") == 0)
    rule->action = PC_ACTION_BLOCK;
  else if (sign[0] == '+' || sign[0] == '-')
    return rule_error (error, sign, "expected a space after '%c'", sign[0]);
  else
    {
      g_autofree char *quoted = quote_token (sign);

      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE,
                   "expected '+' or '-' at the start of the rule, got '%s'", quoted);
      return FALSE;
    }

  if (tokens->len < 2)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE, "missing entity after '%s'", sign);
      return FALSE;
    }
  entity = g_ptr_array_index (tokens, 1);
  if (!parse_entity (entity, rule, strings, error))
    return FALSE;

  if (tokens->len >= 3)
    {
      const char *filter = g_ptr_array_index (tokens, 2);
      g_autoptr (GError) filter_error = NULL;

      if (!parse_filter (filter, rule, &filter_error))
        {
          /* "- exa mple.com": a blank inside a name, not an odd protocol */
          if (is_domain_kind (rule->kind) && strchr (filter, '.') != NULL)
            {
              g_autofree char *joined = g_strdup_printf ("%s %s", entity, filter);
              return rule_error (error, joined, "domain names cannot contain spaces");
            }
          g_propagate_error (error, g_steal_pointer (&filter_error));
          return FALSE;
        }
    }

  if (tokens->len >= 4)
    return rule_error (error, g_ptr_array_index (tokens, 3), "unexpected text after the rule");
  return TRUE;
}

/* Strips the comment and blanks from line[0, len). Returns NULL for a blank or comment line. */
static char *
clean_line (const char *line, gsize len)
{
  const char *hash = memchr (line, '#', len);
  g_autofree char *text = g_strndup (line, hash != NULL ? (gsize)(hash - line) : len);
  char *start = text;
  char *end = text + strlen (text);

  while (is_rule_space (*start) || *start == '\n')
    start++;
  while (end > start && (is_rule_space (end[-1]) || end[-1] == '\n'))
    end--;
  if (end == start)
    return NULL;
  return g_strndup (start, (gsize)(end - start));
}

/* ---- the compiled list -------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  guint32 len;
  guint32 index;
} DomainEntry;

typedef struct
{
  guint8 family;
  guint8 prefix;
  guint8 addr[16];
  guint32 index;
} AddrEntry;

static int
domain_entry_compare (const void *pa, const void *pb)
{
  const DomainEntry *a = pa, *b = pb;
  int c;

  if (a->len != b->len)
    return a->len < b->len ? -1 : 1;
  c = memcmp (a->name, b->name, a->len);
  if (c != 0)
    return c;
  return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

static int
addr_entry_compare (const void *pa, const void *pb)
{
  const AddrEntry *a = pa, *b = pb;
  int c;

  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  if (a->prefix != b->prefix)
    return a->prefix < b->prefix ? -1 : 1;
  c = memcmp (a->addr, b->addr, 16);
  if (c != 0)
    return c;
  return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

static guint32
table_size_for (guint n_keys)
{
  guint32 size = 8;

  /* load factor <= 1/2 keeps probe chains short and guarantees an empty slot */
  while (size < n_keys * 2)
    size *= 2;
  return size;
}

static void
build_domain_index (PcRuleList *self, guint32 *n_cand)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (DomainEntry));
  guint n_keys = 0;
  guint32 size;

  for (guint i = 0; i < self->n_rules; i++)
    {
      const PcRule *rule = &self->rules[i];
      DomainEntry e = { rule->name, rule->name_len, rule->index };

      if (is_domain_kind (rule->kind))
        g_array_append_val (entries, e);
    }
  if (entries->len == 0)
    return;
  self->has_domain_rules = TRUE;

  g_array_sort (entries, domain_entry_compare);
  for (guint i = 0; i < entries->len; i++)
    {
      const DomainEntry *a = &g_array_index (entries, DomainEntry, i);
      const DomainEntry *b = i > 0 ? &g_array_index (entries, DomainEntry, i - 1) : NULL;

      if (b == NULL || a->len != b->len || memcmp (a->name, b->name, a->len) != 0)
        n_keys++;
    }

  size = table_size_for (n_keys);
  self->domain_slots = g_new0 (DomainSlot, size);
  self->domain_mask = size - 1;

  for (guint i = 0; i < entries->len;)
    {
      const DomainEntry *e = &g_array_index (entries, DomainEntry, i);
      guint32 hash = domain_hash (e->name, e->len);
      guint32 slot = hash & self->domain_mask;
      DomainSlot *s;

      while (self->domain_slots[slot].name != NULL)
        slot = (slot + 1) & self->domain_mask;
      s = &self->domain_slots[slot];
      s->hash = hash;
      s->len = e->len;
      s->name = e->name;
      s->first = *n_cand;
      for (; i < entries->len; i++)
        {
          const DomainEntry *f = &g_array_index (entries, DomainEntry, i);

          if (f->len != e->len || memcmp (f->name, e->name, e->len) != 0)
            break;
          self->cand[(*n_cand)++] = f->index;
          s->count++;
        }
    }
}

static void
build_addr_index (PcRuleList *self, guint32 *n_cand)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (AddrEntry));
  gboolean v4_seen[33] = { FALSE };
  gboolean v6_seen[129] = { FALSE };
  guint n_v4_keys = 0, n_v6_keys = 0;
  guint32 size;

  for (guint i = 0; i < self->n_rules; i++)
    {
      const PcRule *rule = &self->rules[i];
      AddrEntry e;

      if (rule->kind != ENTITY_ADDR)
        continue;
      e.family = rule->addr.family;
      e.prefix = rule->prefix;
      memcpy (e.addr, rule->addr.b, 16);
      e.index = rule->index;
      g_array_append_val (entries, e);
      if (e.family == AF_INET)
        v4_seen[e.prefix] = TRUE;
      else
        v6_seen[e.prefix] = TRUE;
    }
  if (entries->len == 0)
    return;

  /* probe the longest prefixes first: no semantic reason (the smallest index wins whatever the
   * order), but host routes are the most common entries */
  for (int p = 32; p >= 0; p--)
    if (v4_seen[p])
      self->v4_prefixes[self->n_v4_prefixes++] = (guint8)p;
  for (int p = 128; p >= 0; p--)
    if (v6_seen[p])
      self->v6_prefixes[self->n_v6_prefixes++] = (guint8)p;

  g_array_sort (entries, addr_entry_compare);
  for (guint i = 0; i < entries->len; i++)
    {
      const AddrEntry *a = &g_array_index (entries, AddrEntry, i);
      const AddrEntry *b = i > 0 ? &g_array_index (entries, AddrEntry, i - 1) : NULL;

      if (b == NULL || a->family != b->family || a->prefix != b->prefix
          || memcmp (a->addr, b->addr, 16) != 0)
        {
          if (a->family == AF_INET)
            n_v4_keys++;
          else
            n_v6_keys++;
        }
    }

  if (n_v4_keys > 0)
    {
      size = table_size_for (n_v4_keys);
      self->v4_slots = g_new0 (V4Slot, size);
      self->v4_mask = size - 1;
    }
  if (n_v6_keys > 0)
    {
      size = table_size_for (n_v6_keys);
      self->addr_slots = g_new0 (AddrSlot, size);
      self->addr_mask = size - 1;
    }

  for (guint i = 0; i < entries->len;)
    {
      const AddrEntry *e = &g_array_index (entries, AddrEntry, i);
      guint32 *first, *count;

      if (e->family == AF_INET)
        {
          guint32 net = ((guint32)e->addr[0] << 24) | ((guint32)e->addr[1] << 16)
                        | ((guint32)e->addr[2] << 8) | e->addr[3];
          guint32 slot = v4_hash (net, e->prefix) & self->v4_mask;
          V4Slot *s;

          while (self->v4_slots[slot].used)
            slot = (slot + 1) & self->v4_mask;
          s = &self->v4_slots[slot];
          s->net = net;
          s->prefix = e->prefix;
          s->used = TRUE;
          first = &s->first;
          count = &s->count;
        }
      else
        {
          guint32 hash = addr_hash (e->family, e->prefix, e->addr);
          guint32 slot = hash & self->addr_mask;
          AddrSlot *s;

          while (self->addr_slots[slot].family != 0)
            slot = (slot + 1) & self->addr_mask;
          s = &self->addr_slots[slot];
          s->hash = hash;
          s->family = e->family;
          s->prefix = e->prefix;
          memcpy (s->addr, e->addr, 16);
          first = &s->first;
          count = &s->count;
        }

      *first = *n_cand;
      for (; i < entries->len; i++)
        {
          const AddrEntry *f = &g_array_index (entries, AddrEntry, i);

          if (f->family != e->family || f->prefix != e->prefix
              || memcmp (f->addr, e->addr, 16) != 0)
            break;
          self->cand[(*n_cand)++] = f->index;
          (*count)++;
        }
    }
}

static PcRuleList *
rule_list_new (GArray *rules, GStringChunk *strings)
{
  PcRuleList *self = g_new0 (PcRuleList, 1);
  guint32 n_cand = 0;

  self->ref_count = 1;
  self->n_rules = rules->len;
  self->rules = (PcRule *)(void *)g_array_free (rules, FALSE);
  self->strings = strings;
  self->cand = g_new (guint32, MAX (self->n_rules, 1));
  self->others = g_new (guint32, MAX (self->n_rules, 1));

  build_domain_index (self, &n_cand);
  build_addr_index (self, &n_cand);
  for (guint i = 0; i < self->n_rules; i++)
    if (!is_domain_kind (self->rules[i].kind) && self->rules[i].kind != ENTITY_ADDR)
      self->others[self->n_others++] = i;
  return self;
}

/* Appends the rule on line[0, len) to rules; blank and comment lines add nothing. */
static gboolean
parse_source_line (const char *line,
                   gsize len,
                   guint line_no,
                   GArray *rules,
                   GStringChunk *strings,
                   GError **error)
{
  g_autofree char *text = clean_line (line, len);
  PcRule rule = { 0 };

  if (text == NULL)
    return TRUE;
  if (!parse_rule (text, &rule, strings, error))
    return FALSE;
  rule.index = rules->len;
  rule.line = line_no;
  rule.text = g_string_chunk_insert (strings, text);
  g_array_append_val (rules, rule);
  return TRUE;
}

PcRuleList *
pc_rule_list_parse (const char *text, GError **error)
{
  g_autoptr (GArray) rules = g_array_new (FALSE, TRUE, sizeof (PcRule));
  GStringChunk *strings;
  const char *p = text;
  guint line_no = 1;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  strings = g_string_chunk_new (1024);
  for (;;)
    {
      const char *nl = strchr (p, '\n');
      gsize len = nl != NULL ? (gsize)(nl - p) : strlen (p);

      if (!parse_source_line (p, len, line_no, rules, strings, error))
        {
          g_prefix_error (error, "line %u: ", line_no);
          g_string_chunk_free (strings);
          return NULL;
        }
      if (nl == NULL)
        break;
      p = nl + 1;
      line_no++;
    }
  return rule_list_new (g_steal_pointer (&rules), strings);
}

PcRuleList *
pc_rule_list_parse_strv (const char *const *rules_text, GError **error)
{
  g_autoptr (GArray) rules = g_array_new (FALSE, TRUE, sizeof (PcRule));
  GStringChunk *strings;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  strings = g_string_chunk_new (1024);
  for (guint i = 0; rules_text != NULL && rules_text[i] != NULL; i++)
    {
      const char *line = rules_text[i];
      gboolean ok;

      if (strchr (line, '\n') != NULL)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE,
                       "a rule must not contain a line break");
          ok = FALSE;
        }
      else
        ok = parse_source_line (line, strlen (line), i + 1, rules, strings, error);
      if (!ok)
        {
          g_prefix_error (error, "line %u: ", i + 1);
          g_string_chunk_free (strings);
          return NULL;
        }
    }
  return rule_list_new (g_steal_pointer (&rules), strings);
}

gboolean
pc_rule_validate (const char *line, GError **error)
{
  g_autoptr (GStringChunk) strings = NULL;
  g_autofree char *text = NULL;
  PcRule rule = { 0 };

  g_return_val_if_fail (line != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (strchr (line, '\n') != NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE, "a rule must not contain a line break");
      return FALSE;
    }
  text = clean_line (line, strlen (line));
  if (text == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_RULE, "empty rule");
      return FALSE;
    }
  strings = g_string_chunk_new (256);
  return parse_rule (text, &rule, strings, error);
}

PcRuleList *
pc_rule_list_ref (PcRuleList *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_rule_list_unref (PcRuleList *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->rules);
  g_free (self->cand);
  g_free (self->domain_slots);
  g_free (self->v4_slots);
  g_free (self->addr_slots);
  g_free (self->others);
  g_string_chunk_free (self->strings);
  g_free (self);
}

guint
pc_rule_list_get_n_rules (const PcRuleList *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_rules;
}

const PcRule *
pc_rule_list_get_rule (const PcRuleList *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_rules, NULL);

  return &self->rules[index];
}

gboolean
pc_rule_list_has_domain_rules (const PcRuleList *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->has_domain_rules;
}

PcAction
pc_rule_get_action (const PcRule *rule)
{
  g_return_val_if_fail (rule != NULL, PC_ACTION_BLOCK);

  return (PcAction)rule->action;
}

guint
pc_rule_get_line (const PcRule *rule)
{
  g_return_val_if_fail (rule != NULL, 0);

  return rule->line;
}

const char *
pc_rule_get_text (const PcRule *rule)
{
  g_return_val_if_fail (rule != NULL, NULL);

  return rule->text;
}

guint
pc_rule_get_index (const PcRule *rule)
{
  g_return_val_if_fail (rule != NULL, 0);

  return rule->index;
}

/* ---- matching ------------------------------------------------------------------------------ */

/* Lowers *best to the first candidate in cand[0, count) that is of an accepted kind and whose
 * filter matches; candidates are ascending, so stop at *best. */
static inline void
scan_candidates (const PcRuleList *self,
                 const guint32 *cand,
                 guint32 count,
                 guint kinds,
                 const PcFlowKey *key,
                 guint32 *best)
{
  for (guint32 j = 0; j < count; j++)
    {
      guint32 idx = cand[j];
      const PcRule *rule;

      if (idx >= *best)
        return;
      rule = &self->rules[idx];
      if ((kinds & (1u << rule->kind)) != 0 && filter_matches (rule, key))
        {
          *best = idx;
          return;
        }
    }
}

static inline const DomainSlot *
domain_lookup (const PcRuleList *self, guint32 hash, const char *name, gsize len)
{
  guint32 i = hash & self->domain_mask;

  for (;;)
    {
      const DomainSlot *slot = &self->domain_slots[i];

      if (slot->name == NULL)
        return NULL;
      if (slot->hash == hash && slot->len == len && ascii_caseeq (slot->name, name, len))
        return slot;
      i = (i + 1) & self->domain_mask;
    }
}

static void
match_domain_indexed (const PcRuleList *self, const char *name, const PcFlowKey *key, guint32 *best)
{
  gsize len = strlen (name);
  guint32 h = FNV_OFFSET;

  if (len > 0 && name[len - 1] == '.')
    len--;
  /* one pass from the right: at each label start the running hash is that of the suffix */
  for (gsize i = len; i-- > 0;)
    {
      h = (h ^ ascii_lower ((guint8)name[i])) * FNV_PRIME;
      if (i == 0 || name[i - 1] == '.')
        {
          const DomainSlot *slot = domain_lookup (self, fmix32 (h), name + i, len - i);

          if (slot != NULL)
            scan_candidates (self, self->cand + slot->first, slot->count,
                             i == 0 ? KINDS_FULL_NAME : KINDS_SUFFIX, key, best);
        }
    }
}

static void
match_v4_indexed (const PcRuleList *self, const guint8 b[4], const PcFlowKey *key, guint32 *best)
{
  guint32 a = ((guint32)b[0] << 24) | ((guint32)b[1] << 16) | ((guint32)b[2] << 8) | b[3];

  for (guint p = 0; p < self->n_v4_prefixes; p++)
    {
      guint8 prefix = self->v4_prefixes[p];
      guint32 net = a & v4_mask_of (prefix);

      for (guint32 i = v4_hash (net, prefix) & self->v4_mask; self->v4_slots[i].used;
           i = (i + 1) & self->v4_mask)
        {
          const V4Slot *slot = &self->v4_slots[i];

          if (slot->net == net && slot->prefix == prefix)
            {
              scan_candidates (self, self->cand + slot->first, slot->count, 1u << ENTITY_ADDR, key,
                               best);
              break;
            }
        }
    }
}

static void
match_v6_indexed (const PcRuleList *self,
                  const guint8 addr[16],
                  const PcFlowKey *key,
                  guint32 *best)
{
  for (guint p = 0; p < self->n_v6_prefixes; p++)
    {
      guint8 prefix = self->v6_prefixes[p];
      guint8 masked[16];
      guint32 hash;

      mask_addr (addr, AF_INET6, prefix, masked);
      hash = addr_hash (AF_INET6, prefix, masked);
      for (guint32 i = hash & self->addr_mask; self->addr_slots[i].family != 0;
           i = (i + 1) & self->addr_mask)
        {
          const AddrSlot *slot = &self->addr_slots[i];

          if (slot->hash == hash && slot->prefix == prefix && memcmp (slot->addr, masked, 16) == 0)
            {
              scan_candidates (self, self->cand + slot->first, slot->count, 1u << ENTITY_ADDR, key,
                               best);
              break;
            }
        }
    }
}

static void
match_addr_indexed (const PcRuleList *self, const PcFlowKey *key, guint32 *best)
{
  guint8 family;
  guint8 addr[16];

  flow_remote_addr (key, &family, addr);
  if (family == AF_INET && self->v4_slots != NULL)
    match_v4_indexed (self, addr, key, best);
  else if (family == AF_INET6 && self->addr_slots != NULL)
    match_v6_indexed (self, addr, key, best);
}

void
pc_rule_list_match (const PcRuleList *self, const PcMatchInput *input, PcMatchResult *result)
{
  guint32 best = G_MAXUINT32;
  gboolean geo_skipped = FALSE;

  g_return_if_fail (self != NULL);
  g_return_if_fail (input != NULL && input->key != NULL);
  g_return_if_fail (result != NULL);

  if (self->domain_slots != NULL)
    {
      if (input->domain != NULL)
        match_domain_indexed (self, input->domain, input->key, &best);
      for (guint i = 0; input->cnames != NULL && input->cnames[i] != NULL; i++)
        match_domain_indexed (self, input->cnames[i], input->key, &best);
    }
  if (self->v4_slots != NULL || self->addr_slots != NULL)
    match_addr_indexed (self, input->key, &best);

  /* the ordered rest only matters up to the best indexed candidate */
  for (guint i = 0; i < self->n_others; i++)
    {
      const PcRule *rule = &self->rules[self->others[i]];

      if (rule->index >= best)
        break;
      if (filter_matches (rule, input->key) && other_entity_matches (rule, input, &geo_skipped))
        {
          best = rule->index;
          break;
        }
    }

  result->rule = best != G_MAXUINT32 ? &self->rules[best] : NULL;
  result->geo_unavailable = geo_skipped;
}

/* ---- the linear reference ------------------------------------------------------------------ */

static gboolean
domain_matches_linear (const PcRule *rule, const char *name)
{
  gsize m = strlen (name);
  gsize n = rule->name_len;

  if (m > 0 && name[m - 1] == '.')
    m--;
  if (rule->kind != ENTITY_DOMAIN_SUB && m == n && ascii_caseeq (name, rule->name, n))
    return TRUE;
  if (rule->kind != ENTITY_DOMAIN_EXACT && m > n && name[m - n - 1] == '.'
      && ascii_caseeq (name + m - n, rule->name, n))
    return TRUE;
  return FALSE;
}

void
pc_rule_list_match_linear (const PcRuleList *self, const PcMatchInput *input, PcMatchResult *result)
{
  gboolean geo_skipped = FALSE;
  guint8 family;
  guint8 addr[16];

  g_return_if_fail (self != NULL);
  g_return_if_fail (input != NULL && input->key != NULL);
  g_return_if_fail (result != NULL);

  flow_remote_addr (input->key, &family, addr);
  result->rule = NULL;
  for (guint i = 0; i < self->n_rules && result->rule == NULL; i++)
    {
      const PcRule *rule = &self->rules[i];
      gboolean hit = FALSE;

      if (!filter_matches (rule, input->key))
        continue;
      if (is_domain_kind (rule->kind))
        {
          hit = input->domain != NULL && domain_matches_linear (rule, input->domain);
          for (guint j = 0; !hit && input->cnames != NULL && input->cnames[j] != NULL; j++)
            hit = domain_matches_linear (rule, input->cnames[j]);
        }
      else if (rule->kind == ENTITY_ADDR)
        {
          guint8 masked[16];

          mask_addr (addr, family, rule->prefix, masked);
          hit = family == rule->addr.family && memcmp (masked, rule->addr.b, 16) == 0;
        }
      else
        hit = other_entity_matches (rule, input, &geo_skipped);
      if (hit)
        result->rule = rule;
    }
  result->geo_unavailable = geo_skipped;
}
