/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The client library's pieces that need no bus: values typed on a command line, values shown to
 * people, and D-Bus errors turned back into PC_ERROR codes. */
#include <gio/gio.h>
#include <string.h>

#include "pc-client.h"

static void
test_parse_boolean (void)
{
  const char *yes[] = { "true", "YES", "on", "1" };
  const char *no[] = { "false", "No", "off", "0" };
  g_autoptr (GError) error = NULL;
  GVariant *v;

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      g_autoptr (GVariant) t
          = g_variant_ref_sink (pc_client_parse_value (yes[i], G_VARIANT_TYPE_BOOLEAN, NULL));
      g_assert_true (g_variant_get_boolean (t));
    }
  for (guint i = 0; i < G_N_ELEMENTS (no); i++)
    {
      g_autoptr (GVariant) f
          = g_variant_ref_sink (pc_client_parse_value (no[i], G_VARIANT_TYPE_BOOLEAN, NULL));
      g_assert_false (g_variant_get_boolean (f));
    }
  v = pc_client_parse_value ("maybe", G_VARIANT_TYPE_BOOLEAN, &error);
  g_assert_null (v);
  g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "'maybe'"));
}

static void
test_parse_numbers (void)
{
  const char *bad[] = { "", "-1", "4294967296", "12x", "x", " 5" };
  g_autoptr (GVariant) u
      = g_variant_ref_sink (pc_client_parse_value ("4294967295", G_VARIANT_TYPE_UINT32, NULL));
  g_autoptr (GVariant) x
      = g_variant_ref_sink (pc_client_parse_value ("-42", G_VARIANT_TYPE_INT64, NULL));

  g_assert_cmpuint (g_variant_get_uint32 (u), ==, G_MAXUINT32);
  g_assert_cmpint (g_variant_get_int64 (x), ==, -42);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (pc_client_parse_value (bad[i], G_VARIANT_TYPE_UINT32, &error));
      g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
    }
}

static void
test_parse_lists_and_strings (void)
{
  g_autoptr (GVariant) list = g_variant_ref_sink (
      pc_client_parse_value (" tls://a.example ;https://b.example/dns-query,, \n- x.example",
                             G_VARIANT_TYPE_STRING_ARRAY, NULL));
  g_autoptr (GVariant) empty
      = g_variant_ref_sink (pc_client_parse_value ("", G_VARIANT_TYPE_STRING_ARRAY, NULL));
  g_autoptr (GVariant) s
      = g_variant_ref_sink (pc_client_parse_value ("block", G_VARIANT_TYPE_STRING, NULL));
  g_autofree const char **items = g_variant_get_strv (list, NULL);

  g_assert_cmpuint (g_strv_length ((char **)items), ==, 3);
  g_assert_cmpstr (items[0], ==, "tls://a.example");
  g_assert_cmpstr (items[1], ==, "https://b.example/dns-query");
  g_assert_cmpstr (items[2], ==, "- x.example");
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);
  g_assert_cmpstr (g_variant_get_string (s, NULL), ==, "block");
}

static void
test_format (void)
{
  const char *rules[] = { "- a.example", "+ *" };
  g_autoptr (GVariant) list = g_variant_ref_sink (
      g_variant_new_variant (g_variant_new_strv (rules, G_N_ELEMENTS (rules))));
  g_autoptr (GVariant) b = g_variant_ref_sink (g_variant_new_boolean (TRUE));
  g_autoptr (GVariant) u = g_variant_ref_sink (g_variant_new_uint32 (60));
  g_autoptr (GVariant) s = g_variant_ref_sink (g_variant_new_string ("allow"));
  g_autofree char *list_text = pc_client_format_value (list);
  g_autofree char *b_text = pc_client_format_value (b);
  g_autofree char *u_text = pc_client_format_value (u);
  g_autofree char *s_text = pc_client_format_value (s);

  g_assert_cmpstr (list_text, ==, "- a.example; + *");
  g_assert_cmpstr (b_text, ==, "true");
  g_assert_cmpstr (u_text, ==, "60");
  g_assert_cmpstr (s_text, ==, "allow");
}

static void
test_errors (void)
{
  g_autoptr (GError) remote = g_dbus_error_new_for_dbus_error (
      "org.portcullis.Portcullis1.Error.InvalidRule", "line 1: expected '+' or '-'");
  g_autoptr (GError) denied = g_dbus_error_new_for_dbus_error (
      "org.portcullis.Portcullis1.Error.AccessDenied", "not authorized for x");
  g_autoptr (GError) missing = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                                                    "GDBus.Error:org.freedesktop.DBus.Error."
                                                    "ServiceUnknown: no such name");
  g_autoptr (GError) bus_denied
      = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "bus policy");

  /* the helper's error names come back as PC_ERROR codes with the helper's message */
  pc_client_fix_error (remote);
  g_assert_error (remote, PC_ERROR, PC_ERROR_INVALID_RULE);
  g_assert_cmpstr (remote->message, ==, "line 1: expected '+' or '-'");
  g_assert_false (pc_client_error_is_denied (remote));

  pc_client_fix_error (denied);
  g_assert_error (denied, PC_ERROR, PC_ERROR_ACCESS_DENIED);
  g_assert_true (pc_client_error_is_denied (denied));
  g_assert_true (pc_client_error_is_denied (bus_denied));

  pc_client_fix_error (missing);
  g_assert_error (missing, PC_ERROR, PC_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (missing->message, "portcullisd is not running"));

  /* every code has a D-Bus name, both ways */
  for (gint code = 0; code < PC_ERROR_N_CODES; code++)
    {
      g_autoptr (GError) error = g_error_new_literal (PC_ERROR, code, "m");
      g_autofree char *name = g_dbus_error_encode_gerror (error);
      g_autoptr (GError) back = g_dbus_error_new_for_dbus_error (name, "m");

      g_assert_true (g_str_has_prefix (name, "org.portcullis.Portcullis1.Error."));
      g_assert_error (back, PC_ERROR, code);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* as pc_client_new_*() do: the error names are known before the first reply */
  g_assert_cmpuint (PC_ERROR, !=, 0);
  g_test_add_func ("/client/parse/boolean", test_parse_boolean);
  g_test_add_func ("/client/parse/numbers", test_parse_numbers);
  g_test_add_func ("/client/parse/lists-and-strings", test_parse_lists_and_strings);
  g_test_add_func ("/client/format", test_format);
  g_test_add_func ("/client/errors", test_errors);
  return g_test_run ();
}
