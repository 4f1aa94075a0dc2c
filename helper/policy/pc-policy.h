/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The decision for a new flow (DESIGN.md "Decision"): plain C, no allocation, called on the
 * packet path. */
#pragma once

#include <glib.h>

#include "pc-net.h"
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
  PC_REASON_RULE,    /* an endpoint rule matched */
  PC_REASON_DEFAULT, /* the default action */
} PcReasonKind;

#define PC_REASON_LEN 192

typedef struct
{
  PcVerdict verdict;
  PcReasonKind kind;
  char reason[PC_REASON_LEN]; /* for people: "global rule 3 '- 10.0.0.0/8'" */
} PcDecision;

typedef struct
{
  const PcFlowKey *key;
  const char *domain; /* NULL when not known */
  gboolean own;       /* the flow belongs to portcullisd itself */
} PcDecisionInput;

void pc_policy_decide (PcSettings *settings, const PcDecisionInput *input, PcDecision *out);

const char *pc_verdict_to_string (PcVerdict verdict);

G_END_DECLS
