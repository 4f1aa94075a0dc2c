/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-policy.h"

#include <stdio.h>

const char *
pc_verdict_to_string (PcVerdict verdict)
{
  return verdict == PC_VERDICT_ALLOW ? "allow" : "block";
}

void
pc_policy_decide (PcSettings *settings, const PcDecisionInput *input, PcDecision *out)
{
  gboolean inbound = input->key->direction == PC_DIR_INBOUND;
  PcRuleList *rules = inbound ? settings->inbound_endpoints : settings->endpoints;
  PcMatchInput match = {
    .key = input->key,
    .scope = pc_scope_classify (&input->key->raddr),
    .domain = input->domain,
  };
  PcMatchResult result = { 0 };

  if (input->own)
    {
      out->verdict = PC_VERDICT_ALLOW;
      out->kind = PC_REASON_OWN;
      g_strlcpy (out->reason, "Portcullis itself", sizeof out->reason);
      return;
    }

  pc_rule_list_match (rules, &match, &result);
  if (result.rule != NULL)
    {
      out->verdict = pc_rule_get_action (result.rule) == PC_ACTION_ALLOW ? PC_VERDICT_ALLOW
                                                                         : PC_VERDICT_BLOCK;
      out->kind = PC_REASON_RULE;
      snprintf (out->reason, sizeof out->reason, "global %s rule %u '%s'",
                inbound ? "inbound-endpoints" : "endpoints", pc_rule_get_line (result.rule),
                pc_rule_get_text (result.rule));
      return;
    }

  out->kind = PC_REASON_DEFAULT;
  switch (settings->default_action)
    {
      case PC_DEFAULT_ALLOW:
        out->verdict = PC_VERDICT_ALLOW;
        g_strlcpy (out->reason, "default action: allow", sizeof out->reason);
        break;
      case PC_DEFAULT_BLOCK:
        out->verdict = PC_VERDICT_BLOCK;
        g_strlcpy (out->reason, "default action: block", sizeof out->reason);
        break;
      case PC_DEFAULT_PROMPT:
      default:
        /* Prompts need the D-Bus service and a prompt agent; until one answers, the safe
       * outcome of an unanswered prompt applies. */
        out->verdict = PC_VERDICT_BLOCK;
        g_strlcpy (out->reason, "default action: prompt (no prompt agent, blocked)",
                   sizeof out->reason);
        break;
    }
}
