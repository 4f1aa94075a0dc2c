/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-policy-snapshot.h"

#include <string.h>

struct _PcPolicySnapshot
{
  gint ref_count;
  pid_t own_pid;
  PcSettings *global;
  GPtrArray *profiles; /* PcProfile*, sorted by id */
  GHashTable *by_id;   /* id -> PcProfile* (borrowed) */
  /* Profiles with an identity fingerprint (path, flatpak, snap, appimage, script,
   * systemd-unit) are found through these indexes by the process' value for that kind; the
   * few others (patterns only) are tried one by one. */
  GHashTable *index[PC_FP_N_KINDS]; /* value -> GPtrArray of PcProfile* (borrowed) */
  GPtrArray *unanchored;
  const PcProfile *special_own;
  const PcProfile *special_unidentified;
  const PcProfile *special_kernel;
};

static gboolean
kind_is_indexed (PcFingerprintKind kind)
{
  return kind == PC_FP_PATH || kind == PC_FP_FLATPAK || kind == PC_FP_SNAP || kind == PC_FP_APPIMAGE
         || kind == PC_FP_SCRIPT || kind == PC_FP_SYSTEMD_UNIT;
}

static int
profile_cmp_id (gconstpointer a, gconstpointer b)
{
  const PcProfile *pa = *(const PcProfile *const *)a;
  const PcProfile *pb = *(const PcProfile *const *)b;

  return strcmp (pa->id, pb->id);
}

PcPolicySnapshot *
pc_policy_snapshot_new (PcSettings *global, GPtrArray *profiles, pid_t own_pid)
{
  PcPolicySnapshot *self = g_new0 (PcPolicySnapshot, 1);

  self->ref_count = 1;
  self->own_pid = own_pid;
  self->global = pc_settings_ref (global);
  self->profiles = profiles;
  g_ptr_array_set_free_func (self->profiles, (GDestroyNotify)pc_profile_unref);
  g_ptr_array_sort (self->profiles, profile_cmp_id);
  self->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->unanchored = g_ptr_array_new ();
  for (int k = 0; k < PC_FP_N_KINDS; k++)
    if (kind_is_indexed (k))
      self->index[k] = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify)g_ptr_array_unref);

  for (guint i = 0; i < profiles->len; i++)
    {
      PcProfile *p = profiles->pdata[i];
      gboolean anchored = FALSE;

      g_hash_table_insert (self->by_id, (gpointer)p->id, p);
      if (g_str_equal (p->id, PC_PROFILE_PORTCULLIS))
        self->special_own = p;
      else if (g_str_equal (p->id, PC_PROFILE_UNIDENTIFIED))
        self->special_unidentified = p;
      else if (g_str_equal (p->id, PC_PROFILE_KERNEL))
        self->special_kernel = p;

      for (guint j = 0; j < p->fingerprints->len; j++)
        {
          const PcFingerprint *fp = p->fingerprints->pdata[j];
          PcFingerprintKind kind = pc_fingerprint_get_kind (fp);
          GPtrArray *bucket;
          const char *value = pc_fingerprint_get_value (fp);

          if (!kind_is_indexed (kind))
            continue;
          anchored = TRUE;
          bucket = g_hash_table_lookup (self->index[kind], value);
          if (bucket == NULL)
            {
              bucket = g_ptr_array_new ();
              g_hash_table_insert (self->index[kind], (gpointer)value, bucket);
            }
          if (bucket->len == 0 || bucket->pdata[bucket->len - 1] != p)
            g_ptr_array_add (bucket, p);
        }
      if (!anchored && p->fingerprints->len > 0)
        g_ptr_array_add (self->unanchored, p);
    }
  return self;
}

PcPolicySnapshot *
pc_policy_snapshot_ref (PcPolicySnapshot *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_policy_snapshot_unref (PcPolicySnapshot *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  for (int k = 0; k < PC_FP_N_KINDS; k++)
    g_clear_pointer (&self->index[k], g_hash_table_unref);
  g_ptr_array_unref (self->unanchored);
  g_hash_table_unref (self->by_id);
  g_ptr_array_unref (self->profiles);
  pc_settings_unref (self->global);
  g_free (self);
}

PcSettings *
pc_policy_snapshot_get_settings (PcPolicySnapshot *self)
{
  return self->global;
}

const PcProfile *
pc_policy_snapshot_get_profile (PcPolicySnapshot *self, const char *id)
{
  return g_hash_table_lookup (self->by_id, id);
}

static void
consider (const PcProfile *p, const PcProcess *process, const PcProfile **best, guint *best_score)
{
  guint score = pc_profile_match (p, process);

  if (score == 0)
    return;
  /* Equal scores: the smaller id wins, whatever order the candidates came in. */
  if (score > *best_score || (score == *best_score && strcmp (p->id, (*best)->id) < 0))
    {
      *best = p;
      *best_score = score;
    }
}

static void
consider_bucket (PcPolicySnapshot *self,
                 PcFingerprintKind kind,
                 const char *value,
                 const PcProcess *process,
                 const PcProfile **best,
                 guint *best_score)
{
  GPtrArray *bucket;

  if (value == NULL)
    return;
  bucket = g_hash_table_lookup (self->index[kind], value);
  for (guint i = 0; bucket != NULL && i < bucket->len; i++)
    consider (bucket->pdata[i], process, best, best_score);
}

const PcProfile *
pc_policy_snapshot_match_fingerprints (PcPolicySnapshot *self, const PcProcess *process)
{
  const PcProfile *best = NULL;
  guint best_score = 0;

  consider_bucket (self, PC_FP_PATH, process->exe, process, &best, &best_score);
  if (process->kind != PC_APP_KIND_NATIVE)
    {
      PcFingerprintKind kind = process->kind == PC_APP_KIND_FLATPAK    ? PC_FP_FLATPAK
                               : process->kind == PC_APP_KIND_SNAP     ? PC_FP_SNAP
                               : process->kind == PC_APP_KIND_APPIMAGE ? PC_FP_APPIMAGE
                                                                       : PC_FP_SCRIPT;
      consider_bucket (self, kind, process->app_id, process, &best, &best_score);
    }
  consider_bucket (self, PC_FP_SYSTEMD_UNIT, process->systemd_unit, process, &best, &best_score);
  for (guint i = 0; i < self->unanchored->len; i++)
    consider (self->unanchored->pdata[i], process, &best, &best_score);
  return best;
}

const PcProfile *
pc_policy_snapshot_match (PcPolicySnapshot *self, const PcProcess *process, gboolean no_socket)
{
  if (process == NULL)
    return no_socket ? self->special_kernel : self->special_unidentified;
  if (process->pid == self->own_pid)
    return self->special_own;
  return pc_policy_snapshot_match_fingerprints (self, process);
}

void
pc_policy_snapshot_decide (PcPolicySnapshot *self, const PcDecisionInput *input, PcDecision *out)
{
  PcDecisionInput in = *input;

  /* Portcullis itself is always allowed, by pid or by its special profile. */
  if ((in.process != NULL && in.process->pid == self->own_pid)
      || (in.profile != NULL && in.profile == self->special_own))
    in.own = TRUE;
  pc_policy_decide (self->global, &in, out);
}

PcBlockReaction
pc_policy_snapshot_get_block_reaction (PcPolicySnapshot *self, const PcProfile *profile)
{
  return profile != NULL ? profile->settings->block_reaction : self->global->block_reaction;
}

PcFailMode
pc_policy_snapshot_get_fail_mode (PcPolicySnapshot *self)
{
  return self->global->fail_mode;
}
