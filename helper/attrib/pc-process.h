/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What we know about a process: read from /proc, cached by the attribution module. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum
{
  PC_APP_KIND_NATIVE,   /* an ordinary executable; identity = exe path */
  PC_APP_KIND_FLATPAK,  /* identity = flatpak app id (from /.flatpak-info of the process root) */
  PC_APP_KIND_SNAP,     /* identity = snap name (SNAP_NAME / /snap/NAME/... exe) */
  PC_APP_KIND_APPIMAGE, /* identity = path of the .AppImage file (APPIMAGE env) */
  PC_APP_KIND_SCRIPT,   /* identity = script path; interpreter holds the interpreter's exe */
} PcAppKind;

typedef struct _PcProcess
{
  gint ref_count;
  pid_t pid;
  pid_t ppid;
  uid_t uid;
  guint64 start_time; /* field 22 of /proc/PID/stat, to tell reused pids apart */
  guint64 cgroup_id;  /* cgroup v2 id from the pidfd, 0 when the kernel cannot tell */
  guint64 arg_start;  /* field 48 of stat: where the arguments are; every exec moves them */
  char *comm;
  char *exe;     /* readlink /proc/PID/exe ("(deleted)" suffix stripped); NULL if unreadable */
  char **argv;   /* from /proc/PID/cmdline */
  char *cmdline; /* argv joined with spaces, for display and matching */
  PcAppKind kind;
  char *app_id;       /* identity per kind (see PcAppKind); never NULL */
  char *interpreter;  /* for PC_APP_KIND_SCRIPT, else NULL */
  char *cgroup;       /* cgroup v2 path of the process, e.g. /user.slice/...; may be NULL */
  char *systemd_unit; /* unit named by the cgroup (foo.service / app-....scope), or NULL */
  char *environ;      /* NUL-separated environment block (first 64 KiB), or NULL if unreadable */
  gsize environ_len;
  /* For a record made by pc_process_new_forked: the parent's record, whose exe, argv, cmdline,
   * app_id, interpreter, cgroup, systemd_unit and environ this one shares (not a copy). */
  struct _PcProcess *image;
} PcProcess;

/* Reads /proc/PID. Fails with G_IO_ERROR_NOT_FOUND when the process is gone. */
PcProcess *pc_process_read (pid_t pid, GError **error);
/* Same, with a pidfd of the process (or -1) that lets some fields be read without rendering
 * /proc files. The caller checks afterwards that the pidfd's process is still alive. */
PcProcess *pc_process_read_with_pidfd (pid_t pid, int pidfd, GError **error);
/* The record of a process that runs its parent's image (forked, no exec since): the parent's,
 * with the child's own pid, uid, name and start time. It shares the parent's strings (and holds
 * a reference to it) rather than copying them: this is on the packet path. */
PcProcess *pc_process_new_forked (
    const PcProcess *parent, pid_t pid, uid_t uid, const char *comm, guint64 start_time);
/* What a pidfd tells without rendering /proc: the parent, the real uid and the cgroup v2 id.
 * FALSE before Linux 6.13 or when the process is gone. */
gboolean pc_process_pidfd_info (int pidfd, pid_t *ppid, uid_t *uid, guint64 *cgroup_id);
/* Fields 22 (start time) and 48 (arg_start) of /proc/PID/stat: the first tells a reused pid,
 * the second a process that called exec. FALSE if the process is gone. */
gboolean pc_process_read_marks (pid_t pid, guint64 *start_time, guint64 *arg_start);
/* Field 22 of /proc/PID/stat (start time), 0 if the process is gone: a cheap pid-reuse check. */
guint64 pc_process_read_start_time (pid_t pid);
PcProcess *pc_process_ref (PcProcess *self);
void pc_process_unref (PcProcess *self);
const char *pc_app_kind_to_string (PcAppKind kind);
/* Value of the environment variable NAME as the process started with it, or NULL. The
 * environment is the process' own and can be forged by it: match on it, never trust it. */
const char *pc_process_get_env (const PcProcess *self, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcProcess, pc_process_unref)

G_END_DECLS
