/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target for the endpoint rule parser (rules arrive from settings files and D-Bus).
 *
 * The input is parsed as a whole list, as a ';'-separated list and line by line with
 * pc_rule_validate(). When the list parses, a few flows derived from the input are matched
 * with the indexed matcher and with the linear reference, which must agree. */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc-error.h"
#include "pc-rule.h"
#include "pc-rule-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data)
{
  /* deterministic, depends on the id so both matchers see the same answers */
  return (strlen (list_id) + GPOINTER_TO_UINT (user_data)) % 2 == 0;
}

static void
check_error (GError *error)
{
  if (error == NULL || error->domain != PC_ERROR || error->code != PC_ERROR_INVALID_RULE
      || !g_utf8_validate (error->message, -1, NULL))
    abort ();
}

static void
match_some (const PcRuleList *list, const uint8_t *data, size_t size)
{
  static const char *const domains[] = { "example.com", "www.example.com", "a.b.c", "com", "" };
  static const char *const addrs[]
      = { "10.0.0.1", "192.0.2.1", "2001:db8::1", "::ffff:10.1.2.3", "127.0.0.1", "fe80::1" };
  static const guint8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 47 };

  for (guint i = 0; i < 8; i++)
    {
      guint8 b = size > 0 ? data[(i * 7) % size] : (guint8)i;
      const char *cnames[] = { domains[(b >> 3) % G_N_ELEMENTS (domains)], NULL };
      PcFlowKey key = { 0 };
      PcMatchInput input = { 0 };
      PcMatchResult indexed, linear;

      pc_addr_parse (addrs[(b + i) % G_N_ELEMENTS (addrs)], &key.raddr);
      key.family = key.raddr.family;
      key.proto = protos[(b + 2 * i) % G_N_ELEMENTS (protos)];
      key.rport = (guint16)(b * 257 + i);
      key.lport = (guint16)(22 + b);
      input.key = &key;
      input.scope = pc_scope_classify (&key.raddr);
      /* the raw input as a domain too: matching must cope with any string */
      input.domain = i == 0 ? (const char *)data : domains[b % G_N_ELEMENTS (domains)];
      input.cnames = (b & 1) ? cnames : NULL;
      input.country = (b & 2) ? "AT" : NULL;
      input.continent = (b & 4) ? "EU" : NULL;
      input.asn = b & 3;
      input.geo_available = (b & 8) != 0;
      input.in_list = (b & 16) ? in_list_cb : NULL;
      input.user_data = GUINT_TO_POINTER (b);

      pc_rule_list_match (list, &input, &indexed);
      pc_rule_list_match_linear (list, &input, &linear);
      if (indexed.rule != linear.rule || indexed.geo_unavailable != linear.geo_unavailable)
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) list = NULL;

  /* rule text is a C string; longer inputs add nothing but time */
  if (size > 64 * 1024)
    return 0;
  /* not g_strndup(): data may be NULL when size is 0 */
  text = g_malloc (size + 1);
  if (size > 0)
    memcpy (text, data, size);
  text[size] = '\0';

  list = pc_rule_list_parse (text, &error);
  if (list == NULL)
    check_error (error);
  else
    {
      if (error != NULL)
        abort ();
      for (guint i = 0; i < pc_rule_list_get_n_rules (list); i++)
        {
          const PcRule *rule = pc_rule_list_get_rule (list, i);

          /* a rule's own text must parse again on its own */
          if (pc_rule_get_index (rule) != i || !pc_rule_validate (pc_rule_get_text (rule), NULL))
            abort ();
        }
      match_some (list, (const uint8_t *)text, strlen (text));
    }
  g_clear_error (&error);
  g_clear_pointer (&list, pc_rule_list_unref);

  /* the same bytes as a GKeyFile-style list */
  {
    g_auto (GStrv) parts = g_strsplit (text, ";", 64);

    list = pc_rule_list_parse_strv ((const char *const *)parts, &error);
    if (list == NULL)
      check_error (error);
    else
      match_some (list, (const uint8_t *)text, strlen (text));
    g_clear_error (&error);
    g_clear_pointer (&list, pc_rule_list_unref);
  }

  /* and the first line through the D-Bus validator */
  {
    g_autofree char *first = g_strndup (text, strcspn (text, "\n"));

    if (!pc_rule_validate (first, &error))
      check_error (error);
  }
  return 0;
}
