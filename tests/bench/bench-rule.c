/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint rule matching on the hot path: 1,000 mixed global rules plus a 50-rule profile list,
 * matched against random flows (with and without domains, hitting and missing). Prints the
 * median and p99 time per pc_rule_list_match() call and per decision (profile list, then the
 * global list when the profile did not decide), and the same for the linear reference scan
 * measured in the same run.
 *
 *   bench-rule [N_SAMPLES]
 *
 * Times are per call, measured with CLOCK_MONOTONIC around each call, minus the median cost of
 * an empty measurement (printed as "timer overhead"). */
#define G_LOG_DOMAIN "portcullis-policy"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pc-rule.h"
#include "pc-rule-private.h"
#include "pc-scope.h"

#define N_GLOBAL 1000
#define N_PROFILE 50
#define N_INPUTS 4096

typedef void (*MatchFunc) (const PcRuleList *self,
                           const PcMatchInput *input,
                           PcMatchResult *result);

typedef struct
{
  PcFlowKey key;
  PcMatchInput input;
  char domain[128];
  char cname[128];
  const char *cnames[2];
} BenchInput;

static const char *const words[] = {
  "cdn",  "api",   "static", "img",  "tracker", "ads",   "metrics", "login", "mail",   "shop",
  "news", "video", "cloud",  "edge", "stats",   "pixel", "sync",    "push",  "update", "telemetry",
};
static const char *const tlds[] = { "com", "net", "org", "io", "de", "at" };

static void
random_domain (GRand *rand, char *out, gsize size)
{
  g_snprintf (out, size, "%s%d.%s", words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
              g_rand_int_range (rand, 0, 400),
              tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]);
}

/* The rules of both lists are also kept as data so inputs can be aimed at them. */
typedef struct
{
  GPtrArray *domains; /* char *, without '.' / '*.' */
  GArray *v4;         /* guint32 network, host order */
  GArray *v4_prefix;  /* guint8 */
} Targets;

static char *
build_rules (GRand *rand, guint n, Targets *targets)
{
  GString *text = g_string_new ("# generated\n");

  for (guint i = 0; i < n; i++)
    {
      guint pick = (guint)g_rand_int_range (rand, 0, 100);
      const char *sign = g_rand_boolean (rand) ? "+" : "-";
      char domain[128];

      if (pick < 45)
        {
          static const char *const forms[] = { "", ".", "*." };

          random_domain (rand, domain, sizeof domain);
          g_string_append_printf (text, "%s %s%s", sign, forms[g_rand_int_range (rand, 0, 3)],
                                  domain);
          g_ptr_array_add (targets->domains, g_strdup (domain));
        }
      else if (pick < 70)
        {
          static const guint prefixes[] = { 8, 12, 16, 20, 22, 24, 24, 24, 28, 30 };
          guint prefix = prefixes[g_rand_int_range (rand, 0, G_N_ELEMENTS (prefixes))];
          guint32 net = g_rand_int (rand) & (0xffffffffu << (32 - prefix));
          guint8 p8 = (guint8)prefix;

          g_string_append_printf (text, "%s %u.%u.%u.%u/%u", sign, net >> 24, (net >> 16) & 255,
                                  (net >> 8) & 255, net & 255, prefix);
          g_array_append_val (targets->v4, net);
          g_array_append_val (targets->v4_prefix, p8);
        }
      else if (pick < 85)
        {
          guint32 host = g_rand_int (rand);
          guint8 p8 = 32;

          g_string_append_printf (text, "%s %u.%u.%u.%u", sign, host >> 24, (host >> 16) & 255,
                                  (host >> 8) & 255, host & 255);
          g_array_append_val (targets->v4, host);
          g_array_append_val (targets->v4_prefix, p8);
        }
      else if (pick < 95)
        g_string_append_printf (text, "%s 2001:db8:%x::/48", sign,
                                g_rand_int_range (rand, 0, 65536));
      else if (pick < 97)
        g_string_append_printf (
            text, "%s %s", sign,
            (const char *[]){ "AT", "DE", "US", "C:AS" }[g_rand_int_range (rand, 0, 4)]);
      else if (pick < 98)
        g_string_append_printf (text, "%s L:%s", sign, g_rand_boolean (rand) ? "MAL" : "TRAC");
      else
        g_string_append_printf (text, "%s %s", sign, g_rand_boolean (rand) ? "lan" : "localhost");

      /* a third of the rules carry a protocol/port filter */
      switch (g_rand_int_range (rand, 0, 9))
        {
          case 0:
            g_string_append (text, " tcp/443");
            break;
          case 1:
            g_string_append (text, " udp/53");
            break;
          case 2:
            g_string_append_printf (text, " tcp/%d-%d", 8000,
                                    8000 + g_rand_int_range (rand, 0, 100));
            break;
          default:
            break;
        }
      g_string_append_c (text, '\n');
    }
  return g_string_free (text, FALSE);
}

static gboolean
in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data)
{
  return FALSE;
}

static void
make_input (GRand *rand, const Targets *targets, BenchInput *bi)
{
  guint pick = (guint)g_rand_int_range (rand, 0, 100);
  guint32 a;

  memset (bi, 0, sizeof *bi);
  /* domains: 40% aimed at a rule (often as a subdomain), 35% random, 25% none */
  if (pick < 40 && targets->domains->len > 0)
    {
      const char *d
          = g_ptr_array_index (targets->domains, g_rand_int_range (rand, 0, targets->domains->len));

      if (g_rand_boolean (rand))
        g_snprintf (bi->domain, sizeof bi->domain, "%s", d);
      else
        g_snprintf (bi->domain, sizeof bi->domain, "%s.%s",
                    words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))], d);
      bi->input.domain = bi->domain;
    }
  else if (pick < 75)
    {
      random_domain (rand, bi->domain, sizeof bi->domain);
      bi->input.domain = bi->domain;
    }
  if (bi->input.domain != NULL && g_rand_int_range (rand, 0, 5) == 0)
    {
      g_snprintf (bi->cname, sizeof bi->cname, "edge.%s", bi->domain);
      bi->cnames[0] = bi->cname;
      bi->input.cnames = bi->cnames;
    }

  /* addresses: half inside a rule's network, a tenth IPv6, the rest random IPv4 */
  pick = (guint)g_rand_int_range (rand, 0, 100);
  if (pick < 10)
    {
      pc_addr_parse ("2001:db8::1", &bi->key.raddr);
      bi->key.raddr.b[4] = (guint8)g_rand_int_range (rand, 0, 256);
      bi->key.raddr.b[5] = (guint8)g_rand_int_range (rand, 0, 256);
    }
  else
    {
      if (pick < 55 && targets->v4->len > 0)
        {
          guint i = (guint)g_rand_int_range (rand, 0, targets->v4->len);
          guint prefix = g_array_index (targets->v4_prefix, guint8, i);
          guint32 host_bits = prefix == 32 ? 0 : (g_rand_int (rand) & (0xffffffffu >> prefix));

          a = g_array_index (targets->v4, guint32, i) | host_bits;
        }
      else
        a = g_rand_int (rand);
      bi->key.raddr.family = AF_INET;
      bi->key.raddr.b[0] = a >> 24;
      bi->key.raddr.b[1] = (a >> 16) & 255;
      bi->key.raddr.b[2] = (a >> 8) & 255;
      bi->key.raddr.b[3] = a & 255;
    }
  bi->key.family = bi->key.raddr.family;
  bi->key.proto = g_rand_int_range (rand, 0, 4) == 0 ? IPPROTO_UDP : IPPROTO_TCP;
  bi->key.rport = g_rand_int_range (rand, 0, 3) == 0 ? 53 : 443;
  bi->key.lport = (guint16)g_rand_int_range (rand, 32768, 61000);

  bi->input.key = &bi->key;
  bi->input.scope = pc_scope_classify (&bi->key.raddr);
  /* geo rules name AT, DE, US and C:AS: about one flow in eight is from one of them */
  bi->input.country = (const char *[]){
    "AT", "FR", "JP", "BR", "GB", "IT", "CH", "SE"
  }[g_rand_int_range (rand, 0, 8)];
  bi->input.continent = "EU";
  bi->input.asn = 13335;
  bi->input.geo_available = TRUE;
  bi->input.in_list = in_list_cb;
}

static inline guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64)ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64)ts.tv_nsec;
}

static int
compare_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

typedef struct
{
  double median;
  double p99;
  guint matched;
} Stats;

static guint64 timer_overhead;

/* Times n_samples decisions over the inputs (cycling): profile (if any) first, then global. */
static Stats
measure (MatchFunc match,
         const PcRuleList *profile,
         const PcRuleList *global,
         const BenchInput *inputs,
         guint n_samples)
{
  g_autofree guint64 *samples = g_new (guint64, n_samples);
  Stats stats = { 0 };

  for (guint i = 0; i < n_samples; i++)
    {
      const BenchInput *bi = &inputs[i % N_INPUTS];
      PcMatchResult result;
      guint64 t0, t1;

      t0 = now_ns ();
      result.rule = NULL;
      if (profile != NULL)
        match (profile, &bi->input, &result);
      if (result.rule == NULL)
        match (global, &bi->input, &result);
      t1 = now_ns ();
      samples[i] = t1 - t0 > timer_overhead ? t1 - t0 - timer_overhead : 0;
      stats.matched += result.rule != NULL;
    }
  qsort (samples, n_samples, sizeof *samples, compare_u64);
  stats.median = (double)samples[n_samples / 2];
  stats.p99 = (double)samples[(guint64)n_samples * 99 / 100];
  return stats;
}

static void
measure_timer_overhead (void)
{
  guint64 samples[10001];

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      guint64 t0 = now_ns ();
      guint64 t1 = now_ns ();

      samples[i] = t1 - t0;
    }
  qsort (samples, G_N_ELEMENTS (samples), sizeof *samples, compare_u64);
  timer_overhead = samples[G_N_ELEMENTS (samples) / 2];
}

int
main (int argc, char **argv)
{
  guint n_samples = argc > 1 ? (guint)strtoul (argv[1], NULL, 10) : 200000;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  Targets targets = { g_ptr_array_new_with_free_func (g_free), g_array_new (FALSE, FALSE, 4),
                      g_array_new (FALSE, FALSE, 1) };
  g_autofree char *global_text = NULL;
  g_autofree char *profile_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcRuleList) global = NULL;
  g_autoptr (PcRuleList) profile = NULL;
  g_autofree BenchInput *inputs = g_new (BenchInput, N_INPUTS);
  Stats g_idx, g_lin, d_idx, d_lin;
  guint64 t0;
  double parse_ms;

  if (n_samples < 100)
    n_samples = 100;

  global_text = build_rules (rand, N_GLOBAL, &targets);
  profile_text = build_rules (rand, N_PROFILE, &targets);

  t0 = now_ns ();
  global = pc_rule_list_parse (global_text, &error);
  parse_ms = (double)(now_ns () - t0) / 1e6;
  if (global == NULL)
    g_error ("global rules: %s", error->message);
  profile = pc_rule_list_parse (profile_text, &error);
  if (profile == NULL)
    g_error ("profile rules: %s", error->message);

  for (guint i = 0; i < N_INPUTS; i++)
    {
      make_input (rand, &targets, &inputs[i]);
      /* the cname pointer array lives inside the struct */
      if (inputs[i].input.cnames != NULL)
        inputs[i].input.cnames = inputs[i].cnames;
      inputs[i].input.key = &inputs[i].key;
    }

  measure_timer_overhead ();
  /* warm caches and branch predictors */
  measure (pc_rule_list_match, profile, global, inputs, N_INPUTS * 4);

  g_idx = measure (pc_rule_list_match, NULL, global, inputs, n_samples);
  g_lin = measure (pc_rule_list_match_linear, NULL, global, inputs, n_samples / 4);
  d_idx = measure (pc_rule_list_match, profile, global, inputs, n_samples);
  d_lin = measure (pc_rule_list_match_linear, profile, global, inputs, n_samples / 4);

  printf ("rules: %u global, %u profile; parse+index of the global list: %.2f ms\n",
          pc_rule_list_get_n_rules (global), pc_rule_list_get_n_rules (profile), parse_ms);
  printf ("samples: %u (linear: %u), %u distinct inputs, timer overhead %" G_GUINT64_FORMAT
          " ns (subtracted)\n",
          n_samples, n_samples / 4, N_INPUTS, timer_overhead);
  printf ("%-34s %10s %10s %9s\n", "", "median ns", "p99 ns", "matched");
  printf ("%-34s %10.0f %10.0f %8.1f%%\n", "global list, indexed", g_idx.median, g_idx.p99,
          100.0 * g_idx.matched / n_samples);
  printf ("%-34s %10.0f %10.0f %8.1f%%\n", "global list, linear scan", g_lin.median, g_lin.p99,
          100.0 * g_lin.matched / (n_samples / 4));
  printf ("%-34s %10.0f %10.0f %8.1f%%\n", "profile + global, indexed", d_idx.median, d_idx.p99,
          100.0 * d_idx.matched / n_samples);
  printf ("%-34s %10.0f %10.0f %8.1f%%\n", "profile + global, linear scan", d_lin.median, d_lin.p99,
          100.0 * d_lin.matched / (n_samples / 4));
  printf ("speed-up over linear (median): global %.1fx, profile + global %.1fx\n",
          g_lin.median / MAX (g_idx.median, 1.0), d_lin.median / MAX (d_idx.median, 1.0));

  g_ptr_array_unref (targets.domains);
  g_array_unref (targets.v4);
  g_array_unref (targets.v4_prefix);
  return 0;
}
