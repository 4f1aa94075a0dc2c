/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-policy.h"

#include <stdio.h>
#include <string.h>

#include "pc-profile.h"

const char *
pc_verdict_to_string (PcVerdict verdict)
{
  return verdict == PC_VERDICT_ALLOW ? "allow" : "block";
}

static void
set_rule_verdict (PcDecision *out, const PcRule *rule)
{
  out->verdict = pc_rule_get_action (rule) == PC_ACTION_ALLOW ? PC_VERDICT_ALLOW : PC_VERDICT_BLOCK;
  out->kind = PC_REASON_RULE;
}

/* Adds "no geo database" when a country/ASN rule was skipped on the way to this verdict, so
 * nobody believes such a rule was judged. */
static void
note_geo (PcDecision *out, gboolean geo_skipped)
{
  if (geo_skipped)
    g_strlcat (out->reason, "; country/ASN rules skipped: no geo database", sizeof out->reason);
}

static gboolean
is_stun_port (const PcFlowKey *key)
{
  return (key->proto == IPPROTO_UDP || key->proto == IPPROTO_TCP)
         && (key->rport == 3478 || key->rport == 5349 || key->rport == 19302);
}

/* dns-bypass-prevention: the ways around Portcullis' resolver an app could take. DNS over TLS
 * and over QUIC use port 853; the known public DNS-over-HTTPS servers are the DNS-BYPASS list,
 * by name on any port (the resolver refuses the names too) and by address on ports 443 and 853
 * (the same addresses often serve plain web sites too). NULL when the flow is none of these. */
static const char *
dns_bypass_reason (const PcDecisionInput *input, const PcMatchInput *match)
{
  const PcFlowKey *key = input->key;
  gboolean tcp_udp = key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP;

  if (tcp_udp && key->rport == 853)
    return "dns-bypass-prevention: DNS over TLS/QUIC (port 853)";
  if (input->in_list == NULL)
    return NULL;
  if (input->domain != NULL)
    {
      PcFlowKey name_only = *key;
      PcMatchInput m = *match;

      memset (&name_only.raddr, 0, sizeof name_only.raddr);
      m.key = &name_only;
      m.list_memo = NULL; /* another input than the decision's */
      if (input->in_list ("DNS-BYPASS", &m, input->in_list_data))
        return "dns-bypass-prevention: a public DNS-over-HTTPS server (list DNS-BYPASS)";
    }
  if (tcp_udp && (key->rport == 443 || key->rport == 853) && key->raddr.family != 0)
    {
      PcMatchInput m = *match;

      m.domain = NULL;
      m.cnames = NULL;
      m.list_memo = NULL;
      if (input->in_list ("DNS-BYPASS", &m, input->in_list_data))
        return "dns-bypass-prevention: the address of a public DNS-over-HTTPS server (list "
               "DNS-BYPASS)";
    }
  return NULL;
}

/* The source of a setting for the reason text. */
static const char *
source_of (const PcProfile *profile, PcSettingKey key, char *buf, gsize len)
{
  if (profile != NULL && pc_profile_overrides (profile, key))
    snprintf (buf, len, "profile '%s'", profile->name);
  else
    g_strlcpy (buf, "global", len);
  return buf;
}

void
pc_policy_decide (PcSettings *settings, const PcDecisionInput *input, PcDecision *out)
{
  const PcProfile *profile = input->profile;
  const PcSettings *eff = profile != NULL ? profile->settings : settings;
  gboolean inbound = input->key->direction == PC_DIR_INBOUND;
  const char *list_key = inbound ? "inbound-endpoints" : "endpoints";
  PcListMemo lists = { 0 };
  PcMatchInput match = {
    .key = input->key,
    .scope = pc_scope_classify (&input->key->raddr),
    .domain = input->domain,
    .country = input->country,
    .continent = input->continent,
    .asn = input->asn,
    .geo_available = input->geo_available,
    .in_list = input->in_list,
    .user_data = input->in_list_data,
    .list_memo = &lists,
  };
  PcMatchResult result = { 0 };
  gboolean geo_skipped = FALSE;
  char src[96];
  const char *scope_key = NULL;
  PcSettingKey scope_setting = PC_KEY_BLOCK_LOCALHOST;

  out->reason[0] = '\0';
  out->reaction = eff->block_reaction;
  out->prompt = FALSE;
  out->prompt_timeout = 0;
  if (input->own)
    {
      out->verdict = PC_VERDICT_ALLOW;
      out->kind = PC_REASON_OWN;
      g_strlcpy (out->reason, "Portcullis itself", sizeof out->reason);
      return;
    }

  /* 1. Per-app rules: temporary rules first (they are the most recent, explicit answers),
   * then the profile's endpoint list. */
  if (profile != NULL)
    {
      gint64 now = profile->temp_rules->len > 0 ? g_get_real_time () : 0;
      for (guint i = 0; i < profile->temp_rules->len; i++)
        {
          const PcTempRule *t = &g_array_index (profile->temp_rules, PcTempRule, i);
          if (t->inbound != inbound || (t->expires != 0 && t->expires <= now))
            continue;
          pc_rule_list_match (t->rules, &match, &result);
          geo_skipped |= result.geo_unavailable;
          if (result.rule != NULL)
            {
              set_rule_verdict (out, result.rule);
              snprintf (out->reason, sizeof out->reason, "profile '%s' temporary %s rule '%s'",
                        profile->name, list_key, pc_rule_get_text (result.rule));
              note_geo (out, geo_skipped);
              return;
            }
        }
      PcRuleList *own = inbound ? profile->inbound_endpoints : profile->endpoints;
      if (own != NULL)
        {
          pc_rule_list_match (own, &match, &result);
          geo_skipped |= result.geo_unavailable;
          if (result.rule != NULL)
            {
              set_rule_verdict (out, result.rule);
              snprintf (out->reason, sizeof out->reason, "profile '%s' %s rule %u '%s'",
                        profile->name, list_key, pc_rule_get_line (result.rule),
                        pc_rule_get_text (result.rule));
              note_geo (out, geo_skipped);
              return;
            }
        }
    }

  /* 2. Global rules. */
  pc_rule_list_match (inbound ? settings->inbound_endpoints : settings->endpoints, &match, &result);
  geo_skipped |= result.geo_unavailable;
  if (result.rule != NULL)
    {
      set_rule_verdict (out, result.rule);
      snprintf (out->reason, sizeof out->reason, "global %s rule %u '%s'", list_key,
                pc_rule_get_line (result.rule), pc_rule_get_text (result.rule));
      note_geo (out, geo_skipped);
      return;
    }

  /* 3. Network scopes. */
  if (inbound && eff->block_inbound)
    scope_key = "block-inbound", scope_setting = PC_KEY_BLOCK_INBOUND;
  else if (match.scope == PC_SCOPE_LOCALHOST && eff->block_localhost)
    scope_key = "block-localhost", scope_setting = PC_KEY_BLOCK_LOCALHOST;
  else if (match.scope == PC_SCOPE_LAN && eff->block_lan)
    scope_key = "block-lan", scope_setting = PC_KEY_BLOCK_LAN;
  else if (match.scope == PC_SCOPE_INTERNET && eff->block_internet)
    scope_key = "block-internet", scope_setting = PC_KEY_BLOCK_INTERNET;
  else if (!inbound && eff->block_p2p && match.scope != PC_SCOPE_LOCALHOST
           && (is_stun_port (input->key)
               || (match.scope == PC_SCOPE_INTERNET && !input->had_dns_answer)))
    scope_key = is_stun_port (input->key) ? "block-p2p (STUN port)"
                                          : "block-p2p (internet address without DNS answer)",
    scope_setting = PC_KEY_BLOCK_P2P;
  if (scope_key != NULL)
    {
      out->verdict = PC_VERDICT_BLOCK;
      out->kind = PC_REASON_SCOPE;
      snprintf (out->reason, sizeof out->reason, "scope %s: %s (%s)",
                pc_scope_to_string (match.scope), scope_key,
                source_of (profile, scope_setting, src, sizeof src));
      note_geo (out, geo_skipped);
      return;
    }

  /* 3b. DNS bypass prevention (a global setting; explicit rules above still win). A list
   * verdict, so the resolver refuses such names like listed ones. */
  if (!inbound && settings->dns_bypass_prevention)
    {
      const char *why = dns_bypass_reason (input, &match);
      if (why != NULL)
        {
          out->verdict = PC_VERDICT_BLOCK;
          out->kind = PC_REASON_LIST;
          g_strlcpy (out->reason, why, sizeof out->reason);
          note_geo (out, geo_skipped);
          return;
        }
    }

  /* 4. Filter lists. */
  if (input->in_list != NULL)
    for (guint i = 0; eff->filter_lists[i] != NULL; i++)
      if (input->in_list (eff->filter_lists[i], &match, input->in_list_data))
        {
          out->verdict = PC_VERDICT_BLOCK;
          out->kind = PC_REASON_LIST;
          snprintf (out->reason, sizeof out->reason, "filter list %s (%s)", eff->filter_lists[i],
                    source_of (profile, PC_KEY_FILTER_LISTS, src, sizeof src));
          note_geo (out, geo_skipped);
          return;
        }

  /* 5. The default action. Incoming connections prompt only when prompt-inbound is on
   * (opt-in: a listening service would otherwise ask for every scanner that knocks); else
   * prompt-default decides them at once. */
  out->kind = PC_REASON_DEFAULT;
  out->prompt = eff->default_action == PC_DEFAULT_PROMPT && (!inbound || eff->prompt_inbound);
  out->prompt_timeout = eff->prompt_timeout;
  switch (eff->default_action)
    {
      case PC_DEFAULT_ALLOW:
        out->verdict = PC_VERDICT_ALLOW;
        break;
      case PC_DEFAULT_BLOCK:
        out->verdict = PC_VERDICT_BLOCK;
        break;
      case PC_DEFAULT_PROMPT:
      default:
        /* Prompts need the D-Bus service and a prompt agent; until one answers, what an
         * unanswered prompt gets (prompt-default) applies. */
        out->verdict
            = eff->prompt_default == PC_DEFAULT_ALLOW ? PC_VERDICT_ALLOW : PC_VERDICT_BLOCK;
        break;
    }
  if (eff->default_action == PC_DEFAULT_PROMPT && !out->prompt)
    snprintf (out->reason, sizeof out->reason,
              "default action: prompt (inbound prompts off, prompt-default %s)",
              out->verdict == PC_VERDICT_ALLOW ? "allow" : "block");
  else if (eff->default_action == PC_DEFAULT_PROMPT)
    snprintf (out->reason, sizeof out->reason, "default action: prompt (no prompt agent, %s)",
              out->verdict == PC_VERDICT_ALLOW ? "allowed" : "blocked");
  else
    snprintf (out->reason, sizeof out->reason, "default action: %s",
              pc_default_action_to_string (eff->default_action));
  if (profile != NULL && pc_profile_overrides (profile, PC_KEY_DEFAULT_ACTION))
    {
      g_strlcat (out->reason, " (profile '", sizeof out->reason);
      g_strlcat (out->reason, profile->name, sizeof out->reason);
      g_strlcat (out->reason, "')", sizeof out->reason);
    }
  note_geo (out, geo_skipped);
}
