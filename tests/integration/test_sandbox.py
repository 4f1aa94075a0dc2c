#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox every integration test stands on: network, peer servers, cgroup, private bus with
polkitd, users, and that it leaves nothing behind, even when its creator is killed with SIGKILL.
Also the README's `build-aux/run --sandbox --exec` round trip with the real helper."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

SOURCE_DIR = os.environ.get('PC_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD_DIR = os.environ.get('PC_BUILD_DIR') or os.path.join(SOURCE_DIR, 'build')
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))

import pcsandbox  # noqa: E402

PYTHON = '/usr/bin/python3'
TEST_USER = 'pctest'

TCP_ECHO = '''
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=5)
msg = b'hello portcullis ' * 1000
s.sendall(msg)
got = b''
while len(got) < len(msg):
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
print('ok' if got == msg else 'mismatch %d' % len(got))
'''

UDP_ECHO = '''
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
for attempt in range(3):
    s.sendto(b'ping %d' % attempt, (host, port))
    try:
        data, addr = s.recvfrom(100)
    except socket.timeout:
        continue
    print('ok' if data == b'ping %d' % attempt else 'mismatch')
    break
else:
    print('timeout')
'''

TCP_DISCARD = '''
import socket, sys
s = socket.create_connection((sys.argv[1], 9), timeout=10)
buf = b'\\0' * (1 << 20)
for _ in range(64):
    s.sendall(buf)
s.close()
print('ok')
'''


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest('needs root (network namespaces, cgroups, polkitd)')


def url_host(addr):
    return f'[{addr}]' if ':' in addr else addr


def comm(pid):
    try:
        with open(f'/proc/{pid}/comm') as f:
            return f.read().strip()
    except OSError:
        return '?'


def leftovers(info):
    """What a dead sandbox left behind, as a list of readable strings (empty: clean)."""
    left = []
    netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True).stdout
    for ns in re.findall(r'^(\S+)', netns, re.M):
        if info['suffix'] in ns:
            left.append(f'network namespace {ns}')
    for path in (info['cgroup_path'], info['tmp_dir'], *info.get('files', [])):
        if path and os.path.lexists(path):
            left.append(path)
    for pid, start in info['pids']:
        if pcsandbox._alive(pid, start):
            left.append(f'process {pid} ({comm(pid)})')
    return left


def sandbox_info(sb, extra_pids=(), files=()):
    pids = []
    for p in (sb.servers_proc, sb.bus_proc, sb.polkitd_proc, *extra_pids):
        if p is not None:
            st = pcsandbox._proc_stat(p.pid)
            pids.append((p.pid, st[0] if st else None))
    return {'suffix': sb.suffix, 'cgroup_path': sb.cgroup_path, 'tmp_dir': sb.tmp_dir,
            'pids': pids, 'files': list(files)}


def wait_clean(info, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        left = leftovers(info)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


class SandboxTest(unittest.TestCase):
    """One sandbox without the helper, shared by the tests of this class."""

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.uid, cls.gid = pcsandbox.ensure_test_user(TEST_USER)
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, helper=False)
        cls.sb.start()

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def run_client(self, argv, **kw):
        res = self.sb.client_run(argv, **kw)
        return res

    def test_http_byte_counts_v4_v6(self):
        sb = self.sb
        for addr in (sb.peer_v4, sb.peer_v6, sb.public_v4, sb.public_v6):
            for port, n in ((80, 1000), (8080, 3_000_000)):
                url = f'http://{url_host(addr)}:{port}/bytes/{n}'
                res = sb.client_run(['curl', '-sS', '-g', '-o', '/dev/null', '-w',
                                     '%{http_code} %{size_download}', url])
                self.assertEqual(res.stdout, f'200 {n}', f'{url}: {res.stderr}')

    def test_http_page_and_keepalive(self):
        sb = self.sb
        url = f'http://{sb.public_v4}/'
        res = sb.client_run(['curl', '-sS', url, url, '-o', '/dev/null', '-o', '-', '-w',
                             '%{num_connects}\n'])
        self.assertIn('<html>', res.stdout)
        # The second request reused the first connection (HTTP/1.1 keep-alive): 0 new connects.
        self.assertEqual(res.stdout.strip().splitlines()[-1], '0', res.stdout + res.stderr)
        post = sb.client_run(['curl', '-sS', '--data-binary', '@-', f'http://{sb.peer_v4}:8080/upload'],
                             input='x' * 12345)
        self.assertEqual(post.stdout.strip(), '12345', post.stderr)

    def test_tcp_udp_echo_and_discard_v4_v6(self):
        sb = self.sb
        for addr in (sb.peer_v4, sb.peer_v6, sb.public_v4, sb.public_v6):
            tcp = sb.client_run([PYTHON, '-c', TCP_ECHO, addr, '7'])
            self.assertEqual(tcp.stdout.strip(), 'ok', f'TCP echo {addr}: {tcp.stderr}')
            udp = sb.client_run([PYTHON, '-c', UDP_ECHO, addr, '7'])
            self.assertEqual(udp.stdout.strip(), 'ok', f'UDP echo {addr}: {udp.stderr}')
        disc = sb.client_run([PYTHON, '-c', TCP_DISCARD, sb.public_v6])
        self.assertEqual(disc.stdout.strip(), 'ok', disc.stderr)

    def test_client_has_only_the_sandbox_network(self):
        res = self.sb.client_run(['ip', '-o', 'addr', 'show'])
        self.assertIn(f'inet {self.sb.client_v4}/16', res.stdout)
        self.assertIn(f'inet6 {self.sb.client_v6}/64', res.stdout)
        links = self.sb.client_run(['ip', '-o', 'link', 'show']).stdout
        self.assertEqual(sorted(re.findall(r'^\d+: ([^:@]+)', links, re.M)), ['lo', 'pc0'])

    def test_client_processes_land_in_the_cgroup(self):
        rel = '/' + os.path.basename(self.sb.cgroup_path)
        res = self.sb.client_run(['cat', '/proc/self/cgroup'])
        self.assertIn(f'0::{rel}\n', res.stdout)
        # and the cgroup really holds it while it runs
        proc = self.sb.client(['sleep', '30'])
        try:
            deadline = time.monotonic() + 5
            while True:
                with open(os.path.join(self.sb.cgroup_path, 'cgroup.procs')) as f:
                    if str(proc.pid) in f.read().split():
                        break
                self.assertLess(time.monotonic(), deadline, 'sleep never showed up in the cgroup')
                time.sleep(0.02)
        finally:
            proc.kill()
            proc.wait()
        outside = self.sb.client_run(['cat', '/proc/self/cgroup'], cgroup=False)
        self.assertNotIn(f'0::{rel}\n', outside.stdout)

    def test_run_as_another_user(self):
        res = self.sb.client_run(['id', '-u'], user=TEST_USER)
        self.assertEqual(res.stdout.strip(), str(self.uid), res.stderr)
        cg = self.sb.client_run(['cat', '/proc/self/cgroup'], user=TEST_USER)
        self.assertIn('portcullis-' + self.sb.suffix, cg.stdout)
        http = self.sb.client_run(['curl', '-sS', '-o', '/dev/null', '-w', '%{size_download}',
                                   f'http://{self.sb.peer_v4}/bytes/777'], user=TEST_USER)
        self.assertEqual(http.stdout, '777', http.stderr)

    def test_private_bus_with_polkitd(self):
        sb = self.sb
        self.assertTrue(sb.bus_address.startswith('unix:path=' + sb.tmp_dir))
        self.assertTrue(sb.name_has_owner('org.freedesktop.PolicyKit1'))
        # An unprivileged user may talk to the bus (allow user="*").
        res = sb.client_run(['dbus-send', '--system', '--print-reply', '--dest=org.freedesktop.DBus',
                             '/', 'org.freedesktop.DBus.NameHasOwner',
                             'string:org.freedesktop.PolicyKit1'], user=TEST_USER)
        self.assertIn('boolean true', res.stdout, res.stderr)
        # The real polkitd answers: root is authorized, a user without a session is not.
        check = ['sh', '-c', 'exec pkcheck --action-id org.freedesktop.policykit.exec --process $$']
        root = sb.client_run(check)
        self.assertEqual(root.returncode, 0, root.stdout + root.stderr)
        user = sb.client_run(check, user=TEST_USER)
        self.assertNotEqual(user.returncode, 0, user.stdout + user.stderr)
        self.assertRegex(user.stdout + user.stderr, r'(?i)authenticat|not authorized')

    def test_settings_file(self):
        self.sb.write_settings({'default-action': 'block', 'endpoints': ['+ example.com tcp/443', '- *'],
                                'history': False})
        with open(os.path.join(self.sb.config_dir, 'settings.conf')) as f:
            text = f.read()
        self.assertEqual(text, '[global]\ndefault-action=block\n'
                               'endpoints=+ example.com tcp/443;- *;\nhistory=false\n')

    def test_no_queue_and_empty_ruleset_without_helper(self):
        self.assertEqual(self.sb.queue_stats(), {})
        self.assertNotIn('PORTCULLIS', self.sb.ruleset())


class GuardianTest(unittest.TestCase):
    """Teardown: nothing survives a sandbox, however its creator ends."""

    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user(TEST_USER)

    RULES = textwrap.dedent('''\
        polkit.addRule(function(action, subject) {
            if (action.id == "org.freedesktop.policykit.exec" && subject.user == "pctest")
                return polkit.Result.YES;
        });
        ''')

    def test_normal_exit_and_exception_leave_nothing(self):
        with self.assertRaises(RuntimeError):
            with pcsandbox.Sandbox(BUILD_DIR, helper=False) as sb:
                sb.install_polkit_files([], self.RULES)
                rules = os.path.join(pcsandbox.POLKIT_RULES_DIR, f'10-pcsandbox-{sb.suffix}.rules')
                # polkitd was restarted and now follows the installed rule
                check = ['sh', '-c',
                         'exec pkcheck --action-id org.freedesktop.policykit.exec --process $$']
                res = sb.client_run(check, user=TEST_USER)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
                sleeper = sb.client(['sleep', '1000'])
                peer_sleeper = sb.peer(['sleep', '1000'])
                nocg_sleeper = sb.client(['sleep', '1000'], cgroup=False, start_new_session=True)
                time.sleep(0.2)
                info = sandbox_info(sb, (sleeper, peer_sleeper, nocg_sleeper), [rules])
                self.assertTrue(os.path.exists(rules))
                raise RuntimeError('test body failed')
        self.assertEqual(leftovers(info), [])
        for p in (sleeper, peer_sleeper, nocg_sleeper):
            p.wait(5)

    def test_sigkill_of_creator_is_cleaned_by_guardian(self):
        script = textwrap.dedent(f'''\
            import json, os, sys, time
            sys.path.insert(0, {os.path.join(SOURCE_DIR, 'build-aux')!r})
            import pcsandbox
            sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
            from test_sandbox import sandbox_info
            sb = pcsandbox.Sandbox({BUILD_DIR!r}, helper=False)
            sb.start()
            sb.install_polkit_files([], {self.RULES!r})
            rules = os.path.join(pcsandbox.POLKIT_RULES_DIR, '10-pcsandbox-%s.rules' % sb.suffix)
            procs = [sb.client(['sleep', '1000']), sb.peer(['sleep', '1000']),
                     sb.client(['sleep', '1000'], cgroup=False)]
            time.sleep(0.2)
            print(json.dumps(sandbox_info(sb, procs, [rules])), flush=True)
            time.sleep(1000)
            ''')
        child = subprocess.Popen([PYTHON, '-c', script], stdout=subprocess.PIPE, text=True,
                                 stderr=subprocess.PIPE)
        try:
            line = child.stdout.readline()
            self.assertTrue(line, 'sandbox child printed nothing: ' + (child.poll() is not None and
                                                                        child.stderr.read() or ''))
            info = json.loads(line)
            self.assertTrue(os.path.exists(f'/run/netns/pc-c-{info["suffix"]}'))
            self.assertTrue(os.path.isdir(info['cgroup_path']))
            self.assertTrue(os.path.exists(info['files'][0]))
            self.assertTrue(all(pcsandbox._alive(p, s) for p, s in info['pids']))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
            child.stderr.close()
        left = wait_clean(info, timeout=15)
        self.assertEqual(left, [], 'the guardian did not clean up after SIGKILL')


class RunSandboxTest(unittest.TestCase):
    """README: build-aux/run --sandbox --exec CMD runs CMD behind the real helper."""

    def setUp(self):
        require_root()
        helper = os.path.join(BUILD_DIR, 'helper', 'portcullisd')
        if not os.access(helper, os.X_OK):
            self.skipTest(f'{helper} is not built yet')

    def run_script(self, *cmd):
        env = dict(os.environ, PC_BUILD_DIR=BUILD_DIR)
        res = subprocess.run([os.path.join(SOURCE_DIR, 'build-aux', 'run'), '--no-build',
                              '--sandbox', '--exec', *cmd], env=env, capture_output=True,
                             text=True, timeout=120)
        m = re.search(r'client namespace pc-c-([0-9a-f]+)', res.stderr)
        self.assertIsNotNone(m, 'run did not say which sandbox it made:\n' + res.stderr)
        suffix = m.group(1)
        cg = os.path.join(pcsandbox.find_cgroup2_root(), f'portcullis-{suffix}')
        tmp = re.search(r'files (\S+)', res.stderr).group(1)
        left = wait_clean({'suffix': suffix, 'cgroup_path': cg, 'tmp_dir': tmp, 'pids': []}, 5)
        self.assertEqual(left, [], 'build-aux/run left things behind')
        helpers = subprocess.run(['pgrep', '-f', f'portcullisd .*portcullis-{suffix}'],
                                 capture_output=True, text=True).stdout
        self.assertEqual(helpers, '', 'portcullisd still running')
        return res

    def test_exec_round_trip(self):
        res = self.run_script('sh', '-c', 'curl -s http://10.77.0.1/bytes/1000 | wc -c')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.strip(), '1000', res.stderr)

    def test_exec_status_is_returned(self):
        res = self.run_script('false')
        self.assertEqual(res.returncode, 1, res.stderr)
        res = self.run_script('sh', '-c', 'exit 7')
        self.assertEqual(res.returncode, 7, res.stderr)

    def test_helper_rules_never_in_root_namespace(self):
        res = self.run_script('sh', '-c', 'iptables-save; ip6tables-save')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('PORTCULLIS', res.stdout, 'the helper installed no rules in the sandbox')
        root = subprocess.run(['iptables-save'], capture_output=True, text=True).stdout
        root += subprocess.run(['ip6tables-save'], capture_output=True, text=True).stdout
        self.assertNotIn('PORTCULLIS', root.upper())


if __name__ == '__main__':
    pcsandbox.unittest_main()
