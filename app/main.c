/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-application.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main (int argc, char *argv[])
{
  g_autoptr (PcApplication) app = NULL;

  setlocale (LC_ALL, "");
  /* PORTCULLIS_LOCALEDIR: translations of an uninstalled build (build/po), for tests */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("PORTCULLIS_LOCALEDIR") != NULL
                                       ? g_getenv ("PORTCULLIS_LOCALEDIR")
                                       : PC_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = pc_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
