/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "test-dns-servers.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void
dns_test_die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

guint16
dns_test_free_port (void)
{
  for (guint attempt = 0; attempt < 100; attempt++)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001) };
      socklen_t sl = sizeof sin;
      int t = socket (AF_INET, SOCK_STREAM, 0);
      int u = socket (AF_INET, SOCK_DGRAM, 0);
      guint16 port = 0;

      if (bind (t, (struct sockaddr *)&sin, sizeof sin) == 0
          && getsockname (t, (struct sockaddr *)&sin, &sl) == 0
          && bind (u, (struct sockaddr *)&sin, sizeof sin) == 0)
        port = ntohs (sin.sin_port);
      close (t);
      close (u);
      if (port != 0)
        return port;
    }
  g_error ("no free port on 127.0.0.1");
}

static void
run (const char *dir, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_spawn_sync (dir, (char **)argv, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

DnsTestServers *
dns_test_servers_start (const char *const *extra)
{
  DnsTestServers *s = g_new0 (DnsTestServers, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) conf = g_string_new ("");
  g_autofree char *log = NULL;
  const char *ub_argv[] = { "unbound", "-d", "-c", "unbound.conf", NULL };

  s->dir = g_dir_make_tmp ("pc-dns-test-XXXXXX", &error);
  g_assert_no_error (error);
  s->ca_file = g_build_filename (s->dir, "ca.pem", NULL);
  write_file (s->dir, "ca.tmpl",
              "cn = \"Portcullis Test CA\"\nca\ncert_signing_key\nexpiration_days = 2\n");
  write_file (s->dir, "srv.tmpl",
              "cn = \"dns.test\"\ndns_name = \"dns.test\"\nip_address = \"127.0.0.1\"\n"
              "tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n");
  {
    const char *a1[]
        = { "certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", "ca.key", NULL };
    const char *a2[] = { "certtool",
                         "--generate-self-signed",
                         "--load-privkey",
                         "ca.key",
                         "--template",
                         "ca.tmpl",
                         "--outfile",
                         "ca.pem",
                         NULL };
    const char *a3[]
        = { "certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", "srv.key", NULL };
    const char *a4[] = { "certtool",
                         "--generate-certificate",
                         "--load-privkey",
                         "srv.key",
                         "--load-ca-certificate",
                         "ca.pem",
                         "--load-ca-privkey",
                         "ca.key",
                         "--template",
                         "srv.tmpl",
                         "--outfile",
                         "srv.pem",
                         NULL };
    run (s->dir, a1);
    run (s->dir, a2);
    run (s->dir, a3);
    run (s->dir, a4);
  }

  s->plain_port = dns_test_free_port ();
  do
    s->tls_port = dns_test_free_port ();
  while (s->tls_port == s->plain_port);
  do
    s->https_port = dns_test_free_port ();
  while (s->https_port == s->plain_port || s->https_port == s->tls_port);

  g_string_append_printf (
      conf,
      "server:\n"
      "  interface: 127.0.0.1@%u\n  interface: 127.0.0.1@%u\n  interface: 127.0.0.1@%u\n"
      "  tls-port: %u\n  https-port: %u\n"
      "  tls-service-key: %s/srv.key\n  tls-service-pem: %s/srv.pem\n"
      "  username: \"\"\n  chroot: \"\"\n  directory: %s\n  pidfile: \"\"\n"
      "  do-daemonize: no\n  use-syslog: no\n  logfile: %s/unbound.log\n  log-queries: yes\n"
      "  verbosity: 1\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n"
      "  num-threads: 1\n  tcp-idle-timeout: 1000\n  incoming-num-tcp: 100\n"
      "  local-zone: \"test.\" static\n"
      "  local-data: \"test. 3600 IN SOA ns.test. host.test. 1 3600 600 86400 60\"\n"
      "  local-data: \"www.test. 300 IN A 203.0.113.5\"\n"
      "  local-data: \"www.test. 300 IN AAAA 2001:db8::5\"\n",
      s->plain_port, s->tls_port, s->https_port, s->tls_port, s->https_port, s->dir, s->dir, s->dir,
      s->dir);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_string_append_printf (conf, "  %s\n", extra[i]);
  write_file (s->dir, "unbound.conf", conf->str);

  g_spawn_async (s->dir, (char **)ub_argv, NULL,
                 G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                     | G_SPAWN_STDERR_TO_DEV_NULL,
                 dns_test_die_with_parent, NULL, &s->pid, &error);
  g_assert_no_error (error);
  log = g_build_filename (s->dir, "unbound.log", NULL);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (log, &text, NULL, NULL) && strstr (text, "start of service"))
        return s;
      g_usleep (50000);
    }
  g_error ("unbound did not start (see %s)", log);
}

void
dns_test_servers_stop (DnsTestServers *s)
{
  if (s == NULL)
    return;
  if (s->pid > 0)
    {
      kill (s->pid, SIGTERM);
      waitpid (s->pid, NULL, 0);
      g_spawn_close_pid (s->pid);
    }
  if (g_getenv ("PC_DNS_TEST_KEEP") == NULL)
    {
      const char *argv[] = { "rm", "-rf", s->dir, NULL };
      g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                    NULL);
    }
  g_free (s->ca_file);
  g_free (s->dir);
  g_free (s);
}

guint
dns_test_servers_count (DnsTestServers *s, const char *name, const char *type)
{
  g_autofree char *log = g_build_filename (s->dir, "unbound.log", NULL);
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strdup_printf (" %s %s IN", name, type);
  guint n = 0;

  if (!g_file_get_contents (log, &text, NULL, NULL))
    return 0;
  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}
