/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pc-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry pc_error_entries[] = {
  { PC_ERROR_FAILED, "org.portcullis.Portcullis1.Error.Failed" },
  { PC_ERROR_INVALID_ARGS, "org.portcullis.Portcullis1.Error.InvalidArgs" },
  { PC_ERROR_INVALID_RULE, "org.portcullis.Portcullis1.Error.InvalidRule" },
  { PC_ERROR_INVALID_SETTING, "org.portcullis.Portcullis1.Error.InvalidSetting" },
  { PC_ERROR_NOT_FOUND, "org.portcullis.Portcullis1.Error.NotFound" },
  { PC_ERROR_EXISTS, "org.portcullis.Portcullis1.Error.Exists" },
  { PC_ERROR_ACCESS_DENIED, "org.portcullis.Portcullis1.Error.AccessDenied" },
  { PC_ERROR_UNAVAILABLE, "org.portcullis.Portcullis1.Error.Unavailable" },
  { PC_ERROR_LIMIT, "org.portcullis.Portcullis1.Error.Limit" },
  { PC_ERROR_CORRUPT, "org.portcullis.Portcullis1.Error.Corrupt" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (pc_error_entries) == PC_ERROR_N_CODES);

GQuark
pc_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("pc-error-quark", &quark, pc_error_entries,
                                      G_N_ELEMENTS (pc_error_entries));
  return (GQuark)quark;
}
