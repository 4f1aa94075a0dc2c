/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-traffic.h"

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

#include "pc-traffic-shared.h"
#include "pc-traffic.skel.h"

#define PC_TRAFFIC_BATCH 4096

struct _PcTraffic
{
  struct pc_traffic_bpf *skel;
  struct bpf_link *ingress;
  struct bpf_link *egress;
  int map_fd;
  GHashTable *sample; /* struct pc_traffic_key* -> struct pc_traffic_value* (one allocation) */
  struct pc_traffic_key *keys;
  struct pc_traffic_value *values;
};

static guint
key_hash (gconstpointer p)
{
  return pc_hash_bytes (p, sizeof (struct pc_traffic_key));
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (struct pc_traffic_key)) == 0;
}

static void
fill_key (struct pc_traffic_key *k, guint64 cookie, const PcFlowKey *key)
{
  memset (k, 0, sizeof *k);
  k->cookie = cookie;
  memcpy (k->raddr, key->raddr.b, key->family == AF_INET ? 4 : 16);
  k->family = key->family;
  k->proto = key->proto;
  k->rport = (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP) ? key->rport : 0;
}

PcTraffic *
pc_traffic_new (const char *cgroup_path, GError **error)
{
  g_autoptr (PcTraffic) self = g_new0 (PcTraffic, 1);
  struct statfs sfs;
  int cgfd, err;

  self->map_fd = -1;
  cgfd = open (cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0 || fstatfs (cgfd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    {
      if (cgfd >= 0)
        close (cgfd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s is not a cgroup v2 directory", cgroup_path);
      return NULL;
    }
  self->skel = pc_traffic_bpf__open_and_load ();
  if (self->skel == NULL)
    {
      int saved = errno;
      close (cgfd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot load the BPF traffic counters: %s", g_strerror (saved));
      return NULL;
    }
  self->ingress = bpf_program__attach_cgroup (self->skel->progs.pc_traffic_ingress, cgfd);
  err = libbpf_get_error (self->ingress);
  if (err == 0)
    {
      self->egress = bpf_program__attach_cgroup (self->skel->progs.pc_traffic_egress, cgfd);
      err = libbpf_get_error (self->egress);
      if (err != 0)
        self->egress = NULL;
    }
  else
    self->ingress = NULL;
  close (cgfd);
  if (err != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-err),
                   "cannot attach the BPF traffic counters to %s: %s", cgroup_path,
                   g_strerror (-err));
      return NULL;
    }
  self->map_fd = bpf_map__fd (self->skel->maps.pc_traffic);
  self->sample = g_hash_table_new_full (key_hash, key_equal, g_free, NULL);
  self->keys = g_new (struct pc_traffic_key, PC_TRAFFIC_BATCH);
  self->values = g_new (struct pc_traffic_value, PC_TRAFFIC_BATCH);
  return g_steal_pointer (&self);
}

void
pc_traffic_free (PcTraffic *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->egress, bpf_link__destroy);
  g_clear_pointer (&self->ingress, bpf_link__destroy);
  g_clear_pointer (&self->skel, pc_traffic_bpf__destroy);
  g_clear_pointer (&self->sample, g_hash_table_unref);
  g_free (self->keys);
  g_free (self->values);
  g_free (self);
}

guint
pc_traffic_sample (PcTraffic *self)
{
  DECLARE_LIBBPF_OPTS (bpf_map_batch_opts, opts);
  guint64 in_batch = 0, out_batch = 0;
  gboolean first = TRUE;
  guint total = 0;

  g_hash_table_remove_all (self->sample);
  /* Batched lookups read thousands of entries per system call: with 10,000 live sockets a
   * sample costs a handful of calls instead of 10,000. */
  for (;;)
    {
      __u32 count = PC_TRAFFIC_BATCH;
      int err = bpf_map_lookup_batch (self->map_fd, first ? NULL : &in_batch, &out_batch,
                                      self->keys, self->values, &count, &opts);
      int saved = errno;

      for (__u32 i = 0; i < count; i++)
        {
          /* key and value in one allocation, freed with the key */
          guint8 *kv = g_malloc (sizeof (struct pc_traffic_key) + sizeof (struct pc_traffic_value));
          memcpy (kv, &self->keys[i], sizeof (struct pc_traffic_key));
          memcpy (kv + sizeof (struct pc_traffic_key), &self->values[i],
                  sizeof (struct pc_traffic_value));
          g_hash_table_replace (self->sample, kv, kv + sizeof (struct pc_traffic_key));
        }
      total += count;
      if (err < 0)
        {
          if (saved != ENOENT)
            g_debug ("traffic counters: batch lookup: %s", g_strerror (saved));
          break;
        }
      in_batch = out_batch;
      first = FALSE;
    }
  return total;
}

static void
to_counters (const struct pc_traffic_value *v, PcTrafficCounters *out)
{
  out->bytes_in = v->bytes_in;
  out->bytes_out = v->bytes_out;
  out->packets_in = v->packets_in;
  out->packets_out = v->packets_out;
}

gboolean
pc_traffic_get (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out)
{
  struct pc_traffic_key k;
  const struct pc_traffic_value *v;

  fill_key (&k, cookie, key);
  v = g_hash_table_lookup (self->sample, &k);
  if (v == NULL)
    return FALSE;
  to_counters (v, out);
  return TRUE;
}

gboolean
pc_traffic_take (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out)
{
  struct pc_traffic_key k;
  struct pc_traffic_value v;

  fill_key (&k, cookie, key);
  if (bpf_map_lookup_elem (self->map_fd, &k, &v) < 0)
    return FALSE;
  bpf_map_delete_elem (self->map_fd, &k);
  to_counters (&v, out);
  return TRUE;
}

#else /* !HAVE_BPF */

struct _PcTraffic
{
  int unused;
};

PcTraffic *
pc_traffic_new (const char *cgroup_path, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "this build has no BPF support for traffic counters");
  return NULL;
}

void
pc_traffic_free (PcTraffic *self)
{
  g_free (self);
}

guint
pc_traffic_sample (PcTraffic *self)
{
  return 0;
}

gboolean
pc_traffic_get (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out)
{
  return FALSE;
}

gboolean
pc_traffic_take (PcTraffic *self, guint64 cookie, const PcFlowKey *key, PcTrafficCounters *out)
{
  return FALSE;
}

#endif
