/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter list parser.
 *
 * Lines end at '\n' ("\r\n" too); leading and trailing blanks are ignored. In every format,
 * blank lines and lines starting with '#' or '!' are comments; in AdBlock (and auto) also
 * "[Adblock Plus 2.0]"-style headers. Outside AdBlock rules, '#' starts a trailing comment.
 *
 *   hosts    ADDR NAME... : every NAME is a listed domain; ADDR may be any IPv4/IPv6 address
 *            (usually 0.0.0.0 or 127.0.0.1; "%zone" suffixes are ignored). The boilerplate names
 *            of a system hosts file (localhost, ip6-allnodes, ...) are skipped silently.
 *   domains  one NAME per line; "*.NAME" is read as NAME (a listed domain always covers its
 *            subdomains, so the wildcard adds nothing, and the parent itself is then listed too).
 *   adblock  "||NAME^", optionally followed by '|' and by "$important", "$all", "$document" or
 *            "$doc" (options that keep the rule domain-wide). "@@||NAME^" is an exception (allow)
 *            entry. Every other rule (paths, regexes, cosmetic "##" rules, other options such as
 *            $third-party, which a domain set cannot express) is rejected and counted.
 *   ip       ADDR or ADDR/PREFIX; host bits are cleared ("192.0.2.7/24" is 192.0.2.0/24).
 *   auto     each line as the format it looks like: "||" or "@@||" starts an AdBlock rule, two or
 *            more words starting with an address are a hosts line, a single address or CIDR an
 *            IP entry, a single name a domain.
 *
 * NAME: letters, digits, '-' and '_' in labels of 1-63 characters (no '-' at either end of a
 * label), 253 characters at most, one trailing dot removed, lower-cased. Non-ASCII bytes are
 * rejected (internationalised names only as punycode, "xn--…"), and so is a name whose last
 * label is all digits (an IPv4 address in the wrong place). */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-list-parser.h"

#include <string.h>

#define MAX_TOKENS 64

static const char *const format_names[] = { "auto", "hosts", "domains", "adblock", "ip" };

gboolean
pc_list_format_from_string (const char *text, PcListFormat *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (format_names); i++)
    if (g_ascii_strcasecmp (text, format_names[i]) == 0)
      {
        *out = (PcListFormat)i;
        return TRUE;
      }
  return FALSE;
}

const char *
pc_list_format_to_string (PcListFormat format)
{
  if ((guint)format < G_N_ELEMENTS (format_names))
    return format_names[format];
  return "unknown";
}

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

gsize
pc_list_normalize_domain (const char *name, gsize len, char out[254], const char **reason)
{
  const char *why = NULL;
  gsize label_start = 0;
  gboolean last_all_digits = TRUE;

  if (len > 0 && name[len - 1] == '.')
    len--;
  if (len == 0)
    why = "empty name";
  else if (len > 253)
    why = "name longer than 253 characters";

  for (gsize i = 0; why == NULL && i <= len; i++)
    {
      char c = i < len ? name[i] : '.';

      if (c == '.')
        {
          gsize label_len = i - label_start;

          if (label_len == 0)
            why = "empty label";
          else if (label_len > 63)
            why = "label longer than 63 characters";
          else if (out[label_start] == '-' || out[i - 1] == '-')
            why = "label starts or ends with '-'";
          else if (i < len)
            {
              label_start = i + 1;
              last_all_digits = TRUE;
              out[i] = '.';
            }
          continue;
        }
      if ((guchar)c >= 0x80)
        why = "not ASCII (internationalised names only as punycode)";
      else if (g_ascii_isalnum (c) || c == '-' || c == '_')
        {
          out[i] = g_ascii_tolower (c);
          if (!g_ascii_isdigit (c))
            last_all_digits = FALSE;
        }
      else
        why = "character not allowed in a domain name";
    }
  if (why == NULL && last_all_digits)
    why = "last label is all digits (an address, not a name)";

  if (why != NULL)
    {
      if (reason != NULL)
        *reason = why;
      return 0;
    }
  out[len] = '\0';
  return len;
}

typedef struct
{
  PcListFormat format;
  PcListDomainFunc domain_func;
  PcListNetFunc net_func;
  gpointer user_data;
  PcListStats *stats;
  guint line_no;
} Parser;

typedef struct
{
  const char *s;
  gsize len;
} Token;

static void
reject (Parser *p, const char *reason)
{
  p->stats->n_rejected++;
  if (p->stats->first_rejected_line == 0)
    {
      p->stats->first_rejected_line = p->line_no;
      p->stats->first_rejected_reason = reason;
    }
}

static gboolean
emit_domain (Parser *p, const char *s, gsize len, PcListEntryFlags flags)
{
  char buf[254];
  const char *why = NULL;
  gsize n;

  if (len > 2 && s[0] == '*' && s[1] == '.')
    {
      s += 2;
      len -= 2;
    }
  n = pc_list_normalize_domain (s, len, buf, &why);
  if (n == 0)
    {
      reject (p, why);
      return FALSE;
    }
  p->stats->n_domains++;
  if (p->domain_func != NULL)
    p->domain_func (buf, n, flags, p->user_data);
  return TRUE;
}

/* Address with an optional "%zone" (ignored) into out; FALSE if it is not an address. */
static gboolean
parse_addr (const char *s, gsize len, PcAddr *out)
{
  char buf[64];
  const char *pct = memchr (s, '%', len);

  if (pct != NULL)
    len = pct - s;
  if (len == 0 || len >= sizeof buf)
    return FALSE;
  memcpy (buf, s, len);
  buf[len] = '\0';
  return pc_addr_parse (buf, out);
}

static void
mask_addr (PcAddr *addr, guint prefix_len)
{
  guint n_bytes = addr->family == AF_INET ? 4 : 16;

  for (guint i = 0; i < n_bytes; i++)
    {
      guint bit = i * 8;

      if (bit >= prefix_len)
        addr->b[i] = 0;
      else if (prefix_len - bit < 8)
        addr->b[i] &= (guint8)(0xff << (8 - (prefix_len - bit)));
    }
}

/* "ADDR" or "ADDR/LEN". Returns FALSE with *why set when it is not an address at all. */
static gboolean
parse_net (const char *s, gsize len, PcAddr *addr, guint *prefix_len, const char **why)
{
  const char *slash = memchr (s, '/', len);
  gsize addr_len = slash != NULL ? (gsize)(slash - s) : len;
  guint max;

  if (memchr (s, '%', len) != NULL || !parse_addr (s, addr_len, addr))
    {
      *why = "not an IP address or CIDR";
      return FALSE;
    }
  max = addr->family == AF_INET ? 32 : 128;
  *prefix_len = max;
  if (slash != NULL)
    {
      const char *d = slash + 1;
      gsize n = len - addr_len - 1;
      guint v = 0;

      if (n == 0 || n > 3)
        {
          *why = "bad prefix length";
          return FALSE;
        }
      for (gsize i = 0; i < n; i++)
        {
          if (!g_ascii_isdigit (d[i]))
            {
              *why = "bad prefix length";
              return FALSE;
            }
          v = v * 10 + (guint)(d[i] - '0');
        }
      if (v > max)
        {
          *why = addr->family == AF_INET ? "prefix length must be 0-32"
                                         : "prefix length must be 0-128";
          return FALSE;
        }
      *prefix_len = v;
    }
  if (addr->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&addr->v6) && *prefix_len >= 96)
    {
      pc_addr_unmap (addr);
      *prefix_len -= 96;
    }
  mask_addr (addr, *prefix_len);
  return TRUE;
}

static void
emit_net (Parser *p, const char *s, gsize len)
{
  PcAddr addr;
  guint prefix_len;
  const char *why = NULL;

  if (!parse_net (s, len, &addr, &prefix_len, &why))
    {
      reject (p, why);
      return;
    }
  p->stats->n_nets++;
  if (p->net_func != NULL)
    p->net_func (&addr, prefix_len, p->user_data);
}

static gboolean
token_is (const Token *t, const char *word)
{
  return strlen (word) == t->len && g_ascii_strncasecmp (t->s, word, t->len) == 0;
}

static gboolean
is_hosts_boilerplate (const Token *t)
{
  static const char *const names[] = { "localhost",     "localhost.localdomain",
                                       "local",         "broadcasthost",
                                       "ip6-localhost", "ip6-loopback",
                                       "ip6-localnet",  "ip6-mcastprefix",
                                       "ip6-allnodes",  "ip6-allrouters",
                                       "ip6-allhosts",  "0.0.0.0",
                                       "localhost.",    "localdomain" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (token_is (t, names[i]))
      return TRUE;
  return FALSE;
}

static void
parse_hosts_line (Parser *p, const Token *tokens, guint n_tokens)
{
  PcAddr addr;

  if (!parse_addr (tokens[0].s, tokens[0].len, &addr))
    {
      reject (p, "hosts line does not start with an IP address");
      return;
    }
  if (n_tokens < 2)
    {
      reject (p, "hosts line without a host name");
      return;
    }
  for (guint i = 1; i < n_tokens; i++)
    if (!is_hosts_boilerplate (&tokens[i]))
      emit_domain (p, tokens[i].s, tokens[i].len, PC_LIST_ENTRY_NONE);
}

static gboolean
adblock_option_ok (const char *s, gsize len)
{
  static const char *const ok[] = { "important", "all", "document", "doc" };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    if (strlen (ok[i]) == len && memcmp (s, ok[i], len) == 0)
      return TRUE;
  return FALSE;
}

static void
parse_adblock_line (Parser *p, const char *s, gsize len)
{
  PcListEntryFlags flags = PC_LIST_ENTRY_NONE;
  const char *caret;
  const char *rest;
  const char *end = s + len;

  if (len >= 2 && s[0] == '@' && s[1] == '@')
    {
      flags |= PC_LIST_ENTRY_EXCEPTION;
      s += 2;
    }
  if (end - s < 2 || s[0] != '|' || s[1] != '|')
    {
      reject (p, "not an AdBlock domain rule (||name^)");
      return;
    }
  s += 2;
  caret = memchr (s, '^', end - s);
  if (caret == NULL)
    {
      reject (p, "AdBlock rule without '^' after the name");
      return;
    }
  rest = caret + 1;
  if (rest < end && *rest == '|')
    rest++;
  if (rest < end)
    {
      if (*rest != '$')
        {
          reject (p, "AdBlock rule with a path or pattern (only domain rules are used)");
          return;
        }
      for (gboolean more = TRUE; more;)
        {
          const char *comma;
          const char *opt_end;

          rest++; /* past '$' or ',' */
          comma = memchr (rest, ',', end - rest);
          opt_end = comma != NULL ? comma : end;
          if (!adblock_option_ok (rest, opt_end - rest))
            {
              reject (p, "AdBlock rule with options a domain list cannot express");
              return;
            }
          more = comma != NULL;
          rest = opt_end;
        }
    }
  emit_domain (p, s, caret - s, flags);
}

static void
parse_line (Parser *p, const char *s, gsize len)
{
  Token tokens[MAX_TOKENS];
  guint n_tokens = 0;
  gsize i = 0;
  gboolean adblock_ok = p->format == PC_LIST_FORMAT_AUTO || p->format == PC_LIST_FORMAT_ADBLOCK;

  while (len > 0 && is_blank (s[0]))
    {
      s++;
      len--;
    }
  while (len > 0 && is_blank (s[len - 1]))
    len--;

  if (len == 0 || s[0] == '#' || s[0] == '!' || (adblock_ok && s[0] == '['))
    {
      p->stats->n_comments++;
      return;
    }
  if (memchr (s, '\0', len) != NULL)
    {
      reject (p, "line contains a NUL byte");
      return;
    }
  if (adblock_ok && (s[0] == '|' || s[0] == '@'))
    {
      parse_adblock_line (p, s, len);
      return;
    }
  if (p->format == PC_LIST_FORMAT_ADBLOCK)
    {
      reject (p, "not an AdBlock domain rule (||name^)");
      return;
    }

  /* a trailing comment */
  {
    const char *hash = memchr (s, '#', len);

    if (hash != NULL)
      {
        len = hash - s;
        while (len > 0 && is_blank (s[len - 1]))
          len--;
      }
  }

  while (i < len)
    {
      gsize start;

      while (i < len && is_blank (s[i]))
        i++;
      if (i >= len)
        break;
      start = i;
      while (i < len && !is_blank (s[i]))
        i++;
      if (n_tokens == MAX_TOKENS)
        {
          reject (p, "too many words on one line");
          return;
        }
      tokens[n_tokens].s = s + start;
      tokens[n_tokens].len = i - start;
      n_tokens++;
    }

  switch (p->format)
    {
      case PC_LIST_FORMAT_HOSTS:
        parse_hosts_line (p, tokens, n_tokens);
        break;
      case PC_LIST_FORMAT_DOMAINS:
        if (n_tokens != 1)
          reject (p, "more than one word on a domain list line");
        else
          emit_domain (p, tokens[0].s, tokens[0].len, PC_LIST_ENTRY_NONE);
        break;
      case PC_LIST_FORMAT_IP:
        if (n_tokens != 1)
          reject (p, "more than one word on an IP list line");
        else
          emit_net (p, tokens[0].s, tokens[0].len);
        break;
      case PC_LIST_FORMAT_AUTO:
      default:
        {
          PcAddr addr;

          if (n_tokens == 1 && memchr (tokens[0].s, '/', tokens[0].len) != NULL)
            emit_net (p, tokens[0].s, tokens[0].len);
          else if (n_tokens == 1
                   && (memchr (tokens[0].s, ':', tokens[0].len) != NULL
                       || parse_addr (tokens[0].s, tokens[0].len, &addr)))
            emit_net (p, tokens[0].s, tokens[0].len);
          else if (n_tokens == 1)
            emit_domain (p, tokens[0].s, tokens[0].len, PC_LIST_ENTRY_NONE);
          else
            parse_hosts_line (p, tokens, n_tokens);
        }
        break;
    }
}

void
pc_list_parse (const char *data,
               gsize len,
               PcListFormat format,
               PcListDomainFunc domain_func,
               PcListNetFunc net_func,
               gpointer user_data,
               PcListStats *stats)
{
  Parser p = { format, domain_func, net_func, user_data, stats, 0 };
  gsize pos = 0;

  memset (stats, 0, sizeof *stats);
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    pos = 3;

  while (pos < len)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize)(nl - (data + pos)) : len - pos;

      p.line_no++;
      stats->n_lines++;
      parse_line (&p, data + pos, line_len);
      pos += line_len + 1;
    }
}
