/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The decision for a new flow (DESIGN.md "Decision"): plain C, no allocation, called on the
 * packet path. */
#pragma once

#include <glib.h>

#include "pc-net.h"
#include "pc-process.h"
#include "pc-rule.h"
#include "pc-settings.h"

G_BEGIN_DECLS

typedef enum
{
  PC_VERDICT_ALLOW,
  PC_VERDICT_BLOCK,
} PcVerdict;

typedef enum
{
  PC_REASON_OWN,     /* Portcullis' own traffic */
  PC_REASON_RULE,    /* an endpoint rule matched (profile, temporary or global) */
  PC_REASON_DEFAULT, /* the default action */
  PC_REASON_SCOPE,   /* a network scope setting (block-lan, block-p2p, ...) */
  PC_REASON_LIST,    /* a filter list of the filter-lists setting */
} PcReasonKind;

typedef struct _PcProfile PcProfile;

#define PC_REASON_LEN 192

typedef struct
{
  PcVerdict verdict;
  PcReasonKind kind;
  char reason[PC_REASON_LEN]; /* for people: "global rule 3 '- 10.0.0.0/8'" */
  PcBlockReaction reaction;   /* how to block: the effective block-reaction of the flow */
  /* The default action is "prompt": verdict holds prompt-default, which applies when nobody
   * answers (no prompt agent, or the prompt expires); the packet path may ask first. */
  gboolean prompt;
  guint prompt_timeout; /* seconds, the effective prompt-timeout */
} PcDecision;

typedef struct
{
  const PcFlowKey *key;
  const char *domain; /* NULL when not known */
  gboolean own;       /* the flow belongs to portcullisd itself */
  /* The flow's profile (NULL: global settings only) and process (NULL: owner unknown). */
  const PcProfile *profile;
  const PcProcess *process;
  /* The process got a DNS answer for raddr before connecting. There is no DNS memory yet
   * (the resolver issue adds it), so the packet path passes FALSE: block-p2p then blocks every
   * outbound connection to an internet address, plus the STUN/TURN ports 3478, 5349 and
   * 19302 in any scope but localhost. */
  gboolean had_dns_answer;
  /* Filter list membership for L:ID rules and the filter-lists step; NULL until filter lists
   * exist (then L:ID rules never match and the filter-lists step passes). */
  PcListLookupFunc in_list;
  gpointer in_list_data;
  /* Geo data for country/continent/ASN rules; geo_available FALSE: "no geo database". */
  const char *country;
  const char *continent;
  guint32 asn;
  gboolean geo_available;
} PcDecisionInput;

/* The decision in DESIGN.md's order: own traffic -> the profile's temporary rules and
 * endpoint rules -> global endpoint rules -> network scopes -> filter lists -> default action.
 * settings are the global effective settings; input->profile's effective values override them
 * for scopes, lists and the default. */
void pc_policy_decide (PcSettings *settings, const PcDecisionInput *input, PcDecision *out);

const char *pc_verdict_to_string (PcVerdict verdict);

G_END_DECLS
