/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Settings, profiles, rules and backup over D-Bus: included by pc-service.c (the methods share
 * its static state). Every method here runs after polkit authorized the caller; the manager
 * validates, and on error nothing changes. */

static gboolean
pc_service_check_policy (PcService *self, GDBusMethodInvocation *invocation)
{
  if (self->policy != NULL)
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, PC_ERROR, PC_ERROR_UNAVAILABLE,
                                         "%s: settings and profiles are not available: the "
                                         "policy store is not open",
                                         g_dbus_method_invocation_get_method_name (invocation));
  return FALSE;
}

static void
return_result (GDBusMethodInvocation *invocation, GVariant *value, const GError *error)
{
  if (error != NULL)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, value);
}

static void
return_ok (GDBusMethodInvocation *invocation, gboolean ok, const GError *error)
{
  if (!ok)
    return_error (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
method_get_settings (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) settings = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  settings = g_variant_ref_sink (pc_policy_manager_list_global (self->policy));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{s(vs)})", settings));
}

static void
method_get_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &key);
  value = pc_policy_manager_get_global (self->policy, key, &error);
  if (value != NULL)
    g_variant_ref_sink (value);
  return_result (invocation, value != NULL ? g_variant_new ("(v)", value) : NULL, error);
}

static void
method_set_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&sv)", &key, &value);
  ok = pc_policy_manager_set_global (self->policy, key, value, &error);
  return_ok (invocation, ok, error);
}

static void
method_reset_setting (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &key);
  ok = pc_policy_manager_reset_global (self->policy, key, &error);
  return_ok (invocation, ok, error);
}

static void
method_list_profiles (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) profiles = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  profiles = g_variant_ref_sink (pc_policy_manager_list_profiles (self->policy));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@aa{sv})", profiles));
}

static void
method_get_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) profile = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  profile = pc_policy_manager_get_profile (self->policy, id, &error);
  if (profile != NULL)
    g_variant_ref_sink (profile);
  return_result (invocation, profile != NULL ? g_variant_new ("(@a{sv})", profile) : NULL, error);
}

static void
method_create_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(@a{sv})", &props);
  id = pc_policy_manager_create_profile (self->policy, props, &error);
  return_result (invocation, id != NULL ? g_variant_new ("(s)", id) : NULL, error);
}

static void
method_update_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s@a{sv})", &id, &props);
  ok = pc_policy_manager_update_profile (self->policy, id, props, &error);
  return_ok (invocation, ok, error);
}

static void
method_delete_profile (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  ok = pc_policy_manager_delete_profile (self->policy, id, &error);
  return_ok (invocation, ok, error);
}

static void
method_set_profile_setting (PcService *self,
                            GDBusMethodInvocation *invocation,
                            GVariant *parameters)
{
  const char *id = NULL;
  const char *key = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s&sv)", &id, &key, &value);
  ok = pc_policy_manager_set_profile_setting (self->policy, id, key, value, &error);
  return_ok (invocation, ok, error);
}

static void
method_unset_profile_setting (PcService *self,
                              GDBusMethodInvocation *invocation,
                              GVariant *parameters)
{
  const char *id = NULL;
  const char *key = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s&s)", &id, &key);
  ok = pc_policy_manager_set_profile_setting (self->policy, id, key, NULL, &error);
  return_ok (invocation, ok, error);
}

static void
method_get_effective_settings (PcService *self,
                               GDBusMethodInvocation *invocation,
                               GVariant *parameters)
{
  const char *id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) settings = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &id);
  settings = pc_policy_manager_get_effective (self->policy, id, &error);
  if (settings != NULL)
    g_variant_ref_sink (settings);
  return_result (invocation, settings != NULL ? g_variant_new ("(@a{s(vs)})", settings) : NULL,
                 error);
}

static void
method_add_or_remove_rule (PcService *self,
                           GDBusMethodInvocation *invocation,
                           GVariant *parameters,
                           gboolean add)
{
  const char *id = NULL;
  const char *rule = NULL;
  gboolean inbound = FALSE;
  const char *list_key;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&sb&s)", &id, &inbound, &rule);
  list_key = inbound ? "inbound-endpoints" : "endpoints";
  if (add)
    ok = pc_policy_manager_add_rule (self->policy, id[0] != '\0' ? id : NULL, list_key, rule,
                                     &error);
  else
    ok = pc_policy_manager_remove_rule (self->policy, id[0] != '\0' ? id : NULL, list_key, rule,
                                        &error);
  return_ok (invocation, ok, error);
}

static void
method_add_rule (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  method_add_or_remove_rule (self, invocation, parameters, TRUE);
}

static void
method_remove_rule (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  method_add_or_remove_rule (self, invocation, parameters, FALSE);
}

static void
method_export (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;

  if (!pc_service_check_policy (self, invocation))
    return;
  json = pc_policy_manager_export_json (self->policy, &error);
  return_result (invocation, json != NULL ? g_variant_new ("(s)", json) : NULL, error);
}

static void
method_import (PcService *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
  const char *json = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!pc_service_check_policy (self, invocation))
    return;
  g_variant_get (parameters, "(&s)", &json);
  ok = pc_policy_manager_import_json (self->policy, json, &error);
  return_ok (invocation, ok, error);
}
