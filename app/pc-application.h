/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pc-client.h"
#include "pc-live-model.h"
#include "pc-prompt-manager.h"

G_BEGIN_DECLS

typedef enum
{
  PC_HELPER_STATE_CONNECTING, /* not known yet */
  PC_HELPER_STATE_OK,
  PC_HELPER_STATE_DEGRADED, /* running, with the Status "degraded" reasons */
  PC_HELPER_STATE_MISSING,  /* no owner of the bus name */
  PC_HELPER_STATE_DENIED,   /* polkit says no */
  PC_HELPER_STATE_NO_BUS,   /* no system bus */
  PC_HELPER_STATE_ERROR,    /* Status failed otherwise */
} PcHelperState;

#define PC_TYPE_APPLICATION (pc_application_get_type ())
G_DECLARE_FINAL_TYPE (PcApplication, pc_application, PC, APPLICATION, AdwApplication)

PcApplication *pc_application_new (void);
/* NULL when there is no system bus */
PcClient *pc_application_get_client (PcApplication *self);
PcLiveModel *pc_application_get_live_model (PcApplication *self);
/* The prompt agent (NULL when there is no system bus) */
PcPromptManager *pc_application_get_prompt_manager (PcApplication *self);
PcHelperState pc_application_get_helper_state (PcApplication *self);
gboolean pc_application_get_helper_available (PcApplication *self);
/* what is wrong and what to do; NULL when all is well */
const char *pc_application_get_problem_title (PcApplication *self);
const char *pc_application_get_problem_detail (PcApplication *self);
/* the last Status (a{sv}) or NULL */
GVariant *pc_application_get_status (PcApplication *self);
/* NULL when the schema is not installed */
GSettings *pc_application_get_settings (PcApplication *self);

/* Calls a method that changes something, letting polkit ask for a password (no timeout). */
void pc_application_call_configure (PcApplication *self,
                                    const char *method,
                                    GVariant *parameters,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
/* Finishes it; errors come with the helper's message (pc_client_fix_error). */
gboolean
pc_application_call_configure_finish (PcApplication *self, GAsyncResult *result, GError **error);

G_END_DECLS
