#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""portcullisctl end to end: the real helper on a private system bus with the real polkitd,
portcullisctl run in the sandbox as root and as an unprivileged user. Exit codes: 0 ok,
1 error, 2 usage, 4 not authorized."""
import json
import os
import signal
import subprocess
import time
import unittest

from pctest import BUILD_DIR, SOURCE_DIR, pcsandbox, require_root

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
NAME = 'org.portcullis.Portcullis1'
P4 = pcsandbox.PEER_V4


def ctl(sb, *args, user=None, env=None, timeout=30):
    return sb.client_run([CTL, *map(str, args)], user=user, env=env, timeout=timeout)


class CliTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY],
                                   settings='[global]\ndefault-action=allow\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def test_status(self):
        r = ctl(self.sb, 'status')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'Interception +IPv4 yes')
        self.assertRegex(r.stdout, r'DNS +running, intercepting')
        r = ctl(self.sb, '--json', 'status')
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        self.assertEqual(st['version'], '0.1.0')
        self.assertIn(st['attribution'], ('bpf', 'proc'))
        self.assertIsInstance(st['degraded'], list)

    def test_not_authorized_exits_4(self):
        for args in (['status'], ['connections'], ['connections', '--follow']):
            r = ctl(self.sb, *args, user='pctest')
            self.assertEqual(r.returncode, 4, (args, r.stdout, r.stderr))
            self.assertIn('not authorized for org.portcullis.Portcullis1.monitor', r.stderr)
            self.assertEqual(r.stdout.strip().count('\n'), 0)

    def test_usage_exits_2(self):
        for args in ([], ['frobnicate'], ['status', 'extra'], ['--bogus', 'status'],
                     ['status', '--follow'], ['config'], ['app', 'show'], ['rules', 'add'],
                     ['export'], ['connections', '--app', 'x']):
            r = ctl(self.sb, *args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn('portcullisctl: ', r.stderr)
        r = ctl(self.sb, '--help')
        self.assertEqual(r.returncode, 0)
        self.assertIn('connections [--follow]', r.stdout)

    def test_connections_table_and_json(self):
        res = self.sb.client_run(['curl', '-s', '-o', '/dev/null', f'http://{P4}:8080/'])
        self.assertEqual(res.returncode, 0, res.stderr)
        deadline = time.monotonic() + 5
        while True:
            r = ctl(self.sb, '--json', 'connections')
            self.assertEqual(r.returncode, 0, r.stderr)
            conns = [c for c in json.loads(r.stdout) if c['remote-port'] == 8080]
            if conns or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(conns, r.stdout)
        c = conns[0]
        self.assertEqual(c['remote-address'], P4)
        self.assertEqual(c['exe'], '/usr/bin/curl')
        self.assertEqual(c['verdict'], 'allow')
        r = ctl(self.sb, 'connections')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.splitlines()[0], r'^ID +APP +PID +DIR +PROTO +LOCAL +REMOTE')
        # APP is the profile once the policy engine made one for curl, else the executable
        self.assertRegex(r.stdout, rf'(?:/usr/bin/curl|curl) +\d+ out tcp +\S+ +{P4}:8080 +allow')

    def test_connections_follow(self):
        proc = self.sb.client([CTL, '--json', 'connections', '--follow'], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
        try:
            deadline = time.monotonic() + 10
            while json.loads(ctl(self.sb, '--json', 'status').stdout)['subscribers'] < 1:
                self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() else '')
                self.assertLess(time.monotonic(), deadline, 'portcullisctl did not subscribe')
                time.sleep(0.05)
            r = self.sb.client_run(['curl', '-s', '-o', '/dev/null', f'http://{P4}/bytes/10'])
            self.assertEqual(r.returncode, 0, r.stderr)
            seen = None
            while seen is None:
                line = proc.stdout.readline()
                self.assertTrue(line, 'portcullisctl --follow ended early')
                c = json.loads(line)
                if c['event'] == 'live':
                    continue
                if c['remote-port'] == 80 and c['exe'] == '/usr/bin/curl':
                    seen = c
            self.assertIn(seen['event'], ('added', 'changed', 'ended'))
            os.killpg(proc.pid, signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()


    # ---- settings, profiles, rules, backup ----

    def ok(self, *args, user=None):
        r = ctl(self.sb, *args, user=user)
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r.stdout

    def fails(self, code, *args, user=None, stderr=''):
        r = ctl(self.sb, *args, user=user)
        self.assertEqual(r.returncode, code, (args, r.stdout, r.stderr))
        self.assertIn(stderr, r.stderr)
        self.assertTrue(r.stderr.startswith('portcullisctl: '), r.stderr)

    def curl_profile(self):
        self.sb.client_run(['curl', '-s', '-o', '/dev/null', f'http://{P4}/'])
        deadline = time.monotonic() + 5
        while 'curl' not in [p['id'] for p in json.loads(self.ok('--json', 'apps'))]:
            self.assertLess(time.monotonic(), deadline, 'no profile for curl')
            time.sleep(0.1)

    def test_config(self):
        self.assertRegex(self.ok('config', 'get'), r'default-action +admin +allow\n')
        self.assertEqual(self.ok('config', 'get', 'block-lan'), 'false\n')
        self.fails(4, 'config', 'set', 'block-lan', 'true', user='pctest', stderr='not authorized')
        self.fails(1, 'config', 'set', 'block-lan', 'maybe', stderr="'maybe' is not a boolean")
        self.fails(1, 'config', 'set', 'default-action', 'sometimes', stderr='sometimes')
        self.fails(1, 'config', 'set', 'no-such-key', 'x', stderr='no-such-key')
        self.assertEqual(json.loads(self.ok('--json', 'config', 'get', 'block-lan')), False)
        self.ok('config', 'set', 'block-lan', 'true')
        self.ok('config', 'set', 'dns-servers',
                'doh://a.example/dns-query?ip=192.0.2.1; dot://b.example?ip=192.0.2.2')
        settings = json.loads(self.ok('--json', 'config', 'get'))
        self.assertEqual(settings['block-lan'], [True, 'user'])
        self.assertEqual(settings['dns-servers'][0],
                         ['doh://a.example/dns-query?ip=192.0.2.1', 'dot://b.example?ip=192.0.2.2'])
        self.ok('config', 'reset', 'block-lan')
        self.ok('config', 'reset', 'dns-servers')
        self.assertEqual(self.ok('config', 'get', 'block-lan'), 'false\n')

    def test_rules(self):
        self.curl_profile()
        self.fails(4, 'rules', 'add', '- 10.1.2.3 tcp/80', user='pctest', stderr='not authorized')
        self.fails(1, 'rules', 'add', 'bogus rule', stderr='bogus')
        self.fails(1, 'rules', 'add', '--app', 'nope', '- 10.1.2.3', stderr="'nope'")
        self.assertEqual(self.ok('rules', 'list'), '')
        self.ok('rules', 'add', '- 10.1.2.3 tcp/80')
        self.ok('rules', 'add', '--inbound', '+ * tcp/local:22')
        self.ok('rules', 'add', '--app', 'curl', '- 10.9.9.9')
        out = self.ok('rules', 'list')
        self.assertRegex(out, r'outbound +user +- 10\.1\.2\.3 tcp/80')
        self.assertRegex(out, r'inbound +user +\+ \* tcp/local:22')
        app_rules = json.loads(self.ok('--json', 'rules', 'list', '--app', 'curl'))
        self.assertIn({'rule': '- 10.9.9.9', 'inbound': False, 'source': 'profile'}, app_rules)
        self.ok('rules', 'remove', '- 10.1.2.3 tcp/80')
        self.ok('rules', 'remove', '--inbound', '+ * tcp/local:22')
        self.ok('rules', 'remove', '--app', 'curl', '- 10.9.9.9')
        self.fails(1, 'rules', 'remove', '- 10.1.2.3 tcp/80', stderr='10.1.2.3')
        self.assertEqual(json.loads(self.ok('--json', 'rules', 'list')), [])

    def test_apps(self):
        self.curl_profile()
        out = self.ok('apps')
        self.assertRegex(out.splitlines()[0], r'^ID +NAME +LIVE +FINGERPRINTS')
        self.assertRegex(out, r'curl +curl +\d+ +path:/usr/bin/curl')
        apps = {p['id']: p for p in json.loads(self.ok('--json', 'apps'))}
        self.assertIn('live-connections', apps['curl'])
        self.assertRegex(self.ok('app', 'show', 'curl'), r'Fingerprints +path:/usr/bin/curl')
        self.fails(1, 'app', 'show', 'nope', stderr="'nope'")
        self.fails(4, 'app', 'set', 'curl', 'block-internet', 'true', user='pctest',
                   stderr='not authorized')
        self.fails(1, 'app', 'set', 'curl', 'default-action', 'maybe', stderr='maybe')
        self.ok('app', 'set', 'curl', 'block-internet', 'true')
        shown = json.loads(self.ok('--json', 'app', 'show', 'curl'))
        self.assertEqual(shown['effective']['block-internet'], [True, 'profile'])
        self.assertEqual(shown['profile']['overrides'], {'block-internet': True})
        self.assertRegex(self.ok('app', 'show', 'curl'), r'block-internet +profile +true')
        self.ok('app', 'unset', 'curl', 'block-internet')
        shown = json.loads(self.ok('--json', 'app', 'show', 'curl'))
        self.assertNotEqual(shown['effective']['block-internet'][1], 'profile')

    def test_export_import(self):
        path = os.path.join(self.sb.tmp_dir, 'backup.json')
        bad = os.path.join(self.sb.tmp_dir, 'bad.json')
        with open(bad, 'w') as f:
            f.write('{"format": "something else"')
        self.ok('export', path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            doc = json.load(f)
        self.assertEqual(json.loads(self.ok('export', '-')), doc)
        self.ok('config', 'set', 'prompt-timeout', '17')
        os.chmod(path, 0o644)  # export writes 0600; let pctest read it
        self.fails(4, 'import', path, user='pctest', stderr='not authorized')
        self.fails(1, 'import', bad)
        self.fails(1, 'import', os.path.join(self.sb.tmp_dir, 'missing.json'),
                   stderr='missing.json')
        self.assertEqual(self.ok('config', 'get', 'prompt-timeout'), '17\n')
        self.ok('import', path)
        self.assertNotEqual(self.ok('config', 'get', 'prompt-timeout'), '17\n')
        self.assertEqual(json.loads(self.ok('export', '-'))['global'], doc['global'])


class CliWithoutHelperTests(unittest.TestCase):
    def test_helper_not_running_exits_1(self):
        require_root()
        with pcsandbox.Sandbox(BUILD_DIR, helper=False, servers=False) as sb:
            r = ctl(sb, 'status')
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('portcullisd is not running', r.stderr)
            r = ctl(sb, 'status', env={'DBUS_SYSTEM_BUS_ADDRESS':
                                       f'unix:path={sb.tmp_dir}/no-such-socket'})
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('cannot connect to the system bus', r.stderr)


if __name__ == '__main__':
    pcsandbox.unittest_main()
