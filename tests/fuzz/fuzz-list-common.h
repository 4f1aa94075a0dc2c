/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared body of the filter list fuzz targets (fuzz-list-hosts.c, -domains.c, -adblock.c,
 * -ip.c, -auto.c): each parses the input in its format and checks that
 *   - every delivered domain is valid and normalised (normalising it again changes nothing),
 *   - every delivered block has a legal prefix length and no host bits,
 *   - the counters agree with what was delivered,
 *   - a PcDomainSet / PcNetSet built from the entries finds every one of them, and looking up
 *     the raw input (as a name) does not crash. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc-domain-set.h"
#include "pc-list-parser.h"
#include "pc-net-set.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* a g_return_if_fail() in GLib means we passed it something bad */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

typedef struct
{
  PcDomainSetBuilder *domains;
  PcNetSetBuilder *nets;
  GPtrArray *names;
  GArray *addrs;
  guint n_domains;
  guint n_nets;
} FuzzListState;

typedef struct
{
  PcAddr addr;
  guint prefix_len;
} FuzzListNet;

static void
fuzz_list_domain_cb (const char *domain, gsize len, PcListEntryFlags flags, gpointer user_data)
{
  FuzzListState *st = user_data;
  char again[254];

  if (len == 0 || len > 253 || strlen (domain) != len
      || pc_list_normalize_domain (domain, len, again, NULL) != len
      || memcmp (again, domain, len) != 0)
    abort ();
  st->n_domains++;
  pc_domain_set_builder_add (st->domains, domain, (gssize)len, 1u << (len % 32));
  if (st->names->len < 1000)
    g_ptr_array_add (st->names, g_strdup (domain));
}

static void
fuzz_list_net_cb (const PcAddr *addr, guint prefix_len, gpointer user_data)
{
  FuzzListState *st = user_data;
  guint max = addr->family == AF_INET ? 32 : 128;
  FuzzListNet n = { *addr, prefix_len };

  if ((addr->family != AF_INET && addr->family != AF_INET6) || prefix_len > max)
    abort ();
  for (guint bit = prefix_len; bit < max; bit++)
    if (addr->b[bit / 8] & (0x80 >> (bit % 8)))
      abort ();
  st->n_nets++;
  if (!pc_net_set_builder_add (st->nets, addr, prefix_len, 1))
    abort ();
  if (st->addrs->len < 1000)
    g_array_append_val (st->addrs, n);
}

static inline int
fuzz_list_run (const uint8_t *data, size_t size, PcListFormat format)
{
  FuzzListState st = { 0 };
  PcListStats stats;
  g_autoptr (PcDomainSet) dset = NULL;
  g_autoptr (PcNetSet) nset = NULL;

  if (size > 256 * 1024)
    return 0;
  st.domains = pc_domain_set_builder_new (0);
  st.nets = pc_net_set_builder_new ();
  st.names = g_ptr_array_new_with_free_func (g_free);
  st.addrs = g_array_new (FALSE, FALSE, sizeof (FuzzListNet));

  pc_list_parse ((const char *)data, size, format, fuzz_list_domain_cb, fuzz_list_net_cb, &st,
                 &stats);
  if (stats.n_domains != st.n_domains || stats.n_nets != st.n_nets
      || (stats.n_rejected > 0) != (stats.first_rejected_line > 0)
      || (stats.n_rejected > 0) != (stats.first_rejected_reason != NULL)
      || stats.first_rejected_line > stats.n_lines)
    abort ();

  dset = pc_domain_set_builder_finish (g_steal_pointer (&st.domains));
  nset = pc_net_set_builder_finish (g_steal_pointer (&st.nets));
  for (guint i = 0; i < st.names->len; i++)
    {
      const char *name = g_ptr_array_index (st.names, i);

      if ((pc_domain_set_lookup (dset, name, -1) & (1u << (strlen (name) % 32))) == 0)
        abort ();
    }
  for (guint i = 0; i < st.addrs->len; i++)
    if (pc_net_set_lookup (nset, &g_array_index (st.addrs, FuzzListNet, i).addr) == 0)
      abort ();
  pc_domain_set_lookup (dset, (const char *)data, (gssize)size);

  g_ptr_array_unref (st.names);
  g_array_unref (st.addrs);
  return 0;
}
