/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-url.h"

#include <string.h>

#include "pc-error.h"

/* g_set_str () is GLib 2.76; Debian 12 has 2.74 */
static void
set_str (char **slot, const char *value)
{
  char *old = *slot;

  *slot = g_strdup (value);
  g_free (old);
}

/* ---- URLs ----------------------------------------------------------------------------------- */

void
pc_dns_upstream_spec_free (PcDnsUpstreamSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->url);
  g_free (spec->host);
  g_free (spec->path);
  g_free (spec->verify);
  g_free (spec->label);
  g_free (spec->ca_file);
  g_free (spec);
}

static gboolean
parse_params (PcDnsUpstreamSpec *spec, const char *query, GError **error)
{
  g_autoptr (GHashTable) params = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (query == NULL)
    return TRUE;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, error);
  if (params == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *k = key, *v = value;

      if (spec->kind == PC_DNS_UPSTREAM_PLAIN)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "parameter %s is not allowed for plain dns", k);
          return FALSE;
        }
      if (*v == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "parameter %s is empty", k);
          return FALSE;
        }
      if (strcmp (k, "ip") == 0)
        {
          if (!pc_addr_parse (v, &spec->addr))
            {
              g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "ip=%s is not an IP address",
                           v);
              return FALSE;
            }
        }
      else if (strcmp (k, "verify") == 0)
        set_str (&spec->verify, v);
      else if (strcmp (k, "name") == 0)
        set_str (&spec->label, v);
      else if (strcmp (k, "ca") == 0)
        {
          if (!g_path_is_absolute (v))
            {
              g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                           "ca=%s is not an absolute path", v);
              return FALSE;
            }
          set_str (&spec->ca_file, v);
        }
      else
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "unknown parameter %s (known: ip, verify, name, ca)", k);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_url (PcDnsUpstreamSpec *spec, const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  const char *scheme;
  const char *host;
  const char *path;
  gint port;

  if (g_ascii_strcasecmp (url, "system") == 0)
    {
      spec->kind = PC_DNS_UPSTREAM_SYSTEM;
      return TRUE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED_QUERY, error);
  if (uri == NULL)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "dot") == 0)
    spec->kind = PC_DNS_UPSTREAM_DOT;
  else if (g_ascii_strcasecmp (scheme, "doh") == 0)
    spec->kind = PC_DNS_UPSTREAM_DOH;
  else if (g_ascii_strcasecmp (scheme, "dns") == 0)
    spec->kind = PC_DNS_UPSTREAM_PLAIN;
  else
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                   "unknown scheme %s (known: dot, doh, dns, system)", scheme);
      return FALSE;
    }
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                   "user info and fragments are not allowed");
      return FALSE;
    }
  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "no host");
      return FALSE;
    }
  spec->host = g_strdup (host);
  port = g_uri_get_port (uri);
  if (port == 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "port 0");
      return FALSE;
    }
  spec->port = port > 0 ? (guint16)port
                        : (spec->kind == PC_DNS_UPSTREAM_DOT   ? 853
                           : spec->kind == PC_DNS_UPSTREAM_DOH ? 443
                                                               : 53);
  path = g_uri_get_path (uri);
  if (spec->kind == PC_DNS_UPSTREAM_DOH)
    spec->path = g_strdup (*path != '\0' ? path : "/dns-query");
  else if (*path != '\0' && strcmp (path, "/") != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "path %s is only allowed for doh",
                   path);
      return FALSE;
    }
  if (!parse_params (spec, g_uri_get_query (uri), error))
    return FALSE;

  /* a name without ip= is looked up through `system` when first used (pc-dns-upstream.c) */
  if (spec->addr.family == 0 && !pc_addr_parse (spec->host, &spec->addr)
      && spec->kind == PC_DNS_UPSTREAM_PLAIN)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "host %s is not an IP address",
                   spec->host);
      return FALSE;
    }
  if (spec->kind != PC_DNS_UPSTREAM_PLAIN && spec->verify == NULL)
    spec->verify = g_strdup (spec->host);
  return TRUE;
}

PcDnsUpstreamSpec *
pc_dns_upstream_spec_parse (const char *url, GError **error)
{
  g_autoptr (PcDnsUpstreamSpec) spec = g_new0 (PcDnsUpstreamSpec, 1);
  g_autoptr (GError) local_error = NULL;

  spec->url = g_strdup (url);
  if (!parse_url (spec, url, &local_error))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "dns server %s: %s", url,
                   local_error->message);
      return NULL;
    }
  if (spec->label == NULL)
    spec->label = g_strdup (url);
  return g_steal_pointer (&spec);
}

gboolean
pc_dns_parse_listen (const char *text, PcAddr *addr, guint16 *port, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "listen address %s: unbalanced brackets", text);
          return FALSE;
        }
      host = g_strndup (text + 1, (gsize)(end - text - 1));
      port_text = end[1] == ':' ? end + 2 : NULL;
    }
  else if (strchr (text, ':') != NULL && strchr (text, ':') == strrchr (text, ':'))
    {
      const char *colon = strchr (text, ':');
      host = g_strndup (text, (gsize)(colon - text));
      port_text = colon + 1;
    }
  else
    host = g_strdup (text);
  if (!pc_addr_parse (host, addr))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                   "listen address %s: %s is not an IP address", text, host);
      return FALSE;
    }
  *port = 53;
  if (port_text != NULL)
    {
      guint64 p = 0;
      if (!g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &p, NULL))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "listen address %s: port %s is not 0-65535", text, port_text);
          return FALSE;
        }
      *port = (guint16)p;
    }
  return TRUE;
}
