/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-fingerprint.h"

#include <string.h>

#include "pc-error.h"

struct _PcFingerprint
{
  PcFingerprintKind kind;
  char *value;           /* path, id, glob (for env: the glob of the value, may be NULL) */
  char *env_name;        /* PC_FP_ENV only */
  GPatternSpec *pattern; /* glob kinds */
  guint score;
};

static const char *const kind_names[PC_FP_N_KINDS] = {
  [PC_FP_PATH] = "path",
  [PC_FP_PATH_PREFIX] = "path-prefix",
  [PC_FP_PATH_GLOB] = "path-glob",
  [PC_FP_CMDLINE] = "cmdline",
  [PC_FP_ENV] = "env",
  [PC_FP_FLATPAK] = "flatpak",
  [PC_FP_SNAP] = "snap",
  [PC_FP_APPIMAGE] = "appimage",
  [PC_FP_SCRIPT] = "script",
  [PC_FP_SYSTEMD_UNIT] = "systemd-unit",
};

static const guint kind_base[PC_FP_N_KINDS] = {
  [PC_FP_PATH] = 700,   [PC_FP_PATH_PREFIX] = 200,  [PC_FP_PATH_GLOB] = 100, [PC_FP_CMDLINE] = 300,
  [PC_FP_ENV] = 400,    [PC_FP_FLATPAK] = 1000,     [PC_FP_SNAP] = 1000,     [PC_FP_APPIMAGE] = 900,
  [PC_FP_SCRIPT] = 900, [PC_FP_SYSTEMD_UNIT] = 800,
};

static guint
literal_chars (const char *glob)
{
  guint n = 0;

  for (const char *p = glob; *p; p++)
    if (*p != '*' && *p != '?')
      n++;
  return MIN (n, 99);
}

void
pc_fingerprint_free (PcFingerprint *fp)
{
  if (fp == NULL)
    return;
  g_free (fp->value);
  g_free (fp->env_name);
  g_clear_pointer (&fp->pattern, g_pattern_spec_free);
  g_free (fp);
}

PcFingerprint *
pc_fingerprint_parse (const char *text, GError **error)
{
  const char *colon = strchr (text, ':');
  g_autoptr (PcFingerprint) fp = g_new0 (PcFingerprint, 1);
  g_autofree char *kind = NULL;
  const char *value;
  int k;

  if (colon == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "fingerprint '%s': expected KIND:VALUE (path, path-prefix, path-glob, cmdline, "
                   "env, flatpak, snap, appimage, script, systemd-unit)",
                   text);
      return NULL;
    }
  kind = g_strndup (text, colon - text);
  value = colon + 1;
  for (k = 0; k < PC_FP_N_KINDS; k++)
    if (g_str_equal (kind, kind_names[k]))
      break;
  if (k == PC_FP_N_KINDS)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "fingerprint '%s': unknown kind '%s'",
                   text, kind);
      return NULL;
    }
  if (*value == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "fingerprint '%s': empty value", text);
      return NULL;
    }
  if ((k == PC_FP_PATH || k == PC_FP_PATH_PREFIX || k == PC_FP_PATH_GLOB || k == PC_FP_APPIMAGE
       || k == PC_FP_SCRIPT)
      && value[0] != '/')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "fingerprint '%s': '%s' is not an absolute path", text, value);
      return NULL;
    }

  fp->kind = k;
  fp->score = kind_base[k];
  if (k == PC_FP_ENV)
    {
      const char *eq = strchr (value, '=');
      fp->env_name = eq != NULL ? g_strndup (value, eq - value) : g_strdup (value);
      if (*fp->env_name == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "fingerprint '%s': empty variable name", text);
          return NULL;
        }
      if (eq != NULL)
        {
          fp->value = g_strdup (eq + 1);
          fp->pattern = g_pattern_spec_new (fp->value);
          fp->score += literal_chars (fp->value);
        }
      return g_steal_pointer (&fp);
    }
  fp->value = g_strdup (value);
  if (k == PC_FP_PATH_GLOB || k == PC_FP_CMDLINE)
    {
      fp->pattern = g_pattern_spec_new (value);
      fp->score += literal_chars (value);
    }
  else if (k == PC_FP_PATH_PREFIX)
    fp->score += MIN (strlen (value), 99);
  return g_steal_pointer (&fp);
}

PcFingerprintKind
pc_fingerprint_get_kind (const PcFingerprint *fp)
{
  return fp->kind;
}

const char *
pc_fingerprint_get_value (const PcFingerprint *fp)
{
  return fp->kind == PC_FP_ENV ? fp->env_name : fp->value;
}

static gboolean
str_eq0 (const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

guint
pc_fingerprint_match (const PcFingerprint *fp, const PcProcess *p)
{
  gboolean ok = FALSE;

  switch (fp->kind)
    {
      case PC_FP_PATH:
        ok = str_eq0 (p->exe, fp->value);
        break;
      case PC_FP_PATH_PREFIX:
        ok = p->exe != NULL && g_str_has_prefix (p->exe, fp->value);
        break;
      case PC_FP_PATH_GLOB:
        ok = p->exe != NULL && g_pattern_spec_match_string (fp->pattern, p->exe);
        break;
      case PC_FP_CMDLINE:
        ok = p->cmdline != NULL && g_pattern_spec_match_string (fp->pattern, p->cmdline);
        break;
      case PC_FP_ENV:
        {
          const char *v = pc_process_get_env (p, fp->env_name);
          ok = v != NULL && (fp->pattern == NULL || g_pattern_spec_match_string (fp->pattern, v));
        }
        break;
      case PC_FP_FLATPAK:
        ok = p->kind == PC_APP_KIND_FLATPAK && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SNAP:
        ok = p->kind == PC_APP_KIND_SNAP && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_APPIMAGE:
        ok = p->kind == PC_APP_KIND_APPIMAGE && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SCRIPT:
        ok = p->kind == PC_APP_KIND_SCRIPT && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SYSTEMD_UNIT:
        ok = str_eq0 (p->systemd_unit, fp->value);
        break;
      case PC_FP_N_KINDS:
      default:
        break;
    }
  return ok ? fp->score : 0;
}

char *
pc_fingerprint_for_process (const PcProcess *p)
{
  switch (p->kind)
    {
      case PC_APP_KIND_FLATPAK:
        return g_strconcat ("flatpak:", p->app_id, NULL);
      case PC_APP_KIND_SNAP:
        return g_strconcat ("snap:", p->app_id, NULL);
      case PC_APP_KIND_APPIMAGE:
        return g_strconcat ("appimage:", p->app_id, NULL);
      case PC_APP_KIND_SCRIPT:
        return g_strconcat ("script:", p->app_id, NULL);
      case PC_APP_KIND_NATIVE:
      default:
        return p->exe != NULL ? g_strconcat ("path:", p->exe, NULL) : NULL;
    }
}
