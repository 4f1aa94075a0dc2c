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
};

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
  return g_steal_pointer (&self);
}

void
pc_attrib_bpf_free (PcAttribBpf *self)
{
  if (self == NULL)
    return;
  /* Links first: detach before the programs and maps go away. */
  g_clear_pointer (&self->links, g_ptr_array_unref);
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

gboolean
pc_attrib_bpf_lookup_udp_flow (PcAttribBpf *self,
                               guint64 netns,
                               const PcFlowKey *key,
                               struct pc_bpf_owner *out)
{
  struct pc_bpf_flow f;

  memset (&f, 0, sizeof f);
  f.netns = netns;
  f.family = key->family == AF_INET6 ? PC_BPF_AF_INET6 : PC_BPF_AF_INET;
  f.proto = key->proto;
  f.lport = key->lport;
  f.rport = key->rport;
  memcpy (f.raddr, key->raddr.b, key->family == AF_INET6 ? 16 : 4);
  return bpf_map_lookup_elem (self->udp_flows_fd, &f, out) == 0;
}

#else /* !HAVE_BPF */

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
