/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pc-service"

#include "pc-polkit-authority.h"

#include <polkit/polkit.h>

#include "pc-error.h"

struct _PcPolkitAuthority
{
  GObject parent_instance;
  PolkitAuthority *authority; /* NULL until the first check got it */
};

G_DEFINE_TYPE (PcPolkitAuthority, pc_polkit_authority, G_TYPE_OBJECT)

typedef struct
{
  char *sender;
  char *action_id;
  gboolean interactive;
} PcCheckData;

static void
pc_check_data_free (PcCheckData *data)
{
  g_free (data->sender);
  g_free (data->action_id);
  g_free (data);
}

static void
check_authorization_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  PcCheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result
      = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result == NULL)
    {
      /* Fail closed: no polkit, no access. */
      g_task_return_new_error (task, PC_ERROR, PC_ERROR_ACCESS_DENIED,
                               "cannot check authorization for %s: %s", data->action_id,
                               error->message);
      return;
    }
  if (polkit_authorization_result_get_is_authorized (result))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (polkit_authorization_result_get_is_challenge (result))
    g_task_return_new_error (task, PC_ERROR, PC_ERROR_ACCESS_DENIED,
                             "not authorized for %s: authentication is required%s", data->action_id,
                             data->interactive ? "" : " (the caller did not allow interaction)");
  else
    g_task_return_new_error (task, PC_ERROR, PC_ERROR_ACCESS_DENIED, "not authorized for %s",
                             data->action_id);
}

static void
pc_polkit_authority_check_start (PcPolkitAuthority *self, GTask *task)
{
  PcCheckData *data = g_task_get_task_data (task);
  g_autoptr (PolkitSubject) subject = polkit_system_bus_name_new (data->sender);

  polkit_authority_check_authorization (
      self->authority, subject, data->action_id, NULL,
      data->interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                        : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
      g_task_get_cancellable (task), check_authorization_cb, task);
}

static void
authority_get_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  PcPolkitAuthority *self = g_task_get_source_object (task);
  PcCheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  PolkitAuthority *authority = polkit_authority_get_finish (res, &error);

  if (authority == NULL)
    {
      g_task_return_new_error (task, PC_ERROR, PC_ERROR_ACCESS_DENIED,
                               "cannot check authorization for %s: polkit is not available: %s",
                               data->action_id, error->message);
      return;
    }
  if (self->authority == NULL)
    self->authority = authority;
  else
    g_object_unref (authority);
  pc_polkit_authority_check_start (self, g_steal_pointer (&task));
}

void
pc_polkit_authority_check_async (PcPolkitAuthority *self,
                                 const char *sender,
                                 const char *action_id,
                                 gboolean interactive,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  PcCheckData *data = g_new0 (PcCheckData, 1);

  g_return_if_fail (PC_IS_POLKIT_AUTHORITY (self));
  g_return_if_fail (g_dbus_is_unique_name (sender));

  g_task_set_source_tag (task, pc_polkit_authority_check_async);
  data->sender = g_strdup (sender);
  data->action_id = g_strdup (action_id);
  data->interactive = interactive;
  g_task_set_task_data (task, data, (GDestroyNotify)pc_check_data_free);

  if (self->authority == NULL)
    polkit_authority_get_async (cancellable, authority_get_cb, g_steal_pointer (&task));
  else
    pc_polkit_authority_check_start (self, g_steal_pointer (&task));
}

gboolean
pc_polkit_authority_check_finish (PcPolkitAuthority *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pc_polkit_authority_dispose (GObject *object)
{
  PcPolkitAuthority *self = PC_POLKIT_AUTHORITY (object);

  g_clear_object (&self->authority);
  G_OBJECT_CLASS (pc_polkit_authority_parent_class)->dispose (object);
}

static void
pc_polkit_authority_class_init (PcPolkitAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_polkit_authority_dispose;
}

static void
pc_polkit_authority_init (PcPolkitAuthority *self)
{
}

PcPolkitAuthority *
pc_polkit_authority_new (void)
{
  return g_object_new (PC_TYPE_POLKIT_AUTHORITY, NULL);
}
