/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PcFingerprint: how a process is recognised by its profile.
 *
 * Fingerprint syntax ("KIND:VALUE"):
 *   path:/usr/bin/curl            the executable, exactly
 *   path-prefix:/opt/foo/         the executable starts with this
 *   path-glob:/opt/foo-*          the executable matches a glob ('*' and '?', '*' crosses '/')
 *   cmdline:*--server*            the command line (argv joined by spaces) matches a glob
 *   env:NAME=GLOB                 the environment variable NAME matches GLOB ("env:NAME" = set)
 *   flatpak:org.example.App       flatpak app id (from the sandbox's /.flatpak-info)
 *   snap:name                     snap name
 *   appimage:/home/u/X.AppImage   path of the AppImage file
 *   script:/home/u/bin/tool.py    script path, whatever interpreter runs it
 *   systemd-unit:foo.service      the systemd unit named by the process' cgroup
 *
 * Matching and scoring (deterministic): fingerprints of the same kind are alternatives (any one
 * may match); different kinds must all match. A matching profile scores the sum, over its
 * kinds, of the best matching fingerprint's score:
 *   flatpak, snap 1000; appimage, script 900; systemd-unit 800; path 700;
 *   env 400 + literal characters; cmdline 300 + literal characters;
 *   path-prefix 200 + length; path-glob 100 + literal characters
 * (the length bonus is capped at 99, so a kind never outranks the one above it). The highest
 * score wins; equal scores go to the profile whose id sorts first. So a profile with
 * "path:/usr/bin/python3" and "cmdline:*manage.py*" beats a plain "path:/usr/bin/python3"
 * profile for that one program, and an identity kind beats any pattern. */
#pragma once

#include <glib.h>

#include "pc-process.h"

G_BEGIN_DECLS

typedef enum
{
  PC_FP_PATH,
  PC_FP_PATH_PREFIX,
  PC_FP_PATH_GLOB,
  PC_FP_CMDLINE,
  PC_FP_ENV,
  PC_FP_FLATPAK,
  PC_FP_SNAP,
  PC_FP_APPIMAGE,
  PC_FP_SCRIPT,
  PC_FP_SYSTEMD_UNIT,
  PC_FP_N_KINDS,
} PcFingerprintKind;

typedef struct _PcFingerprint PcFingerprint;

/* Parses "KIND:VALUE"; errors (PC_ERROR_INVALID_ARGS) name the fingerprint and the reason. */
PcFingerprint *pc_fingerprint_parse (const char *text, GError **error);
void pc_fingerprint_free (PcFingerprint *fp);
PcFingerprintKind pc_fingerprint_get_kind (const PcFingerprint *fp);
/* The value after "KIND:" (for env: the variable name). */
const char *pc_fingerprint_get_value (const PcFingerprint *fp);
/* 0 if the fingerprint does not match the process, else its score (see above). */
guint pc_fingerprint_match (const PcFingerprint *fp, const PcProcess *process);
/* The fingerprint that identifies the process itself: flatpak:, snap:, appimage:, script: or
 * path: by its kind; NULL when the process has no executable path. */
char *pc_fingerprint_for_process (const PcProcess *process);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcFingerprint, pc_fingerprint_free)

G_END_DECLS
