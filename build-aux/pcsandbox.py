#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Portcullis sandbox: a private network, cgroup and system bus for running portcullisd.

Used by build-aux/run --sandbox and by every integration test. Python 3 standard library only.

Layout of one sandbox (names carry a random suffix):

  client netns  pc-c-SUFFIX   veth pc0 10.77.0.2/16 fd77::2/64, default routes via the peer;
                              portcullisd runs here; client processes run here, inside the child
                              cgroup, optionally as another user
  peer netns    pc-p-SUFFIX   veth pc0 10.77.0.1/16 fd77::1/64 plus "internet" addresses
                              203.0.113.10 and 2001:db8::10; runs build-aux/sandbox-servers.py
  cgroup        <cgroup2 root>/portcullis-SUFFIX   (portcullisd --cgroup attaches BPF here)
  system bus    private dbus-daemon (system-type config) with the real polkitd on it

Processes are put into the namespaces with `nsenter --net=/run/netns/NAME`, not `ip netns exec`:
the latter remounts /sys, which hides the cgroup2 hierarchy from the helper.

Nothing is left behind: a guardian process (a second copy of this file, in its own session)
holds the read end of a pipe only this process writes to. When this process dies, even by
SIGKILL, the guardian reads EOF and removes everything listed in the sandbox's record file.
"""

import atexit
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, 'sandbox-servers.py')

CLIENT_V4 = '10.77.0.2'
PEER_V4 = '10.77.0.1'
CLIENT_V6 = 'fd77::2'
PEER_V6 = 'fd77::1'
PUBLIC_V4 = '203.0.113.10'
PUBLIC_V6 = '2001:db8::10'
VETH = 'pc0'

HELPER_READY_LINE = 'portcullisd: ready'
POLKIT_ACTIONS_DIR = '/usr/share/polkit-1/actions'
POLKIT_RULES_DIR = '/etc/polkit-1/rules.d'
POLKITD = '/usr/lib/polkit-1/polkitd'


class SandboxError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Small helpers


def _log(msg):
    if os.environ.get('PC_SANDBOX_DEBUG'):
        print(f'pcsandbox: {msg}', file=sys.stderr, flush=True)


def _run(argv, check=True, **kw):
    """Run a setup command, raising SandboxError with its output when it fails."""
    _log('+ ' + ' '.join(argv))
    res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise SandboxError(f'command failed with exit status {res.returncode}: {" ".join(argv)}\n'
                           f'{res.stdout}{res.stderr}')
    return res


def _proc_stat(pid):
    """(start time, state) of a process, or None when it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(')') + 2:].split()
    return int(rest[19]), rest[0]


def _alive(pid, start=None):
    """True if pid exists, is not a zombie and (if given) started at `start`."""
    st = _proc_stat(pid)
    if st is None or st[1] in ('Z', 'X'):
        return False
    return start is None or st[0] == start


def _kill(pid, sig, start=None):
    if _alive(pid, start):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = [(p, s) for p, s in pids if _alive(p, s)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def _tail(path, lines=40):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return '(no log)'


def _read_line(stream, timeout):
    """Read one line from a pipe with a timeout; '' on EOF or timeout."""
    fd = stream.fileno()
    buf = b''
    deadline = time.monotonic() + timeout
    while not buf.endswith(b'\n'):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors='replace').strip()


def find_cgroup2_root():
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup or /sys/fs/cgroup/unified)."""
    with open('/proc/mounts') as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == 'cgroup2':
                return fields[1].replace('\\040', ' ')
    raise SandboxError('no cgroup v2 hierarchy is mounted (no cgroup2 line in /proc/mounts)')


def ensure_test_user(name='pctest'):
    """Create an unprivileged system user without home if missing; return (uid, gid)."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        res = _run(['useradd', '-M', '-s', '/usr/sbin/nologin', name], check=False)
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            raise SandboxError(f'could not create test user {name}: {res.stderr.strip()}') from None
    return pw.pw_uid, pw.pw_gid


def _settings_text(settings):
    """settings.conf content from a string or a dict (key -> value, list, bool, or group dict)."""
    if isinstance(settings, str):
        return settings

    def value(v):
        if isinstance(v, bool):
            return 'true' if v else 'false'
        if isinstance(v, (list, tuple)):
            return ';'.join(str(x) for x in v) + (';' if v else '')
        return str(v)

    groups = {'global': {}}
    for k, v in settings.items():
        if isinstance(v, dict):
            groups.setdefault(k, {}).update(v)
        else:
            groups['global'][k] = v
    out = []
    for group, keys in groups.items():
        out.append(f'[{group}]')
        out.extend(f'{k}={value(v)}' for k, v in keys.items())
        out.append('')
    return '\n'.join(out)


def _write_atomic(path, text, mode=0o644):
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


# --------------------------------------------------------------------------------------------
# Cleanup: shared by Sandbox.close() and the guardian. Idempotent; never raises.


def _cgroup_kill_all(path, timeout=5.0):
    if not os.path.isdir(path):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(path, 'cgroup.procs')) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            return
        if not [p for p in pids if _alive(p)]:
            return
        try:
            with open(os.path.join(path, 'cgroup.kill'), 'w') as f:
                f.write('1')
        except OSError:
            for p in pids:
                _kill(p, signal.SIGKILL)
        time.sleep(0.05)


def cleanup_record(entries, log=_log):
    """Remove everything a sandbox recorded. Order matters: processes, namespaces, cgroup, files."""
    procs = [e for e in entries if e['kind'] == 'proc']
    # The helper first, politely, so it can remove its rules and BPF programs itself.
    polite = [(e['pid'], e['start']) for e in procs if e.get('term_first')]
    for pid, start in polite:
        log(f'stopping pid {pid} with SIGTERM')
        _kill(pid, signal.SIGTERM, start)
    for pid, start in _wait_gone(polite, 5.0):
        _kill(pid, signal.SIGKILL, start)

    for e in entries:
        if e['kind'] == 'cgroup':
            log(f'killing processes in cgroup {e["path"]}')
            _cgroup_kill_all(e['path'])

    rest = [(e['pid'], e['start']) for e in procs]
    for pid, start in rest:
        _kill(pid, signal.SIGTERM, start)
    for pid, start in _wait_gone(rest, 2.0):
        log(f'pid {pid} ignored SIGTERM, sending SIGKILL')
        _kill(pid, signal.SIGKILL, start)
    _wait_gone(rest, 2.0)

    for e in entries:
        if e['kind'] != 'netns' or not os.path.exists(f'/run/netns/{e["name"]}'):
            continue
        log(f'deleting network namespace {e["name"]}')
        for _ in range(50):
            res = subprocess.run(['ip', 'netns', 'pids', e['name']], capture_output=True, text=True)
            pids = [int(p) for p in res.stdout.split() if p.isdigit()]
            pids = [p for p in pids if _alive(p)]
            if not pids:
                break
            for p in pids:
                _kill(p, signal.SIGKILL)
            time.sleep(0.05)
        subprocess.run(['ip', 'netns', 'del', e['name']], capture_output=True)

    for e in entries:
        if e['kind'] == 'cgroup' and os.path.isdir(e['path']):
            log(f'removing cgroup {e["path"]}')
            for _ in range(100):
                _cgroup_kill_all(e['path'], 0.5)
                try:
                    os.rmdir(e['path'])
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)

    # Installed files: newest first, so a file installed twice ends up as it was at the start.
    for e in reversed(entries):
        if e['kind'] != 'installed':
            continue
        try:
            if e.get('backup') and os.path.exists(e['backup']):
                log(f'restoring {e["path"]}')
                shutil.copy2(e['backup'], e['path'])
            elif os.path.lexists(e['path']):
                log(f'removing {e["path"]}')
                os.unlink(e['path'])
        except OSError as err:
            log(f'could not restore {e["path"]}: {err}')

    for e in entries:
        if e['kind'] == 'dir' and os.path.isdir(e['path']):
            log(f'removing {e["path"]}')
            shutil.rmtree(e['path'], ignore_errors=True)


def _read_record(path):
    entries = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    pass  # a line cut short by a crash
    except OSError:
        pass
    return entries


def _guardian_main(record_path):
    """Wait for EOF on stdin (our parent died or finished), then clean up unless told 'done'."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    data = b''
    while True:
        try:
            chunk = os.read(0, 4096)
        except InterruptedError:
            continue
        if not chunk:
            break
        data += chunk
    if b'done' in data:
        return 0
    cleanup_record(_read_record(record_path))
    try:
        os.unlink(record_path)
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------


class Sandbox:
    """A client and a peer network namespace, a child cgroup, a private system bus with polkitd,
    real servers in the peer and (optionally) portcullisd in the client. Use as a context manager.
    """

    client_v4 = CLIENT_V4
    peer_v4 = PEER_V4
    client_v6 = CLIENT_V6
    peer_v6 = PEER_V6
    public_v4 = PUBLIC_V4
    public_v6 = PUBLIC_V6

    def __init__(self, build_dir, *, helper=True, bus=True, cgroup=True, servers=True,
                 settings=None, helper_args=(), name_prefix='pc', queue_num=0,
                 log_dir=None, polkit_policies=(), polkit_rules=None,
                 bus_strict=False, bus_policy_dirs=(), servers_args=(), helper_exe=None):
        self.build_dir = os.path.abspath(build_dir)
        # an installed portcullisd (e.g. /usr/sbin/portcullisd from the .deb) instead of the build's
        self._helper_exe = helper_exe
        self._servers_args = list(servers_args)  # extra sandbox-servers.py options (--static-dir)
        self.suffix = secrets.token_hex(3)
        self.client_ns = f'{name_prefix}-c-{self.suffix}'
        self.peer_ns = f'{name_prefix}-p-{self.suffix}'
        self.queue_num = queue_num
        self.verbose = True  # benchmarks turn it off: logging every flow costs
        self._want_helper = helper
        self._want_bus = bus
        self._want_cgroup = cgroup
        self._want_servers = servers
        self._settings = settings
        self.helper_args = list(helper_args)
        self._polkit_policies = list(polkit_policies)
        self._polkit_rules = polkit_rules
        self._bus_strict = bus_strict
        self._bus_policy_dirs = list(bus_policy_dirs)
        self._user_log_dir = log_dir

        self.cgroup_path = None
        self.bus_address = None
        self.tmp_dir = None
        self.state_dir = self.config_dir = self.log_dir = None
        self.helper_proc = None
        self.servers_proc = self.bus_proc = self.polkitd_proc = None
        self._helper_log_offset = 0
        self._record_path = None
        self._guardian = None
        self._started = False
        self._closed = False
        self._old_handlers = {}
        self._lock = threading.Lock()

    # ---- record / guardian -----------------------------------------------------------------

    def _record(self, **entry):
        with open(self._record_path, 'a') as f:
            f.write(json.dumps(entry) + '\n')

    def _record_proc(self, proc, name, term_first=False):
        st = _proc_stat(proc.pid)
        self._record(kind='proc', pid=proc.pid, start=st[0] if st else None, name=name,
                     term_first=term_first)

    def _start_guardian(self):
        fd, self._record_path = tempfile.mkstemp(prefix=f'pcsandbox-{self.suffix}-', suffix='.record')
        os.close(fd)
        self._guardian = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '_guardian', self._record_path],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True, cwd='/')

    def _stop_guardian(self):
        if self._guardian is None:
            return
        try:
            self._guardian.stdin.write(b'done')
            self._guardian.stdin.close()
        except OSError:
            pass
        try:
            self._guardian.wait(10)
        except subprocess.TimeoutExpired:
            self._guardian.kill()
            self._guardian.wait()
        self._guardian = None
        try:
            os.unlink(self._record_path)
        except OSError:
            pass

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        if self._started:
            return self
        if os.geteuid() != 0:
            raise SandboxError('the sandbox needs root (network namespaces, cgroups, polkitd)')
        self._started = True
        self._start_guardian()
        self._install_signal_handlers()
        atexit.register(self.close)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def _setup(self):
        self.tmp_dir = tempfile.mkdtemp(prefix=f'pcsandbox-{self.suffix}-')
        self._record(kind='dir', path=self.tmp_dir)
        # Traversable by polkitd and by the test user (bus socket, sandbox scripts).
        os.chmod(self.tmp_dir, 0o755)
        self.state_dir = os.path.join(self.tmp_dir, 'state')
        self.config_dir = os.path.join(self.tmp_dir, 'config')
        for d in (self.state_dir, self.config_dir):
            os.mkdir(d, 0o755)
        if self._user_log_dir:
            self.log_dir = os.path.abspath(self._user_log_dir)
            os.makedirs(self.log_dir, exist_ok=True)
        else:
            self.log_dir = os.path.join(self.tmp_dir, 'logs')
            os.mkdir(self.log_dir, 0o755)

        self._setup_network()
        if self._want_cgroup:
            self._setup_cgroup()
        if self._want_servers:
            self._start_servers()
        if self._polkit_policies or self._polkit_rules:
            self.install_polkit_files(self._polkit_policies, self._polkit_rules, restart=False)
        if self._want_bus:
            self._start_bus()
            self._start_polkitd()
        if self._settings is not None:
            self.write_settings(self._settings)
        if self._want_helper:
            self.start_helper()

    def close(self):
        """Tear everything down. Safe to call more than once."""
        with self._lock:
            if self._closed or not self._started:
                return
            self._closed = True
        try:
            if self.helper_proc is not None and self.helper_proc.poll() is None:
                try:
                    self.stop_helper()
                except SandboxError:
                    pass
            cleanup_record(_read_record(self._record_path))
            for p in (self.helper_proc, self.servers_proc, self.bus_proc, self.polkitd_proc):
                if p is not None:
                    try:
                        p.wait(1)
                    except subprocess.TimeoutExpired:
                        pass
        finally:
            self._stop_guardian()
            self._restore_signal_handlers()
            try:
                atexit.unregister(self.close)
            except Exception:
                pass

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                self._old_handlers[sig] = signal.signal(sig, handler)

    def _restore_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers.clear()

    # ---- network -----------------------------------------------------------------------------

    def _setup_network(self):
        c, p = self.client_ns, self.peer_ns
        for ns in (c, p):
            self._record(kind='netns', name=ns)
            _run(['ip', 'netns', 'add', ns])
        # The pair is created inside the namespaces, so no name is ever taken in the root one.
        _run(['ip', '-n', c, 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', VETH, 'netns', p])
        for ns in (c, p):
            _run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
        _run(['ip', '-n', c, 'addr', 'add', f'{CLIENT_V4}/16', 'dev', VETH])
        _run(['ip', '-n', c, '-6', 'addr', 'add', f'{CLIENT_V6}/64', 'dev', VETH, 'nodad'])
        _run(['ip', '-n', p, 'addr', 'add', f'{PEER_V4}/16', 'dev', VETH])
        _run(['ip', '-n', p, '-6', 'addr', 'add', f'{PEER_V6}/64', 'dev', VETH, 'nodad'])
        _run(['ip', '-n', p, 'addr', 'add', f'{PUBLIC_V4}/32', 'dev', 'lo'])
        _run(['ip', '-n', p, '-6', 'addr', 'add', f'{PUBLIC_V6}/128', 'dev', 'lo'])
        for ns in (c, p):
            _run(['ip', '-n', ns, 'link', 'set', VETH, 'up'])
        _run(['ip', '-n', c, 'route', 'add', 'default', 'via', PEER_V4])
        _run(['ip', '-n', c, '-6', 'route', 'add', 'default', 'via', PEER_V6])

    def _setup_cgroup(self):
        root = find_cgroup2_root()
        self.cgroup_path = os.path.join(root, f'portcullis-{self.suffix}')
        self._record(kind='cgroup', path=self.cgroup_path)
        os.mkdir(self.cgroup_path)

    def ns_argv(self, ns, argv, *, cgroup=False, user=None):
        """Command line that runs argv in netns `ns`, optionally in the cgroup and as `user`."""
        if isinstance(argv, str):
            argv = ['sh', '-c', argv]
        out = ['nsenter', f'--net=/run/netns/{ns}', '--']
        if cgroup:
            if not self.cgroup_path:
                raise SandboxError('this sandbox has no cgroup (cgroup=False)')
            # Join the cgroup before exec, so the program's first socket is already seen by BPF.
            out += ['sh', '-c', 'echo $$ > "$0" && exec "$@"',
                    os.path.join(self.cgroup_path, 'cgroup.procs')]
        if user is not None:
            pw = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
            out += ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--init-groups', '--']
        return out + list(argv)

    def _env(self, env, user=None):
        e = dict(os.environ)
        if self.bus_address:
            e['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus_address
        if user is not None:
            pw = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
            e.update(HOME=pw.pw_dir if os.path.isdir(pw.pw_dir) else '/', USER=pw.pw_name,
                     LOGNAME=pw.pw_name)
            e.pop('XDG_RUNTIME_DIR', None)
        if env:
            e.update(env)
        return e

    def client(self, argv, *, user=None, cgroup=True, env=None, **popen_kwargs):
        """Start argv in the client namespace (and the child cgroup); returns the Popen."""
        popen_kwargs.setdefault('stdin', subprocess.DEVNULL)
        return subprocess.Popen(self.ns_argv(self.client_ns, argv, cgroup=cgroup and bool(self.cgroup_path),
                                             user=user),
                                env=self._env(env, user), **popen_kwargs)

    def peer(self, argv, *, user=None, env=None, **popen_kwargs):
        """Start argv in the peer ("internet") namespace; returns the Popen."""
        popen_kwargs.setdefault('stdin', subprocess.DEVNULL)
        return subprocess.Popen(self.ns_argv(self.peer_ns, argv, user=user),
                                env=self._env(env, user), **popen_kwargs)

    @staticmethod
    def _complete(proc, argv, timeout, check, input):
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            # The whole process group: a shell's children would keep our pipes open.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                out = err = None
            raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
        res = subprocess.CompletedProcess(argv, proc.returncode, out, err)
        if check:
            res.check_returncode()
        return res

    def client_run(self, argv, *, timeout=30, check=False, user=None, cgroup=True, input=None,
                   env=None):
        proc = self.client(argv, user=user, cgroup=cgroup, env=env, text=True,
                           start_new_session=True,
                           stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self._complete(proc, argv, timeout, check, input)

    def peer_run(self, argv, *, timeout=30, check=False, user=None, input=None, env=None):
        proc = self.peer(argv, user=user, env=env, text=True, start_new_session=True,
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self._complete(proc, argv, timeout, check, input)

    def queue_stats(self):
        """/proc/net/netfilter/nfnetlink_queue of the client namespace, by queue number."""
        res = _run(self.ns_argv(self.client_ns, ['cat', '/proc/net/netfilter/nfnetlink_queue']),
                   check=False)
        stats = {}
        for line in res.stdout.splitlines():
            f = line.split()
            if len(f) < 8:
                continue
            stats[int(f[0])] = {
                'portid': int(f[1]), 'queue_total': int(f[2]), 'copy_mode': int(f[3]),
                'copy_range': int(f[4]), 'dropped': int(f[5]), 'user_dropped': int(f[6]),
                'queued_total': int(f[7]),
            }
        return stats

    def ruleset(self):
        """iptables-save and ip6tables-save output of the client namespace."""
        out = []
        for tool in ('iptables-save', 'ip6tables-save'):
            res = _run(self.ns_argv(self.client_ns, [tool]), check=False)
            out.append(res.stdout + res.stderr)
        return ''.join(out)

    # ---- peer servers ------------------------------------------------------------------------

    def _start_servers(self):
        log = open(os.path.join(self.log_dir, 'servers.log'), 'ab')
        self.servers_proc = subprocess.Popen(
            self.ns_argv(self.peer_ns, [sys.executable, SERVERS] + self._servers_args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True, cwd='/')
        log.close()
        self._record_proc(self.servers_proc, 'servers')
        line = _read_line(self.servers_proc.stdout, 15)
        if line != 'ready':
            raise SandboxError(f'peer servers did not become ready (said {line!r}); log:\n'
                               + _tail(os.path.join(self.log_dir, 'servers.log')))
        self.servers_proc.stdout.close()

    # ---- system bus and polkit ---------------------------------------------------------------

    def _bus_config(self, socket_path):
        if self._bus_strict:
            # Like Debian's system.conf: deny by default, packages' policies open what they own.
            policy = '''
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>'''
            dirs = ['/usr/share/dbus-1/system.d', '/etc/dbus-1/system.d'] + self._bus_policy_dirs
        else:
            policy = '''
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow send_type="method_call"/>
    <allow receive_sender="*"/>'''
            dirs = list(self._bus_policy_dirs)
        includes = ''.join(f'\n  <includedir>{d}</includedir>' for d in dirs)
        return f'''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket_path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">{policy}
  </policy>{includes}
</busconfig>
'''

    def _start_bus(self):
        bus_dir = os.path.join(self.tmp_dir, 'bus')
        os.mkdir(bus_dir, 0o755)
        conf = os.path.join(bus_dir, 'system.conf')
        with open(conf, 'w') as f:
            f.write(self._bus_config(os.path.join(bus_dir, 'system_bus_socket')))
        log = open(os.path.join(self.log_dir, 'dbus-daemon.log'), 'ab')
        self.bus_proc = subprocess.Popen(
            ['dbus-daemon', f'--config-file={conf}', '--nofork', '--nopidfile', '--print-address'],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True, cwd='/')
        log.close()
        self._record_proc(self.bus_proc, 'dbus-daemon')
        addr = _read_line(self.bus_proc.stdout, 10)
        if not addr.startswith('unix:'):
            raise SandboxError('dbus-daemon did not print its address; log:\n'
                               + _tail(os.path.join(self.log_dir, 'dbus-daemon.log')))
        self.bus_proc.stdout.close()
        self.bus_address = addr

    def name_has_owner(self, name):
        res = _run(['dbus-send', f'--bus={self.bus_address}', '--print-reply',
                    '--dest=org.freedesktop.DBus', '/', 'org.freedesktop.DBus.NameHasOwner',
                    f'string:{name}'], check=False)
        return res.returncode == 0 and 'boolean true' in res.stdout

    def wait_for_name(self, name, timeout=10, proc=None, log=None):
        deadline = time.monotonic() + timeout
        while not self.name_has_owner(name):
            if proc is not None and proc.poll() is not None:
                raise SandboxError(f'{name}: its process exited with status {proc.returncode}'
                                   + (f'; log:\n{_tail(log)}' if log else ''))
            if time.monotonic() > deadline:
                raise SandboxError(f'{name} did not appear on the sandbox bus within {timeout} s'
                                   + (f'; log:\n{_tail(log)}' if log else ''))
            time.sleep(0.05)

    def _start_polkitd(self):
        log_path = os.path.join(self.log_dir, 'polkitd.log')
        log = open(log_path, 'ab')
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        self.polkitd_proc = subprocess.Popen([POLKITD, '--no-debug'], env=env,
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             start_new_session=True, cwd='/')
        log.close()
        self._record_proc(self.polkitd_proc, 'polkitd')
        self.wait_for_name('org.freedesktop.PolicyKit1', 15, self.polkitd_proc, log_path)

    def restart_polkitd(self):
        """Restart polkitd so it has certainly read newly installed actions and rules."""
        if self.polkitd_proc is not None and self.polkitd_proc.poll() is None:
            self.polkitd_proc.terminate()
            try:
                self.polkitd_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.polkitd_proc.kill()
                self.polkitd_proc.wait()
            deadline = time.monotonic() + 5
            while self.name_has_owner('org.freedesktop.PolicyKit1') and time.monotonic() < deadline:
                time.sleep(0.05)
        self._start_polkitd()

    def install_polkit_files(self, policy_files=(), rules_text=None, restart=True):
        """Install .policy files into /usr/share/polkit-1/actions and rules_text as a rules file
        in /etc/polkit-1/rules.d; all removed (or restored) on teardown. Restarts polkitd."""
        backups = os.path.join(self.tmp_dir, 'polkit-backup')
        os.makedirs(backups, exist_ok=True)
        targets = [(src, os.path.join(POLKIT_ACTIONS_DIR, os.path.basename(src)), None)
                   for src in policy_files]
        if rules_text is not None:
            targets.append((None, os.path.join(POLKIT_RULES_DIR, f'10-pcsandbox-{self.suffix}.rules'),
                            rules_text))
        for src, dest, text in targets:
            backup = None
            if os.path.exists(dest):
                backup = os.path.join(backups, os.path.basename(dest))
                if not os.path.exists(backup):
                    shutil.copy2(dest, backup)
            self._record(kind='installed', path=dest, backup=backup)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if text is not None:
                _write_atomic(dest, text)
            else:
                shutil.copyfile(src, dest + '.tmp')
                os.chmod(dest + '.tmp', 0o644)
                os.rename(dest + '.tmp', dest)
        if restart and self.polkitd_proc is not None:
            self.restart_polkitd()

    # ---- helper ------------------------------------------------------------------------------

    @property
    def helper_exe(self):
        if self._helper_exe is not None:
            return self._helper_exe
        return os.path.join(self.build_dir, 'helper', 'portcullisd')

    @property
    def helper_log_path(self):
        return os.path.join(self.log_dir, 'portcullisd.log')

    @property
    def helper_pid(self):
        return self.helper_proc.pid if self.helper_proc is not None else None

    def write_settings(self, settings):
        """Write CONFIG_DIR/settings.conf (a string, or a dict; see _settings_text)."""
        _write_atomic(os.path.join(self.config_dir, 'settings.conf'), _settings_text(settings))

    def helper_argv(self, extra_args=()):
        argv = [self.helper_exe, '--state-dir', self.state_dir, '--config-dir', self.config_dir,
                '--queue-num', str(self.queue_num)]
        if self.verbose:
            argv.append('-v')  # every decision in the log, for tests to read
        if self.cgroup_path:
            argv += ['--cgroup', self.cgroup_path]
        else:
            # Never let the helper pick a cgroup itself: it could be the machine's root cgroup.
            argv += ['--no-bpf']
        return argv + self.helper_args + list(extra_args)

    def start_helper(self, extra_args=(), timeout=10):
        """Start portcullisd in the client namespace; wait for its ready line."""
        if self.helper_proc is not None and self.helper_proc.poll() is None:
            raise SandboxError('portcullisd is already running in this sandbox')
        if not os.access(self.helper_exe, os.X_OK):
            raise SandboxError(f'{self.helper_exe} does not exist; build the project first')
        log = open(self.helper_log_path, 'ab')
        self._helper_log_offset = log.tell()
        env = self._env({'G_DEBUG': os.environ.get('G_DEBUG', 'fatal-criticals')})
        self.helper_proc = subprocess.Popen(
            self.ns_argv(self.client_ns, self.helper_argv(extra_args)), env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd='/')
        log.close()
        self._record_proc(self.helper_proc, 'portcullisd', term_first=True)
        deadline = time.monotonic() + timeout
        while True:
            if HELPER_READY_LINE in self.helper_log(since_start=True):
                return self.helper_proc
            if self.helper_proc.poll() is not None:
                raise SandboxError(f'portcullisd exited with status {self.helper_proc.returncode} '
                                   f'before it was ready; log:\n{self._helper_log_tail()}')
            if time.monotonic() > deadline:
                self.kill_helper()
                raise SandboxError(f'portcullisd was not ready within {timeout} s; log:\n'
                                   f'{self._helper_log_tail()}')
            time.sleep(0.02)

    def _helper_log_tail(self, lines=40):
        return ''.join(self.helper_log(since_start=True).splitlines(True)[-lines:])

    def helper_log(self, since_start=False):
        """portcullisd's stderr (all runs in this sandbox, or only the latest run)."""
        try:
            with open(self.helper_log_path, 'rb') as f:
                if since_start:
                    f.seek(self._helper_log_offset)
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def stop_helper(self, sig=signal.SIGTERM, timeout=10):
        """Signal the helper and wait for it; returns its exit status (negative: signal)."""
        if self.helper_proc is None:
            raise SandboxError('portcullisd was not started')
        if self.helper_proc.poll() is None:
            self.helper_proc.send_signal(sig)
        try:
            return self.helper_proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.helper_proc.kill()
            self.helper_proc.wait()
            raise SandboxError(f'portcullisd did not exit within {timeout} s of signal {sig}; log:\n'
                               f'{self._helper_log_tail()}') from None

    def kill_helper(self):
        """SIGKILL the helper (a crash) and reap it; returns its exit status."""
        if self.helper_proc is None:
            raise SandboxError('portcullisd was not started')
        if self.helper_proc.poll() is None:
            self.helper_proc.kill()
        return self.helper_proc.wait()

    def reload_helper(self):
        """SIGHUP: the helper re-reads settings.conf."""
        if self.helper_proc is None or self.helper_proc.poll() is not None:
            raise SandboxError('portcullisd is not running')
        self.helper_proc.send_signal(signal.SIGHUP)

    def describe(self):
        lines = [
            f'client namespace  {self.client_ns}: {CLIENT_V4}/16, {CLIENT_V6}/64 on {VETH}, '
            f'default routes via the peer',
            f'peer namespace    {self.peer_ns}: {PEER_V4}, {PEER_V6}, "internet" {PUBLIC_V4}, {PUBLIC_V6}',
        ]
        if self.servers_proc:
            lines.append('peer servers      HTTP :80 :8080 (GET /, GET /bytes/N, POST counts bytes), '
                         'TCP echo :7, UDP echo :7, TCP discard :9')
        if self.cgroup_path:
            lines.append(f'cgroup            {self.cgroup_path}')
        if self.bus_address:
            lines.append(f'system bus        {self.bus_address} (polkitd running on it)')
        if self.helper_proc:
            lines.append(f'portcullisd       pid {self.helper_pid}, log {self.helper_log_path}')
        lines.append(f'state, config     {self.state_dir}, {self.config_dir}')
        lines.append(f'logs              {self.log_dir}')
        return '\n'.join(lines)


# --------------------------------------------------------------------------------------------
# unittest convention for integration tests


def unittest_main():
    """Run the module's tests (argv may name classes/tests). Exit 0 on success, 1 on failure,
    77 (meson's SKIP) only when every selected test was skipped."""
    prog = unittest.main(module='__main__', exit=False, verbosity=2)
    res = prog.result
    if not res.wasSuccessful():
        sys.exit(1)
    if res.testsRun > 0 and len(res.skipped) == res.testsRun:
        sys.exit(77)
    sys.exit(0)


# --------------------------------------------------------------------------------------------
# Command line (used by build-aux/run --sandbox)


def _cli_run(args):
    import argparse
    ap = argparse.ArgumentParser(prog='pcsandbox.py run')
    ap.add_argument('--build-dir', required=True)
    ap.add_argument('--source-dir', default=os.path.dirname(HERE))
    ap.add_argument('--no-helper', action='store_true', help='do not start portcullisd')
    ap.add_argument('--settings', help='settings.conf to use (default: default-action=allow)')
    ap.add_argument('--helper-arg', action='append', default=[], help='extra portcullisd argument')
    ap.add_argument('--exec', dest='cmd', nargs=argparse.REMAINDER,
                    help='run this command in the client namespace, then tear down')
    opts = ap.parse_args(args)
    if opts.cmd is not None and not opts.cmd:
        ap.error('--exec needs a command')

    settings = '[global]\ndefault-action=allow\n'
    if opts.settings:
        with open(opts.settings) as f:
            settings = f.read()

    def say(msg):
        print(f'sandbox: {msg}', file=sys.stderr, flush=True)

    build = os.path.abspath(opts.build_dir)
    # Ctrl-C tears down even when started from a shell that made us ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    say('creating namespaces, cgroup, private system bus and peer servers'
        + ('' if opts.no_helper else ', starting portcullisd'))
    with Sandbox(build, helper=not opts.no_helper, settings=settings,
                 helper_args=opts.helper_arg) as sb:
        path = os.pathsep.join([os.path.join(build, 'helper'), os.path.join(build, 'app', 'cli'),
                                os.path.join(build, 'app'), os.environ.get('PATH', '')])
        say(f'client namespace {sb.client_ns}, peer namespace {sb.peer_ns}, '
            f'cgroup {sb.cgroup_path}, files {sb.tmp_dir}')
        env = {'PATH': path, 'PC_SANDBOX_CLIENT_NS': sb.client_ns,
               'PC_SANDBOX_PEER_NS': sb.peer_ns, 'PC_SANDBOX_CGROUP': sb.cgroup_path or ''}
        if opts.cmd:
            proc = sb.client(opts.cmd, env=env, stdin=None)
            try:
                rc = proc.wait()
            except KeyboardInterrupt:
                try:
                    rc = proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = proc.wait()
            if rc < 0:
                rc = 128 - rc
            say('tearing down')
            return rc

        print(sb.describe())
        print(f'''
Enter the client namespace (inside the firewalled cgroup, with the sandbox bus):
  nsenter --net=/run/netns/{sb.client_ns} sh -c 'echo $$ > {sb.cgroup_path}/cgroup.procs; exec bash'
  export DBUS_SYSTEM_BUS_ADDRESS={sb.bus_address}
Or just the namespace: ip netns exec {sb.client_ns} bash   (note: it hides /sys/fs/cgroup)
Try: curl http://{PUBLIC_V4}/   curl -6 'http://[{PUBLIC_V6}]:8080/bytes/100'
Peer shell: ip netns exec {sb.peer_ns} bash
Press Ctrl-C to stop and remove everything.''', flush=True)
        try:
            while True:
                if sb.helper_proc is not None and sb.helper_proc.poll() is not None:
                    say(f'portcullisd exited with status {sb.helper_proc.returncode}; log tail:\n'
                        + sb._helper_log_tail())
                    return 1
                time.sleep(0.5)
        except (KeyboardInterrupt, SystemExit):
            pass
        say('tearing down')
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == '_guardian':
        return _guardian_main(argv[1])
    if argv and argv[0] == 'run':
        try:
            return _cli_run(argv[1:])
        except SandboxError as err:
            print(f'sandbox: {err}', file=sys.stderr)
            return 1
    print('usage: pcsandbox.py run --build-dir DIR [--no-helper] [--settings FILE] '
          '[--helper-arg ARG]... [--exec CMD...]', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
