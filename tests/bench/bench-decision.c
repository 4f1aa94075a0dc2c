/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The decision per new flow as the packet thread makes it: profile lookup for the flow's
 * process (pc_policy_snapshot_match) and the decision (pc_policy_snapshot_decide), with 1,000
 * global rules and 100 profiles of 50 rules each. Prints median and p99 in ns, and as the
 * baseline measured in the same run the same decision without a profile (global rules, scopes
 * and default only), with the ratio between them.
 *
 *   bench-decision [N_SAMPLES]
 *
 * Each sample is timed with CLOCK_MONOTONIC around one flow, minus the median cost of an empty
 * measurement ("timer overhead"). */
#define G_LOG_DOMAIN "portcullis-policy"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pc-policy-snapshot.h"

#define N_GLOBAL 1000
#define N_PROFILES 100
#define N_PROFILE_RULES 50
#define N_INPUTS 4096

static const char *const words[]
    = { "cdn",   "api",  "static", "img",  "tracker", "ads",   "metrics",
        "login", "mail", "shop",   "news", "video",   "cloud", "edge" };

static char *
random_rule (GRand *rand)
{
  char sign = g_rand_boolean (rand) ? '+' : '-';

  switch (g_rand_int_range (rand, 0, 6))
    {
      case 0:
        return g_strdup_printf ("%c %u.%u.%u.%u", sign, g_rand_int_range (rand, 1, 223),
                                g_rand_int_range (rand, 0, 256), g_rand_int_range (rand, 0, 256),
                                g_rand_int_range (rand, 1, 255));
      case 1:
        return g_strdup_printf ("%c %u.%u.0.0/16 tcp/%u", sign, g_rand_int_range (rand, 1, 223),
                                g_rand_int_range (rand, 0, 256), g_rand_int_range (rand, 1, 65535));
      case 2:
        return g_strdup_printf ("%c .%s%d.com", sign,
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                                g_rand_int_range (rand, 0, 500));
      case 3:
        return g_strdup_printf ("%c *.%s%d.net tcp/443", sign,
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                                g_rand_int_range (rand, 0, 500));
      case 4:
        return g_strdup_printf ("%c 2001:db8:%x::/48", sign, g_rand_int_range (rand, 0, 65535));
      default:
        return g_strdup_printf ("%c %s%d.org udp/%u", sign,
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                                g_rand_int_range (rand, 0, 500), g_rand_int_range (rand, 1, 65535));
    }
}

static GVariant *
rules_variant (GRand *rand, guint n)
{
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (rules, random_rule (rand));
  return g_variant_new_strv ((const char *const *)rules->pdata, rules->len);
}

typedef struct
{
  PcFlowKey key;
  PcProcess *process;
  char domain[64];
} Input;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a;
  gint64 y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

static gint64 sink;

/* One flow: profile lookup and decision (with_profile), or the decision alone. */
static void
one_flow (PcPolicySnapshot *snap, const Input *in, gboolean with_profile)
{
  PcDecisionInput d = {
    .key = &in->key,
    .domain = in->domain[0] ? in->domain : NULL,
    .process = in->process,
  };
  PcDecision out;

  if (with_profile)
    d.profile = pc_policy_snapshot_match (snap, in->process, FALSE);
  pc_policy_snapshot_decide (snap, &d, &out);
  sink += out.verdict;
}

static void
measure (const char *what,
         PcPolicySnapshot *snap,
         Input *inputs,
         guint n_samples,
         gboolean with_profile,
         gint64 overhead,
         gint64 *median_out)
{
  g_autofree gint64 *t = g_new (gint64, n_samples);

  for (guint i = 0; i < n_samples; i++)
    {
      const Input *in = &inputs[i % N_INPUTS];
      gint64 t0 = now_ns ();
      one_flow (snap, in, with_profile);
      t[i] = now_ns () - t0 - overhead;
    }
  qsort (t, n_samples, sizeof *t, cmp_i64);
  *median_out = t[n_samples / 2];
  printf ("%-44s median %6" G_GINT64_FORMAT " ns   p99 %6" G_GINT64_FORMAT " ns\n", what,
          t[n_samples / 2], t[(guint64)n_samples * 99 / 100]);
}

int
main (int argc, char **argv)
{
  guint n_samples = argc > 1 ? (guint)atoi (argv[1]) : 200000;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GHashTable) global_layer
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_variant_unref);
  g_autoptr (PcSettings) global = NULL;
  g_autoptr (PcPolicySnapshot) snap = NULL;
  GPtrArray *profiles = g_ptr_array_new ();
  g_autofree Input *inputs = g_new0 (Input, N_INPUTS);
  g_autoptr (GPtrArray) processes
      = g_ptr_array_new_with_free_func ((GDestroyNotify)pc_process_unref);
  gint64 overhead, med_full, med_base;

  if (n_samples < 100)
    n_samples = 100;
  g_hash_table_insert (global_layer, "endpoints",
                       g_variant_ref_sink (rules_variant (rand, N_GLOBAL)));
  g_hash_table_insert (global_layer, "block-p2p",
                       g_variant_ref_sink (g_variant_new_boolean (FALSE)));
  global = pc_settings_new_layered ((GHashTable *[]){ global_layer }, 1);
  g_assert_cmpuint (pc_rule_list_get_n_rules (global->endpoints), ==, N_GLOBAL);

  for (guint i = 0; i < N_PROFILES; i++)
    {
      g_autofree char *id = g_strdup_printf ("app-%03u", i);
      g_autofree char *exe = g_strdup_printf ("/usr/bin/app-%03u", i);
      g_autofree char *fp = g_strdup_printf ("path:%s", exe);
      const char *fps[] = { fp, NULL };
      GVariantBuilder b, ov;
      g_autoptr (GVariant) record = NULL;
      PcProcess *p = g_new0 (PcProcess, 1);

      g_variant_builder_init (&ov, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&ov, "{sv}", "endpoints", rules_variant (rand, N_PROFILE_RULES));
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
      g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (id));
      g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
      g_variant_builder_add (&b, "{sv}", "overrides", g_variant_builder_end (&ov));
      record = g_variant_ref_sink (g_variant_builder_end (&b));
      g_ptr_array_add (profiles, pc_profile_new (record, global, NULL));

      /* The processes as attribution would describe them. */
      p->ref_count = 1;
      p->pid = 1000 + i;
      p->exe = g_strdup (exe);
      p->app_id = g_strdup (exe);
      p->comm = g_strdup (id);
      p->cmdline = g_strdup (exe);
      p->kind = PC_APP_KIND_NATIVE;
      g_ptr_array_add (processes, p);
    }
  /* A few pattern profiles that every lookup has to try. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("pattern-%u", i);
      g_autofree char *fp = g_strdup_printf ("cmdline:*--profile-%u*", i);
      const char *fps[] = { fp, NULL };
      GVariantBuilder b;
      g_autoptr (GVariant) record = NULL;
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
      g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
      record = g_variant_ref_sink (g_variant_builder_end (&b));
      g_ptr_array_add (profiles, pc_profile_new (record, global, NULL));
    }
  snap = pc_policy_snapshot_new (global, profiles, 1);

  for (guint i = 0; i < N_INPUTS; i++)
    {
      Input *in = &inputs[i];
      in->key.family = AF_INET;
      in->key.proto = g_rand_boolean (rand) ? IPPROTO_TCP : IPPROTO_UDP;
      in->key.direction = PC_DIR_OUTBOUND;
      in->key.lport = 40000;
      in->key.rport = g_rand_boolean (rand) ? 443 : g_rand_int_range (rand, 1, 65535);
      in->key.laddr.family = AF_INET;
      in->key.raddr.family = AF_INET;
      for (int b = 0; b < 4; b++)
        in->key.raddr.b[b] = g_rand_int_range (rand, 1, 255);
      if (g_rand_boolean (rand))
        g_snprintf (in->domain, sizeof in->domain, "x.%s%d.com",
                    words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                    g_rand_int_range (rand, 0, 500));
      in->process = processes->pdata[g_rand_int_range (rand, 0, N_PROFILES)];
    }

  {
    g_autofree gint64 *t = g_new (gint64, n_samples);
    for (guint i = 0; i < n_samples; i++)
      {
        gint64 t0 = now_ns ();
        t[i] = now_ns () - t0;
      }
    qsort (t, n_samples, sizeof *t, cmp_i64);
    overhead = t[n_samples / 2];
  }
  printf ("decision per new flow: %u global rules, %u profiles x %u rules, %u samples\n", N_GLOBAL,
          N_PROFILES, N_PROFILE_RULES, n_samples);
  printf ("timer overhead %" G_GINT64_FORMAT " ns (subtracted)\n", overhead);
  /* warm-up */
  for (guint i = 0; i < N_INPUTS; i++)
    one_flow (snap, &inputs[i], TRUE);
  measure ("baseline: global rules only (no profile)", snap, inputs, n_samples, FALSE, overhead,
           &med_base);
  measure ("profile lookup + profile and global rules", snap, inputs, n_samples, TRUE, overhead,
           &med_full);
  printf ("ratio full/baseline (median): %.2f\n", med_base > 0 ? (double)med_full / med_base : 0.0);
  return sink == -1;
}
