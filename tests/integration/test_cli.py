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
        self.assertRegex(r.stdout, r'DNS +not running')
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
