/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pc-connection.h"

PcConnection *
pc_connection_ref (PcConnection *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_connection_unref (PcConnection *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->comm);
  g_free (self->exe);
  g_free (self->cmdline);
  g_free (self->app_kind);
  g_free (self->app_id);
  g_free (self->profile_id);
  g_free (self->domain);
  g_free (self->country);
  g_free (self->reason);
  g_free (self);
}

PcConnection *
pc_connection_copy (const PcConnection *self)
{
  PcConnection *copy = g_memdup2 (self, sizeof *self);

  copy->ref_count = 1;
  copy->comm = g_strdup (self->comm);
  copy->exe = g_strdup (self->exe);
  copy->cmdline = g_strdup (self->cmdline);
  copy->app_kind = g_strdup (self->app_kind);
  copy->app_id = g_strdup (self->app_id);
  copy->profile_id = g_strdup (self->profile_id);
  copy->domain = g_strdup (self->domain);
  copy->country = g_strdup (self->country);
  copy->reason = g_strdup (self->reason);
  return copy;
}
