/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Socket -> process attribution: BPF cgroup hooks (socket cookie -> pid), sock_diag (flow tuple
 * -> socket cookie/inode/uid), and a /proc fallback (inode -> pid) where BPF cannot load.
 * Called from the packet thread only; never blocks on anything slow. */
#pragma once

#include <glib.h>

#include "pc-net.h"
#include "pc-process.h"

G_BEGIN_DECLS

typedef struct _PcAttrib PcAttrib;

typedef enum
{
  PC_ATTRIB_MODE_BPF,
  PC_ATTRIB_MODE_PROC,
} PcAttribMode;

typedef struct
{
  guint64 cookie;        /* socket cookie, 0 if unknown */
  guint64 inode;         /* socket inode, 0 if unknown */
  pid_t pid;             /* thread-group id (process) of the owner; 0 if no owner was found */
  pid_t tid;             /* thread that created/used the socket, 0 if unknown */
  uid_t uid;             /* socket uid (from sock_diag or BPF); (uid_t)-1 if unknown */
  char comm[16];         /* comm at the time of the hook, "" if unknown */
  gboolean found_socket; /* a local socket for the flow exists (or existed, via BPF records) */
  /* From the BPF hooks when the kernel lets them read the task (task_info), else zero: */
  gboolean task_info;
  pid_t ppid;
  guint64 exec_id;        /* exec count of the owner: changes when the pid calls exec */
  guint64 parent_exec_id; /* the parent's exec count when it forked the owner */
  gboolean parent_image;  /* the owner runs its parent's image (see PC_BPF_OWNER_PARENT_IMAGE) */
  guint64 start_time;     /* like field 22 of /proc/PID/stat (clock ticks since boot) */
  guint64 parent_start_time;
  guint64 cgroup_id;
} PcSocketOwner;

/* cgroup_path: cgroup v2 directory to attach the BPF programs to; NULL disables BPF.
 * Never fails for lack of BPF: it falls back to /proc and says why in the degraded reason. */
PcAttrib *pc_attrib_new (const char *cgroup_path, GError **error);
void pc_attrib_free (PcAttrib *self);

PcAttribMode pc_attrib_get_mode (PcAttrib *self);
/* NULL when fully functional, else a sentence saying what is missing and why. */
const char *pc_attrib_get_degraded_reason (PcAttrib *self);

/* Finds the local socket and owning process of a flow (outbound: the socket that sent it;
 * inbound: the listening/receiving socket). Returns FALSE when nothing is found; out is then
 * filled with whatever was learned (e.g. uid from sock_diag). */
gboolean pc_attrib_find_owner (PcAttrib *self, const PcFlowKey *key, PcSocketOwner *out);

/* Process info for an owner, cached per (pid, start time); NULL if the process is gone and
 * nothing was cached. Returns a new reference. */
PcProcess *pc_attrib_get_process (PcAttrib *self, pid_t pid);
/* Process info for the owner pc_attrib_find_owner found. With what the BPF hooks saw of the
 * task, a cached record of a pid that called exec since is read again, and a process that runs
 * its parent's image (forked, no exec) gets its parent's identity without reading /proc: the
 * costliest step of a new process' first connection. */
PcProcess *pc_attrib_get_owner_process (PcAttrib *self, const PcSocketOwner *owner);

/* Housekeeping of the process cache (drops processes that exited more than a minute ago and
 * releases their pidfds). The cache stays bounded and correct without it (least recently used
 * entries make room), but dead processes then keep their pidfds until evicted. Cheap enough to
 * call every few hundred milliseconds from the packet thread; call it from that thread only. */
void pc_attrib_maintain (PcAttrib *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcAttrib, pc_attrib_free)

G_END_DECLS
