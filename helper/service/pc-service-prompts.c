/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-service"

#include "pc-service-prompts.h"

#include <netinet/in.h>

#include "pc-connection-variant.h"
#include "pc-error.h"

GVariant *
pc_service_prompt_variant (PcPrompt *prompt)
{
  GVariantDict d;
  g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, prompt->id);

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "id", "s", id);
  g_variant_dict_insert_value (&d, "connection",
                               pc_connection_variant_new (prompt->connection, NULL));
  g_variant_dict_insert (&d, "created", "x", prompt->created);
  g_variant_dict_insert (&d, "expires", "x", prompt->expires);
  return g_variant_dict_end (&d);
}

static PcPrompt *
find_prompt (PcEngine *engine, guint64 id)
{
  g_autoptr (GPtrArray) prompts = pc_engine_list_prompts (engine);

  for (guint i = 0; i < prompts->len; i++)
    {
      PcPrompt *p = prompts->pdata[i];
      if (p->id == id)
        return pc_prompt_ref (p);
    }
  return NULL;
}

static const char *
proto_word (guint8 proto)
{
  switch (proto)
    {
      case IPPROTO_TCP:
        return "tcp";
      case IPPROTO_UDP:
        return "udp";
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        return "icmp";
      default:
        return NULL;
    }
}

/* The rule text for an answer, in the syntax of DESIGN.md. */
static char *
make_rule (const PcConnection *c, gboolean allow, const char *scope, GError **error)
{
  const char *sign = allow ? "+" : "-";
  gboolean inbound = c->key.direction == PC_DIR_INBOUND;
  char addr[PC_ADDR_STRLEN];

  pc_addr_to_string (&c->key.raddr, addr);
  if (g_str_equal (scope, "all"))
    return g_strdup_printf ("%s *", sign);
  if (g_str_equal (scope, "domain"))
    {
      if (c->domain == NULL || *c->domain == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "no domain is known for %s: answer for the ip or the port instead", addr);
          return NULL;
        }
      return g_strdup_printf ("%s .%s", sign, c->domain);
    }
  if (g_str_equal (scope, "ip"))
    return g_strdup_printf ("%s %s", sign, addr);
  if (g_str_equal (scope, "port"))
    {
      const char *proto = proto_word (c->key.proto);
      if (proto == NULL || g_str_equal (proto, "icmp"))
        return g_strdup_printf ("%s %s %s", sign, inbound ? "*" : addr,
                                proto != NULL ? proto : "*");
      if (inbound)
        return g_strdup_printf ("%s * %s/local:%u", sign, proto, c->key.lport);
      return g_strdup_printf ("%s %s %s/%u", sign, addr, proto, c->key.rport);
    }
  g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
               "unknown scope '%s': use domain, ip, port or all", scope);
  return NULL;
}

char *
pc_service_prompt_answer (PcEngine *engine,
                          PcPolicyManager *policy,
                          const char *id_text,
                          GVariant *answer,
                          GError **error)
{
  const char *verdict = NULL, *scope = NULL, *lifetime = "once";
  guint32 minutes = 0;
  guint64 id = 0;
  g_autoptr (PcPrompt) prompt = NULL;
  g_autofree char *rule = NULL;
  g_autoptr (GError) local_error = NULL;
  const PcConnection *c;
  const char *list_key;
  gboolean allow;

  if (!g_ascii_string_to_unsigned (id_text, 10, 1, G_MAXUINT64, &id, NULL)
      || (prompt = find_prompt (engine, id)) == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND,
                   "no pending prompt '%s' (answered or expired already?)", id_text);
      return NULL;
    }
  c = prompt->connection;
  g_variant_lookup (answer, "verdict", "&s", &verdict);
  g_variant_lookup (answer, "scope", "&s", &scope);
  g_variant_lookup (answer, "lifetime", "&s", &lifetime);
  g_variant_lookup (answer, "minutes", "u", &minutes);
  if (g_strcmp0 (verdict, "allow") != 0 && g_strcmp0 (verdict, "block") != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "answer: verdict must be allow or block, not '%s'",
                   verdict != NULL ? verdict : "(missing)");
      return NULL;
    }
  allow = g_str_equal (verdict, "allow");
  if (scope == NULL)
    scope = c->domain != NULL && *c->domain ? "domain" : "ip";
  if (g_str_equal (lifetime, "minutes") && minutes == 0)
    {
      g_set_error_literal (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                           "answer: lifetime minutes needs minutes > 0");
      return NULL;
    }
  if (!g_str_equal (lifetime, "once") && !g_str_equal (lifetime, "minutes")
      && !g_str_equal (lifetime, "until-exit") && !g_str_equal (lifetime, "restart")
      && !g_str_equal (lifetime, "forever"))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "answer: unknown lifetime '%s': use once, minutes, until-exit, restart or "
                   "forever",
                   lifetime);
      return NULL;
    }
  rule = make_rule (c, allow, scope, error);
  if (rule == NULL)
    return NULL;

  list_key = c->key.direction == PC_DIR_INBOUND ? "inbound-endpoints" : "endpoints";
  if (!g_str_equal (lifetime, "once"))
    {
      const char *profile = c->profile_id;
      gboolean ok;

      if (profile == NULL || *profile == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE,
                       "the app of prompt %s has no profile yet: answer once, or again in a "
                       "moment",
                       id_text);
          return NULL;
        }
      if (g_str_equal (lifetime, "forever"))
        ok = pc_policy_manager_add_rule (policy, profile, list_key, rule, error);
      else
        ok = pc_policy_manager_add_temporary_rule (
            policy, profile, list_key, rule, g_str_equal (lifetime, "minutes") ? minutes * 60 : 0,
            g_str_equal (lifetime, "until-exit") ? c->pid : 0, error);
      if (!ok)
        return NULL;
    }
  else
    g_clear_pointer (&rule, g_free);

  /* The new rule may have decided the prompt already (its snapshot reached the packet thread
   * first); then there is nothing left to answer. */
  if (!pc_engine_answer_prompt (engine, id, allow, &local_error)
      && !g_error_matches (local_error, PC_ERROR, PC_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return rule != NULL ? g_steal_pointer (&rule) : g_strdup ("");
}
