/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "pc-proc-fallback.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scan costs O(all fds of all processes). Misses for sockets that no process holds (closed,
 * kernel-owned) would otherwise rescan on every packet: remember them for a while, and allow at
 * most PC_SCAN_BURST scans at once, refilled at PC_SCAN_PER_SEC. */
#define PC_NEGATIVE_TTL_USEC (2 * G_USEC_PER_SEC)
#define PC_SCAN_BURST 16.0
#define PC_SCAN_PER_SEC 20.0
#define PC_NEGATIVE_MAX 4096

typedef struct
{
  pid_t pid;
  int fd;
} PcInodeOwner;

struct _PcProcFallback
{
  GHashTable *owners;   /* inode -> PcInodeOwner */
  GHashTable *negative; /* inode -> gint64 time of the scan that missed it */
  double tokens;
  gint64 tokens_time;
  guint scans;
};

PcProcFallback *
pc_proc_fallback_new (void)
{
  PcProcFallback *self = g_new0 (PcProcFallback, 1);

  self->owners = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->negative = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->tokens = PC_SCAN_BURST;
  self->tokens_time = g_get_monotonic_time ();
  return self;
}

void
pc_proc_fallback_free (PcProcFallback *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->owners);
  g_hash_table_unref (self->negative);
  g_free (self);
}

guint
pc_proc_fallback_get_scans (PcProcFallback *self)
{
  return self->scans;
}

/* Key and value in one allocation: the key is the first member. */
typedef struct
{
  guint64 inode;
  PcInodeOwner owner;
} PcInodeEntry;

static guint64
pc_parse_socket_link (const char *link)
{
  char *end = NULL;
  guint64 inode;

  if (strncmp (link, "socket:[", 8) != 0)
    return 0;
  inode = g_ascii_strtoull (link + 8, &end, 10);
  if (end == NULL || *end != ']')
    return 0;
  return inode;
}

static void
pc_proc_fallback_scan (PcProcFallback *self)
{
  DIR *proc = opendir ("/proc");
  struct dirent *de;

  self->scans++;
  if (proc == NULL)
    return;
  g_hash_table_remove_all (self->owners);
  while ((de = readdir (proc)) != NULL)
    {
      char path[64];
      pid_t pid;
      int fdfd;
      DIR *fds;
      struct dirent *fe;

      if (!g_ascii_isdigit (de->d_name[0]))
        continue;
      pid = (pid_t)atoi (de->d_name);
      g_snprintf (path, sizeof path, "%s/fd", de->d_name);
      fdfd = openat (dirfd (proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fdfd < 0)
        continue;
      fds = fdopendir (fdfd);
      if (fds == NULL)
        {
          close (fdfd);
          continue;
        }
      while ((fe = readdir (fds)) != NULL)
        {
          char link[64];
          ssize_t n;
          guint64 inode;

          if (!g_ascii_isdigit (fe->d_name[0]))
            continue;
          n = readlinkat (fdfd, fe->d_name, link, sizeof link - 1);
          if (n <= 0)
            continue;
          link[n] = '\0';
          inode = pc_parse_socket_link (link);
          if (inode == 0)
            continue;
          /* The first holder wins; a socket shared after fork is attributed to the lowest pid
           * in readdir order, which is the parent in practice. */
          if (!g_hash_table_contains (self->owners, &inode))
            {
              PcInodeEntry *e = g_new (PcInodeEntry, 1);
              e->inode = inode;
              e->owner.pid = pid;
              e->owner.fd = atoi (fe->d_name);
              g_hash_table_insert (self->owners, &e->inode, &e->owner);
            }
        }
      closedir (fds);
    }
  closedir (proc);
}

/* Is the cached holder still holding it? One readlink instead of a scan. */
static gboolean
pc_inode_owner_valid (const PcInodeOwner *o, guint64 inode)
{
  char path[64], link[64];
  ssize_t n;

  g_snprintf (path, sizeof path, "/proc/%d/fd/%d", o->pid, o->fd);
  n = readlink (path, link, sizeof link - 1);
  if (n <= 0)
    return FALSE;
  link[n] = '\0';
  return pc_parse_socket_link (link) == inode;
}

static gboolean
pc_proc_fallback_take_token (PcProcFallback *self, gint64 now)
{
  self->tokens += (now - self->tokens_time) * PC_SCAN_PER_SEC / G_USEC_PER_SEC;
  self->tokens_time = now;
  if (self->tokens > PC_SCAN_BURST)
    self->tokens = PC_SCAN_BURST;
  if (self->tokens < 1.0)
    return FALSE;
  self->tokens -= 1.0;
  return TRUE;
}

pid_t
pc_proc_fallback_find_pid (PcProcFallback *self, guint64 inode)
{
  const PcInodeOwner *o;
  gint64 now;
  gint64 *missed;

  if (inode == 0)
    return 0;
  o = g_hash_table_lookup (self->owners, &inode);
  if (o != NULL && pc_inode_owner_valid (o, inode))
    return o->pid;

  now = g_get_monotonic_time ();
  missed = g_hash_table_lookup (self->negative, &inode);
  if (missed != NULL && now - *missed < PC_NEGATIVE_TTL_USEC)
    return 0;
  if (!pc_proc_fallback_take_token (self, now))
    {
      g_debug ("not rescanning /proc for socket inode %" G_GUINT64_FORMAT ": rate limit", inode);
      return 0;
    }

  pc_proc_fallback_scan (self);
  o = g_hash_table_lookup (self->owners, &inode);
  if (o != NULL)
    {
      g_hash_table_remove (self->negative, &inode);
      return o->pid;
    }

  if (g_hash_table_size (self->negative) >= PC_NEGATIVE_MAX)
    g_hash_table_remove_all (self->negative);
  {
    /* Key and value in one block, like the owners table. */
    gint64 *entry = g_new (gint64, 2);
    entry[0] = (gint64)inode;
    entry[1] = now;
    g_hash_table_insert (self->negative, &entry[0], &entry[1]);
  }
  return 0;
}

/* /proc/net/icmp{,6} rows look like /proc/net/udp ones:
 *   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
 * with the echo id as the local "port". Addresses are the kernel's in-memory words in hex. */
gboolean
pc_proc_fallback_find_ping (PcProcFallback *self, const PcFlowKey *key, guint64 *inode, uid_t *uid)
{
  const char *path = key->family == AF_INET6 ? "/proc/net/icmp6" : "/proc/net/icmp";
  FILE *f;
  char line[512];
  gboolean found = FALSE;

  *inode = 0;
  *uid = (uid_t)-1;
  f = fopen (path, "re");
  if (f == NULL)
    return FALSE;
  while (!found && fgets (line, sizeof line, f) != NULL)
    {
      char local[64], remote[64];
      unsigned int lport, st, txq, rxq, tr, retr, timeout;
      unsigned long when, ino, u;
      char *colon;

      if (sscanf (line, " %*d: %63s %63s %x %x:%x %x:%lx %x %lu %u %lu", local, remote, &st, &txq,
                  &rxq, &tr, &when, &retr, &u, &timeout, &ino)
          != 11)
        continue;
      colon = strchr (local, ':');
      if (colon == NULL)
        continue;
      lport = (unsigned int)strtoul (colon + 1, NULL, 16);
      if (lport != key->lport)
        continue;
      *colon = '\0';
      /* The local address is either unbound (all zeroes) or must be the flow's. */
      if (strspn (local, "0") != strlen (local))
        {
          guint32 words[4] = { 0 };
          guint nwords = key->family == AF_INET6 ? 4 : 1;
          if (strlen (local) != nwords * 8)
            continue;
          for (guint i = 0; i < nwords; i++)
            {
              char w[9];
              memcpy (w, local + i * 8, 8);
              w[8] = '\0';
              words[i] = (guint32)strtoul (w, NULL, 16);
            }
          if (memcmp (words, key->laddr.b, nwords * 4) != 0)
            continue;
        }
      *inode = ino;
      *uid = (uid_t)u;
      found = TRUE;
    }
  fclose (f);
  return found;
}
