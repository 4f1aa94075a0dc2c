/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "pc-attrib-bpf.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#ifdef HAVE_BPF

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "pc-sock.skel.h"

struct _PcAttribBpf
{
  struct pc_sock_bpf *skel;
  gboolean task_info; /* the programs record parent and exec state (PC_BPF_OWNER_PARENT_IMAGE) */
  GPtrArray *links;   /* struct bpf_link *; destroying a link detaches its program */
  int owners_fd;
  int udp_flows_fd;
  struct ring_buffer *flow_events; /* pc_flow_events, read without system calls */
  GHashTable *flows;               /* struct pc_bpf_flow -> struct pc_bpf_owner, from the ring */
  /* while the ring is read for one flow: that flow, and where its owner goes once found */
  const struct pc_bpf_flow *wanted;
  struct pc_bpf_owner *wanted_owner;
  gboolean wanted_found;
};

/* Flows the ring delivered and no queued packet has claimed yet; more than this means they are
 * flows the helper never sees (not queued), and they are dropped. */
#define PC_FLOWS_MAX 4096

static guint
pc_bpf_flow_hash (gconstpointer p)
{
  /* the key is fully initialised (explicit padding) */
  return pc_hash_bytes (p, sizeof (struct pc_bpf_flow));
}

static gboolean
pc_bpf_flow_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (struct pc_bpf_flow)) == 0;
}

static int
pc_flow_event_cb (void *ctx, void *data, size_t size)
{
  PcAttribBpf *self = ctx;
  const struct pc_bpf_flow_event *ev = data;
  struct pc_bpf_flow_event *copy;

  if (size < sizeof *ev)
    return 0;
  /* Usually the ring holds just the flow whose packet is waiting: it needs no copy. (The
   * latest event of a flow counts, as in the table.) */
  if (self->wanted != NULL && memcmp (&ev->flow, self->wanted, sizeof ev->flow) == 0)
    {
      *self->wanted_owner = ev->owner;
      self->wanted_found = TRUE;
      return 0;
    }
  if (g_hash_table_size (self->flows) >= PC_FLOWS_MAX)
    g_hash_table_remove_all (self->flows);
  /* one allocation: the key is the event's flow, the value its owner */
  copy = g_memdup2 (ev, sizeof *ev);
  g_hash_table_replace (self->flows, &copy->flow, &copy->owner);
  return 0;
}

static int
pc_libbpf_print_cb (enum libbpf_print_level level, const char *format, va_list args)
{
  g_autofree char *msg = NULL;

  /* libbpf's own messages are for developers; failures reach the user via GError. */
  if (level == LIBBPF_DEBUG)
    return 0;
  msg = g_strdup_vprintf (format, args);
  g_strchomp (msg);
  g_debug ("libbpf: %s", msg);
  return 0;
}

static void
pc_bpf_link_destroy (gpointer link)
{
  bpf_link__destroy (link);
}

PcAttribBpf *
pc_attrib_bpf_new (const char *cgroup_path, GError **error)
{
  g_autoptr (PcAttribBpf) self = g_new0 (PcAttribBpf, 1);
  struct bpf_program *progs[8];
  struct statfs sfs;
  int cgfd;
  int err;

  g_return_val_if_fail (cgroup_path != NULL, NULL);
  self->links = g_ptr_array_new_with_free_func (pc_bpf_link_destroy);
  libbpf_set_print (pc_libbpf_print_cb);

  cgfd = open (cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot open cgroup %s: %s",
                   cgroup_path, g_strerror (saved));
      return NULL;
    }
  if (fstatfs (cgfd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    {
      close (cgfd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s is not a cgroup v2 directory", cgroup_path);
      return NULL;
    }

  /* First with the reads of the current task (parent, exec state: they spare /proc reads for
   * forked children), which need the kernel's BTF and a kernel that offers
   * bpf_get_current_task to cgroup programs; then without. */
  for (int task_info = 1; task_info >= 0 && self->skel == NULL; task_info--)
    {
      struct pc_sock_bpf *skel = pc_sock_bpf__open ();
      if (skel == NULL)
        break;
      skel->rodata->pc_task_info = task_info;
      if (pc_sock_bpf__load (skel) == 0)
        {
          self->skel = skel;
          self->task_info = task_info;
        }
      else
        {
          int saved = errno;
          pc_sock_bpf__destroy (skel);
          errno = saved;
          if (task_info)
            g_debug ("BPF attribution without task information: %s", g_strerror (saved));
        }
    }
  if (self->skel == NULL)
    {
      int saved = errno;
      close (cgfd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot load the BPF attribution programs: %s", g_strerror (saved));
      return NULL;
    }

  progs[0] = self->skel->progs.pc_sock_create;
  progs[1] = self->skel->progs.pc_post_bind4;
  progs[2] = self->skel->progs.pc_post_bind6;
  progs[3] = self->skel->progs.pc_connect4;
  progs[4] = self->skel->progs.pc_connect6;
  progs[5] = self->skel->progs.pc_sendmsg4;
  progs[6] = self->skel->progs.pc_sendmsg6;
  progs[7] = self->skel->progs.pc_sockops;
  for (guint i = 0; i < G_N_ELEMENTS (progs); i++)
    {
      /* BPF links attach with BPF_F_ALLOW_MULTI semantics next to other programs (systemd's)
       * and detach when the helper exits, even if it crashes. */
      struct bpf_link *link = bpf_program__attach_cgroup (progs[i], cgfd);
      err = libbpf_get_error (link);
      if (err != 0)
        {
          close (cgfd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-err),
                       "cannot attach BPF program %s to cgroup %s: %s",
                       bpf_program__name (progs[i]), cgroup_path, g_strerror (-err));
          return NULL;
        }
      g_ptr_array_add (self->links, link);
    }
  close (cgfd);

  self->owners_fd = bpf_map__fd (self->skel->maps.pc_owners);
  self->udp_flows_fd = bpf_map__fd (self->skel->maps.pc_udp_flows);
  self->flows = g_hash_table_new_full (pc_bpf_flow_hash, pc_bpf_flow_equal, g_free, NULL);
  self->flow_events = ring_buffer__new (bpf_map__fd (self->skel->maps.pc_flow_events),
                                        pc_flow_event_cb, self, NULL);
  if (self->flow_events == NULL)
    g_debug ("no flow ring buffer (%s): flow owners come from the map", g_strerror (errno));
  return g_steal_pointer (&self);
}

void
pc_attrib_bpf_free (PcAttribBpf *self)
{
  if (self == NULL)
    return;
  /* Links first: detach before the programs and maps go away. */
  g_clear_pointer (&self->links, g_ptr_array_unref);
  g_clear_pointer (&self->flow_events, ring_buffer__free);
  g_clear_pointer (&self->flows, g_hash_table_unref);
  g_clear_pointer (&self->skel, pc_sock_bpf__destroy);
  g_free (self);
}

gboolean
pc_attrib_bpf_lookup_cookie (PcAttribBpf *self, guint64 cookie, struct pc_bpf_owner *out)
{
  if (cookie == 0)
    return FALSE;
  return bpf_map_lookup_elem (self->owners_fd, &cookie, out) == 0;
}

static void
pc_bpf_flow_from_key (struct pc_bpf_flow *f, guint64 netns, const PcFlowKey *key)
{
  memset (f, 0, sizeof *f);
  f->netns = netns;
  f->family = key->family == AF_INET6 ? PC_BPF_AF_INET6 : PC_BPF_AF_INET;
  f->proto = key->proto;
  f->lport = key->lport;
  f->rport = key->rport;
  memcpy (f->raddr, key->raddr.b, key->family == AF_INET6 ? 16 : 4);
}

gboolean
pc_attrib_bpf_lookup_udp_flow (PcAttribBpf *self,
                               guint64 netns,
                               const PcFlowKey *key,
                               struct pc_bpf_owner *out)
{
  struct pc_bpf_flow f;

  pc_bpf_flow_from_key (&f, netns, key);
  return bpf_map_lookup_elem (self->udp_flows_fd, &f, out) == 0;
}

gboolean
pc_attrib_bpf_lookup_flow (PcAttribBpf *self,
                           guint64 netns,
                           const PcFlowKey *key,
                           struct pc_bpf_owner *out)
{
  struct pc_bpf_flow f;
  gpointer flow_key, owner;

  pc_bpf_flow_from_key (&f, netns, key);
  if (self->flow_events != NULL)
    {
      self->wanted = &f;
      self->wanted_owner = out;
      self->wanted_found = FALSE;
      ring_buffer__consume (self->flow_events);
      self->wanted = NULL;
      if (self->wanted_found)
        {
          /* an older event of the same flow, read before, is out of date */
          if (g_hash_table_size (self->flows) > 0)
            g_hash_table_remove (self->flows, &f);
          return TRUE;
        }
      if (g_hash_table_steal_extended (self->flows, &f, &flow_key, &owner))
        {
          memcpy (out, owner, sizeof *out);
          g_free (flow_key); /* the event's one allocation */
          return TRUE;
        }
    }
  return bpf_map_lookup_elem (self->udp_flows_fd, &f, out) == 0;
}

#else /* !HAVE_BPF */

gboolean
pc_attrib_bpf_lookup_flow (PcAttribBpf *self,
                           guint64 netns,
                           const PcFlowKey *key,
                           struct pc_bpf_owner *out)
{
  return FALSE;
}

struct _PcAttribBpf
{
  int unused;
};

PcAttribBpf *
pc_attrib_bpf_new (const char *cgroup_path, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "portcullisd was built without BPF support (clang, bpftool or libbpf missing)");
  return NULL;
}

void
pc_attrib_bpf_free (PcAttribBpf *self)
{
  g_free (self);
}

gboolean
pc_attrib_bpf_lookup_cookie (PcAttribBpf *self, guint64 cookie, struct pc_bpf_owner *out)
{
  return FALSE;
}

gboolean
pc_attrib_bpf_lookup_udp_flow (PcAttribBpf *self,
                               guint64 netns,
                               const PcFlowKey *key,
                               struct pc_bpf_owner *out)
{
  return FALSE;
}

#endif /* HAVE_BPF */
