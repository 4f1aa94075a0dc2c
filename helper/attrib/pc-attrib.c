/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "pc-attrib.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pc-attrib-bpf.h"
#include "pc-proc-fallback.h"
#include "pc-sockdiag.h"

/* Process cache: bounded, because every entry may hold a pidfd. Dead processes stay a while so
 * that flows of a process that just exited are still shown with its name. Entries sit on a list
 * in order of use (head = most recent), so that evicting the least recently used one is O(1);
 * expired dead entries are swept by pc_attrib_maintain (). */
#define PC_PROCESS_CACHE_MAX 512
#define PC_PROCESS_DEAD_TTL_USEC (60 * G_USEC_PER_SEC)

typedef struct _PcProcessEntry PcProcessEntry;
struct _PcProcessEntry
{
  PcProcessEntry *prev; /* towards the head (more recently used) */
  PcProcessEntry *next; /* towards the tail (less recently used) */
  PcProcess *proc;
  int pidfd;         /* -1: none (forked record, or pidfd_open failed): validate by start time */
  gint64 last_used;  /* monotonic usec */
  gint64 dead_since; /* monotonic usec, 0 while alive */
  gboolean exec_known;
  guint64 exec_id; /* the process' exec count when proc was made (BPF), if exec_known */
};

struct _PcAttrib
{
  PcAttribMode mode;
  char *degraded_reason;
  PcSockDiag *diag;
  PcAttribBpf *bpf;
  PcProcFallback *proc;
  guint64 netns_cookie;
  GHashTable *processes; /* pid -> PcProcessEntry, owns the entries */
  PcProcessEntry *lru_head;
  PcProcessEntry *lru_tail;
};

static void
pc_lru_unlink (PcAttrib *self, PcProcessEntry *e)
{
  if (e->prev != NULL)
    e->prev->next = e->next;
  else
    self->lru_head = e->next;
  if (e->next != NULL)
    e->next->prev = e->prev;
  else
    self->lru_tail = e->prev;
  e->prev = e->next = NULL;
}

static void
pc_lru_push_head (PcAttrib *self, PcProcessEntry *e)
{
  e->prev = NULL;
  e->next = self->lru_head;
  if (self->lru_head != NULL)
    self->lru_head->prev = e;
  self->lru_head = e;
  if (self->lru_tail == NULL)
    self->lru_tail = e;
}

static void
pc_lru_touch (PcAttrib *self, PcProcessEntry *e, gint64 now)
{
  e->last_used = now;
  if (self->lru_head != e)
    {
      pc_lru_unlink (self, e);
      pc_lru_push_head (self, e);
    }
}

/* Removes an entry from the list and the table (which frees it). */
static void
pc_attrib_drop_entry (PcAttrib *self, PcProcessEntry *e)
{
  pc_lru_unlink (self, e);
  g_hash_table_remove (self->processes, GINT_TO_POINTER (e->proc->pid));
}

static void
pc_process_entry_free (gpointer data)
{
  PcProcessEntry *e = data;

  if (e->pidfd >= 0)
    close (e->pidfd);
  pc_process_unref (e->proc);
  g_free (e);
}

PcAttrib *
pc_attrib_new (const char *cgroup_path, GError **error)
{
  g_autoptr (PcAttrib) self = g_new0 (PcAttrib, 1);
  g_autoptr (GError) local_error = NULL;

  self->diag = pc_sock_diag_new (error);
  if (self->diag == NULL)
    return NULL;
  self->netns_cookie = pc_sock_diag_get_netns_cookie (self->diag);
  self->proc = pc_proc_fallback_new ();
  self->processes = g_hash_table_new_full (NULL, NULL, NULL, pc_process_entry_free);
  self->mode = PC_ATTRIB_MODE_PROC;

  if (cgroup_path == NULL)
    {
      self->degraded_reason = g_strdup ("BPF attribution is disabled; sockets are matched to "
                                        "processes by scanning /proc, which misses short-lived "
                                        "processes");
      return g_steal_pointer (&self);
    }

  self->bpf = pc_attrib_bpf_new (cgroup_path, &local_error);
  if (self->bpf == NULL)
    {
      g_warning ("falling back to /proc attribution: %s", local_error->message);
      self->degraded_reason = g_strdup_printf ("BPF attribution is unavailable (%s); sockets are "
                                               "matched to processes by scanning /proc, which "
                                               "misses short-lived processes",
                                               local_error->message);
      return g_steal_pointer (&self);
    }
  self->mode = PC_ATTRIB_MODE_BPF;
  if (self->netns_cookie == 0)
    self->degraded_reason = g_strdup ("the kernel does not report network namespace cookies; "
                                      "UDP datagrams of processes that exited before the packet "
                                      "was judged cannot be attributed");
  return g_steal_pointer (&self);
}

void
pc_attrib_free (PcAttrib *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->bpf, pc_attrib_bpf_free);
  g_clear_pointer (&self->diag, pc_sock_diag_free);
  g_clear_pointer (&self->proc, pc_proc_fallback_free);
  g_clear_pointer (&self->processes, g_hash_table_unref);
  g_free (self->degraded_reason);
  g_free (self);
}

PcAttribMode
pc_attrib_get_mode (PcAttrib *self)
{
  return self->mode;
}

const char *
pc_attrib_get_degraded_reason (PcAttrib *self)
{
  return self->degraded_reason;
}

/* ns since boot -> clock ticks, as /proc/PID/stat counts a start time */
static guint64
pc_ns_to_ticks (guint64 ns)
{
  static long hz;

  if (hz <= 0)
    hz = sysconf (_SC_CLK_TCK);
  return ns / (G_GUINT64_CONSTANT (1000000000) / (guint64)hz);
}

static void
pc_owner_from_bpf (PcSocketOwner *out, const struct pc_bpf_owner *o)
{
  out->pid = (pid_t)o->pid;
  out->tid = (pid_t)o->tid;
  memcpy (out->comm, o->comm, sizeof out->comm);
  out->comm[sizeof out->comm - 1] = '\0';
  out->task_info = o->task_info != 0;
  if (out->task_info)
    {
      out->ppid = (pid_t)o->ppid;
      out->exec_id = o->exec_id;
      out->parent_exec_id = o->parent_exec_id;
      out->parent_image = (o->flags & PC_BPF_OWNER_PARENT_IMAGE) != 0;
      out->start_time = pc_ns_to_ticks (o->start_ns);
      out->parent_start_time = pc_ns_to_ticks (o->parent_start_ns);
      out->cgroup_id = o->cgroup_id;
    }
}

static gboolean
pc_attrib_find_ping_owner (PcAttrib *self, const PcFlowKey *key, PcSocketOwner *out)
{
  guint64 inode = 0;
  uid_t uid = (uid_t)-1;

  /* Only our own echo requests have a socket: the kernel answers others' pings itself. */
  if (key->direction != PC_DIR_OUTBOUND || (key->proto == IPPROTO_ICMP && key->rport != 8)
      || (key->proto == IPPROTO_ICMPV6 && key->rport != 128))
    return FALSE;
  if (!pc_proc_fallback_find_ping (self->proc, key, &inode, &uid))
    return FALSE;
  out->found_socket = TRUE;
  out->inode = inode;
  out->uid = uid;
  out->pid = pc_proc_fallback_find_pid (self->proc, inode);
  return out->pid != 0;
}

/* A flow record of the sendmsg hook younger than this opened the flow being judged. */
#define PC_UDP_RECORD_FRESH_NSEC (2 * G_GUINT64_CONSTANT (1000000000))

static gboolean
pc_attrib_record_is_fresh (const struct pc_bpf_owner *o)
{
  struct timespec now;
  guint64 now_ns;

  clock_gettime (CLOCK_MONOTONIC, &now);
  now_ns = (guint64)now.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64)now.tv_nsec;
  return o->stamp != 0 && now_ns - o->stamp < PC_UDP_RECORD_FRESH_NSEC;
}

gboolean
pc_attrib_find_owner (PcAttrib *self, const PcFlowKey *key, PcSocketOwner *out)
{
  PcSockDiagResult diag;
  struct pc_bpf_owner o;
  pid_t pid;

  memset (out, 0, sizeof *out);
  out->uid = (uid_t)-1;

  if (key->proto == IPPROTO_ICMP || key->proto == IPPROTO_ICMPV6)
    return pc_attrib_find_ping_owner (self, key, out);

  /* Outbound TCP: the sockops hook recorded the SYN's 4-tuple with the connecting task, so no
   * sock_diag request is needed (it is the costliest step on the packet path). Outbound UDP
   * from an unconnected socket: the sendmsg hook recorded the datagram's flow as it was sent.
   * A connected UDP socket is not seen by that hook, so an older record of the same tuple may
   * belong to a socket that is gone; only a record made just now is trusted (the flow's
   * previous conntrack entry had to expire before this packet could open a new one). */
  if (self->bpf != NULL && self->netns_cookie != 0 && key->direction == PC_DIR_OUTBOUND
      && (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP || key->proto == IPPROTO_UDPLITE)
      && pc_attrib_bpf_lookup_flow (self->bpf, self->netns_cookie, key, &o)
      && (key->proto == IPPROTO_TCP || pc_attrib_record_is_fresh (&o)))
    {
      out->found_socket = TRUE;
      out->cookie = o.cookie;
      out->uid = (uid_t)o.uid;
      pc_owner_from_bpf (out, &o);
      return TRUE;
    }

  if (pc_sock_diag_lookup (self->diag, key, &diag))
    {
      out->found_socket = TRUE;
      out->cookie = diag.cookie;
      out->inode = diag.inode;
      out->uid = diag.uid;
      if (self->bpf != NULL && pc_attrib_bpf_lookup_cookie (self->bpf, diag.cookie, &o))
        {
          pc_owner_from_bpf (out, &o);
          /* The recorded task may have exited while the socket lives on in a child it forked
           * (daemons, listeners handed down): then ask /proc who holds it now. */
          if (kill (out->pid, 0) == 0 || errno != ESRCH)
            return TRUE;
          pid = pc_proc_fallback_find_pid (self->proc, diag.inode);
          if (pid != 0)
            {
              out->pid = pid;
              out->tid = 0;
              out->comm[0] = '\0';
              out->task_info = FALSE; /* what BPF saw was of the task that is gone */
              out->parent_image = FALSE;
            }
          return TRUE;
        }
      /* No BPF record: BPF is off, or the socket was made before the programs were attached or
       * outside the cgroup. */
      out->pid = pc_proc_fallback_find_pid (self->proc, diag.inode);
      if (out->pid != 0)
        return TRUE;
    }

  /* The socket is gone (one datagram, then close or exit): the sendmsg hook kept the flow. */
  if (self->bpf != NULL && self->netns_cookie != 0
      && (key->proto == IPPROTO_UDP || key->proto == IPPROTO_UDPLITE)
      && pc_attrib_bpf_lookup_udp_flow (self->bpf, self->netns_cookie, key, &o))
    {
      out->found_socket = TRUE;
      out->uid = (uid_t)o.uid;
      pc_owner_from_bpf (out, &o);
      return TRUE;
    }
  return FALSE;
}

static int
pc_pidfd_open (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall (SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* A pidfd becomes readable when its process exits; while it is not, the pid still names the
 * process we cached (a pid is reused only after the process is reaped). */
static gboolean
pc_process_entry_alive (PcProcessEntry *e)
{
  if (e->pidfd >= 0)
    {
      struct pollfd p = { .fd = e->pidfd, .events = POLLIN };
      return poll (&p, 1, 0) == 0;
    }
  else
    {
      /* No pidfd (old kernel or out of fds): compare the start time, which costs a read. */
      guint64 start = pc_process_read_start_time (e->proc->pid);
      return start != 0 && start == e->proc->start_time;
    }
}

/* Marks e dead if it is, and drops it if it has been dead for long enough. Returns FALSE if it
 * was dropped. */
static gboolean
pc_attrib_check_entry (PcAttrib *self, PcProcessEntry *e, gint64 now)
{
  /* Without a pidfd only a pid that is gone counts as dead here (a reused pid is caught by
   * the start time when the entry is next looked up): reading /proc for every entry of the
   * cache a few times a second would cost more than it saves. */
  gboolean alive
      = e->pidfd >= 0 ? pc_process_entry_alive (e) : kill (e->proc->pid, 0) == 0 || errno != ESRCH;

  if (e->dead_since == 0 && !alive)
    e->dead_since = now;
  if (e->dead_since != 0 && now - e->dead_since > PC_PROCESS_DEAD_TTL_USEC)
    {
      pc_attrib_drop_entry (self, e);
      return FALSE;
    }
  return TRUE;
}

void
pc_attrib_maintain (PcAttrib *self)
{
  gint64 now = g_get_monotonic_time ();
  PcProcessEntry *e = self->lru_tail;

  while (e != NULL)
    {
      PcProcessEntry *prev = e->prev;
      pc_attrib_check_entry (self, e, now);
      e = prev;
    }
}

/* Puts proc (with its pidfd, or -1) in the cache, replacing any record of the same pid. */
static PcProcessEntry *
pc_attrib_insert (PcAttrib *self, PcProcess *proc, int pidfd, gint64 now)
{
  PcProcessEntry *e;
  PcProcessEntry *old;

  /* When full, the least recently used entry makes room; expired dead ones are dropped by
   * pc_attrib_maintain (), not here: that takes a system call per entry looked at, and this is
   * on the packet path of every new process. */
  old = g_hash_table_lookup (self->processes, GINT_TO_POINTER (proc->pid));
  if (old != NULL)
    pc_attrib_drop_entry (self, old);
  else if (g_hash_table_size (self->processes) >= PC_PROCESS_CACHE_MAX && self->lru_tail != NULL)
    pc_attrib_drop_entry (self, self->lru_tail);

  e = g_new0 (PcProcessEntry, 1);
  e->proc = pc_process_ref (proc);
  e->pidfd = pidfd;
  e->last_used = now;
  if (pidfd >= 0 && !pc_process_entry_alive (e))
    e->dead_since = now;
  g_hash_table_insert (self->processes, GINT_TO_POINTER (proc->pid), e);
  pc_lru_push_head (self, e);
  return e;
}

static PcProcess *
pc_attrib_cache_process (PcAttrib *self, pid_t pid, gint64 now, PcProcessEntry **entry_out)
{
  g_autoptr (PcProcess) proc = NULL;
  PcProcessEntry *e;
  int pidfd;

  /* pidfd first, then read: if the pidfd still shows the process alive after the read, what
   * we read belongs to the process the pidfd refers to. */
  pidfd = pc_pidfd_open (pid);
  proc = pc_process_read_with_pidfd (pid, pidfd, NULL);
  if (proc == NULL)
    {
      if (pidfd >= 0)
        close (pidfd);
      return NULL;
    }
  e = pc_attrib_insert (self, proc, pidfd, now);
  if (entry_out != NULL)
    *entry_out = e;
  return g_steal_pointer (&proc);
}

/* Whether e's process still runs the image it was read with: same start time (not a reused
 * pid) and its arguments where they were (every exec moves them to a new stack). Reads stat. */
static gboolean
pc_attrib_entry_same_image (PcProcessEntry *e)
{
  guint64 start_time, arg_start;

  return pc_process_read_marks (e->proc->pid, &start_time, &arg_start)
         && arg_start == e->proc->arg_start && start_time == e->proc->start_time;
}

PcProcess *
pc_attrib_get_process (PcAttrib *self, pid_t pid)
{
  PcProcessEntry *e;
  gint64 now;

  if (pid <= 0)
    return NULL;
  now = g_get_monotonic_time ();
  e = g_hash_table_lookup (self->processes, GINT_TO_POINTER (pid));
  if (e != NULL && e->dead_since == 0)
    {
      if (pc_process_entry_alive (e))
        {
          /* Without the exec count from BPF, only stat tells whether the pid called exec
           * since it was read. */
          if (e->exec_known || pc_attrib_entry_same_image (e))
            {
              pc_lru_touch (self, e, now);
              return pc_process_ref (e->proc);
            }
          return pc_attrib_cache_process (self, pid, now, NULL);
        }
      e->dead_since = now;
    }

  if (e != NULL)
    {
      /* The cached process exited. If the pid now names a different process, that one is
       * current; if nobody has it, the cached record is the best answer we have. */
      guint64 start = pc_process_read_start_time (pid);
      if (start == 0 || start == e->proc->start_time)
        {
          pc_lru_touch (self, e, now);
          return pc_process_ref (e->proc);
        }
    }
  return pc_attrib_cache_process (self, pid, now, NULL);
}

/* The cached record of pid if it is current: alive, and, when the exec count it was made at
 * is known, made since the last exec. */
static PcProcessEntry *
pc_attrib_lookup_current (PcAttrib *self, pid_t pid, gboolean exec_known, guint64 exec_id)
{
  PcProcessEntry *e = g_hash_table_lookup (self->processes, GINT_TO_POINTER (pid));

  if (e == NULL || e->dead_since != 0)
    return NULL;
  if (!pc_process_entry_alive (e))
    {
      e->dead_since = g_get_monotonic_time ();
      return NULL;
    }
  if (exec_known && e->exec_known && e->exec_id != exec_id)
    return NULL;
  return e;
}

/* pid's record, read from /proc unless the cache has a current one, stamped with the exec
 * count the BPF hooks saw. */
static PcProcess *
pc_attrib_get_process_at_exec (PcAttrib *self, pid_t pid, guint64 exec_id, gint64 now)
{
  PcProcessEntry *e = pc_attrib_lookup_current (self, pid, TRUE, exec_id);
  PcProcess *proc;

  if (e != NULL)
    {
      pc_lru_touch (self, e, now);
      if (!e->exec_known)
        {
          /* Cached before its exec count was known: stat tells whether it called exec since. */
          if (!pc_attrib_entry_same_image (e))
            {
              g_autoptr (PcProcess) fresh = pc_attrib_cache_process (self, pid, now, &e);
              if (fresh == NULL)
                return pc_attrib_get_process (self, pid);
            }
          e->exec_known = TRUE;
          e->exec_id = exec_id;
        }
      return pc_process_ref (e->proc);
    }
  proc = pc_attrib_cache_process (self, pid, now, &e);
  if (proc == NULL)
    /* gone: a record of it from before it exited is the best answer there is */
    return pc_attrib_get_process (self, pid);
  e->exec_known = TRUE;
  e->exec_id = exec_id;
  return proc;
}

/* The cached record of pid if the BPF hooks just saw that very process (same start time, so
 * not a reused pid) at the exec count the record was made at: current without asking its
 * pidfd. */
static PcProcessEntry *
pc_attrib_lookup_seen (PcAttrib *self, pid_t pid, guint64 exec_id, guint64 start_time)
{
  PcProcessEntry *e = g_hash_table_lookup (self->processes, GINT_TO_POINTER (pid));

  if (e != NULL && e->dead_since == 0 && e->exec_known && e->exec_id == exec_id && start_time != 0
      && e->proc->start_time == start_time)
    return e;
  return NULL;
}

PcProcess *
pc_attrib_get_owner_process (PcAttrib *self, const PcSocketOwner *owner)
{
  g_autoptr (PcProcess) parent = NULL;
  PcProcess *child;
  PcProcessEntry *e;
  gint64 now;

  if (!owner->task_info || owner->pid <= 0)
    return pc_attrib_get_process (self, owner->pid);
  now = g_get_monotonic_time ();

  e = pc_attrib_lookup_seen (self, owner->pid, owner->exec_id, owner->start_time);
  if (e != NULL)
    {
      pc_lru_touch (self, e, now);
      return pc_process_ref (e->proc);
    }

  if (!owner->parent_image || owner->ppid <= 0
      || g_hash_table_contains (self->processes, GINT_TO_POINTER (owner->pid)))
    return pc_attrib_get_process_at_exec (self, owner->pid, owner->exec_id, now);

  /* A process met for the first time that runs its parent's image: the parent's record, made
   * (or checked) at the parent's present exec count, is its identity. The parent is read once
   * for all its children. */
  e = pc_attrib_lookup_seen (self, owner->ppid, owner->parent_exec_id, owner->parent_start_time);
  if (e != NULL)
    {
      pc_lru_touch (self, e, now);
      parent = pc_process_ref (e->proc);
    }
  else
    parent = pc_attrib_get_process_at_exec (self, owner->ppid, owner->parent_exec_id, now);
  if (parent == NULL || (owner->cgroup_id != 0 && parent->cgroup_id != owner->cgroup_id))
    return pc_attrib_get_process_at_exec (self, owner->pid, owner->exec_id, now);

  /* No pidfd: opening one costs more than everything else here on a new process, and the
   * start time from the hooks tells this process from a later one with the same pid. */
  child = pc_process_new_forked (parent, owner->pid, owner->uid,
                                 owner->tid == owner->pid ? owner->comm : NULL, owner->start_time);
  e = pc_attrib_insert (self, child, -1, now);
  e->exec_known = TRUE;
  e->exec_id = owner->exec_id;
  return child;
}
