/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint rules (DESIGN.md "Endpoint rule syntax"): parsing with precise errors and fast
 * first-match evaluation. A PcRuleList is immutable once parsed and may be shared between
 * threads (atomic refcount). */
#pragma once

#include <glib.h>

#include "pc-net.h"
#include "pc-scope.h"

G_BEGIN_DECLS

typedef enum
{
  PC_ACTION_ALLOW,
  PC_ACTION_BLOCK,
} PcAction;

typedef struct _PcRule PcRule;
typedef struct _PcRuleList PcRuleList;
typedef struct _PcMatchInput PcMatchInput;

/* Answers whether the flow's domain/address is on filter list list_id ("MAL", "TRAC", ...). */
typedef gboolean (*PcListLookupFunc) (const char *list_id,
                                      const PcMatchInput *input,
                                      gpointer user_data);

/* Scratch space for the in_list function: what the filter lists say of one input, worked out by
 * its first list lookup and reused by the next ones (a decision asks up to a dozen lists about
 * the same name and address). Zeroed by whoever makes the input. */
typedef struct
{
  gboolean known;
  guint32 mask;
} PcListMemo;

struct _PcMatchInput
{
  const PcFlowKey *key;      /* required; key->direction says inbound or outbound */
  PcScope scope;             /* pc_scope_classify (&key->raddr), computed once by the caller */
  const char *domain;        /* lower-case, no trailing dot; NULL when not known */
  const char *const *cnames; /* CNAME chain of the domain (NULL-terminated), or NULL */
  const char *country;       /* ISO 3166 alpha-2, upper case; NULL when unknown */
  const char *continent;     /* two-letter continent code (EU, NA, ...); NULL when unknown */
  guint32 asn;               /* 0 when unknown */
  gboolean geo_available;    /* FALSE: no geo database; country/ASN rules cannot be judged */
  PcListLookupFunc in_list;  /* may be NULL: L:ID rules then never match */
  gpointer user_data;
  PcListMemo *list_memo; /* may be NULL; only for inputs whose key and names stay the same */
};

typedef struct
{
  const PcRule *rule;       /* the first matching rule, NULL if none */
  gboolean geo_unavailable; /* a country/continent/ASN rule was skipped for lack of geo data */
} PcMatchResult;

/* The grammar and the decisions DESIGN.md leaves open (local ports are written "tcp/local:22"
 * or "tcp/local:8000-8080"; "*" with a port means any protocol that has ports; IPv4-mapped IPv6
 * counts as IPv4; two letters are a country) are documented at the top of pc-rule.c. */

/* Parses a rule list, one rule per line ('#' comments and blank lines allowed). The whole list
 * is accepted or none of it: on error returns NULL with PC_ERROR_INVALID_RULE and a message like
 * "line 3: '10.0.0.0/33': prefix length must be 0-32". */
PcRuleList *pc_rule_list_parse (const char *text, GError **error);
/* Same, for lists stored as separate strings (GKeyFile ';' lists, D-Bus arrays); line numbers
 * are 1-based indexes into rules. */
PcRuleList *pc_rule_list_parse_strv (const char *const *rules, GError **error);
PcRuleList *pc_rule_list_ref (PcRuleList *self);
void pc_rule_list_unref (PcRuleList *self);
guint pc_rule_list_get_n_rules (const PcRuleList *self);
const PcRule *pc_rule_list_get_rule (const PcRuleList *self, guint index);
/* TRUE if any rule needs a domain name (the packet path may wait for DNS memory). */
gboolean pc_rule_list_has_domain_rules (const PcRuleList *self);

/* First match wins. */
void pc_rule_list_match (const PcRuleList *self, const PcMatchInput *input, PcMatchResult *result);

PcAction pc_rule_get_action (const PcRule *rule);
guint pc_rule_get_line (const PcRule *rule);       /* 1-based line in the parsed text */
const char *pc_rule_get_text (const PcRule *rule); /* the rule as written, trimmed */
guint pc_rule_get_index (const PcRule *rule);      /* 0-based position in its list */

/* Validates one rule line (for D-Bus "add rule"); same error format without the line prefix. */
gboolean pc_rule_validate (const char *line, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcRuleList, pc_rule_list_unref)

G_END_DECLS
