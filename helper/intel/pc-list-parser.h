/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter list parsing: hosts files, plain domain lists, AdBlock-style domain rules and IP/CIDR
 * lists. The parser never allocates per entry: it hands each accepted entry to a callback and
 * counts what it had to reject, so a 1,000,000-line list streams straight into a set builder.
 *
 * Lists are untrusted bytes (downloaded, or written by the user): any byte sequence is parsed
 * without crashing, bad lines are skipped and counted, and nothing is ever half-accepted. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef enum
{
  PC_LIST_FORMAT_AUTO,    /* each line as whichever of the formats below it is */
  PC_LIST_FORMAT_HOSTS,   /* "0.0.0.0 ads.example.com [more names] [# comment]" */
  PC_LIST_FORMAT_DOMAINS, /* "ads.example.com" or "*.ads.example.com", one per line */
  PC_LIST_FORMAT_ADBLOCK, /* "||ads.example.com^" (and "@@||…^" exceptions); other rules rejected */
  PC_LIST_FORMAT_IP,      /* "192.0.2.1", "192.0.2.0/24", "2001:db8::/32" */
} PcListFormat;

/* Parses "auto", "hosts", "domains", "adblock" or "ip" (any case). */
gboolean pc_list_format_from_string (const char *text, PcListFormat *out);
const char *pc_list_format_to_string (PcListFormat format);

typedef enum
{
  PC_LIST_ENTRY_NONE = 0,
  PC_LIST_ENTRY_EXCEPTION = 1 << 0, /* AdBlock "@@||domain^": an allow entry, not a block */
} PcListEntryFlags;

/* domain: lower case, no trailing dot, valid (see pc-list-parser.c), NUL-terminated; valid only
 * during the call. */
typedef void (*PcListDomainFunc) (const char *domain,
                                  gsize len,
                                  PcListEntryFlags flags,
                                  gpointer user_data);
/* addr with host bits cleared; prefix_len 0-32 (IPv4) or 0-128 (IPv6). IPv4-mapped IPv6 is
 * given as IPv4. */
typedef void (*PcListNetFunc) (const PcAddr *addr, guint prefix_len, gpointer user_data);

typedef struct
{
  guint n_lines;    /* lines read */
  guint n_domains;  /* domain entries handed to the callback (a hosts line may hold several) */
  guint n_nets;     /* address/CIDR entries handed to the callback */
  guint n_comments; /* comment, header and blank lines (not errors) */
  guint n_rejected; /* lines or hosts-file names that were not understood */
  guint first_rejected_line;         /* 1-based, 0 when nothing was rejected */
  const char *first_rejected_reason; /* static string, NULL when nothing was rejected */
} PcListStats;

/* Parses len bytes of data (NUL bytes are treated as junk, a UTF-8 BOM is skipped). Either
 * callback may be NULL (entries of that kind are then counted but not delivered). stats is
 * zeroed first. */
void pc_list_parse (const char *data,
                    gsize len,
                    PcListFormat format,
                    PcListDomainFunc domain_func,
                    PcListNetFunc net_func,
                    gpointer user_data,
                    PcListStats *stats);

/* Validates and normalises one domain name (lower case, one trailing dot removed, IDN only as
 * punycode "xn--…"). Writes it to out (at least 254 bytes) and returns its length, or 0 when the
 * name is not valid; *reason (may be NULL) then says why. */
gsize pc_list_normalize_domain (const char *name, gsize len, char out[254], const char **reason);

G_END_DECLS
