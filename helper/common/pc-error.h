/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The project's error domain. The codes map 1:1 to D-Bus errors
 * org.portcullis.Portcullis1.Error.<Name> (see pc-error.c), so they survive the bus. */
#define PC_ERROR (pc_error_quark ())

typedef enum
{
  PC_ERROR_FAILED,
  PC_ERROR_INVALID_ARGS,
  PC_ERROR_INVALID_RULE,
  PC_ERROR_INVALID_SETTING,
  PC_ERROR_NOT_FOUND,
  PC_ERROR_EXISTS,
  PC_ERROR_ACCESS_DENIED,
  PC_ERROR_UNAVAILABLE,
  PC_ERROR_LIMIT,
  PC_ERROR_CORRUPT,
} PcError;

#define PC_ERROR_N_CODES (PC_ERROR_CORRUPT + 1)

GQuark pc_error_quark (void);

G_END_DECLS
