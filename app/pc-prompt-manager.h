/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "pc-client.h"
#include "pc-prompt-window.h"

G_BEGIN_DECLS

#define PC_TYPE_PROMPT_MANAGER (pc_prompt_manager_get_type ())
G_DECLARE_FINAL_TYPE (PcPromptManager, pc_prompt_manager, PC, PROMPT_MANAGER, GObject)

/* The app's prompt agent: registers with the helper (RegisterPromptAgent) whenever it runs,
 * shows a popup for each pending prompt and, unless the main window is open and focused, a
 * desktop notification with Allow and Block (libnotify); answers with AnswerPrompt and closes
 * both when the helper says the prompt ended. */
PcPromptManager *pc_prompt_manager_new (GtkApplication *app, PcClient *client);

/* For the test hook: the pending prompts (aa{sv}: what each popup shows, "notified" b) and
 * the popup of one. */
GVariant *pc_prompt_manager_dump (PcPromptManager *self);
PcPromptWindow *pc_prompt_manager_get_window (PcPromptManager *self, const char *id);
/* Is the manager registered as the helper's prompt agent? */
gboolean pc_prompt_manager_is_registered (PcPromptManager *self);

G_END_DECLS
