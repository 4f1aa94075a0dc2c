/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pc-connection.h"

#include <string.h>

/* The string fields, by offset: copied, packed and freed alike. */
static const gsize string_fields[] = {
  G_STRUCT_OFFSET (PcConnection, comm),    G_STRUCT_OFFSET (PcConnection, exe),
  G_STRUCT_OFFSET (PcConnection, cmdline), G_STRUCT_OFFSET (PcConnection, app_kind),
  G_STRUCT_OFFSET (PcConnection, app_id),  G_STRUCT_OFFSET (PcConnection, profile_id),
  G_STRUCT_OFFSET (PcConnection, domain),  G_STRUCT_OFFSET (PcConnection, country),
  G_STRUCT_OFFSET (PcConnection, reason),
};

#define STRING_FIELD(c, i) G_STRUCT_MEMBER (char *, (c), string_fields[i])

/* One allocation instead of ten on the packet path of every new flow (the strings were nine
 * g_strdup calls): a record and its strings are made and freed together. Only copies are
 * changed (records are immutable once shared), and a copy has strings of its own. */
PcConnection *
pc_connection_new_packed (const PcConnection *template)
{
  gsize lengths[G_N_ELEMENTS (string_fields)];
  gsize size = sizeof (PcConnection);
  PcConnection *self;
  char *tail;

  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    {
      const char *s = STRING_FIELD (template, i);
      lengths[i] = s != NULL ? strlen (s) + 1 : 0;
      size += lengths[i];
    }
  self = g_malloc (size);
  *self = *template;
  self->ref_count = 1;
  self->packed_size = size;
  tail = (char *)(self + 1);
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    {
      if (lengths[i] == 0)
        continue;
      memcpy (tail, STRING_FIELD (template, i), lengths[i]);
      STRING_FIELD (self, i) = tail;
      tail += lengths[i];
    }
  return self;
}

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
  if (self->packed_size == 0)
    for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
      g_free (STRING_FIELD (self, i));
  g_free (self);
}

PcConnection *
pc_connection_copy (const PcConnection *self)
{
  PcConnection *copy = g_memdup2 (self, sizeof *self);

  copy->ref_count = 1;
  copy->packed_size = 0;
  for (guint i = 0; i < G_N_ELEMENTS (string_fields); i++)
    STRING_FIELD (copy, i) = g_strdup (STRING_FIELD (self, i));
  return copy;
}
