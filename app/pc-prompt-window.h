/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_PROMPT_WINDOW (pc_prompt_window_get_type ())
G_DECLARE_FINAL_TYPE (PcPromptWindow, pc_prompt_window, PC, PROMPT_WINDOW, AdwWindow)

/* A popup for one pending prompt (a record of ListPrompts / PromptAdded). It emits "answer"
 * (verdict "allow" or "block") when a button is clicked and "later" when dismissed with Escape
 * or its close button (it hides then); it does not call the helper itself. */
PcPromptWindow *pc_prompt_window_new (GtkApplication *app, GVariant *prompt);
/* Shows (again) the popup; Allow and Block wait a second before they can be clicked. */
void pc_prompt_window_show (PcPromptWindow *self);
const char *pc_prompt_window_get_id (PcPromptWindow *self);
/* The app's name and icon from its profile (the program's name until then). */
void pc_prompt_window_set_app (PcPromptWindow *self, const char *name, const char *icon_name);
/* What an unanswered prompt gets ("allow" or "block", the app's prompt-default): the countdown
 * says it. */
void pc_prompt_window_set_default (PcPromptWindow *self, const char *verdict);
/* The AnswerPrompt dictionary (floating a{sv}) for verdict with the chosen scope and lifetime. */
GVariant *pc_prompt_window_make_answer (PcPromptWindow *self, const char *verdict);
/* While an answer is on its way the buttons are insensitive; an error shows below them. */
void pc_prompt_window_set_busy (PcPromptWindow *self, gboolean busy);
void pc_prompt_window_show_error (PcPromptWindow *self, const char *message);
/* Closes the window without emitting "later" (the prompt ended). */
void pc_prompt_window_finish (PcPromptWindow *self);

/* For the test hook: what the popup shows (a{sv}), its choices set by name (scope, lifetime,
 * minutes, details) and its buttons ("allow", "block"). */
GVariant *pc_prompt_window_dump (PcPromptWindow *self);
gboolean pc_prompt_window_test_set (PcPromptWindow *self, const char *key, const char *value);
GtkWidget *pc_prompt_window_get_button (PcPromptWindow *self, const char *verdict);

/* The sentence the popup and the notification show: "APP wants to connect to …". */
char *pc_prompt_describe (const char *app_name, GVariant *connection);

G_END_DECLS
