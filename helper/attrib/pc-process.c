/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "pc-process.h"

#include "pc-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* environ and cmdline are controlled by the process and may be huge; we only need the start. */
#define PC_PROC_READ_MAX (64 * 1024)

/* PIDFD_GET_INFO (Linux 6.13): the credentials of a process through its pidfd, without
 * rendering all of /proc/PID/status (whose signal masks make it the costliest file we read).
 * Defined here because the build machine's headers may predate it; the first version of the
 * struct (64 bytes) is all we need and newer kernels accept it. */
struct pc_pidfd_info
{
  guint64 mask;
  guint64 cgroupid;
  guint32 pid;
  guint32 tgid;
  guint32 ppid;
  guint32 ruid;
  guint32 rgid;
  guint32 euid;
  guint32 egid;
  guint32 suid;
  guint32 sgid;
  guint32 fsuid;
  guint32 fsgid;
  gint32 exit_code;
};
G_STATIC_ASSERT (sizeof (struct pc_pidfd_info) == 64);
#define PC_PIDFD_INFO_PID (1ULL << 0)
#define PC_PIDFD_INFO_CREDS (1ULL << 1)
#define PC_PIDFD_INFO_CGROUPID (1ULL << 2)
#define PC_PIDFD_GET_INFO _IOWR (0xFF, 11, struct pc_pidfd_info)

static void
pc_process_free (PcProcess *self)
{
  g_free (self->comm);
  if (self->image != NULL)
    {
      /* the rest is the parent's */
      pc_process_unref (self->image);
      g_free (self);
      return;
    }
  g_free (self->exe);
  g_strfreev (self->argv);
  g_free (self->cmdline);
  g_free (self->app_id);
  g_free (self->interpreter);
  g_free (self->cgroup);
  g_free (self->systemd_unit);
  g_free (self->environ);
  g_free (self);
}

PcProcess *
pc_process_ref (PcProcess *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_process_unref (PcProcess *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_int_dec_and_test (&self->ref_count))
    pc_process_free (self);
}

const char *
pc_app_kind_to_string (PcAppKind kind)
{
  switch (kind)
    {
      case PC_APP_KIND_NATIVE:
        return "native";
      case PC_APP_KIND_FLATPAK:
        return "flatpak";
      case PC_APP_KIND_SNAP:
        return "snap";
      case PC_APP_KIND_APPIMAGE:
        return "appimage";
      case PC_APP_KIND_SCRIPT:
        return "script";
      default:
        return "unknown";
    }
}

/* The files of /proc/PID that are read here (seq_file or loops over the process memory) fill a
 * read as far as they have data, so a short read is the end of the file: no second read()
 * that returns 0. This saves a system call per file on the packet path. Files reached through
 * /proc/PID/root are ordinary files and are read to the 0. */
#define PC_PROC_FILE(name) (strncmp ((name), "root/", 5) != 0)

/* Reads at most max bytes of a /proc file relative to the process directory. Returns NULL with
 * errno set on failure; the result is always NUL-terminated (len excludes the NUL). */
static char *
pc_read_at (int dirfd, const char *name, gsize max, gsize *len_out)
{
  gboolean proc = PC_PROC_FILE (name);
  g_autofree char *buf = NULL;
  gsize len = 0;
  gsize size = MIN (max, 4096); /* most files are small: grow only when they are not */
  int fd;

  fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return NULL;
  buf = g_malloc (size + 1);
  while (len < max)
    {
      ssize_t n;

      if (len == size)
        {
          size = MIN (max, size * 4);
          buf = g_realloc (buf, size + 1);
        }
      n = read (fd, buf + len, size - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
      if (proc && len < size)
        break;
    }
  close (fd);
  buf[len] = '\0';
  if (len_out != NULL)
    *len_out = len;
  return g_steal_pointer (&buf);
}

/* Like pc_read_at, into a caller's buffer of size max + 1 (no allocation). Returns the length
 * read, or -1 with errno set. */
static gssize
pc_read_into (int dirfd, const char *name, char *buf, gsize max)
{
  gsize len = 0;
  int fd;

  fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  while (len < max)
    {
      ssize_t n = read (fd, buf + len, max - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return -1;
        }
      if (n == 0)
        break;
      len += n;
      if (PC_PROC_FILE (name) && len < max)
        break;
    }
  close (fd);
  buf[len] = '\0';
  return (gssize)len;
}

static char *
pc_readlink_at (int dirfd, const char *name)
{
  char buf[PATH_MAX];
  ssize_t n = readlinkat (dirfd, name, buf, sizeof buf - 1);

  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return g_strdup (buf);
}

/* Value of NAME in a NUL-separated environment block, or NULL. */
static const char *
pc_environ_get (const char *env, gsize len, const char *name)
{
  gsize name_len = strlen (name);
  const char *p = env;
  const char *end = env + len;

  while (p < end)
    {
      gsize entry_len = strnlen (p, end - p);
      if (entry_len > name_len && p[name_len] == '=' && memcmp (p, name, name_len) == 0)
        return p + name_len + 1;
      p += entry_len + 1;
    }
  return NULL;
}

const char *
pc_process_get_env (const PcProcess *self, const char *name)
{
  if (self->environ == NULL)
    return NULL;
  return pc_environ_get (self->environ, self->environ_len, name);
}

/* Innermost .service or .scope component of a cgroup path: for
 * /user.slice/user-1000.slice/user@1000.service/app.slice/app-foo-12.scope that is the app's
 * scope, and for /system.slice/foo.service/sub (a delegated subtree) it is foo.service. */
static char *
pc_unit_from_cgroup (const char *cgroup)
{
  g_auto (GStrv) parts = NULL;

  if (cgroup == NULL)
    return NULL;
  parts = g_strsplit (cgroup, "/", -1);
  for (int i = g_strv_length (parts) - 1; i >= 0; i--)
    {
      if (g_str_has_suffix (parts[i], ".service") || g_str_has_suffix (parts[i], ".scope"))
        return g_strdup (parts[i]);
    }
  return NULL;
}

typedef enum
{
  PC_INTERP_NONE,
  PC_INTERP_SHELL,
  PC_INTERP_PYTHON,
  PC_INTERP_PERL,
  PC_INTERP_RUBY,
  PC_INTERP_NODE,
  PC_INTERP_LUA,
  PC_INTERP_PHP,
  PC_INTERP_OTHER,
} PcInterp;

/* True if name is prefix followed only by version characters (python3.11, lua5.4, php8.2). */
static gboolean
pc_name_is_versioned (const char *name, const char *prefix)
{
  gsize n = strlen (prefix);

  if (strncmp (name, prefix, n) != 0)
    return FALSE;
  for (const char *p = name + n; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) && *p != '.')
        return FALSE;
    }
  return TRUE;
}

static PcInterp
pc_interpreter_kind (const char *exe)
{
  static const char *const shells[] = { "sh",   "bash", "dash", "zsh",  "ksh", "mksh", "ksh93",
                                        "yash", "fish", "csh",  "tcsh", "ash", NULL };
  const char *name;

  if (exe == NULL)
    return PC_INTERP_NONE;
  name = strrchr (exe, '/');
  name = name != NULL ? name + 1 : exe;
  if (g_strv_contains (shells, name))
    return PC_INTERP_SHELL;
  if (pc_name_is_versioned (name, "python") || pc_name_is_versioned (name, "pypy")
      || pc_name_is_versioned (name, "pypy3"))
    return PC_INTERP_PYTHON;
  if (pc_name_is_versioned (name, "perl"))
    return PC_INTERP_PERL;
  if (pc_name_is_versioned (name, "ruby"))
    return PC_INTERP_RUBY;
  if (g_str_equal (name, "node") || g_str_equal (name, "nodejs"))
    return PC_INTERP_NODE;
  if (pc_name_is_versioned (name, "lua") || pc_name_is_versioned (name, "luajit"))
    return PC_INTERP_LUA;
  if (pc_name_is_versioned (name, "php"))
    return PC_INTERP_PHP;
  if (pc_name_is_versioned (name, "tclsh") || pc_name_is_versioned (name, "wish")
      || g_str_equal (name, "Rscript") || pc_name_is_versioned (name, "guile"))
    return PC_INTERP_OTHER;
  return PC_INTERP_NONE;
}

typedef enum
{
  PC_SCRIPT_NONE,   /* no script: interactive, or code given inline (-c, -e) */
  PC_SCRIPT_FILE,   /* *script is argv index of the script path */
  PC_SCRIPT_MODULE, /* *script is argv index of the module name (python -m) */
} PcScriptArg;

/* Finds the script argument of an interpreter command line, skipping the interpreter's options.
 * Per interpreter: which short options take a separate argument, which mean "the program is
 * inline" (no script file), and which name the script (php -f). */
static PcScriptArg
pc_find_script_arg (PcInterp interp, char **argv, int *script)
{
  const char *with_arg = "";
  const char *inline_opts = "";
  const char *file_opts = "";
  const char *module_opts = "";
  int argc = g_strv_length (argv);

  switch (interp)
    {
      case PC_INTERP_SHELL:
        with_arg = "oO";
        inline_opts = "cs";
        break;
      case PC_INTERP_PYTHON:
        with_arg = "WXQ";
        inline_opts = "c";
        module_opts = "m";
        break;
      case PC_INTERP_PERL:
        with_arg = "IMmx"; /* perl takes these attached in practice; separate is tolerated */
        inline_opts = "eE";
        break;
      case PC_INTERP_RUBY:
        with_arg = "ICrEF";
        inline_opts = "e";
        break;
      case PC_INTERP_NODE:
        with_arg = "r";
        inline_opts = "ep";
        break;
      case PC_INTERP_LUA:
        with_arg = "l";
        inline_opts = "e";
        break;
      case PC_INTERP_PHP:
        with_arg = "cdzt";
        inline_opts = "rBRFE";
        file_opts = "f";
        break;
      case PC_INTERP_OTHER:
      case PC_INTERP_NONE:
      default:
        break;
    }

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];

      if (g_str_equal (a, "--"))
        {
          if (i + 1 < argc)
            {
              *script = i + 1;
              return PC_SCRIPT_FILE;
            }
          return PC_SCRIPT_NONE;
        }
      if (a[0] != '-' || a[1] == '\0') /* "-" is stdin: no file */
        {
          if (a[0] == '-')
            return PC_SCRIPT_NONE;
          *script = i;
          return PC_SCRIPT_FILE;
        }
      if (a[1] == '-')
        {
          /* Long options: only the ones that take a separate value matter. */
          if (g_str_equal (a, "--eval") || g_str_equal (a, "--print")
              || g_str_equal (a, "--command"))
            return PC_SCRIPT_NONE;
          if (strchr (a, '=') == NULL
              && (g_str_equal (a, "--rcfile") || g_str_equal (a, "--init-file")
                  || g_str_equal (a, "--require") || g_str_equal (a, "--check-hash-based-pycs")))
            i++;
          continue;
        }
      if (interp == PC_INTERP_SHELL && a[0] == '+')
        continue;
      /* A cluster of short options like -uE or -Wignore. */
      for (const char *c = a + 1; *c != '\0'; c++)
        {
          if (strchr (inline_opts, *c) != NULL)
            return PC_SCRIPT_NONE;
          if (strchr (module_opts, *c) != NULL || strchr (file_opts, *c) != NULL)
            {
              int idx = i + 1;
              /* -mmodule / -ffile: the value is attached; point past the option letter is not
               * representable as an argv index, so only the separate form is recognised. */
              if (c[1] != '\0' || idx >= argc)
                return PC_SCRIPT_NONE;
              *script = idx;
              return strchr (module_opts, *c) != NULL ? PC_SCRIPT_MODULE : PC_SCRIPT_FILE;
            }
          if (strchr (with_arg, *c) != NULL)
            {
              if (c[1] == '\0')
                i++; /* the value is the next argument */
              break;
            }
        }
    }
  return PC_SCRIPT_NONE;
}

static void
pc_process_identify_script (PcProcess *self, int dirfd)
{
  PcInterp interp = pc_interpreter_kind (self->exe);
  PcScriptArg how;
  int idx = 0;
  const char *base;

  if (interp == PC_INTERP_NONE || self->argv == NULL || self->argv[0] == NULL)
    return;
  how = pc_find_script_arg (interp, self->argv, &idx);
  if (how == PC_SCRIPT_NONE)
    return;

  if (how == PC_SCRIPT_MODULE)
    {
      base = strrchr (self->exe, '/');
      base = base != NULL ? base + 1 : self->exe;
      self->app_id = g_strdup_printf ("%s -m %s", base, self->argv[idx]);
    }
  else if (g_path_is_absolute (self->argv[idx]))
    {
      self->app_id = g_canonicalize_filename (self->argv[idx], "/");
    }
  else
    {
      /* The cwd now may differ from the one at exec if the script changed directory; it is the
       * best we have and right for the common case. */
      g_autofree char *cwd = pc_readlink_at (dirfd, "cwd");
      if (cwd == NULL)
        return;
      self->app_id = g_canonicalize_filename (self->argv[idx], cwd);
    }
  self->kind = PC_APP_KIND_SCRIPT;
  self->interpreter = g_strdup (self->exe);
}

static gboolean
pc_str_has_suffix_ci (const char *s, const char *suffix)
{
  gsize ls = strlen (s), lx = strlen (suffix);

  return ls >= lx && g_ascii_strcasecmp (s + ls - lx, suffix) == 0;
}

/* Identity by kind, most specific first. Note that SNAP_NAME and APPIMAGE come from the
 * process' own environment and can be forged by it; flatpak's /.flatpak-info lives in a root the
 * sandboxed app cannot write. Policy code should weigh the kinds accordingly. */
static void
pc_process_identify (PcProcess *self, int dirfd)
{
  g_autofree char *info = NULL;
  const char *env;
  gsize env_len;
  const char *val;

  /* Kept for policy fingerprints (environment variable matches). */
  self->environ = pc_read_at (dirfd, "environ", PC_PROC_READ_MAX, &self->environ_len);
  env = self->environ;
  env_len = self->environ_len;

  /* flatpak: the sandbox root carries /.flatpak-info; read through /proc/PID/root. */
  info = pc_read_at (dirfd, "root/.flatpak-info", PC_PROC_READ_MAX, NULL);
  if (info != NULL)
    {
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autofree char *name = NULL;

      if (g_key_file_load_from_data (kf, info, -1, G_KEY_FILE_NONE, NULL))
        name = g_key_file_get_string (kf, "Application", "name", NULL);
      if (name != NULL && *name != '\0')
        {
          self->kind = PC_APP_KIND_FLATPAK;
          self->app_id = g_steal_pointer (&name);
          return;
        }
    }

  /* snap: the exe lives under /snap/NAME/REVISION/... */
  if (self->exe != NULL && g_str_has_prefix (self->exe, "/snap/"))
    {
      const char *name = self->exe + strlen ("/snap/");
      const char *slash = strchr (name, '/');
      if (slash != NULL && slash > name)
        {
          self->kind = PC_APP_KIND_SNAP;
          self->app_id = g_strndup (name, slash - name);
          return;
        }
    }

  if (env != NULL)
    {
      val = pc_environ_get (env, env_len, "SNAP_NAME");
      if (val != NULL && *val != '\0')
        {
          self->kind = PC_APP_KIND_SNAP;
          self->app_id = g_strdup (val);
          return;
        }
      val = pc_environ_get (env, env_len, "APPIMAGE");
      if (val != NULL && *val != '\0'
          && (pc_str_has_suffix_ci (val, ".AppImage")
              || (self->exe != NULL && g_str_has_prefix (self->exe, "/tmp/.mount_"))))
        {
          self->kind = PC_APP_KIND_APPIMAGE;
          self->app_id = g_strdup (val);
          return;
        }
    }

  pc_process_identify_script (self, dirfd);
  if (self->app_id != NULL)
    return;

  self->kind = PC_APP_KIND_NATIVE;
  /* Kernel threads and processes whose exe we cannot read: name them like ps does. */
  self->app_id = self->exe != NULL ? g_strdup (self->exe) : g_strdup_printf ("[%s]", self->comm);
}

/* Walks the fields of /proc/PID/stat after comm (p points just past the last ')'): ppid
 * (field 4), start time (22) and arg_start (48, the address of the argument area, which every
 * exec moves; 0 where the kernel hides it). FALSE if there are fewer than 22 fields. */
static gboolean
pc_stat_fields (const char *p, pid_t *ppid, guint64 *start_time, guint64 *arg_start)
{
  guint field;

  *arg_start = 0;
  p = *p == ' ' ? p + 1 : p;
  for (field = 3; *p != '\0'; field++)
    {
      if (field == 4 && ppid != NULL)
        *ppid = (pid_t)g_ascii_strtoll (p, NULL, 10);
      else if (field == 22)
        *start_time = g_ascii_strtoull (p, NULL, 10);
      else if (field == 48)
        {
          *arg_start = g_ascii_strtoull (p, NULL, 10);
          break;
        }
      p = strchr (p, ' ');
      if (p == NULL)
        break;
      p++;
    }
  return field >= 22;
}

/* Parses /proc/PID/stat: comm is between the first '(' and the last ')' because it may contain
 * both parentheses and spaces. */
static gboolean
pc_process_parse_stat (PcProcess *self, const char *stat, GError **error)
{
  const char *open = strchr (stat, '(');
  const char *close = strrchr (stat, ')');

  if (open == NULL || close == NULL || close < open)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "malformed stat of process %d: no comm field", self->pid);
      return FALSE;
    }
  self->comm = g_strndup (open + 1, close - open - 1);
  if (!pc_stat_fields (close + 1, &self->ppid, &self->start_time, &self->arg_start))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "malformed stat of process %d: too few fields", self->pid);
      return FALSE;
    }
  return TRUE;
}

/* Asks the pidfd for the real uid and the cgroup v2 id; FALSE if the kernel cannot tell (before
 * 6.13) or the process is gone. *cgroupid is 0 when unknown. */
static gboolean
pc_pidfd_get_info (int pidfd, uid_t *uid, guint64 *cgroupid)
{
  struct pc_pidfd_info info;

  if (pidfd < 0)
    return FALSE;
  memset (&info, 0, sizeof info);
  info.mask = PC_PIDFD_INFO_CREDS | PC_PIDFD_INFO_CGROUPID;
  if (ioctl (pidfd, PC_PIDFD_GET_INFO, &info) != 0 || (info.mask & PC_PIDFD_INFO_CREDS) == 0)
    return FALSE;
  *uid = (uid_t)info.ruid;
  *cgroupid = (info.mask & PC_PIDFD_INFO_CGROUPID) != 0 ? info.cgroupid : 0;
  return TRUE;
}

PcProcess *
pc_process_new_forked (
    const PcProcess *parent, pid_t pid, uid_t uid, const char *comm, guint64 start_time)
{
  PcProcess *self = g_new0 (PcProcess, 1);
  const PcProcess *image = parent->image != NULL ? parent->image : parent;

  self->ref_count = 1;
  self->pid = pid;
  self->ppid = parent->pid;
  self->uid = uid;
  self->start_time = start_time;
  self->arg_start = parent->arg_start;
  self->cgroup_id = parent->cgroup_id;
  self->comm = g_strdup (comm != NULL && comm[0] != '\0' ? comm : parent->comm);
  self->image = pc_process_ref ((PcProcess *)image);
  self->exe = image->exe;
  self->argv = image->argv;
  self->cmdline = image->cmdline;
  self->kind = image->kind;
  self->app_id = image->app_id;
  self->interpreter = image->interpreter;
  self->cgroup = image->cgroup;
  self->systemd_unit = image->systemd_unit;
  self->environ = image->environ;
  self->environ_len = image->environ_len;
  return self;
}

gboolean
pc_process_pidfd_info (int pidfd, pid_t *ppid, uid_t *uid, guint64 *cgroup_id)
{
  struct pc_pidfd_info info;

  if (pidfd < 0)
    return FALSE;
  memset (&info, 0, sizeof info);
  info.mask = PC_PIDFD_INFO_PID | PC_PIDFD_INFO_CREDS | PC_PIDFD_INFO_CGROUPID;
  if (ioctl (pidfd, PC_PIDFD_GET_INFO, &info) != 0
      || (info.mask & (PC_PIDFD_INFO_PID | PC_PIDFD_INFO_CREDS))
             != (PC_PIDFD_INFO_PID | PC_PIDFD_INFO_CREDS))
    return FALSE;
  *ppid = (pid_t)info.ppid;
  *uid = (uid_t)info.ruid;
  *cgroup_id = (info.mask & PC_PIDFD_INFO_CGROUPID) != 0 ? info.cgroupid : 0;
  return TRUE;
}

/* Real uid: the first field of "Uid:" in /proc/PID/status. */
static uid_t
pc_process_read_status_uid (int dirfd)
{
  char status[8192];
  const char *uid_line;

  if (pc_read_into (dirfd, "status", status, sizeof status - 1) < 0)
    return (uid_t)-1;
  uid_line = strstr (status, "\nUid:");
  if (uid_line == NULL)
    return (uid_t)-1;
  return (uid_t)g_ascii_strtoull (uid_line + strlen ("\nUid:"), NULL, 10);
}

/* cgroup v2 id -> path, so that processes of a known cgroup skip rendering /proc/PID/cgroup.
 * Ids are 64-bit and never reused while the system runs; the path of an id changes only if the
 * cgroup directory is renamed, which systemd never does. Bounded: cleared when full. */
#define PC_CGROUP_CACHE_MAX 1024
static GMutex pc_cgroup_lock;
static GHashTable *pc_cgroup_paths; /* guint64 * -> char * */

/* Before Linux 6.13 the pidfd does not tell the cgroup id: it is the inode number of the
 * cgroup's directory in the cgroup v2 mount (what BPF's bpf_get_current_cgroup_id says too).
 * 0 when unknown. */
static guint64
pc_cgroup_id_of_path (const char *path)
{
  static gsize once;
  static char *root;
  g_autofree char *dir = NULL;
  struct stat st;

  if (g_once_init_enter (&once))
    {
      root = pc_cgroup2_find_root ();
      g_once_init_leave (&once, 1);
    }
  if (root == NULL || path[0] != '/')
    return 0;
  dir = g_build_filename (root, path, NULL);
  return stat (dir, &st) == 0 && S_ISDIR (st.st_mode) ? (guint64)st.st_ino : 0;
}

static char *
pc_cgroup_cache_lookup (guint64 id)
{
  char *path = NULL;

  if (id == 0)
    return NULL;
  g_mutex_lock (&pc_cgroup_lock);
  if (pc_cgroup_paths != NULL)
    path = g_strdup (g_hash_table_lookup (pc_cgroup_paths, &id));
  g_mutex_unlock (&pc_cgroup_lock);
  return path;
}

static void
pc_cgroup_cache_insert (guint64 id, const char *path)
{
  guint64 *key;

  if (id == 0 || path == NULL)
    return;
  key = g_new (guint64, 1);
  *key = id;
  g_mutex_lock (&pc_cgroup_lock);
  if (pc_cgroup_paths == NULL)
    pc_cgroup_paths = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  if (g_hash_table_size (pc_cgroup_paths) >= PC_CGROUP_CACHE_MAX)
    g_hash_table_remove_all (pc_cgroup_paths);
  g_hash_table_replace (pc_cgroup_paths, key, g_strdup (path));
  g_mutex_unlock (&pc_cgroup_lock);
}

/* The v2 line of /proc/PID/cgroup is "0::/path"; on a pure v2 system it is the only one. */
static char *
pc_process_read_cgroup (int dirfd)
{
  char cgroup[4096];
  const char *line;
  const char *start;
  const char *nl;

  if (pc_read_into (dirfd, "cgroup", cgroup, sizeof cgroup - 1) < 0)
    return NULL;
  line = g_str_has_prefix (cgroup, "0::") ? cgroup : strstr (cgroup, "\n0::");
  if (line == NULL)
    return NULL;
  start = line[0] == '\n' ? line + 4 : line + 3;
  nl = strchr (start, '\n');
  return nl != NULL ? g_strndup (start, nl - start) : g_strdup (start);
}

gboolean
pc_process_read_marks (pid_t pid, guint64 *start_time, guint64 *arg_start)
{
  char path[48];
  char stat[1024];
  const char *close;
  gssize n;

  *start_time = *arg_start = 0;
  if (pid <= 0)
    return FALSE;
  g_snprintf (path, sizeof path, "/proc/%d/stat", pid);
  n = pc_read_into (AT_FDCWD, path, stat, sizeof stat - 1);
  if (n < 0)
    return FALSE;
  close = strrchr (stat, ')');
  return close != NULL && pc_stat_fields (close + 1, NULL, start_time, arg_start);
}

guint64
pc_process_read_start_time (pid_t pid)
{
  guint64 start_time, arg_start;

  return pc_process_read_marks (pid, &start_time, &arg_start) ? start_time : 0;
}

PcProcess *
pc_process_read (pid_t pid, GError **error)
{
  return pc_process_read_with_pidfd (pid, -1, error);
}

PcProcess *
pc_process_read_with_pidfd (pid_t pid, int pidfd, GError **error)
{
  g_autoptr (PcProcess) self = NULL;
  g_autofree char *cmdline = NULL;
  char stat[1024];
  char path[32];
  guint64 cgroupid = 0;
  gsize len = 0;
  int dirfd;

  if (pid <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "invalid pid %d", pid);
      return NULL;
    }

  /* All reads go through one directory fd: if the pid is reused while we read, the old
   * directory fails with ESRCH instead of silently mixing two processes. */
  g_snprintf (path, sizeof path, "/proc/%d", pid);
  dirfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR,
                   saved == ENOENT ? G_IO_ERROR_NOT_FOUND : g_io_error_from_errno (saved),
                   "cannot open %s: %s", path, g_strerror (saved));
      return NULL;
    }

  self = g_new0 (PcProcess, 1);
  self->ref_count = 1;
  self->pid = pid;
  self->uid = (uid_t)-1;

  /* stat is at most a few hundred bytes (comm is 16 at most). */
  if (pc_read_into (dirfd, "stat", stat, sizeof stat - 1) < 0)
    {
      int saved = errno;
      close (dirfd);
      g_set_error (error, G_IO_ERROR,
                   saved == ESRCH || saved == ENOENT ? G_IO_ERROR_NOT_FOUND
                                                     : g_io_error_from_errno (saved),
                   "cannot read stat of process %d: %s", pid, g_strerror (saved));
      return NULL;
    }
  if (!pc_process_parse_stat (self, stat, error))
    {
      close (dirfd);
      return NULL;
    }

  if (!pc_pidfd_get_info (pidfd, &self->uid, &cgroupid))
    self->uid = pc_process_read_status_uid (dirfd);
  self->cgroup_id = cgroupid;

  self->exe = pc_readlink_at (dirfd, "exe");
  if (self->exe != NULL && g_str_has_suffix (self->exe, " (deleted)"))
    self->exe[strlen (self->exe) - strlen (" (deleted)")] = '\0';

  cmdline = pc_read_at (dirfd, "cmdline", PC_PROC_READ_MAX, &len);
  {
    const char *p = cmdline != NULL ? cmdline : "";
    const char *end = p + len;
    guint n = 0;
    guint i = 0;

    /* cmdline is NUL-separated with a trailing NUL; a truncated read may lack the last one. */
    for (const char *q = p; q < end; q += strnlen (q, end - q) + 1)
      n++;
    self->argv = g_new (char *, n + 1);
    while (p < end)
      {
        gsize l = strnlen (p, end - p);
        self->argv[i++] = g_strndup (p, l);
        p += l + 1;
      }
    self->argv[i] = NULL;
    self->cmdline = g_strjoinv (" ", self->argv);
  }

  self->cgroup = pc_cgroup_cache_lookup (cgroupid);
  if (self->cgroup == NULL)
    {
      uid_t uid_again;
      guint64 cgroupid_again = 0;

      self->cgroup = pc_process_read_cgroup (dirfd);
      /* Remember the path only if the process did not change cgroups while we read it. */
      if (cgroupid != 0 && pc_pidfd_get_info (pidfd, &uid_again, &cgroupid_again)
          && cgroupid_again == cgroupid)
        pc_cgroup_cache_insert (cgroupid, self->cgroup);
    }
  if (self->cgroup_id == 0 && self->cgroup != NULL)
    self->cgroup_id = pc_cgroup_id_of_path (self->cgroup);
  self->systemd_unit = pc_unit_from_cgroup (self->cgroup);

  pc_process_identify (self, dirfd);
  close (dirfd);
  return g_steal_pointer (&self);
}
