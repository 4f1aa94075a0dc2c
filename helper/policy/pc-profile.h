/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PcProfile: one application's compiled, immutable profile as the packet thread sees it (part
 * of a PcPolicySnapshot). Fingerprints and their scoring: pc-fingerprint.h. */
#pragma once

#include <glib.h>

#include "pc-fingerprint.h"
#include "pc-policy.h"
#include "pc-process.h"
#include "pc-rule.h"
#include "pc-settings.h"

G_BEGIN_DECLS

/* A temporary rule as compiled into a profile. */
typedef struct
{
  PcRuleList *rules; /* exactly one rule */
  gboolean inbound;  /* from inbound-endpoints */
  gint64 expires;    /* real time in µs; 0: no time limit */
} PcTempRule;

struct _PcProfile
{
  gint ref_count;
  const char *id; /* interned (g_intern_string): flows keep it */
  char *name;
  char *icon;
  gboolean special;
  GPtrArray *fingerprints; /* PcFingerprint* */
  guint kinds;             /* bit per PcFingerprintKind present */
  /* Effective settings: the profile's overrides over the global settings, except endpoints
   * and inbound-endpoints, which are the global ones (the profile's own are below). */
  PcSettings *settings;
  guint32 overridden;    /* bit per PcSettingKey the profile sets */
  PcRuleList *endpoints; /* the profile's own rules, or NULL */
  PcRuleList *inbound_endpoints;
  GArray *temp_rules; /* PcTempRule */
};

/* Compiles a profile record (a{sv} as in pc-policy-manager.h) over the global settings. The
 * record must have been validated. */
PcProfile *pc_profile_new (GVariant *record, PcSettings *global, GArray *temp_rules);
PcProfile *pc_profile_ref (PcProfile *self);
void pc_profile_unref (PcProfile *self);
/* Interned (g_intern_string): valid as long as the process runs, comparable by pointer. */
const char *pc_profile_get_id (const PcProfile *profile);
const char *pc_profile_get_name (const PcProfile *profile);
/* 0 if the profile does not match, else its score. */
guint pc_profile_match (const PcProfile *self, const PcProcess *process);
/* Where a setting's effective value comes from for this profile. */
gboolean pc_profile_overrides (const PcProfile *self, PcSettingKey key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcProfile, pc_profile_unref)

G_END_DECLS
